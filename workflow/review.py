"""Review: documents sohoa was unsure of wait for a clerk, who accepts them (with corrections) or rejects them.

An accepted document is read again from its kept original with the clerk's decision and archived as any
other; the correction is kept as training data for the text model.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from codes import VIETNAM_TIME, AgencyRegistry, Catalogue
from digitize.fields import level_of_issuer
from digitize.intake import SourceFile
from digitize.model import Classification, FieldValue, PageText, Understanding
from digitize.preview import locate_field, pdf_page_previews
from storage import InputRecord
from workflow.contracts import CORRECTABLE_FIELDS, READ_FIELDS, Outcome, Refusal, ReviewDecision, SourcePart, Status
from workflow.rooms import Rooms

PROPOSAL = "proposal.json"
PAGES = "pages.json"
MAX_PREVIEW_PAGES = 60  # a longer document keeps the word boxes and previews of its first pages only
FIRST_ISSUE_DATE = dt.date(1945, 9, 2)  # the state whose results these are was founded that day
MAX_NUMBER_CHARS = 40
MAX_NAME_CHARS = 200
NUMBER_RE = re.compile(r"[0-9A-Za-zĐđ]+(?:[/.\-– ][0-9A-Za-zĐđ]+)*")  # 125/2020, 07/CT-UBND, 0109876543
HOLDER_ID_RE = re.compile(r"\d{9}|\d{12}")  # CMND (9 digits) or CCCD (12 digits)


class ReviewError(Refusal):
    """A review command cannot be carried out; the message says why (``vi``: the same in Vietnamese)."""


@dataclass(frozen=True)
class WaitingDocument:
    """A document waiting for a clerk: what sohoa proposes and why it is unsure."""

    id: int
    source: str
    doc_type: str | None
    reasons: list[str]
    since: dt.datetime | None = None
    agency: str | None = None
    claimed_by: str | None = None

    @property
    def kinds(self) -> list[str]:
        return sorted({reason_kind(r) for r in self.reasons})

    def to_dict(self) -> dict:
        return {"id": self.id, "source": self.source, "doc_type": self.doc_type, "reasons": list(self.reasons)}


def waiting(rooms: Rooms) -> list[WaitingDocument]:
    """Every document waiting for review, oldest first, with who is working on it."""
    claims = rooms.index.review_claims.all()
    rows = rooms.index.inputs.with_status(Status.NEEDS_REVIEW)
    return [WaitingDocument(row.id, row.source, row.doc_type, list((row.review or {}).get("reasons", [])),
                            row.updated_at, (row.review or {}).get("agency"), claims.get(row.id)) for row in rows]


_BLANK_RE = re.compile(r"at page (\d+), box x=(\d+) y=(\d+) w=(\d+) h=(\d+)")
CLAIM_STALE_AFTER = dt.timedelta(minutes=30)  # a clerk who opened a document and left lets it go after this


def claim(rooms: Rooms, input_id: int, officer: str) -> None:
    """``officer`` works on the document now; ``ReviewError`` when another officer does."""
    _waiting_row(rooms, input_id)
    holder = rooms.index.review_claims.claim(input_id, officer, CLAIM_STALE_AFTER)
    if holder is not None:
        raise ReviewError(f"{holder} is reviewing this document", f"{holder} đang duyệt giấy tờ này")


def claimed_by(rooms: Rooms, input_id: int) -> str | None:
    """The officer working on a document now, if any."""
    held = rooms.index.review_claims.holder(input_id)
    return held[0] if held else None


def _check_claim(rooms: Rooms, input_id: int, officer: str | None) -> None:
    if officer is None:
        return  # the terminal: an archivist's command is not a clerk's session
    held = rooms.index.review_claims.holder(input_id)
    if held is not None and held[0] != officer and dt.datetime.now(dt.UTC) - held[1] <= CLAIM_STALE_AFTER:
        raise ReviewError(f"{held[0]} is reviewing this document: your changes were not saved",
                          f"{held[0]} đang duyệt giấy tờ này: thay đổi của bạn chưa được lưu")


@dataclass(frozen=True)
class ReviewView:
    """What the review page shows of a waiting document."""

    document: WaitingDocument
    proposal: dict
    pages: list[dict]  # each: width, height, source, words [[text, conf, x, y, w, h]…]
    page_count: int
    field_boxes: dict[str, dict]  # field -> {"page": n, "box": [x, y, w, h]}
    alternatives: dict[str, list[str]]  # field -> other readings (second readers, the lexicon's proposal)
    officer: str | None  # who handed it in at the counter

    def reasons_for(self, name: str) -> list[str]:
        return [r for r in self.document.reasons if reason_kind(r) == ("type" if name == "doc_type" else name)]

    def general_reasons(self) -> list[str]:
        """The reasons that are not about one of the fields shown beside the image."""
        return [r for r in self.document.reasons if reason_kind(r) not in FIELD_KINDS]


def review_view(rooms: Rooms, input_id: int) -> ReviewView:
    """The proposal, the word boxes and the field boxes of a waiting document (no OCR: all was kept)."""
    row = _waiting_row(rooms, input_id)
    folder = Path((row.review or {}).get("folder", ""))
    proposal = json.loads((folder / PROPOSAL).read_text("utf-8")) if (folder / PROPOSAL).exists() else {}
    view = json.loads((folder / PAGES).read_text("utf-8")) if (folder / PAGES).exists() else {}
    alternatives = dict(view.get("alternatives", {}))
    for reason in proposal.get("review_reasons", []):  # "LỄ read, LÊ proposed": the word read is an option too
        for read, _proposed in re.findall(r"(\S+) read, (\S+) proposed", reason):
            holder = proposal.get("fields", {}).get("holder") or ""
            if read and holder:
                option = holder.replace(_proposed, read)
                alternatives.setdefault("holder", [])
                if option not in alternatives["holder"]:
                    alternatives["holder"].append(option)
    boxes = dict(view.get("fields", {}))
    for reason in proposal.get("review_reasons", []):  # a blank nothing could read: its place on the page
        where = _BLANK_RE.search(reason)
        kind = reason_kind(reason)
        if where and kind in FIELD_KINDS and kind not in boxes:
            boxes[kind] = {"page": int(where[1]), "box": [int(where[n]) for n in range(2, 6)]}
    document = next((d for d in waiting(rooms) if d.id == input_id), None) or \
        WaitingDocument(row.id, row.source, row.doc_type, list((row.review or {}).get("reasons", [])))
    return ReviewView(document, proposal, view.get("pages", []), view.get("page_count", proposal.get("pages", 0)),
                      boxes, alternatives, (row.review or {}).get("officer"))


def _preview_path(rooms: Rooms, input_id: int, page: int) -> Path | None:
    row = _waiting_row(rooms, input_id)
    if not 1 <= page <= MAX_PREVIEW_PAGES:
        return None
    path = Path((row.review or {}).get("folder", "")) / f"page-{page}.jpg"
    return path if path.is_file() else None


def page_preview(rooms: Rooms, input_id: int, page: int) -> bytes | None:
    """The kept preview (JPEG) of page ``page`` (from 1) of a waiting document, or None."""
    path = _preview_path(rooms, input_id, page)
    return path.read_bytes() if path else None


def has_page_preview(rooms: Rooms, input_id: int, page: int) -> bool:
    return _preview_path(rooms, input_id, page) is not None


def keep_for_review(rooms: Rooms, source: SourceFile, outcome: Outcome, own_pages: Path | None = None,
                    pages: Sequence[PageText] = (), views: Sequence[tuple[Path, int]] = (),
                    officer: str | None = None, procedure_code: str | None = None) -> None:
    """Keep the original and the proposal so a clerk can accept or correct it later.

    ``own_pages``: a part of a split stack keeps its own pages (a searchable PDF) as its original.
    ``pages`` and ``views`` (a PDF and a page index for each page): the word boxes and a preview image of
    each page are kept too, so that the review page needs no OCR again.  ``officer``: who handed it in.
    """
    suffix = f"-{outcome.part.part}" if own_pages is not None and outcome.part.part is not None else ""
    folder = rooms.settings.review_dir / f"{source.sha256}{suffix}"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / ("original.pdf" if own_pages is not None else f"original{source.suffix}")
    if not target.exists():
        shutil.copyfile(own_pages or source.path, target)
    proposal = outcome.to_dict(with_timing=False)
    _write_atomically(folder / PROPOSAL, json.dumps(proposal, ensure_ascii=False, indent=2).encode())
    if pages:
        _keep_page_views(folder, pages, views, outcome)
    kinds = sorted({reason_kind(r) for r in outcome.review_reasons})
    rooms.index.inputs.record(outcome.source, source.sha256, Status.NEEDS_REVIEW, doc_type=outcome.doc_type_code,
                              review={"reasons": outcome.review_reasons, "folder": str(folder), "kinds": kinds,
                                      "agency": outcome.fields.get("issuer_agency"), "officer": officer,
                                      "procedure_code": procedure_code,
                                      "pages": len(pages) or outcome.pages})


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, path)


def _keep_page_views(folder: Path, pages: Sequence[PageText], views: Sequence[tuple[Path, int]],
                     outcome: Outcome) -> None:
    """``pages.json`` (each page's size, words with confidence and box, each field's box) and page-N.jpg."""
    boxes = {}
    for name in ("number", "issued_on", "issuer", "holder", "holder_id"):
        found = locate_field(pages, name, outcome.fields.get(name))
        if found:
            boxes[name] = {"page": found[0], "box": list(found[1])}
    alternatives: dict[str, list[str]] = {}
    for page in pages:
        for reread in page.rereads:
            name = "number" if reread.field == "number_label" else reread.field
            text = " ".join(reread.text.split())
            if text and text != outcome.fields.get(name) and text not in alternatives.get(name, []):
                alternatives.setdefault(name, []).append(text)
    described = []
    for number, page in enumerate(pages[:MAX_PREVIEW_PAGES], start=1):
        described.append({"width": page.width, "height": page.height, "source": page.source,
                          "words": [[w.text, round(w.conf), w.x, w.y, w.w, w.h]
                                    for seg in page.segments for w in seg.words]})
        if number <= len(views):
            pdf, index = views[number - 1]
            if pdf is not None and pdf.exists():
                _write_atomically(folder / f"page-{number}.jpg", pdf_page_previews(pdf, first=index, count=1)[0])
    view = {"pages": described, "page_count": len(pages), "fields": boxes, "alternatives": alternatives}
    _write_atomically(folder / PAGES, json.dumps(view, ensure_ascii=False).encode())


def review_record(decision: ReviewDecision) -> dict:
    """What the archived metadata says of a clerk's decision."""
    return {"officer": decision.officer or "terminal", "decided_at": dt.datetime.now(dt.UTC).replace(microsecond=0)
            .isoformat(), "corrected": sorted(decision.fields), "type_confirmed": bool(decision.doc_type)}


