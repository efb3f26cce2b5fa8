"""Writing a result version into the archive and the index, and checking (and repairing) them later.

Order of a write, so that a crash at any point leaves nothing half-recorded:
  1. every file is uploaded and read back; its SHA-256 must match;
  2. ``metadata.json`` (type, fields, checksums, events), then ``manifest-sha256.txt`` — the commit
     marker, in ``sha256sum`` format so an archivist can check a version with standard tools;
  3. the index row and the events, in one transaction.
A crash before 2 leaves objects without a manifest (``audit`` reports them as an abandoned ingest; their
code is never reused); a crash between 2 and 3 leaves a complete version the index lacks, which
``audit --repair`` adds from its metadata.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from storage.archive import Archive, ArchiveError, Retention, StoredObject
from storage.index import Event, Index, ResultRecord
from storage.layout import DOCUMENT, MANIFEST, METADATA, TEXT, ObjectKey, object_key, result_prefix, version_prefix
from storage.metadata import FileInfo, ResultMetadata

SEARCHED_TEXT_BYTES = 100_000  # the start of a result's text is indexed for full-text search


class FixityError(ArchiveError):
    """An archived object no longer matches the SHA-256 recorded when it was stored."""


def record_from_metadata(meta: ResultMetadata) -> ResultRecord:
    """The index row of a result version, rebuilt from its archived metadata alone."""
    document = meta.files[DOCUMENT]
    return ResultRecord(
        code=meta.code, version=meta.version, source_sha256=meta.source.sha256,
        doc_type=meta.doc_type.code, doc_type_name=meta.doc_type.name, confidence=meta.doc_type.confidence,
        level=meta.level, agency=meta.agency, fields=meta.fields, pages=meta.pages, sha256=document.sha256,
        size=document.size, archive_key=object_key(meta.code, meta.version, DOCUMENT), created_at=meta.created,
        retention=meta.retention, dossier_code=meta.dossier_code, result_alias=meta.result_alias,
    )


@dataclass(frozen=True)
class CheckedDocument:
    """A signed PDF read whole from the archive, with the outcome of its fixity check."""

    data: bytes
    expected_sha256: str
    sha256: str

    @property
    def intact(self) -> bool:
        return self.sha256 == self.expected_sha256

    @property
    def problems(self) -> list[str]:
        return [] if self.intact else ["fixity: the archived PDF does not match the SHA-256 recorded at ingest"]


def manifest_text(checksums: dict[str, str]) -> str:
    return "".join(f"{digest}  {name}\n" for name, digest in sorted(checksums.items()))


class ResultStore:
    """Writes result versions atomically and reads them back; composes an ``Archive`` and an ``Index``."""

    def __init__(self, archive: Archive, index: Index):
        self.archive = archive
        self.index = index

    def _put_verified(self, key: str, data: bytes | Path, retention: Retention) -> StoredObject:
        stored = self.archive.put(key, data, retention)
        if self.archive.sha256(key) != stored.sha256:
            raise ArchiveError(f"{key}: the stored bytes differ from what was sent")
        return stored

    def next_version(self, code: str) -> int:
        versions = [parsed.version for key in self.archive.list(result_prefix(code))
                    if (parsed := ObjectKey.parse(key))]
        return max(versions, default=0) + 1

    def write(self, code: str, files: dict[str, bytes | Path], metadata: ResultMetadata, retention: Retention,
              events: list[Event]) -> ResultRecord:
        """Store one new version of result ``code``; earlier versions stay untouched.

        A file given as a ``Path`` is streamed from disk, so a long document is never held in memory.
        """
        if DOCUMENT not in files:
            raise ArchiveError(f"a result version needs {DOCUMENT}")
        version = self.next_version(code)
        prefix = version_prefix(code, version)
        stored = {name: self._put_verified(object_key(code, version, name), data, retention)
                  for name, data in files.items()}
        events = [*events, Event("storage", self.archive.describe(), "success",
                                 f"{len(stored)} files stored and read back, SHA-256 verified; "
                                 f"retention {retention.describe()}", code=code)]
        meta = metadata.replace(
            code=code, version=version, supersedes=version_prefix(code, version - 1) if version > 1 else None,
            retention="permanent" if retention.years is None else str(retention.years),
            files={name: FileInfo(o.sha256, o.size) for name, o in stored.items()},
            events=[e.to_dict() for e in events],
        )
        meta_bytes = json.dumps(meta.to_dict(), ensure_ascii=False, indent=2).encode("utf-8")
        meta_obj = self._put_verified(f"{prefix}/{METADATA}", meta_bytes, retention)
        checksums = {name: o.sha256 for name, o in stored.items()} | {METADATA: meta_obj.sha256}
        self._put_verified(f"{prefix}/{MANIFEST}", manifest_text(checksums).encode(), retention)
        record = record_from_metadata(meta)
        text = files.get(TEXT, b"")
        if isinstance(text, Path):
            with text.open("rb") as fh:
                text = fh.read(SEARCHED_TEXT_BYTES)
        self.index.results.add(record, events, text[:SEARCHED_TEXT_BYTES].decode("utf-8", "ignore"))
        return record

    def versions(self, code: str) -> list[int]:
        """Complete versions of ``code`` in the archive (those with a manifest), oldest first."""
        return sorted(parsed.version for key in self.archive.list(result_prefix(code))
                      if (parsed := ObjectKey.parse(key)) and parsed.name == MANIFEST)

    def metadata(self, code: str, version: int) -> ResultMetadata:
        """The typed metadata of one version."""
        return ResultMetadata.from_dict(json.loads(self.metadata_bytes(code, version)))

    def metadata_bytes(self, code: str, version: int) -> bytes:
        """``metadata.json`` of one version exactly as archived."""
        return self.archive.get(object_key(code, version, METADATA))

    def metadata_problem(self, code: str, version: int, data: bytes) -> str | None:
        """Why ``data``, read as a version's ``metadata.json``, cannot be trusted (None when its SHA-256 is
        the one the manifest lists)."""
        try:
            manifest = self.archive.get(object_key(code, version, MANIFEST)).decode("utf-8", "replace")
        except ArchiveError:
            return f"{version_prefix(code, version)}/{MANIFEST} is missing"
        listed = dict(reversed(line.split("  ", 1)) for line in manifest.splitlines() if "  " in line)
        if listed.get(METADATA) != hashlib.sha256(data).hexdigest():
            return f"{version_prefix(code, version)}/{METADATA} does not match {MANIFEST} (changed after archiving)"
        return None

    def read(self, code: str, version: int, name: str) -> bytes:
        """One object of a version, whole (small objects: text, metadata, originals for a renewal)."""
        return self.archive.get(object_key(code, version, name))

    def read_document(self, record: ResultRecord) -> CheckedDocument:
        """The current signed PDF of ``record``, whole, with its SHA-256 checked against the index."""
        data = self.archive.get(record.archive_key)
        return CheckedDocument(data, record.sha256, hashlib.sha256(data).hexdigest())

    def stream_document(self, code: str, version: int, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        """A byte range of a version's signed PDF, piece by piece (no fixity check: a part cannot be hashed)."""
        return self.archive.stream(object_key(code, version, DOCUMENT), start, length)

    def stream_verified(self, code: str, version: int, expected_sha256: str) -> Iterator[bytes]:
        """A version's signed PDF piece by piece, hashed on the way.

        The last piece is held back until the whole has been hashed: when the bytes do not match
        ``expected_sha256``, ``FixityError`` is raised instead of it, so a reader (an HTTP response with its
        length announced) is cut short rather than handed the whole of a changed document.
        """
        digest = hashlib.sha256()
        held: bytes | None = None
        for chunk in self.archive.stream(object_key(code, version, DOCUMENT)):
            digest.update(chunk)
            if held is not None:
                yield held
            held = chunk
        if digest.hexdigest() == expected_sha256:
            if held is not None:
                yield held
        else:
            self.index.results.add_events([Event("fixity_check", "sohoa reader", "failure",
                                                 f"v{version}/{DOCUMENT} read back with another SHA-256",
                                                 code=code)])
            raise FixityError(f"the archived PDF of {code} v{version} does not match its SHA-256")

    def presigned_document_url(self, code: str, version: int, seconds: int) -> str:
        """A time-limited URL of a version's signed PDF on S3; ``NotImplementedError`` on other backends."""
        presign = getattr(self.archive, "presigned_url", None)
        if presign is None:
            raise NotImplementedError("presigned URLs need the S3 archive backend")
        return presign(object_key(code, version, DOCUMENT), seconds)

    def document_info(self, code: str, version: int) -> FileInfo:
        """SHA-256 and size of a version's signed PDF, as its metadata records them."""
        return self.metadata(code, version).files[DOCUMENT]


