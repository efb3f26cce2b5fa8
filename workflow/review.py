"""Review: documents sohoa was unsure of wait for a clerk, who accepts them (with corrections) or rejects them.

An accepted document is read again from its kept original with the clerk's decision and archived as any
other; the correction is kept as training data for the text model.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from codes import Catalogue
from digitize.intake import SourceFile
from digitize.model import Classification, FieldValue, Understanding
from storage import InputRecord
from workflow.contracts import CORRECTABLE_FIELDS, READ_FIELDS, Outcome, ReviewDecision, SourcePart, Status
from workflow.rooms import Rooms

PROPOSAL = "proposal.json"


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


def check_decision(decision: ReviewDecision, catalogue: Catalogue) -> None:
    """Refuse a decision naming an unknown type or field, or a date that is not YYYY-MM-DD."""
    if decision.doc_type and catalogue.get(decision.doc_type) is None:
        raise ReviewError(f"{decision.doc_type} is not a type of the catalogue")
    unknown = set(decision.fields) - set(CORRECTABLE_FIELDS)
    if unknown:
        raise ReviewError(f"unknown field(s): {', '.join(sorted(unknown))}")
    if decision.fields.get("issued_on"):
        try:
            dt.date.fromisoformat(decision.fields["issued_on"])
        except ValueError:
            raise ReviewError("issued_on must be a date YYYY-MM-DD") from None


def accept(rooms: Rooms, input_id: int, decision: ReviewDecision) -> Outcome:
    """Archive a document that waited for review, with the clerk's type and fields.

    The correction is kept as training data for the text model.
    """
    from workflow.ingest import DocumentJob, Ingest  # ingest uses this module to keep documents for review

    row = _waiting_row(rooms, input_id)
    check_decision(decision, rooms.catalogue)
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
    return outcome


def reject(rooms: Rooms, input_id: int, reason: str) -> None:
    """Refuse a document at review; its original stays in the review folder."""
    row = _waiting_row(rooms, input_id)
    if not reason.strip():
        raise ReviewError("say why the document is rejected")
    rooms.index.inputs.record(row.source, row.source_sha256, Status.REJECTED,
                              error=f"rejected at review: {reason.strip()}", doc_type=row.doc_type, review=row.review)


def apply_decision(understanding: Understanding, decision: ReviewDecision, catalogue: Catalogue) -> Understanding:
    """The clerk's word replaces what was proposed; what the clerk confirmed needs no more review."""
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
    missing = [name for name in doc_type.required if not getattr(merged, name).value]
    if missing:
        raise ReviewError(f"still missing: {', '.join(missing)}: give them with --field name=value")
    return merged


def _keep_correction(rooms: Rooms, outcome: Outcome) -> None:
    path = rooms.corrections_path
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {"doc_type": outcome.doc_type_code, "fields": outcome.fields, "text": outcome.text,
             "code": outcome.code, "at": dt.datetime.now(dt.UTC).isoformat()}
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
