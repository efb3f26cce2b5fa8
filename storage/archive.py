"""Archive backends behind one small interface.  Objects are write-once: a key is never overwritten."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*(/[A-Za-z0-9][A-Za-z0-9._\-]*)*$")


class ArchiveError(Exception):
    """A storage operation failed or was refused (e.g. an attempt to overwrite)."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    sha256: str
    size: int


class Archive(Protocol):
    """What the pipeline and readers need from an object store."""

    def put(self, key: str, data: bytes) -> StoredObject: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def describe(self) -> str: ...


def check_key(key: str) -> str:
    """Refuse keys that could escape the archive or differ only by Unicode form."""
    key = unicodedata.normalize("NFC", key)
    if not _KEY_RE.match(key) or ".." in key.split("/") or len(key) > 512:
        raise ArchiveError(f"invalid archive key {key!r}")
    return key


class LocalArchive:
    """A folder on disk.  Files are written atomically, then made read-only; existing keys are kept."""

    def __init__(self, root: Path):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def describe(self) -> str:
        return f"local folder {self.root}"

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes) -> StoredObject:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o444)
            try:
                os.link(tmp, path)  # fails if the key exists: archived objects are never replaced
            except FileExistsError:
                raise ArchiveError(f"{key} is already archived and cannot be overwritten") from None
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return StoredObject(key, hashlib.sha256(data).hexdigest(), len(data))

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise ArchiveError(f"{key} is not in the archive") from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


def open_archive(url: str) -> Archive:
    """The archive named by ``SOHOA_ARCHIVE_URL`` (``file:///path``)."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalArchive(Path(unquote(parsed.path)))
    raise ArchiveError(f"unsupported archive URL {url!r}: use file:///path")
