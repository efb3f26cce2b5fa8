"""Keeping and finding archived results: archive backends (objects) and the index (SQL)."""

from storage.archive import Archive, ArchiveError, LocalArchive, StoredObject, open_archive
from storage.index import Index, InputRecord, ResultRecord

__all__ = [
    "Archive",
    "ArchiveError",
    "Index",
    "InputRecord",
    "LocalArchive",
    "ResultRecord",
    "StoredObject",
    "open_archive",
]
