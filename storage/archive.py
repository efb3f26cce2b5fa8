"""Archive backends behind one small interface.  Objects are write-once: a key is never overwritten.

``LocalArchive`` (a folder, the embedded default) and ``S3Archive`` (any S3 store through the ``minio``
SDK: SeaweedFS, MinIO, AWS S3).  On S3 the bucket has versioning and object lock, and each object is
stored under the retention of its document type; the local folder imitates this with read-only files and
versions side by side (``{code}/v1/…``, ``{code}/v2/…``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*(/[A-Za-z0-9][A-Za-z0-9._\-]*)*$")


class ArchiveError(Exception):
    """A storage operation failed or was refused (e.g. an attempt to overwrite)."""


@dataclass(frozen=True)
class Retention:
    """How long an object must stay unchanged: a number of years, or permanently (legal hold)."""

    years: int | None  # None: permanent

    @classmethod
    def from_catalogue(cls, value: str) -> Retention:
        return cls(None if value == "permanent" else int(value))

    def until(self, now: dt.datetime, permanent_years: int) -> dt.datetime:
        years = self.years if self.years is not None else permanent_years
        return now + dt.timedelta(days=round(365.25 * years))

    def describe(self) -> str:
        return "permanent (legal hold)" if self.years is None else f"{self.years} years"


@dataclass(frozen=True)
class StoredObject:
    key: str
    sha256: str
    size: int
    version_id: str | None = None


CHUNK = 1 << 20


def chunks_of(data: bytes | Path) -> Iterator[bytes]:
    """``data`` in pieces of at most 1 MiB: bytes sliced, a file read as it goes."""
    if isinstance(data, Path):
        with data.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                yield chunk
    else:
        for start in range(0, len(data), CHUNK):
            yield data[start:start + CHUNK]


def _pieces(read: Callable[[int], bytes], close: Callable[[], None], length: int | None) -> Iterator[bytes]:
    """Pieces from ``read(n)`` until ``length`` bytes (or the end), then ``close()`` (also if abandoned)."""
    left = length
    try:
        while left is None or left > 0:
            chunk = read(CHUNK if left is None else min(CHUNK, left))
            if not chunk:
                return
            if left is not None:
                left -= len(chunk)
            yield chunk
    finally:
        close()


def digest_of(pieces: Iterable[bytes]) -> tuple[str, int]:
    """SHA-256 and size of what ``pieces`` yields, one piece at a time."""
    digest, size = hashlib.sha256(), 0
    for chunk in pieces:
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def sha256_and_size(data: bytes | Path) -> tuple[str, int]:
    return digest_of(chunks_of(data))


class Archive(Protocol):
    """What the pipeline and readers need from an object store.

    ``put`` takes bytes or a file (copied as it is read, so a large document is never held in memory);
    ``stream`` reads an object (or a byte range of it) in pieces, ``sha256`` hashes it that way.
    """

    def put(self, key: str, data: bytes | Path, retention: Retention | None = None) -> StoredObject: ...

    def get(self, key: str) -> bytes: ...

    def stream(self, key: str, start: int = 0, length: int | None = None) -> Iterator[bytes]: ...

    def sha256(self, key: str) -> str: ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str = "") -> list[str]: ...

    def retention_of(self, key: str) -> dict | None: ...

    def describe(self) -> str: ...


def check_key(key: str) -> str:
    """Refuse keys that could escape the archive or differ only by Unicode form."""
    key = unicodedata.normalize("NFC", key)
    if not _KEY_RE.match(key) or ".." in key.split("/") or len(key) > 512:
        raise ArchiveError(f"invalid archive key {key!r}")
    return key


class LocalArchive:
    """A folder on disk.  Files are written atomically, then made read-only; existing keys are kept."""

    RETENTION_SUFFIX = ".retention.json"

    def __init__(self, root: Path, permanent_years: int = 100):
        self.root = root
        self.permanent_years = permanent_years
        self.root.mkdir(parents=True, exist_ok=True)

    def describe(self) -> str:
        return f"local folder {self.root}"

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _write_once(self, path: Path, data: bytes | Path, key: str) -> tuple[str, int]:
        """Write ``data`` at ``path`` unless something is there; return its SHA-256 and size."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        digest, size = hashlib.sha256(), 0
        try:
            with os.fdopen(fd, "wb") as fh:
                for chunk in chunks_of(data):
                    fh.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o440)  # read-only; personal data: not for other users of the machine
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
        return digest.hexdigest(), size

    def put(self, key: str, data: bytes | Path, retention: Retention | None = None) -> StoredObject:
        path = self._path(key)
        digest, size = self._write_once(path, data, key)
        if retention is not None:
            now = dt.datetime.now(dt.UTC).replace(microsecond=0)
            record = {"mode": "local-readonly", "retain_until": retention.until(now, self.permanent_years)
                      .isoformat(), "legal_hold": retention.years is None}
            self._write_once(self._sidecar(path), json.dumps(record).encode(), key + self.RETENTION_SUFFIX)
        return StoredObject(key, digest, size)

    def sha256(self, key: str) -> str:
        try:
            with self._path(key).open("rb") as fh:
                return hashlib.file_digest(fh, "sha256").hexdigest()  # 1.5 ms for 2 MB, against 2.6 in pieces
        except FileNotFoundError:
            raise ArchiveError(f"{key} is not in the archive") from None

    def _sidecar(self, path: Path) -> Path:
        """Hidden file beside an object that records its retention (what S3 keeps as object lock)."""
        return path.with_name(f".{path.name}{self.RETENTION_SUFFIX}")

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise ArchiveError(f"{key} is not in the archive") from None

    def stream(self, key: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        """``length`` bytes (all, if None) of the object from offset ``start``, in pieces of at most 1 MiB.

        A missing object raises ``ArchiveError`` here, before the first piece is asked for.
        """
        try:
            fh = self._path(key).open("rb")
        except FileNotFoundError:
            raise ArchiveError(f"{key} is not in the archive") from None
        fh.seek(start)
        return _pieces(fh.read, fh.close, length)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> list[str]:
        base = self.root
        # Walk only the folder the prefix names (e.g. one result's versions), not the whole archive.
        folder = base / check_key(prefix.rsplit("/", 1)[0]) if "/" in prefix.rstrip("/") or prefix.endswith("/") \
            else base
        if not folder.is_dir():
            return []
        keys = []
        for path in folder.rglob("*"):
            if path.is_file() and not path.name.startswith("."):
                key = path.relative_to(base).as_posix()
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)

    def retention_of(self, key: str) -> dict | None:
        sidecar = self._sidecar(self._path(key))
        return json.loads(sidecar.read_text()) if sidecar.exists() else None