@dataclass
class Finding:
    code: str
    version: int | None
    problem: str
    repaired: bool = False


@dataclass
class AuditReport:
    checked: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f.repaired for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {"checked": self.checked, "ok": self.ok, "findings": [asdict(f) for f in self.findings]}


DocumentCheck = Callable[[bytes], list[str]]


def audit(store: ResultStore, check_document: DocumentCheck | None = None, sample: int | None = None,
          repair: bool = False, agent: str = "sohoa audit") -> AuditReport:
    """Re-read archived results, recompute SHA-256, re-check signatures; find half-finished ingests.

    ``check_document`` returns the problems of a signed PDF (the signature check lives in ``signing``).
    With ``sample``, only that many random results are checked and the archive is not scanned for orphans.
    """
    report = AuditReport()
    results = store.index.results.all()
    if sample is not None:
        results = random.sample(results, min(sample, len(results)))
    for record in results:
        report.checked += 1
        problems = _check_result(store, record, check_document)
        for problem in problems:
            report.findings.append(Finding(record.code, record.version, problem))
        store.index.results.add_events([Event("fixity_check", agent, "failure" if problems else "success",
                                      "; ".join(problems) or "all checksums and signatures verified",
                                      code=record.code)])
    if sample is None:
        _scan_for_unindexed(store, {r.code: r.version for r in store.index.results.all()}, report, repair, agent)
    return report


