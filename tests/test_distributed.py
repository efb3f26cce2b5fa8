"""Distributed backfills on real parts: Celery workers over RabbitMQ (a virtual host of the test's own),
the index on PostgreSQL, the archive and the work store on SeaweedFS; workers SIGKILLed, the broker
restarted, a poison page, workers in network namespaces of their own."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, SOHOA, json_lines, run_cli
from tests.servers import stop_process_groups

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]


@pytest.fixture(scope="module")
def broker():
    from tests.servers import rabbitmq_up, rabbitmq_vhost

    if not rabbitmq_up() or not shutil.which("rabbitmqctl"):
        pytest.skip("no RabbitMQ broker on 127.0.0.1:5672 (.ci/run starts it)")
    with rabbitmq_vhost() as url:
        yield url


@pytest.fixture
def pg_url():
    from tests.servers import drop_postgres_schema, postgres_url

    url = postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL server reachable at 127.0.0.1:5432")
    yield url
    drop_postgres_schema(url)


@dataclass
class Cluster:
    """One installation: its settings, the workers started for it, and ways to look at its index."""

    env: dict[str, str]
    data_dir: Path
    logs: Path
    workers: list[subprocess.Popen] = field(default_factory=list)

    def start_worker(self, queues: str = "page,document", concurrency: int = 1, env_extra: dict | None = None,
                     prefix: tuple[str, ...] = (), data_dir: Path | None = None) -> subprocess.Popen:
        env = {**os.environ, "SOHOA_DATA_DIR": str(data_dir or self.data_dir), **self.env, **(env_extra or {})}
        log = (self.logs / f"worker-{len(self.workers)}.log").open("wb")
        proc = subprocess.Popen([*prefix, str(SOHOA), "worker", "--queues", queues, "-c", str(concurrency),
                                 "--sweep-every", "5", "-v"], env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.workers.append(proc)
        return proc

    def cli(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
        return run_cli(*args, data_dir=self.data_dir, env_extra=self.env, check=check, timeout=timeout)

    def status(self, run: int | None = None) -> dict:
        args = ["backfill", "--status", "--json", *(["--run", str(run)] if run else [])]
        return json.loads(self.cli(*args).stdout)["summary"]

    def wait(self, run: int, seconds: float = 300) -> dict:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            status = self.status(run)
            if status["finished"]:
                return status
            for proc in self.workers:
                assert proc.poll() is None or proc.returncode in (-9, -15, 0), self.worker_logs()
            time.sleep(2)
        raise AssertionError(f"run {run} not finished after {seconds} s: {self.status(run)}\n{self.worker_logs()}")

    def worker_logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.logs.glob("worker-*.log")))

    def sql(self, query: str) -> list[tuple]:
        import psycopg

        from tests.servers import PG_DSN

        schema = self.env["SOHOA_DATABASE_URL"].rsplit("%3D", 1)[1]
        with psycopg.connect(PG_DSN, options=f"-csearch_path={schema}") as conn:
            return conn.execute(query).fetchall()

    def stop(self) -> None:
        stop_process_groups(self.workers, timeout=30)

    def assert_each_file_once(self, files: int) -> None:
        """Every input ended once; each archived source is archived exactly once; the archive audits clean."""
        assert self.sql("SELECT source_sha256 FROM results GROUP BY source_sha256 HAVING count(*) > 1") == []
        assert self.sql("SELECT count(*) FROM job_documents WHERE state <> 'done'") == [(0,)]
        ended = self.sql("SELECT count(DISTINCT source) FROM inputs WHERE status IN "
                         "('archived', 'needs_review', 'rejected')")
        assert ended == [(files,)]
        archived = self.sql("SELECT count(*) FROM inputs WHERE status = 'archived'")[0][0]
        assert self.sql("SELECT count(*) FROM results")[0][0] == archived
        audit = self.cli("audit", check=False)
        assert audit.returncode == 0, audit.stdout + audit.stderr


@pytest.fixture
def cluster(tmp_path, broker, pg_url):
    data_dir = tmp_path / "data"
    logs = tmp_path / "logs"
    logs.mkdir()
    found = Cluster({"SOHOA_DATABASE_URL": pg_url, "SOHOA_BROKER_URL": broker,
                     "SOHOA_WORK_URL": (tmp_path / "work").as_uri()}, data_dir, logs)
    run_cli("keys", "init-dev", data_dir=data_dir, env_extra=found.env)
    _purge(broker)
    yield found
    found.stop()


def _purge(broker: str) -> None:
    """Queues of the test's virtual host emptied (a test before may have left tasks of another index)."""
    vhost = broker.rsplit("/", 1)[1]
    for queue in ("page", "document"):
        subprocess.run(["rabbitmqctl", "-q", "purge_queue", "-p", vhost, queue], capture_output=True, timeout=60)


