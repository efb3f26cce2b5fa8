"""The QR code of a digitized copy (Circular 01/2023 Art. 7; TCVN 7322:2009 = ISO/IEC 18004): a compact,
versioned payload of ``key=value`` lines in UTF-8, documented in docs/qr-payload.md.

It must stay readable by a phone camera and at 150 dpi: at most QR version 10 with error correction M
(213 bytes).  What does not fit is left out, least needed first, and the caller records what was left out.
"""

from __future__ import annotations

from dataclasses import dataclass

QR_PAYLOAD_HEADER = "SOHOA-QR/1"
MAX_QR_VERSION = 10
# key in the payload: what it holds, in the order written; Circular 01/2023's minimum and sohoa's own code.
QR_FIELDS = (
    ("ma", "code"),  # sohoa's code: finds the result
    ("hs", "dossier_code"),  # mã hồ sơ
    ("tthc", "procedure_code"),  # mã thủ tục hành chính
    ("dd", "holder_id"),  # the holder's identifier: personal ID, tax or enterprise code
    ("giay", "paper_name"),  # tên giấy tờ
    ("ht", "system"),  # the issuing system: sohoa and the digitizing agency
    ("tg", "time"),  # when it was digitized (ISO 8601, Vietnam time)
    ("hl", "valid_until"),  # hiệu lực: valid until, when the paper says
    ("url", "verification_url"),  # the API's verification address, when SOHOA_PUBLIC_URL is set
)
# Left out first when the payload is too large for version 10-M: the least needed for an inspector.
DROP_ORDER = ("verification_url", "procedure_code", "valid_until", "paper_name", "system", "dossier_code")


@dataclass(frozen=True)
class QrPayload:
    text: str
    included: tuple[str, ...]
    omitted: tuple[str, ...]
    version: int


def _fits(text: str) -> int | None:
    import qrcode
    from qrcode.exceptions import DataOverflowError

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text.encode("utf-8"))
    try:
        version = code.best_fit()
    except DataOverflowError:
        return None
    return version if version <= MAX_QR_VERSION else None


def build_qr_payload(values: dict[str, str | None]) -> QrPayload:
    """The payload of ``values`` (names of ``QR_FIELDS``; empty ones are not written), within version 10-M."""
    present = {name: " ".join(str(value).split()) for name, value in values.items() if value}
    omitted: list[str] = []
    for drop in (None, *DROP_ORDER):
        if drop is not None and drop in present:
            del present[drop]
            omitted.append(drop)
        lines = [QR_PAYLOAD_HEADER] + [f"{key}={present[name]}" for key, name in QR_FIELDS if name in present]
        text = "\n".join(lines)
        version = _fits(text)
        if version is not None:
            return QrPayload(text, tuple(n for _k, n in QR_FIELDS if n in present), tuple(omitted), version)
    raise ValueError("even the code alone does not fit a version 10 QR code")


def parse_qr_payload(text: str) -> dict[str, str]:
    """The inverse of ``build_qr_payload``: the values by their names (``ValueError`` for another format)."""
    lines = text.splitlines()
    if not lines or lines[0] != QR_PAYLOAD_HEADER:
        raise ValueError("not a sohoa QR payload (version 1)")
    names = dict(QR_FIELDS)
    values = {}
    for line in lines[1:]:
        key, sep, value = line.partition("=")
        if sep and key in names:
            values[names[key]] = value
    return values
