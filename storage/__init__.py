"""Keeping and finding archived results: archive backends (objects), their layout and metadata, the index."""

from sqlalchemy.exc import SQLAlchemyError

from storage.archive import Archive, ArchiveError, LocalArchive, Retention, S3Archive, StoredObject, open_archive
from storage.index import AccessRecord, ClientRecord, Event, Index, InputRecord, ResultQuery, ResultRecord
from storage.metadata import DocTypeRef, FileInfo, ResultMetadata, SourceInfo
from storage.results import AuditReport, CheckedDocument, Finding, FixityError, ResultStore, audit, recover

# Failures of the archive or the index, as opposed to failures of one document: a batch stops on them.
STORAGE_ERRORS: tuple[type[Exception], ...] = (ArchiveError, SQLAlchemyError)

__all__ = [
    "STORAGE_ERRORS",
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