def distinct_scans(folder: Path, count: int, pages: int = 1, offset: int = 0) -> list[Path]:
    """``count`` scans, each different bytes (one pixel), of sample documents; ``pages`` > 1 joins pages of
    different samples into one PDF."""
    import img2pdf
    from PIL import Image

    bases = [SAMPLES / "01-giay-khai-sinh.png", SAMPLES / "09-ly-lich-tu-phap.jpg", SAMPLES / "07-cong-van.jpg"]
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for number in range(offset, offset + count):
        images = []
        for page in range(pages):
            image = Image.open(bases[(number + page) % len(bases)]).convert("L")
            image.putpixel((number % 50, page), 0 if image.getpixel((number % 50, page)) > 127 else 255)
            path = folder / f".page-{number}-{page}.png"
            image.save(path, dpi=(300, 300))
            images.append(path)
        if pages == 1:
            target = folder / f"scan-{number:03d}.png"
            images[0].rename(target)
        else:
            target = folder / f"scan-{number:03d}.pdf"
            target.write_bytes(img2pdf.convert([str(p) for p in images]))
            for path in images:
                path.unlink()
        made.append(target)
    return made


def s3_cluster(tmp_path: Path, broker: str, pg_url: str, s3_server, data_name: str) -> tuple[Cluster, str]:
    """An installation whose archive (and work store) is a new bucket on the test's SeaweedFS, keys made."""
    bucket = f"sohoa-{uuid.uuid4().hex[:12]}"
    env = {"SOHOA_DATABASE_URL": pg_url, "SOHOA_BROKER_URL": broker, "SOHOA_ARCHIVE_URL": f"s3://{bucket}",
           "SOHOA_S3_ENDPOINT": s3_server.endpoint, "SOHOA_S3_ACCESS_KEY": s3_server.access_key,
           "SOHOA_S3_SECRET_KEY": s3_server.secret_key}
    logs = tmp_path / "logs"
    logs.mkdir()
    cluster = Cluster(env, tmp_path / data_name, logs)
    cluster.cli("keys", "init-dev")
    _purge(broker)
    return cluster, bucket


def enqueue(cluster: Cluster, folder: Path, *extra: str) -> int:
    result = cluster.cli("backfill", str(folder), "--distributed", "--no-wait", "--json", *extra)
    return json_lines(result.stdout)[-1]["enqueued"]["run"]


