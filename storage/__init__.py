"""Keeping and finding archived results: archive backends (objects) and the index (SQL)."""

from storage.archive import Archive, ArchiveError, LocalArchive, Retention, S3Archive, StoredObject, open_archive
from storage.index import AccessRecord, ClientRecord, Event, Index, InputRecord, ResultQuery, ResultRecord
from storage.results import AuditReport, Finding, ResultStore, audit, recover

__all__ = [
    "AccessRecord",
    "ClientRecord",
    "ResultQuery",
    "AuditReport",
    "Finding",
    "ResultStore",
    "audit",
    "recover",
    "Archive",
    "ArchiveError",
    "Event",
    "Index",
    "InputRecord",
    "LocalArchive",
    "ResultRecord",
    "Retention",
    "S3Archive",
    "StoredObject",
    "open_archive",
]
