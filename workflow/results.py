"""Reading archived results by code, for every face: look-up, verified fetch, verification, API clients."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codes import DossierCode, InvalidCode, ResultAlias, parse_any
from signing import VerificationReport
from storage import ArchiveError, ClientRecord, FixityError, InputRecord, ResultMetadata, ResultRecord
from workflow.rooms import Rooms
from workflow.settings import Settings


class UnsafePath(ValueError):
    """A path from outside points into sohoa's own data folder or archive."""


def protected_folders(settings: Settings) -> list[Path]:
    """Where sohoa keeps its records: the data folder, and a local archive wherever it is."""
    from urllib.parse import unquote, urlparse

    folders = [settings.data_dir.resolve()]
    url = urlparse(settings.archive_url)
    if url.scheme == "file":
        folders.append(Path(unquote(url.path)).resolve())
    return folders


def check_outside_data(settings: Settings, path: Path, what: str) -> None:
    """Refuse a path to write, move or watch that lies in the data folder or the archive (``UnsafePath``)."""
    resolved = path.expanduser().resolve()
    for folder in protected_folders(settings):
        if resolved == folder or folder in resolved.parents:
            raise UnsafePath(f"{what} {path} is inside sohoa's own records ({folder}): sohoa never writes, moves "
                             "or watches files there; choose another place")


class ResultLookupError(Exception):
    """Base of the look-up errors; ``str(exc)`` is the sentence to show."""


class BadCode(ResultLookupError):
    """The code from outside is malformed, or names a dossier rather than a result."""


class UnknownResult(ResultLookupError):
    """No result has this code (or alias)."""


class UnknownVersion(ResultLookupError):
    """The result exists, not in this version."""


def find_result(rooms: Rooms, code: str) -> ResultRecord:
    """The record a sohoa code or a ``-KQ{n}`` result alias names (validated strictly before any read)."""
    try:
        parsed = parse_any(code)
    except InvalidCode as exc:
        raise BadCode(f"invalid code: {exc}") from None
    if isinstance(parsed, DossierCode):
        raise BadCode("a dossier code names a dossier, not a result: search with ?dossier=")
    if isinstance(parsed, ResultAlias):
        record = rooms.index.results.by_alias(str(parsed))
    else:
        record = rooms.index.results.get(str(parsed))
    if record is None:
        raise UnknownResult(f"no result with code {code}")
    return record


def check_version(rooms: Rooms, record: ResultRecord, version: int | None) -> int:
    """The version asked for (default: the current one), if it is complete in the archive."""
    number = version or record.version
    if version and number not in rooms.store.versions(record.code):
        raise UnknownVersion(f"{record.code} has no version {number} (versions: {rooms.store.versions(record.code)})")
    return number


def expected_sha256(rooms: Rooms, record: ResultRecord, version: int) -> str:
    """The SHA-256 the signed PDF of ``version`` must have (the index's for the current version)."""
    return record.sha256 if version == record.version else rooms.store.document_info(record.code, version).sha256


@dataclass(frozen=True)
class Fetched:
    path: Path
    size: int
    sha256: str


def fetch_to_file(rooms: Rooms, record: ResultRecord, version: int, target: Path) -> Fetched:
    """Write a version's signed PDF to ``target``, streamed and hashed on the way.

    The bytes go to a hidden file beside the target, which takes the target's name only once its SHA-256
    matches (``storage.FixityError`` otherwise, and nothing is left behind).
    """
    expected = expected_sha256(rooms, record, version)
    partial = target.with_name(f".{target.name}.part")
    size = 0
    try:
        with partial.open("wb") as fh:
            for chunk in rooms.store.stream_verified(record.code, version, expected):
                fh.write(chunk)
                size += len(chunk)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return Fetched(target, size, expected)


@dataclass(frozen=True)
class Verification:
    """Every signature of a PDF checked, its archived checksum (for a result), and any active content."""

    report: VerificationReport
    fixity_problems: list[str]
    active_content: list[str]

    @property
    def valid(self) -> bool:
        return self.report.valid and not self.fixity_problems