@pytest.mark.slow
@pytest.mark.s3
def test_a_tree_digitized_by_two_workers_through_s3(tmp_path, broker, pg_url, s3_server):
    """Staged to S3, read by a page-only worker and a page-and-document worker, archived on S3: each file once,
    the report written, the work store emptied, a rerun doing nothing."""
    from minio import Minio

    cluster, bucket = s3_cluster(tmp_path, broker, pg_url, s3_server, "data")
    folder = tmp_path / "tree"
    distinct_scans(folder / "2019", 3)
    distinct_scans(folder / "2020", 2, pages=2, offset=3)
    shutil.copy(SAMPLES / "06-thong-bao.pdf", folder / "2020")  # born-digital: straight to the document stage
    try:
        cluster.start_worker("page", concurrency=1, data_dir=tmp_path / "page-machine")
        cluster.start_worker("page,document", concurrency=1)
        result = cluster.cli("backfill", str(folder), "--distributed", "--stage-to-s3", "--json",
                             "--report", str(tmp_path / "report.csv"), timeout=600)
        summary = json_lines(result.stdout)[-1]["summary"]
        assert summary["files"] == summary["done"] == 6 and summary["finished"]
        assert summary["failed"] == 0, cluster.worker_logs()
        assert summary["by_status"].get("archived", 0) + summary["by_status"].get("needs_review", 0) == 6
        assert summary["pages_read"] == summary["pages"] == 8
        cluster.assert_each_file_once(6)
        rows = list(csv.DictReader((tmp_path / "report.csv").open(encoding="utf-8")))
        assert sorted(Path(r["source"]).name for r in rows) == sorted(p.name for p in folder.rglob("*.*")
                                                                         if not p.name.startswith("."))
        assert all(r["status"] in {"archived", "needs_review"} for r in rows)
        # both machines read pages; every page was read once
        workers = {w for (w,) in cluster.sql("SELECT DISTINCT worker FROM page_results")}
        assert len(workers) == 2, cluster.worker_logs()
        assert cluster.sql("SELECT count(*) FROM page_results WHERE attempts <> 1 OR NOT done") == [(0,)]
        client = Minio(s3_server.endpoint, access_key=s3_server.access_key, secret_key=s3_server.secret_key,
                       secure=False)
        assert list(client.list_objects(f"{bucket}-work", recursive=True)) == []  # staged files and pages gone
        # a rerun enqueues nothing: every file is skipped
        again = json_lines(cluster.cli("backfill", str(folder), "--distributed", "--json").stdout)
        enqueued = next(r["enqueued"] for r in again if "enqueued" in r)
        assert enqueued["enqueued"] == 0 and enqueued["decided"] == 6
        assert [r["status"] for r in again if "status" in r] == ["skipped"] * 6
        assert cluster.sql("SELECT count(*) FROM results")[0][0] == summary["by_status"].get("archived", 0)
    finally:
        cluster.stop()


@pytest.mark.slow
def test_a_worker_killed_in_the_document_stage_loses_nothing_and_archives_nothing_twice(cluster, tmp_path):
    """SIGKILL to a whole worker (main process and children) while it finishes a document: another worker
    takes its tasks and its claim over; every file is archived exactly once."""
    folder = tmp_path / "tree"
    distinct_scans(folder, 6, pages=2)
    first = cluster.start_worker(concurrency=2)
    run = enqueue(cluster, folder)
    deadline = time.monotonic() + 240
    while not (held := cluster.sql("SELECT id, claimed_by FROM job_documents WHERE state = 'documenting'")):
        assert time.monotonic() < deadline, cluster.worker_logs()
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    [(job_id, dead_holder)] = held[:1]
    assert cluster.sql("SELECT count(*) FROM job_documents WHERE state <> 'done'")[0][0] > 0
    cluster.start_worker(concurrency=2)
    status = cluster.wait(run)
    assert status["done"] == 6 and status["failed"] == 0, cluster.worker_logs()
    cluster.assert_each_file_once(6)
    # the document the dead worker held was taken over and finished by another
    [(state, holder)] = cluster.sql(f"SELECT state, claimed_by FROM job_documents WHERE id = {job_id}")
    assert state == "done" and holder != dead_holder


@pytest.mark.slow
def test_the_broker_restarted_mid_run_loses_nothing(cluster, tmp_path):
    """RabbitMQ's application stopped and started while pages are being read: the workers reconnect, the
    durable queues kept their persistent tasks, every file is archived exactly once."""
    folder = tmp_path / "tree"
    distinct_scans(folder, 6, pages=2)
    cluster.start_worker(concurrency=2)
    run = enqueue(cluster, folder)
    deadline = time.monotonic() + 240
    while cluster.sql("SELECT count(*) FROM page_results WHERE done")[0][0] < 2:
        assert time.monotonic() < deadline, cluster.worker_logs()
        time.sleep(0.1)
    assert cluster.sql("SELECT count(*) FROM job_documents WHERE state <> 'done'")[0][0] > 0
    subprocess.run(["rabbitmqctl", "-q", "stop_app"], check=True, capture_output=True, timeout=120)
    try:
        time.sleep(3)
    finally:
        subprocess.run(["rabbitmqctl", "-q", "start_app"], check=True, capture_output=True, timeout=120)
    status = cluster.wait(run, seconds=400)
    assert status["done"] == 6 and status["failed"] == 0, cluster.worker_logs()
    cluster.assert_each_file_once(6)