class S3Archive:
    """An S3 bucket with versioning and object lock (WORM), through the ``minio`` SDK."""

    def __init__(self, bucket: str, endpoint: str, access_key: str | None, secret_key: str | None,
                 secure: bool = False, lock_mode: str = "COMPLIANCE", permanent_years: int = 100,
                 region: str | None = None):
        from minio import Minio

        if lock_mode not in {"COMPLIANCE", "GOVERNANCE"}:
            raise ArchiveError("SOHOA_S3_LOCK_MODE must be COMPLIANCE or GOVERNANCE")
        self.bucket = bucket
        self.lock_mode = lock_mode
        self.permanent_years = permanent_years
        self.endpoint = endpoint
        self.client = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region)
        self._ensure_bucket()

    def describe(self) -> str:
        return f"S3 bucket {self.bucket} at {self.endpoint} (object lock, {self.lock_mode})"

    def _ensure_bucket(self) -> None:
        from minio.error import S3Error

        try:
            if not self.client.bucket_exists(self.bucket):
                self.client.make_bucket(self.bucket, object_lock=True)  # also turns versioning on
        except S3Error as exc:
            if exc.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise ArchiveError(f"cannot create bucket {self.bucket}: {exc}") from None
        status = self.client.get_bucket_versioning(self.bucket).status
        if status != "Enabled":
            raise ArchiveError(f"bucket {self.bucket} has no versioning: results could be overwritten")

    def put(self, key: str, data: bytes | Path, retention: Retention | None = None) -> StoredObject:
        from minio.commonconfig import COMPLIANCE, GOVERNANCE
        from minio.retention import Retention as S3Retention

        key = check_key(key)
        if self.exists(key):
            raise ArchiveError(f"{key} is already archived and cannot be overwritten")
        kwargs = {}
        if retention is not None:
            now = dt.datetime.now(dt.UTC).replace(microsecond=0)
            mode = COMPLIANCE if self.lock_mode == "COMPLIANCE" else GOVERNANCE
            kwargs["retention"] = S3Retention(mode, retention.until(now, self.permanent_years))
            kwargs["legal_hold"] = retention.years is None
        digest, size = sha256_and_size(data)  # sent as the object's metadata, so computed first
        with data.open("rb") if isinstance(data, Path) else io.BytesIO(data) as body:
            result = self.client.put_object(self.bucket, key, body, size, metadata={"sha256": digest}, **kwargs)
        return StoredObject(key, digest, size, result.version_id)

    def sha256(self, key: str) -> str:
        return digest_of(self.stream(key))[0]

    def get(self, key: str) -> bytes:
        return b"".join(self.stream(key))

    def stream(self, key: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        """Like ``LocalArchive.stream``: the server sends only the range asked for; the connection goes
        back to the pool once the pieces are read (or abandoned)."""
        from minio.error import S3Error

        key = check_key(key)
        try:
            response = self.client.get_object(self.bucket, key, offset=start, length=length or 0)
        except S3Error as exc:
            if exc.code in {"NoSuchKey", "NoSuchVersion"}:
                raise ArchiveError(f"{key} is not in the archive") from None
            raise

        def release() -> None:
            response.close()
            response.release_conn()

        return _pieces(response.read, release, length)

    def exists(self, key: str) -> bool:
        from minio.error import S3Error

        try:
            self.client.stat_object(self.bucket, check_key(key))
            return True
        except S3Error as exc:
            if exc.code in {"NoSuchKey", "NoSuchObject", "NotFound"}:
                return False
            raise

    def list(self, prefix: str = "") -> list[str]:
        return sorted(o.object_name for o in self.client.list_objects(self.bucket, prefix=prefix, recursive=True))

    def retention_of(self, key: str) -> dict | None:
        from minio.error import S3Error

        try:
            retention = self.client.get_object_retention(self.bucket, check_key(key))
        except S3Error:
            return None
        try:
            hold = self.client.is_object_legal_hold_enabled(self.bucket, key)
        except S3Error as exc:
            if exc.code != "NoSuchObjectLegalHold":  # never set: no hold
                raise
            hold = False
        if retention is None:
            return {"mode": None, "retain_until": None, "legal_hold": hold}
        return {"mode": retention.mode, "retain_until": retention.retain_until_date.isoformat(), "legal_hold": hold}

    def presigned_url(self, key: str, seconds: int = 300) -> str:
        return self.client.presigned_get_object(self.bucket, check_key(key), expires=dt.timedelta(seconds=seconds))


def open_archive(url: str, *, s3_endpoint: str | None = None, s3_access_key: str | None = None,
                 s3_secret_key: str | None = None, s3_secure: bool = False, lock_mode: str = "COMPLIANCE",
                 permanent_years: int = 100) -> Archive:
    """The archive named by ``SOHOA_ARCHIVE_URL``: ``file:///path`` or ``s3://bucket``."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalArchive(Path(unquote(parsed.path)), permanent_years)
    if parsed.scheme == "s3":
        if not s3_endpoint:
            raise ArchiveError("an s3:// archive needs SOHOA_S3_ENDPOINT (host:port)")
        return S3Archive(parsed.netloc, s3_endpoint, s3_access_key, s3_secret_key, s3_secure, lock_mode,
                         permanent_years)
    raise ArchiveError(f"unsupported archive URL {url!r}: use file:///path or s3://bucket")