def verify_pdf_bytes(rooms: Rooms, pdf: bytes) -> Verification:
    """Check a signed PDF from anywhere against the configured trust roots."""
    return Verification(rooms.verify(pdf), [], content_warnings(pdf))


def verify_result(rooms: Rooms, record: ResultRecord) -> Verification:
    """Check a result's current version: its SHA-256 against the index, its signatures, its content."""
    document = rooms.store.read_document(record)
    recorded = rooms.store.metadata(record.code, record.version).active_content or []
    return Verification(rooms.verify(document.data), document.problems, content_warnings(document.data, recorded))


def verification(rooms: Rooms, record: ResultRecord) -> dict[str, Any]:
    """Signature and fixity report of a result's current version, with any active content it carries."""
    checked = verify_result(rooms, record)
    return {"code": record.code, "version": record.version, "valid": checked.valid,
            "fixity": {"sha256": record.sha256, "ok": not checked.fixity_problems},
            "fixity_problems": checked.fixity_problems, **checked.report.to_dict(),
            "active_content": checked.active_content}


def result_metadata(rooms: Rooms, record: ResultRecord, version: int) -> tuple[bytes, str | None]:
    """``metadata.json`` of a version as archived, and why it cannot be trusted (None if its checksum holds)."""
    data = rooms.store.metadata_bytes(record.code, version)
    return data, rooms.store.metadata_problem(record.code, version, data)


def versions(rooms: Rooms, code: str) -> list[int]:
    """The complete versions of a result in the archive, oldest first."""
    return rooms.store.versions(code)


def version_metadata(rooms: Rooms, code: str, version: int) -> ResultMetadata:
    """The typed metadata of one version (it never changes once written)."""
    return rooms.store.metadata(code, version)


def document_pieces(rooms: Rooms, code: str, version: int, expected_sha256: str, start: int = 0,
                    length: int | None = None) -> Iterator[bytes]:
    """A version's signed PDF in pieces: whole and checked against ``expected_sha256`` (cut short on a
    mismatch), or a byte range read as stored (a part cannot be hashed on its own)."""
    if start == 0 and length is None:
        return rooms.store.stream_verified(code, version, expected_sha256)
    return rooms.store.stream_document(code, version, start, length)


def presigned_document_url(rooms: Rooms, code: str, version: int, seconds: int = 300) -> str:
    """A time-limited URL of the PDF on S3 (``NotImplementedError`` on other archives)."""
    return rooms.store.presigned_document_url(code, version, seconds)


def can_timestamp(rooms: Rooms) -> bool:
    """Whether a timestamping authority is configured (a B-LTA renewal needs one)."""
    return rooms.signer.timestamper is not None


def content_warnings(pdf: bytes, recorded: list[str] | None = None) -> list[str]:
    """Active content (scripts, launch actions, embedded files, appended bytes) found in a PDF now, and what
    was recorded when it was archived (an appended payload is inside the file once sohoa signed after it)."""
    from digitize.active_content import active_content

    try:
        found = list(active_content(pdf))
    except Exception as exc:  # noqa: BLE001 - a PDF qpdf cannot parse is reported, not a crash
        found = [f"the PDF's structure cannot be read to look for active content ({type(exc).__name__})"]
    return list(dict.fromkeys([*(recorded or []), *found]))


@dataclass(frozen=True)
class ListedInput:
    """One processed input with its result's checksum (``sohoa list``)."""

    input: InputRecord
    sha256: str | None

    def to_dict(self) -> dict[str, Any]:
        row = self.input
        return {"code": row.code, "source": row.source, "doc_type": row.doc_type, "status": row.status,
                "error": row.error, "sha256": self.sha256, "source_sha256": row.source_sha256}


def list_inputs(rooms: Rooms) -> list[ListedInput]:
    """Every processed input once, whatever its status."""
    results = {r.code: r for r in rooms.index.results.all()}
    return [ListedInput(row, results[row.code].sha256 if row.code in results else None)
            for row in rooms.index.inputs.all()]


