"""Keeping and finding archived results: archive backends (objects), their layout and metadata, the index."""

from storage.archive import Archive, ArchiveError, LocalArchive, Retention, S3Archive, StoredObject, open_archive
from storage.index import AccessRecord, ClientRecord, Event, Index, InputRecord, ResultQuery, ResultRecord
from storage.metadata import DocTypeRef, FileInfo, ResultMetadata, SourceInfo
from storage.results import AuditReport, CheckedDocument, Finding, FixityError, ResultStore, audit, recover

__all__ = [
    "AccessRecord",
    "Archive",
    "ArchiveError",
    "AuditReport",
    "CheckedDocument",
    "ClientRecord",
    "DocTypeRef",
    "Event",
    "FileInfo",
    "Finding",
    "FixityError",
    "Index",
    "InputRecord",
    "LocalArchive",
    "ResultMetadata",
    "ResultQuery",
    "ResultRecord",
    "ResultStore",
    "Retention",
    "S3Archive",
    "SourceInfo",
    "StoredObject",
    "audit",
    "open_archive",
    "recover",
]
