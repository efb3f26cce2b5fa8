"""Publishing an understood document: code → (assembled PDF) → signature → archive and index."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from codes import CODE_FORMAT_VERSION, VIETNAM_TIME, DocumentType, assign_code
from codes.qrpayload import QR_PAYLOAD_HEADER, build_qr_payload
from digitize.intake import RejectedInput, SourceFile
from digitize.pdfa import assemble
from digitize.preview import pdf_page_count
from signing import SigningInputError
from storage import DocTypeRef, Event, ResultMetadata, ResultRecord, Retention, SourceInfo
from storage.layout import DOCUMENT, TEXT, original_name
from workflow.contracts import printable
from workflow.officers import officer_key
from workflow.rooms import PIPELINE_VERSION, Rooms, pyhanko_version


@dataclass(frozen=True)
class Reading:
    """What was read of one document and is to be published with it."""

    source: SourceFile
    doc_type: DocTypeRef
    fields: dict
    level: str | None
    pages: int
    text: str
    evidence: list[str]
    ocr_used: bool
    dossier: str | None = None
    source_pages: list[int] | None = None  # this document's pages in a split stack
    officer: str | None = None  # who handed the paper in at the workspace's counter
    review: dict | None = None  # a clerk's decision (storage.ResultMetadata.review)
    procedure_code: str | None = None  # mã thủ tục hành chính, when known
    digitization: dict | None = None  # who signed where, the QR code (set by ``publish``)


@dataclass(frozen=True)
class Published:
    code: str
    record: ResultRecord
    result_alias: str | None
    minimum_data: dict | None = None  # Circular 01/2023 Art. 8, as archived


def assemble_pages(rooms: Rooms, page_pdfs: list[Path], target: Path, doc_type: DocumentType | None) -> Path:
    """Join the searchable page PDFs of one document into one PDF/A file."""
    assemble(page_pdfs, target, {
        "Title": doc_type.name if doc_type else "sohoa", "Producer": f"sohoa {PIPELINE_VERSION}",
        "Creator": f"sohoa (Tesseract {rooms.ocr.tesseract_version()})",
    })
    return target


def publish(rooms: Rooms, reading: Reading, doc_type: DocumentType, pdf: Path) -> Published:
    """Give ``reading`` its code, sign ``pdf`` and store it with the original and the text as a new result.

    ``pdf`` is the assembled PDF/A of a scan, or the input itself when it is born-digital or already signed
    (then signed incrementally: the issuer's bytes are kept).
    """
    settings, index = rooms.settings, rooms.index
    if pdf == reading.source.path:
        # The issuer's own file is signed as it is: one pyHanko cannot take is refused before it gets a code.
        try:
            rooms.signer.check_signable(pdf)
        except SigningInputError as exc:
            raise RejectedInput(str(exc)) from None
    today = dt.datetime.now(dt.UTC).astimezone(VIETNAM_TIME).date()
    code = str(assign_code(settings.agency, doc_type.code, today, index.sequences))
    engine = rooms.ocr.description() if reading.ocr_used else "pdfplumber (PDF text layer)"
    software = f"sohoa {PIPELINE_VERSION}"
    events = [
        Event("ingestion", _handed_in_by(reading.officer, software), "success",
              f"{reading.source.kind}, {reading.pages} pages, "
              f"source sha256 {reading.source.sha256}", code=code),
        Event("ocr" if reading.ocr_used else "text_extraction", engine, "success", f"{len(reading.text)} characters",
              code=code),
        Event("classification", f"sohoa {PIPELINE_VERSION} rules", "success",
              f"{doc_type.code} ({reading.doc_type.confidence:.2f}): " + "; ".join(reading.evidence), code=code),
        Event("code_assignment", f"sohoa codes format {CODE_FORMAT_VERSION}", "success", code, code=code),
    ]
    if reading.review:
        corrected = ", ".join(reading.review["corrected"]) or "none"
        events.append(Event("review", f"officer {reading.review['officer']}", "success",
                            f"accepted at review; type {'confirmed' if reading.review['type_confirmed'] else 'kept'}; "
                            f"fields corrected: {corrected}", code=code))
    # Circular 01/2023: the copy has as many pages as the original; a page lost in assembly is a fault of
    # sohoa's, and such a copy is never signed or archived.
    pages = pdf_page_count(pdf)
    if pages != reading.pages:
        raise PageCountMismatch(f"system error: the copy has {pages} pages, the original {reading.pages}; "
                                "nothing was archived (the original is kept)")
    signer = rooms.signer
    agency = rooms.agencies.get(settings.agency)
    agency_name = agency.name if agency else settings.agency
    officer = officer_key(rooms, _digitizing_officer(settings, reading))
    now = dt.datetime.now(dt.UTC).astimezone(VIETNAM_TIME).replace(microsecond=0)
    # Signed file to file, then archived from the file: a long document never sits whole in memory.
    tmp = settings.data_dir / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    first, signed = (_temporary(tmp) for _ in range(2))
    try:
        reason = f"Bản số hóa từ bản chính - mã {code}"
        digitization: dict = {"officer": officer.name if officer else _digitizing_officer(settings, reading),
                              "officer_signature": officer is not None, "digitized_at": now.isoformat(),
                              "pages": pages}
        if officer is not None:
            # The officer first, top left with the QR code; then the agency, top right (Decree 30/2020).
            qr = build_qr_payload(qr_values(reading, doc_type, code, settings, now))
            placed = officer.signer.sign_file(pdf, first, reason=reason, location=settings.agency, code=code,
                                              agency_name=agency_name, officer=officer.full_name, qr=qr.text)
            events.append(Event("signing", f"officer {officer.name} with pyHanko {pyhanko_version()}", "success",
                                f"PAdES {officer.signer.level} by {officer.signer.subject}, stamp "
                                f"{placed.corner if placed else 'none'}", code=code))
            agency_placed = signer.sign_file(first, signed, reason=reason, location=settings.agency, code=code,
                                             agency_name=agency_name, position="top-right")
            digitization.update({
                "officer_stamp": {"corner": placed.corner, "box": list(placed.box),
                                  "over_text": placed.overlaps_text} if placed else None,
                "agency_stamp": agency_placed.corner if agency_placed else None,
                "qr": {"format": QR_PAYLOAD_HEADER, "version": qr.version, "fields": list(qr.included),
                       "omitted": list(qr.omitted)}})
        else:
            agency_placed = signer.sign_file(pdf, signed, reason=reason, location=settings.agency, code=code,
                                             agency_name=agency_name)
            digitization.update({"agency_stamp": agency_placed.corner if agency_placed else None,
                                 "missing": "the copy lacks the digitizing officer's personal signature "
                                            "(Circular 01/2023): no officer with a key was given"})
        events.append(Event("signing", f"pyHanko {pyhanko_version()}", "success",
                            f"PAdES {signer.level} by {signer.subject}", code=code))
        return _store(rooms, replace(reading, digitization=digitization), doc_type, signed, code, events)
    finally:
        first.unlink(missing_ok=True)
        signed.unlink(missing_ok=True)


class PageCountMismatch(RuntimeError):
    """The assembled copy does not have the original's number of pages (never archived)."""


MINIMUM_DATA_KEYS = ("paper_type_code", "holder_id", "paper_name", "number", "issued_on", "issuer", "summary",
                     "valid_until", "validity_scope", "procedure_code", "dossier_code", "digitized_by",
                     "digitized_at")


def minimum_data(reading: Reading, doc_type: DocumentType) -> dict:
    """The minimum data Circular 01/2023 Art. 8 asks of every digitized paper, each key present (null when the
    paper has none or it is not known)."""
    fields, digitization = reading.fields, reading.digitization or {}
    return {"paper_type_code": doc_type.national_code, "holder_id": fields.get("holder_id"),
            "paper_name": doc_type.name, "number": fields.get("number"), "issued_on": fields.get("issued_on"),
            "issuer": fields.get("issuer"), "summary": fields.get("summary"),
            "valid_until": fields.get("valid_until"), "validity_scope": fields.get("validity_scope"),
            "procedure_code": reading.procedure_code, "dossier_code": reading.dossier,
            "digitized_by": digitization.get("officer"), "digitized_at": digitization.get("digitized_at")}


def _temporary(folder: Path) -> Path:
    fd, name = tempfile.mkstemp(dir=folder, prefix=f"signed-{os.getpid()}-", suffix=".pdf")
    os.close(fd)
    return Path(name)


def _handed_in_by(officer: str | None, software: str) -> str:
    """The ingestion event's agent: the officer at the counter, the submitting system, or sohoa alone."""
    if not officer:
        return software
    if officer.startswith("api:"):
        return f"system {officer[4:]} (POST /v1/documents) with {software}"
    return f"officer {officer} with {software}"


def _digitizing_officer(settings, reading: Reading) -> str | None:
    """Who digitized: the officer who accepted it at review, else who handed it in, else the configured one."""
    reviewer = (reading.review or {}).get("officer")
    return (reviewer if reviewer and reviewer != "terminal" else None) or reading.officer or settings.officer


def qr_values(reading: Reading, doc_type: DocumentType, code: str, settings, now: dt.datetime) -> dict:
    """What the QR code of a copy says (codes.qrpayload names)."""
    url = f"{settings.public_url.rstrip('/')}/v1/results/{code}/verification" if settings.public_url else None
    return {"code": code, "dossier_code": reading.dossier, "procedure_code": reading.procedure_code,
            "holder_id": reading.fields.get("holder_id"), "paper_name": doc_type.name,
            "system": f"sohoa {settings.agency}", "time": now.isoformat(timespec="minutes"),
            "valid_until": reading.fields.get("valid_until"), "verification_url": url}


def _store(rooms: Rooms, reading: Reading, doc_type: DocumentType, signed: Path, code: str,
           events: list[Event]) -> Published:
    settings, index, signer = rooms.settings, rooms.index, rooms.signer
    source = reading.source
    ocr = rooms.ocr
    alias = f"{reading.dossier}-KQ{index.results.count_in_dossier(reading.dossier) + 1}" if reading.dossier else None
    metadata = ResultMetadata(
        agency=settings.agency, doc_type=reading.doc_type, fields=reading.fields, level=reading.level,
        pages=reading.pages, source=SourceInfo(printable(source.path.name), source.sha256, source.kind),
        ocr={"engine": "tesseract", "version": ocr.tesseract_version(), "lang": ocr.lang, "binding": ocr.binding}
        if reading.ocr_used else {"engine": "pdf text layer"},
        pipeline_version=PIPELINE_VERSION, signer=signer.subject,
        signature={"level": signer.level, "signer": signer.subject, "development_key": signer.development,
                   "timestamp_authority": settings.tsa_url if signer.level != "B-B" else None},
        evidence=list(reading.evidence), created_at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        signed_input=("the input was already signed: kept byte for byte with sohoa's signature appended; its "
                      "text is in text.txt, not in the PDF") if source.signed else None,
        source_pages=reading.source_pages, dossier_code=reading.dossier, result_alias=alias,
        active_content=list(source.active_content) or None, officer=reading.officer, review=reading.review,
        digitization=reading.digitization, minimum_data=minimum_data(reading, doc_type),
    )
    files = {DOCUMENT: signed, original_name(source.suffix): source.path, TEXT: reading.text.encode("utf-8")}
    record = rooms.store.write(code, files, metadata, Retention.from_catalogue(doc_type.retention), events)
    return Published(code, record, alias, metadata.minimum_data)
