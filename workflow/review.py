"""Review: documents sohoa was unsure of wait for a clerk, who accepts them (with corrections) or rejects them.

An accepted document is read again from its kept original with the clerk's decision and archived as any
other; the correction is kept as training data for the text model.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

from codes import VIETNAM_TIME, AgencyRegistry, Catalogue
from digitize.fields import level_of_issuer
from digitize.intake import SourceFile
from digitize.model import Classification, FieldValue, Understanding
from storage import InputRecord
from workflow.contracts import CORRECTABLE_FIELDS, READ_FIELDS, Outcome, ReviewDecision, SourcePart, Status
from workflow.rooms import Rooms

PROPOSAL = "proposal.json"
FIRST_ISSUE_DATE = dt.date(1945, 9, 2)  # the state whose results these are was founded that day
MAX_NUMBER_CHARS = 40
MAX_NAME_CHARS = 200
NUMBER_RE = re.compile(r"[0-9A-Za-zĐđ]+(?:[/.\-– ][0-9A-Za-zĐđ]+)*")  # 125/2020, 07/CT-UBND, 0109876543
HOLDER_ID_RE = re.compile(r"\d{9}|\d{12}")  # CMND (9 digits) or CCCD (12 digits)


class ReviewError(Exception):
    """A review command cannot be carried out; the message says why."""


@dataclass(frozen=True)
class WaitingDocument:
    """A document waiting for a clerk: what sohoa proposes and why it is unsure."""

    id: int
    source: str
    doc_type: str | None
    reasons: list[str]

    def to_dict(self) -> dict:
        return {"id": self.id, "source": self.source, "doc_type": self.doc_type, "reasons": list(self.reasons)}


def waiting(rooms: Rooms) -> list[WaitingDocument]:
    """Every document waiting for review, oldest first."""
    return [WaitingDocument(row.id, row.source, row.doc_type, list((row.review or {}).get("reasons", [])))
            for row in rooms.index.inputs.all() if row.status == Status.NEEDS_REVIEW]


def keep_for_review(rooms: Rooms, source: SourceFile, outcome: Outcome, own_pages: Path | None = None) -> None:
    """Keep the original and the proposal so a clerk can accept or correct it later.

    ``own_pages``: a part of a split stack keeps its own pages (a searchable PDF) as its original.
    """
    suffix = f"-{outcome.part.part}" if own_pages is not None and outcome.part.part is not None else ""
    folder = rooms.settings.review_dir / f"{source.sha256}{suffix}"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / ("original.pdf" if own_pages is not None else f"original{source.suffix}")
    if not target.exists():
        shutil.copyfile(own_pages or source.path, target)
    proposal = outcome.to_dict(with_timing=False)
    (folder / PROPOSAL).write_text(json.dumps(proposal, ensure_ascii=False, indent=2), "utf-8")
    rooms.index.inputs.record(outcome.source, source.sha256, Status.NEEDS_REVIEW, doc_type=outcome.doc_type_code,
                              review={"reasons": outcome.review_reasons, "folder": str(folder)})


def _waiting_row(rooms: Rooms, input_id: int) -> InputRecord:
    row = rooms.index.inputs.get(input_id)
    if row is None or row.status != Status.NEEDS_REVIEW:
        raise ReviewError(f"no document with id {input_id} is waiting for review")
    return row


def check_decision(decision: ReviewDecision, catalogue: Catalogue) -> ReviewDecision:
    """The decision with every value checked and normalized as the pipeline's own readings are.

    Refuses (``ReviewError``) an unknown type or field, a date that is not an existing YYYY-MM-DD day
    between 2 September 1945 and today, a number or an ID of the wrong shape or length, and names with
    control or direction characters.
    """
    if decision.doc_type and catalogue.get(decision.doc_type) is None:
        raise ReviewError(f"{decision.doc_type} is not a type of the catalogue")
    unknown = set(decision.fields) - set(CORRECTABLE_FIELDS)
    if unknown:
        raise ReviewError(f"unknown field(s): {', '.join(sorted(unknown))}")
    return replace(decision, fields={name: _checked(name, value) for name, value in decision.fields.items()})


def _checked(name: str, raw: str) -> str:
    value = " ".join(unicodedata.normalize("NFC", raw).split())
    if any(unicodedata.category(ch).startswith("C") for ch in value):
        raise ReviewError(f"{name} contains control or direction characters: type it again")
    if not value:
        raise ReviewError(f"{name} is empty")
    if name == "issued_on":
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ReviewError("issued_on must be a date YYYY-MM-DD, e.g. 2020-04-08")
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise ReviewError(f"issued_on {value} is not a day of the calendar") from None
        today = dt.datetime.now(VIETNAM_TIME).date()
        if not FIRST_ISSUE_DATE <= day <= today:
            raise ReviewError(f"issued_on {value} is not between {FIRST_ISSUE_DATE} and today ({today})")
    elif name == "number":
        if len(value) > MAX_NUMBER_CHARS or not NUMBER_RE.fullmatch(value):
            raise ReviewError(f"number must be letters and digits joined by / . - (e.g. 125/2020 or 07/CT-UBND), "
                              f"at most {MAX_NUMBER_CHARS} characters")
    elif name == "holder_id":
        if not HOLDER_ID_RE.fullmatch(value):
            raise ReviewError("holder_id must be an ID number of 9 or 12 digits")
    else:  # issuer, holder: names
        if len(value) > MAX_NAME_CHARS:
            raise ReviewError(f"{name} is longer than {MAX_NAME_CHARS} characters")
        if not any(ch.isalpha() for ch in value):
            raise ReviewError(f"{name} must be a name, with letters")
    return value


def accept(rooms: Rooms, input_id: int, decision: ReviewDecision) -> Outcome:
    """Archive a document that waited for review, with the clerk's type and fields.

    The correction is kept as training data for the text model.
    """
    from workflow.ingest import DocumentJob, Ingest  # ingest uses this module to keep documents for review

    row = _waiting_row(rooms, input_id)
    decision = check_decision(decision, rooms.catalogue)
    folder = Path((row.review or {}).get("folder", ""))
    originals = sorted(folder.glob("original.*")) if folder.is_dir() else []
    if not originals:
        raise ReviewError(f"the original of document {input_id} is missing from {folder}")
    proposal_path = folder / PROPOSAL
    proposal = json.loads(proposal_path.read_text("utf-8")) if proposal_path.exists() else {}
    # The dossier the document was scanned for stays with it through review.
    job = DocumentJob(originals[0], recorded_as=SourcePart.parse(row.source), dossier=proposal.get("dossier_code"),
                      decision=decision)
    outcome = next(Ingest(rooms).run([job]))
    if outcome.status == Status.ARCHIVED:
        _keep_correction(rooms, outcome)
        # The original is archived with the result now: the personal data leaves the review queue.
        shutil.rmtree(folder, ignore_errors=True)
    return outcome


def reject(rooms: Rooms, input_id: int, reason: str) -> None:
    """Refuse a document at review; its original stays in the review folder."""
    row = _waiting_row(rooms, input_id)
    if not reason.strip():
        raise ReviewError("say why the document is rejected")
    rooms.index.inputs.record(row.source, row.source_sha256, Status.REJECTED,
                              error=f"rejected at review: {reason.strip()}", doc_type=row.doc_type, review=row.review)


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
        raise ReviewError("the type was not recognized: give it with --type")
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
        raise ReviewError(f"still missing: {', '.join(missing)}: give them with --field name=value")
    if merged.level is None:
        raise ReviewError(f"the issuing level cannot be told from the issuer {merged.issuer.value or '(none)'!r}: "
                          "give the issuer with its commune, district, province or ministry (--field issuer=…)")
    return merged


def _keep_correction(rooms: Rooms, outcome: Outcome) -> None:
    path = rooms.corrections_path
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {"doc_type": outcome.doc_type_code, "fields": outcome.fields, "text": outcome.text,
             "code": outcome.code, "at": dt.datetime.now(dt.UTC).isoformat()}
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