REASON_KINDS = ("type", "number", "issued_on", "issuer", "holder", "legibility", "register", "other")
FIELD_KINDS = ("number", "issued_on", "issuer", "holder")


def reason_kind(reason: str) -> str:
    """Which of ``REASON_KINDS`` a review reason is about (for the queue's filters and counts)."""
    lowered = reason.lower()
    for prefix, kind in (("document type", "type"), ("cover sheet", "type"), ("the counter", "type"),
                         ("number", "number"), ("issued_on", "issued_on"), ("issuer", "issuer"),
                         ("issuing level", "issuer"), ("holder", "holder"), ("text hard", "legibility")):
        if lowered.startswith(prefix):
            return kind
    return "register" if "register" in lowered else "other"


def _waiting_row(rooms: Rooms, input_id: int) -> InputRecord:
    row = rooms.index.inputs.get(input_id)
    if row is None or row.status != Status.NEEDS_REVIEW:
        raise ReviewError(f"no document with id {input_id} is waiting for review",
                          f"không có giấy tờ số {input_id} đang chờ duyệt (đã được xử lý?)")
    return row


def check_decision(decision: ReviewDecision, catalogue: Catalogue) -> ReviewDecision:
    """The decision with every value checked and normalized as the pipeline's own readings are.

    Refuses (``ReviewError``) an unknown type or field, a date that is not an existing YYYY-MM-DD day
    between 2 September 1945 and today, a number or an ID of the wrong shape or length, and names with
    control or direction characters.
    """
    if decision.doc_type and catalogue.get(decision.doc_type) is None:
        raise ReviewError(f"{decision.doc_type} is not a type of the catalogue",
                          f"{decision.doc_type} không phải loại giấy tờ trong danh mục")
    unknown = set(decision.fields) - set(CORRECTABLE_FIELDS)
    if unknown:
        raise ReviewError(f"unknown field(s): {', '.join(sorted(unknown))}",
                          f"trường không có: {', '.join(sorted(unknown))}")
    return replace(decision, fields={name: _checked(name, value) for name, value in decision.fields.items()})


