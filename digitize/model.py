"""The small typed objects that leave ``digitize``: pages, documents and what was understood of them."""

from __future__ import annotations

from dataclasses import dataclass, field

from codes.catalogue import FIELD_NAMES

COVER_PREFIX = "SOHOA-COVER"
COVER_VERSION = "1"


@dataclass(frozen=True)
class CoverSheet:
    """What a cover sheet between documents of a stack says: the dossier and, optionally, the type."""

    dossier_code: str
    doc_type: str | None = None

    @property
    def payload(self) -> str:
        return f"{COVER_PREFIX}|{COVER_VERSION}|{self.dossier_code}|{self.doc_type or ''}"


@dataclass(frozen=True)
class Word:
    text: str
    conf: float  # 0-100, Tesseract's word confidence; 100 for a PDF text layer
    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class Segment:
    """A run of words on one line with no wide gap inside (a column's part of a line)."""

    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def x(self) -> int:
        return min(w.x for w in self.words)

    @property
    def y(self) -> int:
        return min(w.y for w in self.words)

    @property
    def right(self) -> int:
        return max(w.x + w.w for w in self.words)

    @property
    def bottom(self) -> int:
        return max(w.y + w.h for w in self.words)

    @property
    def height(self) -> int:
        return self.bottom - self.y

    @property
    def center_x(self) -> float:
        return (self.x + self.right) / 2


@dataclass(frozen=True)
class Reread:
    """A second reading of one field's line, cropped from the page (``digitize.reread``)."""

    field: str  # "number" (the header's Số line), "number_label" ("Mã số …: "), "issued_on" or "holder"
    text: str
    confidence: float  # 0-100, the lowest word confidence of the reading
    box: tuple[int, int, int, int]  # x, y, width, height in the page's (cleaned) pixels
    source: str  # reader and image: "trueocr, ink kept" (original, coloured ink dark), "tesseract, cleaned" …
    unsure: bool = True  # the page reading of this line was missing, unsure or in a filled-in blank


@dataclass(frozen=True)
class PageText:
    """What was read from one page, in reading order."""

    index: int
    width: int
    height: int
    segments: tuple[Segment, ...]
    source: str  # "ocr" or "text-layer"
    skew_degrees: float = 0.0
    rereads: tuple[Reread, ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(s.text for s in self.segments)

    @property
    def mean_confidence(self) -> float:
        words = [w for s in self.segments for w in s.words]
        return sum(w.conf for w in words) / len(words) if words else 0.0


@dataclass(frozen=True)
class FieldValue:
    value: str | None
    confidence: float
    evidence: str | None = None
    note: str | None = None  # what a clerk should check, e.g. a name word corrected against the lexicon


@dataclass(frozen=True)
class Classification:
    type_code: str | None
    type_name: str | None
    confidence: float
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Understanding:
    """Type, fields and level of a document, with the reasons a clerk should look at it."""

    classification: Classification
    number: FieldValue
    issued_on: FieldValue
    issuer: FieldValue
    holder: FieldValue
    level: str | None
    review_reasons: tuple[str, ...] = field(default_factory=tuple)
    issuer_agency: str | None = None  # identifier of the registered agency the issuer designates

    def fields_dict(self) -> dict[str, str | None]:
        """The read fields by name (``codes.catalogue.FIELD_NAMES``, the names the catalogue requires)."""
        return {name: getattr(self, name).value for name in FIELD_NAMES}

    def confidences(self) -> dict[str, float]:
        """How sure each read field is (0-1), by name."""
        return {name: round(getattr(self, name).confidence, 3) for name in FIELD_NAMES}