# -- API clients
def token_hash(token: str) -> str:
    """Tokens are long random strings: a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(token.encode()).hexdigest()


def add_client(rooms: Rooms, name: str, scopes: dict[str, Any]) -> str:
    """Register a client system; return its token (shown once: only its hash is stored)."""
    token = "sohoa_" + secrets.token_urlsafe(32)
    rooms.index.clients.add(name, token_hash(token), scopes)
    return token


def client_for_token(rooms: Rooms, token: str) -> ClientRecord | None:
    """The active client a token belongs to, or None."""
    return rooms.index.clients.for_token(token_hash(token))


def list_clients(rooms: Rooms) -> list[ClientRecord]:
    """Registered client systems, revoked ones included."""
    return rooms.index.clients.all()


def revoke_client(rooms: Rooms, name: str) -> bool:
    """Cut a client off at once; False if no active client has that name."""
    return rooms.index.clients.revoke(name)


__all__ = ["ArchiveError", "BadCode", "FixityError", "ResultLookupError", "UnknownResult", "UnknownVersion",
           "UnsafePath", "Verification", "add_client", "can_timestamp", "check_outside_data", "check_version",
           "client_for_token", "content_warnings", "document_pieces", "expected_sha256", "fetch_to_file", "find_result",
           "list_clients", "list_inputs", "presigned_document_url", "protected_folders", "result_metadata",
           "revoke_client", "token_hash", "verification", "verify_pdf_bytes", "verify_result", "version_metadata",
           "versions"]


def conformance(rooms: Rooms, record: ResultRecord, report: VerificationReport) -> dict[str, Any]:
    """Which of Circular 01/2023's rules the archived copy meets, each checked on the copy itself (the PDF, its
    signatures in ``report``, its QR code) and its metadata, so an inspector can check it without reading
    sohoa's code."""
    from codes.qrpayload import parse_qr_payload
    from digitize.preview import pdf_page_count, read_qr_top_left

    pdf = rooms.store.read_document(record).data
    meta = rooms.store.metadata(record.code, record.version)
    signatures = [s for s in report.signatures if s.kind == "signature"]
    rules = []
    officer = signatures[0] if len(signatures) >= 2 else None
    officer_ok = officer is not None and officer.stamp == "top-left" and officer.intact and officer.valid
    rules.append({"rule": "officer_signature_top_left", "met": officer_ok,
                  "detail": f"{officer.signer}, stamp {officer.stamp}" if officer else
                  (meta.digitization or {}).get("missing", "one signature only: the agency's")})
    agency = signatures[-1] if signatures else None
    rules.append({"rule": "agency_signature", "met": bool(agency and agency.intact and agency.valid),
                  "detail": f"{agency.signer}, stamp {agency.stamp}" if agency else "no signature"})
    text = read_qr_top_left(pdf)
    try:
        payload = parse_qr_payload(text) if text else {}
    except ValueError:
        payload = {}
    wanted = ("dossier_code", "procedure_code", "holder_id", "paper_name", "system", "time")
    rules.append({"rule": "qr_top_left", "met": bool(payload) and payload.get("code") == record.code,
                  "fields": sorted(payload), "absent": [n for n in wanted if n not in payload],
                  "detail": "read at 150 dpi" if payload else ("not a sohoa QR code" if text else "no QR code read")})
    minimum = meta.minimum_data or {}
    rules.append({"rule": "minimum_data", "met": bool(minimum),
                  "stated": sorted(k for k, v in minimum.items() if v),
                  "not_stated": sorted(k for k, v in minimum.items() if not v)})
    pages = pdf_page_count(pdf)
    rules.append({"rule": "page_count", "met": pages == meta.pages,
                  "detail": f"the copy has {pages} pages, the original {meta.pages}"})
    return {"conforms": all(rule["met"] for rule in rules), "rules": rules}