FIELD_NAMES_VI = {"number": "số, ký hiệu", "issued_on": "ngày ban hành", "issuer": "cơ quan ban hành",
                  "holder": "người được cấp", "holder_id": "số định danh"}


def _vi(name: str) -> str:
    return FIELD_NAMES_VI.get(name, name)


def _checked(name: str, raw: str) -> str:
    value = " ".join(unicodedata.normalize("NFC", raw).split())
    if any(unicodedata.category(ch).startswith("C") for ch in value):
        raise ReviewError(f"{name} contains control or direction characters: type it again",
                          f"{_vi(name)} chứa ký tự điều khiển: hãy gõ lại")
    if not value:
        raise ReviewError(f"{name} is empty", f"{_vi(name)} đang để trống")
    if name == "issued_on":
        written = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value)  # as people write it: 08/04/2020
        if written:
            value = f"{written[3]}-{int(written[2]):02d}-{int(written[1]):02d}"
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ReviewError("issued_on must be a date YYYY-MM-DD or DD/MM/YYYY, e.g. 2020-04-08 or 08/04/2020",
                              "ngày ban hành phải là ngày dd/mm/yyyy, ví dụ 08/04/2020")
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise ReviewError(f"issued_on {value} is not a day of the calendar",
                              f"ngày ban hành {value} không có trên lịch") from None
        today = dt.datetime.now(VIETNAM_TIME).date()
        if not FIRST_ISSUE_DATE <= day <= today:
            raise ReviewError(f"issued_on {value} is not between {FIRST_ISSUE_DATE} and today ({today})",
                              f"ngày ban hành phải từ 02/09/1945 đến hôm nay ({today:%d/%m/%Y})")
    elif name == "number":
        if len(value) > MAX_NUMBER_CHARS or not NUMBER_RE.fullmatch(value):
            raise ReviewError(f"number must be letters and digits joined by / . - (e.g. 125/2020 or 07/CT-UBND), "
                              f"at most {MAX_NUMBER_CHARS} characters",
                              f"số, ký hiệu gồm chữ và số nối bằng / . - (ví dụ 125/2020 hoặc 07/CT-UBND), "
                              f"tối đa {MAX_NUMBER_CHARS} ký tự")
    elif name == "holder_id":
        if not HOLDER_ID_RE.fullmatch(value):
            raise ReviewError("holder_id must be an ID number of 9 or 12 digits",
                              "số định danh phải có 9 hoặc 12 chữ số")
    else:  # issuer, holder: names
        if len(value) > MAX_NAME_CHARS:
            raise ReviewError(f"{name} is longer than {MAX_NAME_CHARS} characters",
                              f"{_vi(name)} dài quá {MAX_NAME_CHARS} ký tự")
        if not any(ch.isalpha() for ch in value):
            raise ReviewError(f"{name} must be a name, with letters", f"{_vi(name)} phải là một tên, có chữ")
    return value


