"""PAdES signing (ETSI.CAdES.detached, SHA-256) and verification, on pyHanko."""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass, field

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from signing.keys import DEV_MARKER, KeyMaterial

FIELD_PREFIX = "SohoaDigitization"


class Signer:
    """Signs PDFs with the digitizing agency's key; one instance loads the key once."""

    def __init__(self, keys: KeyMaterial):
        self.keys = keys
        self._signer = signers.SimpleSigner.load_pkcs12(str(keys.pkcs12_path), passphrase=keys.passphrase)
        if self._signer is None:
            raise RuntimeError(f"cannot open the signing key {keys.pkcs12_path}: wrong passphrase?")

    @property
    def subject(self) -> str:
        return self._signer.signing_cert.subject.human_friendly

    def sign(self, pdf: bytes, reason: str, location: str) -> bytes:
        """Return ``pdf`` with a PAdES B-B signature added as an incremental update."""
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        existing = len(PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures)
        meta = signers.PdfSignatureMetadata(
            field_name=f"{FIELD_PREFIX}{existing + 1}",
            subfilter=SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            reason=reason,
            location=location,
        )
        out = signers.sign_pdf(writer, meta, signer=self._signer)
        return out.getvalue()


@dataclass
class SignatureReport:
    field: str
    signer: str
    intact: bool
    valid: bool
    trusted: bool
    covers_whole_document: bool
    signed_at: str | None
    development_ca: bool
    problems: list[str] = field(default_factory=list)


@dataclass
class VerificationReport:
    valid: bool
    signatures: list[SignatureReport]
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def verify_pdf(pdf: bytes, trust_roots: list[str] | tuple = (), require_whole_document: bool = True
               ) -> VerificationReport:
    """Check every signature in ``pdf``: integrity, trust chain, and that the last one covers the file."""
    roots = [load_cert_from_pemder(str(p)) for p in trust_roots]
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as exc:  # pyHanko raises various types on broken PDFs
        return VerificationReport(False, [], [f"the file cannot be read as a PDF: {exc}"])
    if not embedded:
        return VerificationReport(False, [], ["the PDF carries no signature"])
    reports = []
    for index, sig in enumerate(embedded):
        context = ValidationContext(trust_roots=roots, allow_fetching=False)
        problems: list[str] = []
        try:
            status = validate_pdf_signature(sig, context)
        except Exception as exc:
            reports.append(SignatureReport(sig.field_name, "?", False, False, False, False, None, False,
                                           [f"cannot validate: {exc}"]))
            continue
        whole = status.coverage.name == "ENTIRE_FILE"
        last = index == len(embedded) - 1
        if not status.intact:
            problems.append("the signed content was modified after signing")
        if not status.valid:
            problems.append("the signature value does not match the signer's certificate")
        if not status.trusted:
            problems.append("the signer's certificate does not chain to a trusted root")
        if last and require_whole_document and not whole:
            problems.append("content was added after the last signature")
        signer_name = status.signing_cert.subject.human_friendly
        reports.append(SignatureReport(
            field=sig.field_name, signer=signer_name, intact=status.intact, valid=status.valid,
            trusted=status.trusted, covers_whole_document=whole,
            signed_at=status.signer_reported_dt.isoformat() if status.signer_reported_dt else None,
            development_ca=DEV_MARKER in signer_name, problems=problems,
        ))
    ok = all(not r.problems for r in reports)
    return VerificationReport(ok, reports, [p for r in reports for p in r.problems])
