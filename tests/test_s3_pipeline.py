"""The whole path with the archive on a real S3 server (SeaweedFS) and the index on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import uuid

import pytest

from tests.conftest import SAMPLES, json_lines, run_cli


@pytest.fixture(scope="module")
def s3_env(s3_server, tmp_path_factory):
    from tests.servers import drop_postgres_schema, postgres_url

    data_dir = tmp_path_factory.mktemp("s3-data")
    env = {
        "SOHOA_ARCHIVE_URL": f"s3://sohoa-{uuid.uuid4().hex[:12]}",
        "SOHOA_S3_ENDPOINT": s3_server.endpoint,
        "SOHOA_S3_ACCESS_KEY": s3_server.access_key,
        "SOHOA_S3_SECRET_KEY": s3_server.secret_key,
    }
    pg = postgres_url()
    if pg:
        env["SOHOA_DATABASE_URL"] = pg
    yield data_dir, env
    if pg:
        drop_postgres_schema(pg)


def test_process_fetch_verify_audit_on_s3(s3_env, tmp_path, s3_server):
    from minio import Minio

    data_dir, env = s3_env
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(SAMPLES / "06-thong-bao.pdf", inputs)
    shutil.copy(SAMPLES / "09-ly-lich-tu-phap.jpg", inputs)
    rows = {r["source"].rsplit("/", 1)[1]: r for r in json_lines(
        run_cli("process", str(inputs), "--json", data_dir=data_dir, env_extra=env).stdout)}
    assert {r["status"] for r in rows.values()} == {"archived"}
    tb = rows["06-thong-bao.pdf"]
    target = tmp_path / "tb.pdf"
    run_cli("fetch", tb["code"], "-o", str(target), data_dir=data_dir, env_extra=env)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == tb["sha256"]
    assert json.loads(run_cli("verify", tb["code"], "--json", data_dir=data_dir, env_extra=env).stdout)["valid"]
    # retention follows the catalogue: Thông báo 10 years, Phiếu lý lịch tư pháp 5 years
    client = Minio(s3_server.endpoint, access_key=s3_server.access_key, secret_key=s3_server.secret_key,
                   secure=False)
    bucket = env["SOHOA_ARCHIVE_URL"][5:]
    for name, years in (("06-thong-bao.pdf", 10), ("09-ly-lich-tu-phap.jpg", 5)):
        until = client.get_object_retention(bucket, rows[name]["archive_key"]).retain_until_date
        assert abs((until - dt.datetime.now(dt.UTC)).days - round(365.25 * years)) <= 2
    meta = json.loads(run_cli("fetch", tb["code"], "--meta", data_dir=data_dir, env_extra=env).stdout)
    assert [e["event_type"] for e in meta["events"]] == [
        "ingestion", "text_extraction", "classification", "code_assignment", "signing", "storage"]
    audit = run_cli("audit", "--json", data_dir=data_dir, env_extra=env)
    assert json.loads(audit.stdout)["ok"] and json.loads(audit.stdout)["checked"] == 2


def test_api_presigned_redirect_on_s3(s3_env, tmp_path, monkeypatch):
    import httpx
    from fastapi.testclient import TestClient

    from web.api import create_app
    from workflow.ingest import Ingest, IngestOptions
    from workflow.results import token_hash
    from workflow.rooms import open_rooms
    from workflow.settings import load_settings

    data_dir, env = s3_env
    for key, value in {**env, "SOHOA_DATA_DIR": str(data_dir)}.items():
        monkeypatch.setenv(key, value)
    rooms = open_rooms(load_settings())
    outcome = next(Ingest(rooms, IngestOptions(workers=1, allow_duplicate=True)).run([SAMPLES / "06-thong-bao.pdf"]))
    rooms.index.clients.add("presign", token_hash("sohoa_presign_test_token"), {})
    client = TestClient(create_app(rooms))
    headers = {"Authorization": "Bearer sohoa_presign_test_token"}
    response = client.get(f"/v1/results/{outcome.code}/document?redirect=presigned", headers=headers,
                          follow_redirects=False)
    assert response.status_code == 307
    location = response.headers["location"]
    assert "X-Amz-Signature" in location and "X-Amz-Expires=300" in location
    fetched = httpx.get(location)  # straight from the S3 server, no sohoa in between
    assert fetched.status_code == 200 and hashlib.sha256(fetched.content).hexdigest() == outcome.sha256