def accept(rooms: Rooms, input_id: int, decision: ReviewDecision) -> Outcome:
    """Archive a document that waited for review, with the clerk's type and fields.

    The correction is kept as training data for the text model.
    """
    from workflow.ingest import DocumentJob, Ingest  # ingest uses this module to keep documents for review

    row = _waiting_row(rooms, input_id)
    _check_claim(rooms, input_id, decision.officer)
    decision = check_decision(decision, rooms.catalogue)
    folder = Path((row.review or {}).get("folder", ""))
    originals = sorted(folder.glob("original.*")) if folder.is_dir() else []
    if not originals:
        raise ReviewError(f"the original of document {input_id} is missing from {folder}")
    proposal_path = folder / PROPOSAL
    proposal = json.loads(proposal_path.read_text("utf-8")) if proposal_path.exists() else {}
    # The dossier the document was scanned for stays with it through review.
    job = DocumentJob(originals[0], recorded_as=SourcePart.parse(row.source), dossier=proposal.get("dossier_code"),
                      decision=decision, officer=(row.review or {}).get("officer"),
                      procedure_code=(row.review or {}).get("procedure_code"))
    outcome = next(Ingest(rooms).run([job]))
    if outcome.status == Status.ARCHIVED:
        _keep_correction(rooms, outcome)
        # The original is archived with the result now: the personal data leaves the review queue.
        shutil.rmtree(folder, ignore_errors=True)
        rooms.index.review_claims.release(input_id)
    return outcome


