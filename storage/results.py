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
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from storage.archive import Archive, ArchiveError, Retention, StoredObject
from storage.index import Event, Index, ResultRecord

METADATA = "metadata.json"
MANIFEST = "manifest-sha256.txt"
DOCUMENT = "document.pdf"
_VERSION_RE = re.compile(r"^(?P<code>.+)/v(?P<version>\d+)/(?P<name>[^/]+)$")


def version_prefix(code: str, version: int) -> str:
    return f"{code}/v{version}"


def record_from_metadata(meta: dict[str, Any]) -> ResultRecord:
    """The index row of a result version, rebuilt from its archived metadata alone."""
    document = meta["files"][DOCUMENT]
    return ResultRecord(
        code=meta["code"], version=int(meta["version"]), source_sha256=meta["source"]["sha256"],
        doc_type=meta["doc_type"]["code"], doc_type_name=meta["doc_type"]["name"],
        confidence=float(meta["doc_type"]["confidence"]), level=meta.get("level"), agency=meta["agency"],
        fields=meta["fields"], pages=int(meta["pages"]), sha256=document["sha256"], size=int(document["size"]),
        archive_key=f"{version_prefix(meta['code'], int(meta['version']))}/{DOCUMENT}",
        created_at=dt.datetime.fromisoformat(meta["created_at"]), retention=str(meta.get("retention", "permanent")),
        dossier_code=meta.get("dossier_code"), result_alias=meta.get("result_alias"),
    )


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
        versions = [int(m.group("version")) for key in self.archive.list(f"{code}/")
                    if (m := _VERSION_RE.match(key))]
        return max(versions, default=0) + 1

    def write(self, code: str, files: dict[str, bytes | Path], metadata: dict[str, Any], retention: Retention,
              events: list[Event]) -> ResultRecord:
        """Store one new version of result ``code``; earlier versions stay untouched.

        A file given as a ``Path`` is streamed from disk, so a long document is never held in memory.
        """
        if DOCUMENT not in files:
            raise ArchiveError(f"a result version needs {DOCUMENT}")
        version = self.next_version(code)
        prefix = version_prefix(code, version)
        stored = {name: self._put_verified(f"{prefix}/{name}", data, retention) for name, data in files.items()}
        events = [*events, Event("storage", self.archive.describe(), "success",
                                 f"{len(stored)} files stored and read back, SHA-256 verified; "
                                 f"retention {retention.describe()}", code=code)]
        meta = {
            **metadata, "code": code, "version": version,
            "supersedes": version_prefix(code, version - 1) if version > 1 else None,
            "retention": "permanent" if retention.years is None else str(retention.years),
            "files": {name: {"sha256": o.sha256, "size": o.size} for name, o in stored.items()},
            "events": [e.to_dict() for e in events],
        }
        meta_bytes = json.dumps(meta, ensure_ascii=False, indent=2).encode("utf-8")
        meta_obj = self._put_verified(f"{prefix}/{METADATA}", meta_bytes, retention)
        checksums = {name: o.sha256 for name, o in stored.items()} | {METADATA: meta_obj.sha256}
        self._put_verified(f"{prefix}/{MANIFEST}", manifest_text(checksums).encode(), retention)
        record = record_from_metadata(meta)
        self.index.add_result(record, events)
        return record

    def versions(self, code: str) -> list[int]:
        """Complete versions of ``code`` in the archive (those with a manifest), oldest first."""
        return sorted(int(m.group("version")) for key in self.archive.list(f"{code}/")
                      if (m := _VERSION_RE.match(key)) and m.group("name") == MANIFEST)

    def metadata(self, code: str, version: int) -> dict[str, Any]:
        return json.loads(self.archive.get(f"{version_prefix(code, version)}/{METADATA}"))


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
    results = store.index.results()
    if sample is not None:
        results = random.sample(results, min(sample, len(results)))
    for record in results:
        report.checked += 1
        problems = _check_result(store, record, check_document)
        for problem in problems:
            report.findings.append(Finding(record.code, record.version, problem))
        store.index.add_events([Event("fixity_check", agent, "failure" if problems else "success",
                                      "; ".join(problems) or "all checksums and signatures verified",
                                      code=record.code)])
    if sample is None:
        _scan_for_unindexed(store, {r.code: r.version for r in store.index.results()}, report, repair, agent)
    return report


def _check_result(store: ResultStore, record: ResultRecord, check_document: DocumentCheck | None) -> list[str]:
    prefix = version_prefix(record.code, record.version)
    try:
        meta = json.loads(store.archive.get(f"{prefix}/{METADATA}"))
    except ArchiveError:
        return [f"{prefix}/{METADATA} is missing"]
    except ValueError:
        return [f"{prefix}/{METADATA} is not valid JSON"]
    problems = []
    computed: dict[str, str] = {}
    for name, expected in meta.get("files", {}).items():
        try:
            data = store.archive.get(f"{prefix}/{name}")
        except ArchiveError:
            problems.append(f"{prefix}/{name} is missing")
            continue
        computed[name] = hashlib.sha256(data).hexdigest()
        if computed[name] != expected["sha256"]:
            problems.append(f"{prefix}/{name} does not match its SHA-256 (changed after archiving)")
        if name == DOCUMENT:
            if computed[name] != record.sha256:
                problems.append(f"{prefix}/{name} does not match the SHA-256 in the index")
            if check_document is not None and computed[name] == expected["sha256"]:
                problems += [f"{prefix}/{name}: {p}" for p in check_document(data)]
    try:
        manifest = store.archive.get(f"{prefix}/{MANIFEST}").decode()
        computed[METADATA] = hashlib.sha256(store.archive.get(f"{prefix}/{METADATA}")).hexdigest()
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
    _scan_for_unindexed(store, {r.code: r.version for r in store.index.results()}, report, True, agent)
    return report.findings


def _scan_for_unindexed(store: ResultStore, indexed: dict[str, int], report: AuditReport, repair: bool,
                        agent: str) -> None:
    """Versions present in the archive but not (or not yet) in the index: crash leftovers."""
    versions: dict[tuple[str, int], set[str]] = {}
    for key in store.archive.list():
        match = _VERSION_RE.match(key)
        if match:
            versions.setdefault((match.group("code"), int(match.group("version"))), set()).add(match.group("name"))
    abandoned = {e.code for e in store.index.events(event_type="abandoned_ingest")}
    for (code, version), names in sorted(versions.items()):
        if indexed.get(code, 0) >= version:
            continue
        if MANIFEST in names:
            finding = Finding(code, version, "complete in the archive but missing from the index")
            if repair:
                meta = store.metadata(code, version)
                events = [Event(e["event_type"], e["agent"], e["outcome"], e.get("detail"),
                                dt.datetime.fromisoformat(e["at"]), code) for e in meta.get("events", [])]
                events.append(Event("index_repair", agent, "success", f"v{version} indexed from its metadata",
                                    code=code))
                store.index.add_result(record_from_metadata(meta), events)
                finding.repaired = True
        else:
            if code in abandoned:
                continue  # reported and recorded by an earlier repair
            finding = Finding(code, version, f"incomplete ingest (no {MANIFEST}): {', '.join(sorted(names))}")
            if repair:
                store.index.add_events([Event("abandoned_ingest", agent, "warning",
                                              f"v{version} left incomplete by an interrupted run; kept as is, "
                                              "code never reused", code=code)])
                finding.repaired = True
        report.findings.append(finding)
