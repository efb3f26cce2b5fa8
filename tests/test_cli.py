"""The `sohoa` console script, as a clerk or a script calls it."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from tests.conftest import SAMPLES, json_lines, run_cli
from tests.schemas import assert_valid

CONTRACT_KEYS = {"source", "status", "error", "code", "doc_type", "fields", "level", "pages", "text", "sha256",
                 "archive_key"}


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("cli-data")
    inputs = tmp_path_factory.mktemp("cli-in")
    shutil.copy(SAMPLES / "08-dang-ky-doanh-nghiep.png", inputs / "08-dang-ky-doanh-nghiep.png")
    shutil.copy(SAMPLES / "06-thong-bao.pdf", inputs / "06-thong-bao.pdf")
    (inputs / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    result = run_cli("process", str(inputs), "--json", "--workers", "2", data_dir=data_dir)
    return data_dir, inputs, result


def test_process_json_contract(cli_run):
    _, inputs, result = cli_run
    rows = json_lines(result.stdout)
    assert len(rows) == 3  # exactly one object per input document, nothing else on stdout
    by_name = {r["source"].rsplit("/", 1)[1]: r for r in rows}
    for row in rows:
        assert row.keys() >= CONTRACT_KEYS
        assert row["status"] in {"archived", "needs_review", "rejected"}
        assert_valid("outcome", row)  # docs/schema/outcome.schema.json
    dn = by_name["08-dang-ky-doanh-nghiep.png"]
    assert dn["status"] == "archived" and dn["error"] is None
    assert dn["source"] == str(inputs / "08-dang-ky-doanh-nghiep.png")
    assert dn["doc_type"] == {"code": "DKDN", "name": "Giấy chứng nhận đăng ký doanh nghiệp",
                              "confidence": dn["doc_type"]["confidence"]}
    assert dn["fields"]["number"] == "0109876543"
    assert dn["fields"]["issued_on"] == "2019-10-02"
    assert dn["fields"]["holder"] == "CÔNG TY TNHH MỘT THÀNH VIÊN SỐ HÓA AN KHÁNH"
    assert dn["level"] == "province" and dn["pages"] == 1
    assert "GIẤY CHỨNG NHẬN ĐĂNG KÝ DOANH NGHIỆP" in dn["text"]
    broken = by_name["broken.png"]
    assert broken["status"] == "rejected" and broken["code"] is None and "cannot be read" in broken["error"]


def test_fetch_returns_the_archived_bytes(cli_run, tmp_path):
    data_dir, _, result = cli_run
    row = next(r for r in json_lines(result.stdout) if r["status"] == "archived")
    target = tmp_path / "out.pdf"
    run_cli("fetch", row["code"], "-o", str(target), data_dir=data_dir)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == row["sha256"]
    meta = json.loads(run_cli("fetch", row["code"], "--meta", data_dir=data_dir).stdout)
    assert_valid("metadata", meta)  # docs/schema/metadata.schema.json
    assert meta["code"] == row["code"] and meta["files"]["document.pdf"]["sha256"] == row["sha256"]


def test_verify_by_code_and_by_file(cli_run, tmp_path):
    data_dir, _, result = cli_run
    row = next(r for r in json_lines(result.stdout) if r["status"] == "archived")
    ok = run_cli("verify", row["code"], "--json", data_dir=data_dir)
    assert json.loads(ok.stdout)["valid"] is True
    target = tmp_path / "doc.pdf"
    run_cli("fetch", row["code"], "-o", str(target), data_dir=data_dir)
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    bad = run_cli("verify", str(target), data_dir=data_dir, check=False)
    assert bad.returncode == 1 and "NOT VALID" in bad.stdout


def test_list_shows_every_input_once(cli_run):
    data_dir, _, _ = cli_run
    rows = json_lines(run_cli("list", "--json", data_dir=data_dir).stdout)
    assert sorted(r["source"].rsplit("/", 1)[1] for r in rows) == ["06-thong-bao.pdf",
                                                                      "08-dang-ky-doanh-nghiep.png", "broken.png"]
    assert {r["status"] for r in rows} == {"archived", "rejected"}


@pytest.mark.parametrize("code", ["../../etc/passwd", "000.00.00.H26-KS-231399-0001", "x" * 500])
def test_malformed_codes_refused_before_storage(cli_run, code):
    data_dir, _, _ = cli_run
    result = run_cli("fetch", code, data_dir=data_dir, check=False)
    assert result.returncode == 2 and "invalid code" in result.stderr


def test_unknown_code_is_not_found(cli_run):
    data_dir, _, _ = cli_run
    result = run_cli("fetch", "000.00.00.H26-KS-230101-0999", data_dir=data_dir, check=False)
    assert result.returncode == 1 and "no result" in result.stderr


def test_fetch_refuses_a_tampered_archive_and_writes_nothing(tmp_path):
    data_dir = tmp_path / "data"
    sample = tmp_path / "08.png"
    shutil.copy(SAMPLES / "08-dang-ky-doanh-nghiep.png", sample)
    row = json_lines(run_cli("process", str(sample), "--json", "--workers", "1", data_dir=data_dir).stdout)[0]
    stored = data_dir / "archive" / row["archive_key"]
    stored.chmod(0o644)
    stored.write_bytes(stored.read_bytes().replace(b"%%EOF", b"%%EOX"))
    out = tmp_path / "out" / "result.pdf"
    out.parent.mkdir()
    result = run_cli("fetch", row["code"], "-o", str(out), data_dir=data_dir, check=False)
    assert result.returncode == 1 and "fixity failure" in result.stderr
    assert list(out.parent.iterdir()) == []  # neither the file nor a partial one