def reject(rooms: Rooms, input_id: int, reason: str, officer: str | None = None) -> None:
    """Refuse a document at review; its original stays in the review folder."""
    row = _waiting_row(rooms, input_id)
    _check_claim(rooms, input_id, officer)
    if not reason.strip():
        raise ReviewError("say why the document is rejected", "hãy ghi lý do từ chối")
    rooms.index.inputs.record(row.source, row.source_sha256, Status.REJECTED,
                              error=f"rejected at review: {' '.join(reason.split())[:300]}"
                              + (f" (by {officer})" if officer else ""), doc_type=row.doc_type, review=row.review,
                              event_type="review.rejected")
    rooms.index.review_claims.release(input_id)


def apply_decision(understanding: Understanding, decision: ReviewDecision, catalogue: Catalogue,
                   agencies: AgencyRegistry) -> Understanding:
    """The clerk's word replaces what was proposed; what the clerk confirmed needs no more review.

    A corrected issuer gives the level and the agency again; a result is never archived without a level.
    """
    cls = understanding.classification
    if decision.doc_type:
        doc_type = catalogue.get(decision.doc_type)
        cls = Classification(doc_type.code, doc_type.name, 1.0, (*cls.evidence, "type confirmed by a clerk"))
    elif cls.type_code is None:
        raise ReviewError("the type was not recognized: give it with --type",
                          "chưa nhận ra loại giấy tờ: hãy chọn loại")
    else:
        cls = Classification(cls.type_code, cls.type_name, 1.0, (*cls.evidence, "type confirmed by a clerk"))
    changes = {name: FieldValue(value, 1.0, "entered by a clerk") for name, value in decision.fields.items()
               if name in READ_FIELDS}
    doc_type = catalogue.get(cls.type_code)
    merged = replace(understanding, classification=cls, review_reasons=(), **changes)
    if "issuer" in changes:
        agency = agencies.match_issuer(merged.issuer.value)
        merged = replace(merged, level=level_of_issuer(merged.issuer.value) or (agency.level if agency else None),
                         issuer_agency=agency.id if agency else None)
    missing = [name for name in doc_type.required if not getattr(merged, name).value]
    if missing:
        raise ReviewError(f"still missing: {', '.join(missing)}: give them with --field name=value",
                          f"còn thiếu: {', '.join(_vi(m) for m in missing)}")
    if merged.level is None:
        raise ReviewError(f"the issuing level cannot be told from the issuer {merged.issuer.value or '(none)'!r}: "
                          "give the issuer with its commune, district, province or ministry (--field issuer=…)",
                          "không xác định được cấp ban hành từ cơ quan ban hành: hãy ghi đủ tên xã, huyện, tỉnh "
                          "hoặc bộ")
    return merged


def _keep_correction(rooms: Rooms, outcome: Outcome) -> None:
    path = rooms.corrections_path
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {"doc_type": outcome.doc_type_code, "fields": outcome.fields, "text": outcome.text,
             "code": outcome.code, "at": dt.datetime.now(dt.UTC).isoformat()}
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
