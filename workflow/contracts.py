"""What leaves the process: the typed outcome of one document (the ``sohoa process --json`` contract, written
down in ``docs/schema/outcome.schema.json``), and the small types the faces hand in."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from codes.catalogue import FIELD_NAMES
from storage.metadata import DocTypeRef

# The fields sohoa reads from a document (named once, by the catalogue), what a clerk may correct, and what
# the outcome adds to them.
READ_FIELDS = FIELD_NAMES
CORRECTABLE_FIELDS = (*READ_FIELDS, "holder_id")
# Circular 01/2023's minimum data besides the read fields: the summary (trích yếu) and the validity, when the
# paper states them.
MINIMUM_DATA_FIELDS = ("summary", "valid_until", "validity_scope")
OUTCOME_FIELDS = (*CORRECTABLE_FIELDS, "issuer_agency", *MINIMUM_DATA_FIELDS)


def printable(text: str) -> str:
    """``text`` as it can be stored and shown: bytes that are not UTF-8 (a file name from another system)
    and control or direction characters are written as escapes, the rest as it is."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


class Refusal(Exception):
    """Something asked of sohoa that it refuses, with the reason in English and in Vietnamese (``vi``), for the
    face to show in the user's language."""

    def __init__(self, message: str, vi: str | None = None):
        super().__init__(message)
        self.vi = vi or message

    def said_in(self, lang: str) -> str:
        return self.vi if lang == "vi" else str(self)


class Status(StrEnum):
    """How a document ended."""

    ARCHIVED = "archived"  # coded, signed and stored
    NEEDS_REVIEW = "needs_review"  # kept for a clerk to confirm or correct; nothing signed
    REJECTED = "rejected"  # not a document sohoa can take; the reason says why
    SKIPPED = "skipped"  # not read at all this time (a backfill rerun: done before, or waiting for review)


@dataclass(frozen=True)
class SourcePart:
    """Where a document came from: an input file, or part ``part`` of a stack split by separator pages.

    Written ``path`` or ``path#part`` in the contract and in the index.
    """

    path: Path
    part: int | None = None

    def __str__(self) -> str:
        name = printable(str(self.path))
        return name if self.part is None else f"{name}#{self.part}"

    @classmethod
    def parse(cls, label: str) -> SourcePart:
        """The inverse of ``str``: a trailing ``#N`` (N a number) names a part."""
        path, sep, part = label.rpartition("#")
        if sep and part.isdigit():
            return cls(Path(path), int(part))
        return cls(Path(label))


@dataclass(frozen=True)
class ReviewDecision:
    """A clerk's answer to a document waiting for review: the type and any corrected fields."""

    doc_type: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    officer: str | None = None  # the signed-in officer who decided (None: the terminal)


def empty_fields() -> dict[str, Any]:
    return dict.fromkeys(READ_FIELDS)


@dataclass
class Outcome:
    """What happened to one input document."""

    part: SourcePart
    status: Status
    error: str | None = None
    code: str | None = None
    doc_type: DocTypeRef | None = None
    fields: dict[str, Any] = field(default_factory=empty_fields)
    confidence: dict[str, float] = field(default_factory=dict)  # of each read field, 0-1
    level: str | None = None
    pages: int = 0
    text: str = ""
    sha256: str | None = None
    archive_key: str | None = None
    source_sha256: str | None = None
    evidence: list[str] = field(default_factory=list)
    review_reasons: list[str] = field(default_factory=list)
    dossier_code: str | None = None
    result_alias: str | None = None
    review_decision: bool = False  # archived on a clerk's decision
    minimum_data: dict[str, Any] | None = None  # Circular 01/2023 Art. 8, once archived (metadata.json's)
    seconds: float = 0.0

    @property
    def source(self) -> str:
        """The input as the contract names it: ``path`` or ``path#part``."""
        return str(self.part)

    @property
    def doc_type_code(self) -> str | None:
        return self.doc_type.code if self.doc_type else None

    @property
    def reason(self) -> str:
        """Why it was not archived (or what to check), in one line."""
        return self.error or "; ".join(self.review_reasons)

    def to_dict(self, with_timing: bool = True) -> dict[str, Any]:
        """The contract, built key by key (docs/schema/outcome.schema.json)."""
        data: dict[str, Any] = {
            "source": self.source, "status": str(self.status), "error": self.error, "code": self.code,
            "doc_type": self.doc_type.to_dict() if self.doc_type else None,
            "fields": {name: self.fields.get(name) for name in self.fields},
            "confidence": dict(self.confidence), "level": self.level,
            "pages": self.pages, "text": self.text, "sha256": self.sha256, "archive_key": self.archive_key,
            "source_sha256": self.source_sha256, "evidence": list(self.evidence),
            "review_reasons": list(self.review_reasons), "dossier_code": self.dossier_code,
            "result_alias": self.result_alias, "review_decision": self.review_decision,
            "minimum_data": dict(self.minimum_data) if self.minimum_data else None,
        }
        if with_timing:
            data["seconds"] = self.seconds
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)