def dense_page(path: Path) -> Path:
    """A 600 dpi A4 page packed with small text: Tesseract needs many seconds on it."""
    import random

    from PIL import Image, ImageDraw, ImageFont

    rng = random.Random(7)
    image = Image.new("L", (4960, 7016), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 30)
    words = ["ngày", "tháng", "năm", "giấy", "chứng", "nhận", "quyết", "định", "ủy", "ban", "nhân", "dân", "xã",
             "huyện", "tỉnh", "số"]
    for y in range(60, 6960, 38):
        draw.text((60, y), " ".join(rng.choice(words) for _ in range(40)), font=font, fill=0)
    image.save(path, dpi=(600, 600))
    return path


@pytest.mark.slow
def test_a_poison_page_is_rejected_with_its_reason_and_the_queue_goes_on(cluster, tmp_path):
    """A page on which Tesseract times out: its file is rejected with the reason, the others are archived."""
    folder = tmp_path / "tree"
    distinct_scans(folder, 2)
    dense_page(folder / "dense.png")
    cluster.start_worker(concurrency=1, env_extra={"SOHOA_PAGE_TIMEOUT": "6"})
    run = enqueue(cluster, folder)
    status = cluster.wait(run)
    assert status["done"] == 3 and status["failed"] == 1, cluster.worker_logs()
    reason = cluster.sql("SELECT error FROM inputs WHERE source LIKE '%dense.png'")[0][0]
    assert "page 1" in reason and "6 s" in reason
    assert cluster.sql("SELECT count(*) FROM inputs WHERE status = 'archived' OR status = 'needs_review'") == [(2,)]


def test_a_page_whose_workers_keep_dying_ends_its_document(tmp_path, pg_url, monkeypatch):
    """A page delivered a fourth time (three workers died on it: a crash, the hard time limit) is not read
    again: it is recorded as failed with the reason, and its document is handed to the document stage."""
    from workflow.distributed import MAX_PAGE_ATTEMPTS, read_page
    from workflow.rooms import open_rooms
    from workflow.settings import load_settings

    monkeypatch.setenv("SOHOA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SOHOA_DATABASE_URL", pg_url)
    rooms = open_rooms(load_settings())
    sent: list[int] = []

    class Recorder:
        def document(self, job_id: int) -> None:
            sent.append(job_id)

    try:
        run = rooms.index.runs.start("backfill", "test", "test", 1)
        job = rooms.index.jobs.add(run, str(SAMPLES / "01-giay-khai-sinh.png"), "ab" * 32, "image", 1, [])
        rooms.index.jobs.published(job.id)
        for _ in range(MAX_PAGE_ATTEMPTS):
            assert rooms.index.jobs.start_page(job.id, 0, "dead:1")[1] is not None  # each worker died mid-page
        assert read_page(rooms, Recorder(), job.id, 0) == "failed"
        [page] = rooms.index.jobs.pages(job.id)
        assert page.attempts == MAX_PAGE_ATTEMPTS + 1 and "lost 3 times" in page.error
        assert sent == [job.id] and rooms.index.jobs.get(job.id).state == "ready"
        assert read_page(rooms, Recorder(), job.id, 0) == "not needed"  # delivered again: the document is sent
        assert sent == [job.id, job.id]
    finally:
        rooms.close()


