"""The catalogue of document types, loaded from ``codes/data/catalogue.toml`` (data, not code)."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_CATALOGUE = Path(__file__).parent / "data" / "catalogue.toml"
LEVELS = ("ministry", "province", "district", "commune")
TYPE_CODE_RE = re.compile(r"^[A-Z][A-Z0-9]{1,5}$")
FIELD_NAMES = ("number", "issued_on", "issuer", "holder")


@dataclass(frozen=True)
class DocumentType:
    """One entry of the catalogue."""

    code: str
    name: str
    kind: str
    titles: tuple[str, ...]
    levels: tuple[str, ...]
    retention: str
    required: tuple[str, ...]
    abbreviation: str | None = None
    subject_marker: str | None = None
    holder_labels: tuple[str, ...] = ()
    number_labels: tuple[str, ...] = ()
    national_code: str | None = None  # the result-type code of the National Database of Administrative Procedures

    @property
    def permanent(self) -> bool:
        return self.retention == "permanent"


@dataclass(frozen=True)
class Catalogue:
    types: tuple[DocumentType, ...]
    _by_code: dict[str, DocumentType] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_code.update({t.code: t for t in self.types})

    def get(self, code: str) -> DocumentType | None:
        return self._by_code.get(code)

    def __iter__(self):
        return iter(self.types)

    def __len__(self) -> int:
        return len(self.types)


class CatalogueError(ValueError):
    """The catalogue file is malformed; the message names the entry and the problem."""


def _nfc_tuple(values) -> tuple[str, ...]:
    return tuple(unicodedata.normalize("NFC", str(v)) for v in values or ())


def load_catalogue(path: Path | str | None = None) -> Catalogue:
    """Load and validate a catalogue file (default: the one shipped in ``codes/data``)."""
    raw = tomllib.loads(Path(path or DEFAULT_CATALOGUE).read_text(encoding="utf-8"))
    types: list[DocumentType] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw.get("type", []), start=1):
        code = str(entry.get("code", ""))
        where = f"catalogue entry {i} ({code or 'no code'})"
        if not TYPE_CODE_RE.match(code):
            raise CatalogueError(f"{where}: code must be 2-6 characters A-Z/0-9 starting with a letter")
        if code in seen:
            raise CatalogueError(f"{where}: duplicate code")
        seen.add(code)
        if entry.get("kind") not in {"result", "admin"}:
            raise CatalogueError(f"{where}: kind must be 'result' or 'admin'")
        levels = tuple(entry.get("levels", ()))
        if not levels or any(level not in LEVELS for level in levels):
            raise CatalogueError(f"{where}: levels must be among {', '.join(LEVELS)}")
        retention = entry.get("retention", "permanent")
        if retention != "permanent" and not (isinstance(retention, int) and retention > 0):
            raise CatalogueError(f"{where}: retention must be 'permanent' or a positive number of years")
        required = tuple(entry.get("required", ()))
        if any(r not in FIELD_NAMES for r in required):
            raise CatalogueError(f"{where}: required fields must be among {', '.join(FIELD_NAMES)}")
        if not entry.get("titles") and not entry.get("subject_marker"):
            raise CatalogueError(f"{where}: needs titles or a subject_marker to be recognizable")
        types.append(
            DocumentType(
                code=code,
                name=unicodedata.normalize("NFC", entry["name"]),
                kind=entry["kind"],
                titles=_nfc_tuple(entry.get("titles")),
                levels=levels,
                retention=str(retention),
                required=required,
                abbreviation=entry.get("abbreviation"),
                subject_marker=entry.get("subject_marker"),
                holder_labels=_nfc_tuple(entry.get("holder_labels")),
                number_labels=_nfc_tuple(entry.get("number_labels")),
                national_code=entry.get("national_code") or None,
            )
        )
    return Catalogue(tuple(types))
