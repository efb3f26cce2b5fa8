"""Work files that the workers of a distributed backfill hand on to each other: staged originals and the
searchable page PDFs a page worker wrote for the document stage.

Not the archive: nothing here is kept once its document is done, so the place is a plain folder that every
machine mounts at the same path, or an S3 bucket without object lock (``SOHOA_WORK_URL``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

from storage.archive import ArchiveError, check_key, sha256_and_size


class WorkFiles(Protocol):
    """Put, fetch and delete work files by key."""

    def put(self, key: str, path: Path, move: bool = False) -> None:
        """Store ``path`` under ``key``; ``move``: the caller no longer needs the file (it may be taken)."""

    def fetch(self, key: str, destination: Path) -> None: ...

    def delete(self, keys: Iterable[str]) -> None: ...

    def describe(self) -> str: ...


class FolderWorkFiles:
    """A folder every worker sees at the same path (NFS, a shared disk); writes are atomic."""

    def __init__(self, root: Path):
        self.root = root

    def describe(self) -> str:
        return f"folder {self.root}"

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, path: Path, move: bool = False) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        if move:
            try:
                os.replace(path, target)  # atomic, and no copy, on the same file system
                return
            except OSError:
                pass  # another file system: copied below
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".put-")
        os.close(fd)
        shutil.copyfile(path, tmp)
        os.replace(tmp, target)

    def fetch(self, key: str, destination: Path) -> None:
        source = self._path(key)
        if not source.is_file():
            raise ArchiveError(f"work file {key} is missing from {self.root}")
        shutil.copyfile(source, destination)

    def delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._path(key).unlink(missing_ok=True)


class S3WorkFiles:
    """An S3 bucket (no object lock: work files are deleted once their document is done)."""

    def __init__(self, bucket: str, endpoint: str, access_key: str | None, secret_key: str | None,
                 secure: bool = False):
        from minio import Minio
        from minio.error import S3Error

        self.bucket, self.endpoint = bucket, endpoint
        self.client = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure)
        try:
            if not self.client.bucket_exists(bucket):
                self.client.make_bucket(bucket)
        except S3Error as exc:
            if exc.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise ArchiveError(f"cannot create the work bucket {bucket}: {exc}") from None

    def describe(self) -> str:
        return f"S3 bucket {self.bucket} at {self.endpoint}"

    def put(self, key: str, path: Path, move: bool = False) -> None:
        digest, size = sha256_and_size(path)
        with path.open("rb") as body:
            self.client.put_object(self.bucket, check_key(key), body, size, metadata={"sha256": digest})

    def fetch(self, key: str, destination: Path) -> None:
        from minio.error import S3Error

        try:
            self.client.fget_object(self.bucket, check_key(key), str(destination))
        except S3Error as exc:
            raise ArchiveError(f"work file {key} could not be fetched from {self.bucket}: {exc.code}") from None

    def delete(self, keys: Iterable[str]) -> None:
        from minio.deleteobjects import DeleteObject

        objects = [DeleteObject(check_key(k)) for k in keys]
        if objects:
            for _error in self.client.remove_objects(self.bucket, objects):
                pass  # a work file already gone is no loss


def default_work_url(archive_url: str, data_dir: Path) -> str:
    """Beside an S3 archive, a bucket of its own (``BUCKET-work``); beside a folder archive, ``DATA_DIR/work``."""
    parsed = urlparse(archive_url)
    if parsed.scheme == "s3":
        return f"s3://{parsed.netloc}-work"
    return (data_dir / "work").as_uri()


def open_workfiles(url: str, *, s3_endpoint: str | None = None, s3_access_key: str | None = None,
                   s3_secret_key: str | None = None, s3_secure: bool = False) -> WorkFiles:
    """The work store named by ``SOHOA_WORK_URL``: ``file:///shared/path`` or ``s3://bucket``."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return FolderWorkFiles(Path(unquote(parsed.path)))
    if parsed.scheme == "s3":
        if not s3_endpoint:
            raise ArchiveError("an s3:// work store needs SOHOA_S3_ENDPOINT (host:port)")
        return S3WorkFiles(parsed.netloc, s3_endpoint, s3_access_key, s3_secret_key, s3_secure)
    raise ArchiveError(f"unsupported work store URL {url!r}: use file:///path or s3://bucket")