def _check_result(store: ResultStore, record: ResultRecord, check_document: DocumentCheck | None) -> list[str]:
    prefix = version_prefix(record.code, record.version)
    try:
        meta = store.metadata(record.code, record.version)
    except ArchiveError:
        return [f"{prefix}/{METADATA} is missing"]
    except (ValueError, KeyError, TypeError):
        return [f"{prefix}/{METADATA} is not valid JSON"]
    problems = []
    computed: dict[str, str] = {}
    for name, expected in meta.files.items():
        try:
            data = store.read(record.code, record.version, name)
        except ArchiveError:
            problems.append(f"{prefix}/{name} is missing")
            continue
        computed[name] = hashlib.sha256(data).hexdigest()
        if computed[name] != expected.sha256:
            problems.append(f"{prefix}/{name} does not match its SHA-256 (changed after archiving)")
        if name == DOCUMENT:
            if computed[name] != record.sha256:
                problems.append(f"{prefix}/{name} does not match the SHA-256 in the index")
            if check_document is not None and computed[name] == expected.sha256:
                problems += [f"{prefix}/{name}: {p}" for p in check_document(data)]
    try:
        manifest = store.read(record.code, record.version, MANIFEST).decode()
        computed[METADATA] = hashlib.sha256(store.metadata_bytes(record.code, record.version)).hexdigest()
        for line in manifest.splitlines():
            digest, name = line.split("  ", 1)
            if name in computed and computed[name] != digest:
                problems.append(f"{prefix}/{name} does not match {MANIFEST}")
    except ArchiveError:
        problems.append(f"{prefix}/{MANIFEST} is missing")
    return problems


def recover(store: ResultStore, agent: str = "sohoa recover") -> list[Finding]:
    """Finish what an interrupted run left (index complete versions, record abandoned ingests); no re-hashing.

    Cheap enough to run before every batch: it lists the archive and reads only the leftovers' metadata.
    """
    report = AuditReport()
    _scan_for_unindexed(store, {r.code: r.version for r in store.index.results.all()}, report, True, agent)
    return report.findings


def _scan_for_unindexed(store: ResultStore, indexed: dict[str, int], report: AuditReport, repair: bool,
                        agent: str) -> None:
    """Versions present in the archive but not (or not yet) in the index: crash leftovers."""
    versions: dict[tuple[str, int], set[str]] = {}
    for key in store.archive.list():
        parsed = ObjectKey.parse(key)
        if parsed:
            versions.setdefault((parsed.code, parsed.version), set()).add(parsed.name)
    abandoned = {e.code for e in store.index.results.events(event_type="abandoned_ingest")}
    for (code, version), names in sorted(versions.items()):
        if indexed.get(code, 0) >= version:
            continue
        if MANIFEST in names:
            finding = Finding(code, version, "complete in the archive but missing from the index")
            if repair:
                meta = store.metadata(code, version)
                events = [Event(e["event_type"], e["agent"], e["outcome"], e.get("detail"),
                                dt.datetime.fromisoformat(e["at"]), code) for e in meta.events]
                events.append(Event("index_repair", agent, "success", f"v{version} indexed from its metadata",
                                    code=code))
                store.index.results.add(record_from_metadata(meta), events)
                finding.repaired = True
        else:
            if code in abandoned:
                continue  # reported and recorded by an earlier repair
            finding = Finding(code, version, f"incomplete ingest (no {MANIFEST}): {', '.join(sorted(names))}")
            if repair:
                store.index.results.add_events([Event("abandoned_ingest", agent, "warning",
                                              f"v{version} left incomplete by an interrupted run; kept as is, "
                                              "code never reused", code=code)])
                finding.repaired = True
        report.findings.append(finding)