def test_the_last_two_pages_finishing_together_make_their_document_ready_once(tmp_path, pg_url):
    """Two workers recording the last two pages of a document at the same moment: exactly one of them
    sends the document task (the document's row is locked while a page is recorded)."""
    from storage.index import Index

    index = Index(pg_url)
    try:
        run = index.runs.start("backfill", "race", "test", 40)
        jobs = [index.jobs.add(run, f"/tree/{n}.pdf", f"{n:064d}", "pdf", 2, [False, False]) for n in range(40)]
        for job in jobs:
            index.jobs.published(job.id)
        made_ready: list[int] = []
        barrier = threading.Barrier(2)

        def record(page: int) -> None:
            other = Index(pg_url)
            try:
                for job in jobs:
                    barrier.wait()
                    if other.jobs.add_page(job.id, page, {"index": page}, None, f"w{page}", 0.1):
                        made_ready.append(job.id)
            finally:
                other.close()

        threads = [threading.Thread(target=record, args=(page,)) for page in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(made_ready) == sorted(j.id for j in jobs)  # each once, none missed
        assert {index.jobs.get(j.id).state for j in jobs} == {"ready"}
    finally:
        index.close()


def test_a_distributed_run_needs_a_shared_index_and_a_broker(tmp_path):
    """On the default SQLite index, or without SOHOA_BROKER_URL, a distributed run is refused with what to set."""
    folder = tmp_path / "tree"
    folder.mkdir()
    refused = run_cli("backfill", str(folder), "--distributed", data_dir=tmp_path / "data", check=False,
                      env_extra={"SOHOA_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//"})
    assert refused.returncode == 2 and "PostgreSQL" in refused.stderr
    refused = run_cli("worker", data_dir=tmp_path / "data", check=False)
    assert refused.returncode == 2 and "PostgreSQL" in refused.stderr


def test_page_readings_travel_as_json_and_come_back_equal():
    """What a page worker read goes through the index as JSON (never pickled) and comes back the same."""
    from digitize.model import CoverSheet, PageText, Reread, Segment, Word
    from digitize.workers import PageOutcome, page_outcome_from_dict, page_outcome_to_dict

    page = PageText(2, 2480, 3508, (Segment((Word("Số:", 91.5, 10, 20, 30, 40), Word("07/CT-UBND", 60.0, 45, 20,
                                                                                    120, 40))),),
                    "ocr", 0.4, (Reread("number", "07/CT-UBND", 88.0, (40, 15, 130, 50), "tesseract, cleaned"),))
    outcome = PageOutcome(page, Path("/work/page-00002.pdf"), 1.25, CoverSheet("H26.22-240101-0001", "KS"))
    data = json.loads(json.dumps(page_outcome_to_dict(outcome, "pages/7/00002.pdf")))
    assert data["pdf_key"] == "pages/7/00002.pdf"
    assert page_outcome_from_dict(data, Path("/work/page-00002.pdf")) == outcome


def _parent(worker: str) -> int:
    """The main process of the worker process named ``host:pid`` (its Celery parent)."""
    pid = worker.rsplit(":", 1)[1]
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("PPid:"):
            return int(line.split()[1])
    raise AssertionError(f"no parent for {worker}")


@pytest.mark.slow
@pytest.mark.s3
def test_workers_on_hosts_of_their_own_share_nothing_but_the_network(tmp_path, broker, pg_url, s3_server):
    """Two hosts in network namespaces of their own, each with its own data folder, reaching the broker, the
    index and S3 over their addresses: one without any signing key reads pages only, the other reads pages
    and finishes documents.  The tree is staged to S3 by the enqueuer, which no worker can see."""
    from tests.servers import can_make_hosts, network_hosts

    if not can_make_hosts():
        pytest.skip("network namespaces need root, iproute2 and socat")
    s3_port = int(s3_server.endpoint.rsplit(":", 1)[1])
    cluster, _bucket = s3_cluster(tmp_path, broker, pg_url, s3_server, "enqueuer")
    folder = tmp_path / "private-tree"
    distinct_scans(folder, 4)
    distinct_scans(folder, 2, pages=2, offset=4)
    signing_machine = tmp_path / "signing-machine"
    signing_machine.mkdir()
    shutil.copytree(cluster.data_dir / "keys", signing_machine / "keys")  # the agency's key, installed there
    try:
        with network_hosts(2, [5432, 5672, s3_port]) as (reader, signer):
            def remote(host) -> dict[str, str]:
                return {"SOHOA_DATABASE_URL": pg_url.replace("127.0.0.1", host.gateway),
                        "SOHOA_BROKER_URL": broker.replace("127.0.0.1", host.gateway),
                        "SOHOA_S3_ENDPOINT": f"{host.gateway}:{s3_port}"}

            pages_only = cluster.start_worker("page", concurrency=1, data_dir=tmp_path / "reading-machine",
                                              env_extra={**remote(reader), "SOHOA_DEV_KEYS": ""},
                                              prefix=tuple(reader.command([])))
            both = cluster.start_worker("page,document", concurrency=1, data_dir=signing_machine,
                                        env_extra={**remote(signer), "SOHOA_DEV_KEYS": ""},
                                        prefix=tuple(signer.command([])))
            run = enqueue(cluster, folder, "--stage-to-s3")
            status = cluster.wait(run)
            assert status["done"] == 6 and status["failed"] == 0, cluster.worker_logs()
            cluster.assert_each_file_once(6)
            page_machines = {_parent(w) for (w,) in cluster.sql("SELECT DISTINCT worker FROM page_results")}
            assert page_machines == {pages_only.pid, both.pid}, cluster.worker_logs()
            document_machines = {_parent(w) for (w,) in cluster.sql("SELECT DISTINCT claimed_by FROM job_documents")}
            assert document_machines == {both.pid}
            assert not (tmp_path / "reading-machine" / "keys").exists()  # it never needed a key
    finally:
        cluster.stop()


def test_a_job_is_being_read_before_its_first_page_task_can_run(tmp_path, pg_url):
    """The enqueuer marks a job handed out before the broker has its tasks: a page task run at once (before
    the enqueuer's next statement) finds its job being read, not queued, and reads the page."""
    from storage.index import Index
    from workflow.distributed import hand_out

    index = Index(pg_url)
    states: list[str] = []

    class Broker:
        def pages(self, job_id: int, indexes: list[int]) -> None:
            states.append(index.jobs.get(job_id).state)

        def document(self, job_id: int) -> None:
            states.append(index.jobs.get(job_id).state)

    try:
        run = index.runs.start("backfill", "order", "test", 2)
        scanned = index.jobs.add(run, "/tree/scan.pdf", "1" * 64, "pdf", 2, [False, False])
        born_digital = index.jobs.add(run, "/tree/signed.pdf", "2" * 64, "pdf", 1, [True])
        hand_out(index, Broker(), scanned)
        hand_out(index, Broker(), born_digital)
        assert states == ["reading", "ready"]
    finally:
        index.close()


def test_the_sweeper_hands_out_again_what_the_broker_lost(tmp_path, pg_url):
    """A document ready whose task was lost, one held by a worker that died, one read but for a page whose
    task was lost, one never handed out: each is handed out again once a period, and only when its queue is
    empty (a task may still be waiting there)."""
    from storage.index import Index
    from workflow.distributed import _sweep

    index = Index(pg_url)
    sent: list[tuple[str, int, tuple[int, ...]]] = []

    class Broker:
        def __init__(self, lengths: dict[str, int]):
            self.lengths = lengths

        def pages(self, job_id: int, indexes: list[int]) -> None:
            sent.append(("pages", job_id, tuple(indexes)))

        def document(self, job_id: int) -> None:
            sent.append(("document", job_id, ()))

        def queue_lengths(self) -> dict[str, int]:
            return self.lengths

    try:
        run = index.runs.start("backfill", "sweep", "test", 4)
        ready, held, reading, queued = (
            index.jobs.add(run, f"/tree/{name}.pdf", str(n) * 64, "pdf", 2, [False, False])
            for n, name in enumerate(("ready", "held", "reading", "queued"), start=1))
        for job in (ready, held, reading):
            index.jobs.published(job.id)
            assert not index.jobs.add_page(job.id, 0, {"index": 0}, None, "w", 0.1)
        for job in (ready, held):
            assert index.jobs.add_page(job.id, 1, {"index": 1}, None, "w", 0.1)
        assert index.jobs.claim(held.id, "elsewhere:999999999", lambda *_: False) is not None
        # the claim's holder (a pid that cannot exist on this host) is dead
        with index.engine.begin() as conn:
            from sqlalchemy import text

            conn.execute(text("UPDATE job_documents SET claimed_by = :holder, created_at = now() - interval '1 hour',"
                              " ready_at = now() - interval '1 hour'"), {"holder": f"{os.uname().nodename}:999999999"})
        assert _sweep(index, Broker({"page": 3, "document": 1})) == (1, 1)  # queues busy: only the sure ones
        assert sorted(sent) == [("document", held.id, ()), ("pages", queued.id, (0, 1))]
        assert index.jobs.get(held.id).state == "ready" and index.jobs.get(queued.id).state == "reading"
        sent.clear()
        assert _sweep(index, Broker({"page": 0, "document": 0})) == (1, 1)  # the rest; the swept wait a period
        assert sorted(sent) == [("document", ready.id, ()), ("pages", reading.id, (1,))]
        sent.clear()
        assert _sweep(index, Broker({"page": 0, "document": 0})) == (0, 0) and sent == []
    finally:
        index.close()
