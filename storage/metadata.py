"""The metadata record of a result version (``metadata.json``): typed, written and read here alone.

Its JSON shape is documented in ``docs/schema/metadata.schema.json``; the API's result metadata
(``docs/schema/result.schema.json``) is built from it.  Optional parts are left out of the JSON when they
do not apply, as they always were.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DocTypeRef:
    """A document type of the catalogue as a result names it: code, name and how sure the reading was.

    In an archived result both are set; a document waiting for review may have no type yet (None).
    """

    code: str | None
    name: str | None
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "confidence": self.confidence}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> DocTypeRef:
        return cls(raw["code"], raw["name"], float(raw["confidence"]))


@dataclass(frozen=True)
class SourceInfo:
    """The input file a result was made from."""

    name: str
    sha256: str
    kind: str  # png | jpeg | tiff | pdf

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256, "kind": self.kind}


@dataclass(frozen=True)
class FileInfo:
    """One stored object of a version: its SHA-256 (checked on every read) and size."""

    sha256: str
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "size": self.size}


@dataclass(frozen=True)
class ResultMetadata:
    """What is known of one result version.  The first fields come from the pipeline; ``code`` and the
    fields after it are filled in by ``ResultStore.write`` as it stores the version."""

    agency: str
    doc_type: DocTypeRef
    fields: dict[str, Any]
    level: str | None
    pages: int
    source: SourceInfo
    ocr: dict[str, Any]  # {"engine", "version", "lang", "binding"}, or {"engine": "pdf text layer"}
    pipeline_version: str
    signer: str
    signature: dict[str, Any]  # level, signer, development_key, timestamp_authority (+ renewal facts)
    evidence: list[str]
    created_at: str  # ISO 8601, UTC
    signed_input: str | None = None  # why the issuer's signed bytes were kept as they are
    source_pages: list[int] | None = None  # this document's pages in a split stack
    dossier_code: str | None = None
    result_alias: str | None = None
    active_content: list[str] | None = None  # what an archived PDF carries that could run (SOHOA_ACTIVE_CONTENT=flag)
    officer: str | None = None  # the officer who handed the paper in (the workspace's counter)
    review: dict[str, Any] | None = None  # a clerk's decision: officer, decided_at, corrected, type_confirmed
    # Circular 01/2023: the digitizing officer, whether they signed, where the stamps went, the QR code's content.
    digitization: dict[str, Any] | None = None
    minimum_data: dict[str, Any] | None = None  # Circular 01/2023 Art. 8, key by key (see publish.minimum_data)
    code: str = ""
    version: int = 0
    supersedes: str | None = None
    retention: str = "permanent"
    files: dict[str, FileInfo] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def document(self) -> FileInfo:
        """The signed PDF's checksum and size."""
        return self.files["document.pdf"]

    @property
    def created(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.created_at)

    def replace(self, **changes: Any) -> ResultMetadata:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The ``metadata.json`` object (keys in their historical order)."""
        data: dict[str, Any] = {
            "agency": self.agency, "doc_type": self.doc_type.to_dict(), "fields": dict(self.fields),
            "level": self.level, "pages": self.pages, "source": self.source.to_dict(), "ocr": dict(self.ocr),
            "pipeline_version": self.pipeline_version, "signer": self.signer, "signature": dict(self.signature),
            "evidence": list(self.evidence), "created_at": self.created_at,
        }
        if self.signed_input:
            data["signed_input"] = self.signed_input
        if self.source_pages:
            data["source_pages"] = list(self.source_pages)
        if self.dossier_code:
            data["dossier_code"] = self.dossier_code
            data["result_alias"] = self.result_alias
        if self.active_content:
            data["active_content"] = list(self.active_content)
        if self.officer:
            data["officer"] = self.officer
        if self.review:
            data["review"] = dict(self.review)
        if self.digitization:
            data["digitization"] = dict(self.digitization)
        if self.minimum_data:
            data["minimum_data"] = dict(self.minimum_data)
        data.update({"code": self.code, "version": self.version, "supersedes": self.supersedes,
                     "retention": self.retention, "files": {n: f.to_dict() for n, f in self.files.items()},
                     "events": list(self.events)})
        return data

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ResultMetadata:
        source = raw["source"]
        return cls(
            agency=raw["agency"], doc_type=DocTypeRef.from_dict(raw["doc_type"]), fields=dict(raw["fields"]),
            level=raw.get("level"), pages=int(raw["pages"]),
            source=SourceInfo(source["name"], source["sha256"], source["kind"]), ocr=dict(raw.get("ocr", {})),
            pipeline_version=raw.get("pipeline_version", ""), signer=raw.get("signer", ""),
            signature=dict(raw.get("signature", {})), evidence=list(raw.get("evidence", [])),
            created_at=raw["created_at"], signed_input=raw.get("signed_input"),
            source_pages=raw.get("source_pages"), dossier_code=raw.get("dossier_code"),
            result_alias=raw.get("result_alias"), active_content=raw.get("active_content"),
            officer=raw.get("officer"), review=raw.get("review"), digitization=raw.get("digitization"),
            minimum_data=raw.get("minimum_data"),
            code=raw["code"],
            version=int(raw["version"]),
            supersedes=raw.get("supersedes"), retention=str(raw.get("retention", "permanent")),
            files={name: FileInfo(f["sha256"], int(f["size"])) for name, f in raw.get("files", {}).items()},
            events=list(raw.get("events", [])),
        )
