"""The archive: write-once objects, WORM retention on a real S3 server, versions, crash safety, audit."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid

import pytest
from minio import Minio
from minio.error import S3Error

from storage import (
    ArchiveError,
    DocTypeRef,
    Event,
    Index,
    LocalArchive,
    ResultMetadata,
    ResultStore,
    Retention,
    S3Archive,
    SourceInfo,
    audit,
)
from storage.layout import MANIFEST, METADATA


@pytest.fixture(params=["local", "s3"])
def archive(request, tmp_path):
    if request.param == "local":
        return LocalArchive(tmp_path / "archive")
    server = request.getfixturevalue("s3_server")
    return S3Archive(f"sohoa-{uuid.uuid4().hex[:12]}", server.endpoint, server.access_key, server.secret_key)


def metadata_for(code: str, doc_type: str = "KS") -> ResultMetadata:
    return ResultMetadata(
        agency="000.00.00.H26", doc_type=DocTypeRef(doc_type, "Giấy khai sinh", 0.97),
        fields={"number": "125/2020", "issued_on": "2020-04-08", "issuer": None, "holder": "NGUYỄN MINH ANH"},
        level="commune", pages=1, source=SourceInfo("a.png", "ab" * 32, "png"), ocr={"engine": "pdf text layer"},
        pipeline_version="test", signer="test", signature={}, evidence=[],
        created_at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat())


PERMANENT = Retention(None)


def write_result(store: ResultStore, code: str, pdf: bytes = b"%PDF-1.7 signed", retention: Retention = PERMANENT):
    files = {"document.pdf": pdf, "original.png": b"\x89PNG original", "text.txt": "GIẤY KHAI SINH".encode()}
    return store.write(code, files, metadata_for(code), retention, [Event("ingestion", "test", "success")])


def test_objects_are_write_once(archive):
    stored = archive.put("R-1/v1/document.pdf", b"first", Retention(5))
    assert stored.sha256 == hashlib.sha256(b"first").hexdigest()
    with pytest.raises(ArchiveError, match="cannot be overwritten"):
        archive.put("R-1/v1/document.pdf", b"second", Retention(5))
    assert archive.get("R-1/v1/document.pdf") == b"first"
    assert archive.list("R-1/") == ["R-1/v1/document.pdf"]


def test_objects_are_read_back_in_pieces_and_ranges(archive):
    """Readers (`sohoa fetch`, the HTTP API) stream objects: no piece above 1 MiB, byte ranges from the store."""
    data = os.urandom(2_500_000)
    archive.put("R-2/v1/document.pdf", data, Retention(5))
    pieces = list(archive.stream("R-2/v1/document.pdf"))
    assert b"".join(pieces) == data and len(pieces) == 3 and max(map(len, pieces)) <= 1 << 20
    assert b"".join(archive.stream("R-2/v1/document.pdf", 1_000_000, 1_200_000)) == data[1_000_000:2_200_000]
    assert b"".join(archive.stream("R-2/v1/document.pdf", 2_499_990)) == data[2_499_990:]
    with pytest.raises(ArchiveError, match="not in the archive"):
        archive.stream("R-2/v1/missing.pdf")  # refused before any byte is asked for
    assert archive.sha256("R-2/v1/document.pdf") == hashlib.sha256(data).hexdigest()  # the read-back check
    with pytest.raises(ArchiveError, match="not in the archive"):
        archive.sha256("R-2/v1/missing.pdf")


@pytest.mark.parametrize("key", ["../etc/passwd", "a/../../b", "/abs", "a//b", "a b", ""])
def test_keys_that_could_escape_are_refused(archive, key):
    with pytest.raises(ArchiveError, match="invalid archive key"):
        archive.put(key, b"x")


def test_retention_follows_the_document_type(archive):
    archive.put("R-2/v1/document.pdf", b"ten years", Retention(10))
    archive.put("R-3/v1/document.pdf", b"forever", Retention(None))
    ten = archive.retention_of("R-2/v1/document.pdf")
    until = dt.datetime.fromisoformat(ten["retain_until"])
    assert abs((until - dt.datetime.now(dt.UTC)).days - 3652) <= 2
    assert ten["legal_hold"] is False
    assert archive.retention_of("R-3/v1/document.pdf")["legal_hold"] is True


def test_s3_server_refuses_to_delete_or_rewrite_a_locked_version(s3_server):
    bucket = f"sohoa-{uuid.uuid4().hex[:12]}"
    archive = S3Archive(bucket, s3_server.endpoint, s3_server.access_key, s3_server.secret_key)
    stored = archive.put("R-4/v1/document.pdf", b"legal record", Retention(5))
    raw = Minio(s3_server.endpoint, access_key=s3_server.access_key, secret_key=s3_server.secret_key, secure=False)
    assert raw.get_bucket_versioning(bucket).status == "Enabled"
    with pytest.raises(S3Error) as refused:
        raw.remove_object(bucket, "R-4/v1/document.pdf", version_id=stored.version_id)
    assert refused.value.code == "AccessDenied"
    # An overwrite through the raw API only adds a version: the locked bytes stay as they were.
    raw.put_object(bucket, "R-4/v1/document.pdf", io.BytesIO(b"forged"), 6)
    original = raw.get_object(bucket, "R-4/v1/document.pdf", version_id=stored.version_id)
    assert original.read() == b"legal record"
    # and sohoa's own interface refuses the overwrite outright
    with pytest.raises(ArchiveError):
        archive.put("R-4/v1/document.pdf", b"again", Retention(5))


def test_result_layout_is_readable_without_sohoa(tmp_path):
    archive = LocalArchive(tmp_path / "archive")
    store = ResultStore(archive, Index(f"sqlite:///{tmp_path / 'i.sqlite3'}"))
    write_result(store, "000.00.00.H26-KS-230515-0001")
    folder = tmp_path / "archive" / "000.00.00.H26-KS-230515-0001" / "v1"
    check = subprocess.run(["sha256sum", "-c", MANIFEST], cwd=folder, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "document.pdf: OK" in check.stdout and "metadata.json: OK" in check.stdout
    meta = json.loads((folder / METADATA).read_text("utf-8"))
    assert meta["files"]["document.pdf"]["sha256"] == hashlib.sha256(b"%PDF-1.7 signed").hexdigest()
    assert [e["event_type"] for e in meta["events"]] == ["ingestion", "storage"]


def test_a_correction_is_a_new_version_never_an_overwrite(archive, tmp_path):
    store = ResultStore(archive, Index(f"sqlite:///{tmp_path / 'i.sqlite3'}"))
    code = "000.00.00.H26-KS-230515-0002"
    first = write_result(store, code, b"%PDF v1")
    second = write_result(store, code, b"%PDF v2 corrected")
    assert (first.version, second.version) == (1, 2)
    assert store.index.results.get(code).version == 2
    assert archive.get(first.archive_key) == b"%PDF v1"
    assert store.metadata(code, 2).supersedes == f"{code}/v1"
    assert audit(store).ok


def test_audit_catches_a_tampered_file_and_a_missing_object(tmp_path):
    archive = LocalArchive(tmp_path / "archive")
    store = ResultStore(archive, Index(f"sqlite:///{tmp_path / 'i.sqlite3'}"))
    tampered, missing, fine = (f"000.00.00.H26-KS-230515-000{i}" for i in (3, 4, 5))
    for code in (tampered, missing, fine):
        write_result(store, code)
    path = tmp_path / "archive" / tampered / "v1" / "document.pdf"
    os.chmod(path, 0o644)
    path.write_bytes(b"%PDF-1.7 signed, then altered")
    (tmp_path / "archive" / missing / "v1" / "text.txt").unlink()
    report = audit(store)
    assert not report.ok and report.checked == 3
    problems: dict[str, str] = {}
    for finding in report.findings:
        problems[finding.code] = problems.get(finding.code, "") + finding.problem + "; "
    assert "does not match its SHA-256" in problems[tampered]
    assert "missing" in problems[missing]
    assert fine not in problems
    assert [e.outcome for e in store.index.results.events(fine, "fixity_check")] == ["success"]
    assert [e.outcome for e in store.index.results.events(tampered, "fixity_check")] == ["failure"]


def test_audit_repairs_what_a_crash_left(archive, tmp_path):
    url = f"sqlite:///{tmp_path / 'i.sqlite3'}"
    index = Index(url)
    crashing = Index(url)

    def killed(record, events=(), document_text=""):
        raise RuntimeError("killed before the index commit")

    crashing.results.add = killed
    # crash 1: after every object and the manifest, before the index row
    with pytest.raises(RuntimeError):
        write_result(ResultStore(archive, crashing), "000.00.00.H26-KS-230515-0006")
    # crash 2: in the middle of the uploads, before metadata and manifest
    archive.put("000.00.00.H26-KS-230515-0007/v1/document.pdf", b"%PDF half", Retention(None))
    store = ResultStore(archive, index)
    assert index.results.get("000.00.00.H26-KS-230515-0006") is None
    report = audit(store)
    assert not report.ok
    assert {f.code: f.problem.split(" (")[0] for f in report.findings} == {
        "000.00.00.H26-KS-230515-0006": "complete in the archive but missing from the index",
        "000.00.00.H26-KS-230515-0007": "incomplete ingest",
    }
    assert audit(store, repair=True).ok
    assert index.results.get("000.00.00.H26-KS-230515-0006").sha256 == hashlib.sha256(b"%PDF-1.7 signed").hexdigest()
    assert index.results.get("000.00.00.H26-KS-230515-0007") is None
    assert index.results.events("000.00.00.H26-KS-230515-0007", "abandoned_ingest")
    assert audit(store).ok  # nothing left to report


def test_a_run_killed_with_sigkill_leaves_no_half_record(tmp_path):
    child = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(os.getcwd())!r})
        from storage import Index, LocalArchive, ResultStore, Retention, Event
        from tests.test_storage import write_result
        store = ResultStore(LocalArchive(__import__("pathlib").Path({str(tmp_path / "archive")!r})),
                            Index("sqlite:///{tmp_path / 'i.sqlite3'}"))
        for n in range(1, 100000):
            write_result(store, f"000.00.00.H26-KS-230515-{{n:04d}}", b"%PDF " + bytes(200_000))
            print(n, flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
    done = 0
    while done < 5:
        line = proc.stdout.readline()
        assert line, "the writer died early"
        done = int(line)
    time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    store = ResultStore(LocalArchive(tmp_path / "archive"), Index(f"sqlite:///{tmp_path / 'i.sqlite3'}"))
    for record in store.index.results.all():  # every indexed result is whole
        assert store.archive.exists(f"{record.code}/v1/{MANIFEST}")
    assert audit(store, repair=True).ok
    assert audit(store).ok
    assert len(store.index.results.all()) >= done
