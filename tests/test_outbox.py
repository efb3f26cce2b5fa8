"""Events reach the systems that reuse results: the transactional outbox, the dispatcher (retries, Retry-After,
a dispatcher killed mid-batch), Standard Webhooks signatures checked by a reference receiver, secret rotation,
and the pull feed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import SAMPLES, SOHOA, json_lines, run_cli, unnumbered_birth_certificate
from tests.servers import free_port, serve_until_up

ENV = {"SOHOA_OUTBOX_FIRST_RETRY_SECONDS": "0.2", "SOHOA_OUTBOX_LEASE_SECONDS": "2"}


def received(base: str) -> dict:
    return httpx.get(base + "/received", timeout=5).json()


def start_receiver(store: Path, secret_file: Path, port: int, national: Path | None = None) -> subprocess.Popen:
    extra = ["--national-password-file", str(national)] if national else []
    return serve_until_up([str(SOHOA), "receiver", "serve", "--store", str(store), "--secret-file",
                           str(secret_file), "--port", str(port), *extra], f"http://127.0.0.1:{port}/received")


def deliver_until(data_dir: Path, condition, seconds: float = 40.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run_cli("outbox", "run", "--until-empty", data_dir=data_dir, env_extra=ENV)
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError("not delivered in time")


@pytest.fixture()
def world(tmp_path):
    data_dir, inputs = tmp_path / "data", tmp_path / "in"
    inputs.mkdir()
    run_cli("keys", "init-dev", data_dir=data_dir)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    added = run_cli("webhooks", "add", f"{base}/hooks/sohoa", data_dir=data_dir).stdout
    secret = added.strip().splitlines()[-1]
    assert secret.startswith("whsec_")
    secret_file = tmp_path / "secret"
    secret_file.write_text(secret + "\n")
    processes: list[subprocess.Popen] = []
    yield {"data_dir": data_dir, "inputs": inputs, "port": port, "base": base, "secret": secret,
           "secret_file": secret_file, "store": tmp_path / "received", "processes": processes}
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_every_event_reaches_a_receiver_that_was_down_then_failing(world):
    data_dir, inputs = world["data_dir"], world["inputs"]
    shutil.copy(SAMPLES / "06-thong-bao.pdf", inputs / "06-thong-bao.pdf")
    code = json_lines(run_cli("process", str(inputs), "--json", data_dir=data_dir).stdout)[0]["code"]
    # The receiver is down: the delivery fails and waits; nothing is lost.
    run_cli("outbox", "run", "--until-empty", data_dir=data_dir, env_extra=ENV)
    pending = json_lines(run_cli("outbox", "list", "--json", data_dir=data_dir).stdout)
    assert [(d["event_type"], d["status"]) for d in pending] == [("result.archived", "pending")]
    assert "ConnectError" in pending[0]["last_error"]
    # Up, but answering 503 with Retry-After twice, then 200.
    world["processes"].append(start_receiver(world["store"], world["secret_file"], world["port"]))
    httpx.post(world["base"] + "/control", json={"fail": 2, "status": 503, "retry_after": 1}, timeout=5)
    deliver_until(data_dir, lambda: received(world["base"])["events"])
    got = received(world["base"])
    assert len(got["events"]) == 1 and list(got["receipts"].values()) == [3]  # two refusals, then stored once
    stored = json.loads((world["store"] / "received.jsonl").read_text("utf-8").splitlines()[0])
    assert stored["type"] == "result.archived" and stored["event"]["data"]["code"] == code
    assert "holder" not in json.dumps(stored["event"])  # no personal data in the event
    done = json_lines(run_cli("outbox", "list", "--json", data_dir=data_dir).stdout)
    assert [(d["status"], d["attempts"]) for d in done] == [("delivered", 4)]


def test_a_dispatcher_killed_mid_batch_loses_nothing_and_nothing_is_stored_twice(world):
    data_dir, inputs = world["data_dir"], world["inputs"]
    from PIL import Image, ImageDraw

    shutil.copy(SAMPLES / "06-thong-bao.pdf", inputs / "06-thong-bao.pdf")
    first = unnumbered_birth_certificate(inputs)
    for n in range(3):  # more documents, each different: more events
        image = Image.open(first)
        ImageDraw.Draw(image).rectangle((30 + 6 * n, 3420, 33 + 6 * n, 3423), fill=(90, 90, 90))
        image.save(inputs / f"copy-{n}.png", dpi=(300, 300))
    rows = json_lines(run_cli("process", str(inputs), "--json", data_dir=data_dir, check=False).stdout)
    waiting = json_lines(run_cli("review", "list", "--json", data_dir=data_dir).stdout)
    run_cli("review", "reject", str(waiting[0]["id"]), "--reason", "bản quét thiếu số", data_dir=data_dir)
    expected = sum(1 for r in rows if r["status"] == "archived") + 1  # and the review decision
    world["processes"].append(start_receiver(world["store"], world["secret_file"], world["port"]))
    httpx.post(world["base"] + "/control", json={"delay": 0.8}, timeout=5)
    dispatcher = subprocess.Popen([str(SOHOA), "outbox", "run"], env={**os.environ, **ENV,
                                  "SOHOA_DATA_DIR": str(data_dir)}, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
    world["processes"].append(dispatcher)
    deadline = time.monotonic() + 30
    while not received(world["base"])["receipts"] and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.3)  # in the middle of the next delivery
    dispatcher.send_signal(signal.SIGKILL)
    dispatcher.wait(timeout=10)
    assert len(received(world["base"])["events"]) < expected  # killed before it was done
    httpx.post(world["base"] + "/control", json={"delay": 0}, timeout=5)
    deliver_until(data_dir, lambda: len(received(world["base"])["events"]) == expected)
    got = received(world["base"])
    assert len(got["events"]) == len(set(got["events"])) == expected  # each event stored once
    types = [json.loads(line)["type"] for line in (world["store"] / "received.jsonl").read_text().splitlines()]
    assert types.count("review.rejected") == 1
    assert all(d["status"] == "delivered" for d in
               json_lines(run_cli("outbox", "list", "--json", data_dir=data_dir).stdout))


def test_signatures_verify_with_the_stock_library_and_a_tampered_one_is_refused(world):
    from standardwebhooks.webhooks import Webhook

    data_dir, inputs = world["data_dir"], world["inputs"]
    world["processes"].append(start_receiver(world["store"], world["secret_file"], world["port"]))
    body = json.dumps({"type": "result.archived", "id": "evt_x", "data": {}}).encode()
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    signature = Webhook(world["secret"]).sign("evt_x", now, body)
    headers = {"webhook-id": "evt_x", "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": signature, "content-type": "application/json"}
    tampered = httpx.post(world["base"] + "/hooks/sohoa", content=body.replace(b"archived", b"deleted"),
                          headers=headers, timeout=5)
    assert tampered.status_code == 400
    assert httpx.post(world["base"] + "/hooks/sohoa", content=body, headers=headers, timeout=5).status_code == 200
    # After a rotation both secrets sign for a day: a receiver that still has the old one goes on.
    rotated = run_cli("webhooks", "rotate", "1", data_dir=data_dir).stdout.strip().splitlines()[-1]
    assert rotated.startswith("whsec_") and rotated != world["secret"]
    shutil.copy(SAMPLES / "06-thong-bao.pdf", inputs / "06-thong-bao.pdf")
    run_cli("process", str(inputs), data_dir=data_dir)
    deliver_until(data_dir, lambda: len(received(world["base"])["events"]) == 2)
    listed = json_lines(run_cli("webhooks", "list", "--json", data_dir=data_dir).stdout)
    assert listed[0]["rotating"] is True
    stored_secret = (data_dir / "index.sqlite3").read_bytes()
    assert world["secret"].encode() not in stored_secret and rotated.encode() not in stored_secret  # encrypted


def test_the_pull_feed_pages_through_every_event_in_scope(world):
    from fastapi.testclient import TestClient

    from web.api import create_app
    from workflow.rooms import open_rooms
    from workflow.settings import load_settings

    data_dir, inputs = world["data_dir"], world["inputs"]
    for name in ("06-thong-bao.pdf", "09-ly-lich-tu-phap.jpg"):
        shutil.copy(SAMPLES / name, inputs / name)
    codes = sorted(r["code"] for r in json_lines(run_cli("process", str(inputs), "--json", data_dir=data_dir).stdout))
    tokens = {name: run_cli("clients", "add", name, *scope, data_dir=data_dir).stdout.strip().splitlines()[-1]
              for name, scope in (("portal", []), ("commune", ["--scope", "level=commune"]))}
    old = os.environ.get("SOHOA_DATA_DIR")
    os.environ["SOHOA_DATA_DIR"] = str(data_dir)
    try:
        rooms = open_rooms(load_settings())
    finally:
        os.environ.pop("SOHOA_DATA_DIR") if old is None else os.environ.__setitem__("SOHOA_DATA_DIR", old)
    client = TestClient(create_app(rooms))
    seen, after = [], 0
    for _ in range(10):
        page = client.get(f"/v1/events?after={after}&limit=1",
                          headers={"Authorization": f"Bearer {tokens['portal']}"}).json()
        if not page["events"]:
            break
        seen += page["events"]
        after = page["next_after"]
    assert sorted(e["data"]["code"] for e in seen) == codes
    assert [e["position"] for e in seen] == sorted(e["position"] for e in seen)
    assert len({e["id"] for e in seen}) == len(seen)
    commune = client.get("/v1/events", headers={"Authorization": f"Bearer {tokens['commune']}"}).json()
    assert all(e["data"]["level"] == "commune" for e in commune["events"])
    assert client.get("/v1/events").status_code == 401
    rooms.close()


def test_a_scan_submitted_by_another_system_is_archived_and_its_event_reaches_the_receiver(world):
    data_dir = world["data_dir"]
    token = run_cli("clients", "add", "motcua", "--scope", "submit", data_dir=data_dir).stdout.strip().splitlines()[-1]
    reader = run_cli("clients", "add", "reader", data_dir=data_dir).stdout.strip().splitlines()[-1]
    world["processes"].append(start_receiver(world["store"], world["secret_file"], world["port"]))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = serve_until_up([str(SOHOA), "serve", "--port", str(port), "--workers", "1", "--counter-workers", "1"],
                            f"{base}/v1/health", env={**os.environ, **ENV, "SOHOA_DATA_DIR": str(data_dir)})
    world["processes"].append(server)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "motcua-2026-000123"}
    form = {"dossier_code": "000.00.00.H26-261207-0123", "procedure_code": "1.001193"}

    def send():
        with (SAMPLES / "06-thong-bao.pdf").open("rb") as scan:
            return httpx.post(base + "/v1/documents", headers=headers, data=form, timeout=30,
                              files=[("files", ("thong-bao.pdf", scan, "application/pdf"))])

    first = send()
    assert first.status_code == 202, first.text
    status_url = first.json()["status_url"]
    again = send()  # the same key: the first answer, nothing queued twice
    assert again.status_code == 202 and again.json()["id"] == first.json()["id"]
    refused = httpx.post(base + "/v1/documents", headers={"Authorization": f"Bearer {reader}"}, timeout=10,
                         files=[("files", ("a.pdf", b"%PDF-1.4", "application/pdf"))])
    assert refused.status_code == 403  # no submit scope
    assert httpx.get(base + status_url, headers={"Authorization": f"Bearer {reader}"}).status_code == 404
    deadline, state = time.monotonic() + 120, {}
    while time.monotonic() < deadline:
        state = httpx.get(base + status_url, headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
        if state["files"][0]["status"] not in ("queued", "processing"):
            break
        time.sleep(0.5)
    assert len(state["files"]) == 1 and state["files"][0]["status"] == "archived", state
    code = state["files"][0]["documents"][0]["code"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not received(world["base"])["events"]:
        time.sleep(0.3)  # the server's own dispatcher delivers it
    stored = [json.loads(line) for line in (world["store"] / "received.jsonl").read_text().splitlines()]
    assert [(e["type"], e["event"]["data"]["code"]) for e in stored] == [("result.archived", code)]
    meta = json.loads(run_cli("fetch", code, "--meta", data_dir=data_dir).stdout)
    assert meta["minimum_data"]["procedure_code"] == "1.001193"
    assert meta["minimum_data"]["dossier_code"] == "000.00.00.H26-261207-0123"
    assert any(e["agent"].startswith("system motcua") for e in meta["events"] if e["event_type"] == "ingestion")


def test_results_of_a_dossier_reach_the_citizens_national_store_in_its_shape(world, tmp_path):
    data_dir, inputs = world["data_dir"], world["inputs"]
    credentials = tmp_path / "national"
    credentials.write_text("sohoa-h26\nmật-khẩu-cổng\n")
    password = tmp_path / "national-password"
    password.write_text("mật-khẩu-cổng\n")
    env = {**ENV, "SOHOA_NATIONAL_STORE_URL": f"{world['base']}/national/sync",
           "SOHOA_NATIONAL_STORE_TOKEN_URL": f"{world['base']}/national/token",
           "SOHOA_NATIONAL_STORE_USER": "sohoa-h26", "SOHOA_NATIONAL_STORE_PASSWORD_FILE": str(password),
           "SOHOA_NATIONAL_STORE_UNIT": "000.00.00.H26", "SOHOA_PUBLIC_URL": "https://sohoa.h26.gov.vn"}
    unconfigured = run_cli("national-store", "connect", data_dir=data_dir, check=False)
    assert unconfigured.returncode == 2 and "SOHOA_NATIONAL_STORE_URL" in unconfigured.stderr
    run_cli("national-store", "connect", data_dir=data_dir, env_extra=env)
    run_cli("webhooks", "disable", "1", data_dir=data_dir)  # only the store here
    world["processes"].append(start_receiver(world["store"], world["secret_file"], world["port"], credentials))
    httpx.post(world["base"] + "/control", json={"fail": 1}, timeout=5)  # the store is busy once (error 99)
    shutil.copy(SAMPLES / "09-ly-lich-tu-phap.jpg", inputs / "09-ly-lich-tu-phap.jpg")
    row = json_lines(run_cli("process", str(inputs), "--json", "--dossier", "000.00.00.H26-261207-0456",
                             data_dir=data_dir, env_extra=env).stdout)[0]
    assert row["status"] == "archived", row

    def synced() -> bool:
        return any(e.startswith("national:") for e in received(world["base"])["events"])

    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and not synced():
        run_cli("outbox", "run", "--until-empty", data_dir=data_dir, env_extra=env)
        time.sleep(0.3)
    stored = [json.loads(line) for line in (world["store"] / "received.jsonl").read_text().splitlines()]
    national = [e["event"] for e in stored if e["type"] == "national.sync"]
    assert len(national) == 1
    dossier, paper = national[0]["dossier"], national[0]["paper"]
    assert dossier["MaHoSo"] == "000.00.00.H26-261207-0456" and dossier["MaDonVi"] == "000.00.00.H26"
    assert dossier["DinhDanhCHS"] == [{"LoaiDinhDanh": "1", "SoDinhDanh": "040190006789"}]  # the owner's ID
    assert paper["GiayToId"] == row["code"] and paper["MaGiayToKetQua"] == row["result_alias"]
    assert paper["DuongDanTepTinKetQua"] == f"https://sohoa.h26.gov.vn/v1/results/{row['code']}/document"
    assert paper["TenGiayTo"] == row["doc_type"]["name"]
    national_deliveries = [d for d in json_lines(run_cli("outbox", "list", "--json", data_dir=data_dir).stdout)
                           if d["webhook"] == 2]
    assert [(d["status"], d["attempts"]) for d in national_deliveries] == [("delivered", 2)]  # refused once


def test_a_delivery_failing_too_long_is_dead_until_retried_and_a_subscriber_can_replay(world):
    data_dir, inputs = world["data_dir"], world["inputs"]
    shutil.copy(SAMPLES / "06-thong-bao.pdf", inputs / "06-thong-bao.pdf")
    run_cli("process", str(inputs), data_dir=data_dir)
    time.sleep(1.2)
    quick_death = {**ENV, "SOHOA_OUTBOX_DEAD_AFTER_HOURS": "0.0003"}  # about a second
    run_cli("outbox", "run", "--until-empty", data_dir=data_dir, env_extra=quick_death)  # receiver down
    dead = json_lines(run_cli("outbox", "list", "--status", "dead", "--json", data_dir=data_dir).stdout)
    assert len(dead) == 1 and "ConnectError" in dead[0]["last_error"]
    world["processes"].append(start_receiver(world["store"], world["secret_file"], world["port"]))
    run_cli("outbox", "run", "--until-empty", data_dir=data_dir, env_extra=ENV)
    assert received(world["base"])["events"] == []  # dead: not tried again by itself
    assert "1 deliveries due again" in run_cli("outbox", "retry", data_dir=data_dir).stdout
    deliver_until(data_dir, lambda: len(received(world["base"])["events"]) == 1)
    # A receiver that lost its data asks for everything again: delivered again, stored once by its id.
    assert "1 events queued again" in run_cli("outbox", "replay", "1", data_dir=data_dir).stdout
    deliver_until(data_dir, lambda: sum(received(world["base"])["receipts"].values()) == 2)
    assert len(received(world["base"])["events"]) == 1
