"""Distributed backfills: pages per second with 1 and 2 real workers, and the coordination ceiling.

Usage: .venv/bin/python bench/distributed.py [--copies 4] [--rounds 2] [--sleep-workers 1,4,8,16]
                                             [--skip-real] [--skip-sleep]

Everything is real but the machines: RabbitMQ (a virtual host of the bench's own), PostgreSQL (a schema of
its own), the archive and the work store in a temporary folder, `sohoa worker` processes.

1. Real OCR: the scanned sample pages as distinct JPEG copies, backfilled with `--distributed` by one worker
   (`-c 1`, page and document queues) and by two (two such processes: one per core), in a rotating order.
   Reported: pages per second from the enqueue to the last document done, and the ratio of 2 to 1.
2. Coordination ceiling: page workers whose page reading is a one-second sleep (bench/sleepy_worker.py: a
   real page reading made beforehand is handed on, so the index, the broker, the work store and the whole
   document stage run as in production) on 10-page documents, 30 pages per page worker, with N page workers
   (one worker process, N children) and one document worker (`-c 2`).  Reported: pages per second and the
   ratio to 1 worker; the CPU the page workers, the broker, PostgreSQL and the enqueuer spend per page, and
   the document worker per document (from /proc, children included).

Two cores cannot show a cluster: beyond them the sleeping workers only show how much the coordination costs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from speed import ROOT, SOHOA, distinct_copies, page_images  # noqa: E402

from tests.servers import stop_process_groups  # noqa: E402

PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
CLOCK = os.sysconf("SC_CLK_TCK")


# -- CPU from /proc -----------------------------------------------------------------------------------------

def _stat(pid: int) -> tuple[str, int, float, float] | None:
    """(command, parent, own CPU seconds, reaped children's CPU seconds) of a process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1:raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2:].split()
    own = (int(fields[11]) + int(fields[12])) / CLOCK
    reaped = (int(fields[13]) + int(fields[14])) / CLOCK
    return name, int(fields[1]), own, reaped


def _processes() -> dict[int, tuple[str, int, float, float]]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat:
                found[int(entry.name)] = stat
    return found


def tree_cpu(root: int, procs: dict) -> float:
    """CPU seconds of a process, its live descendants, and the children it reaped."""
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid not in procs:
            continue
        _name, _parent, own, reaped = procs[pid]
        total += own + reaped
        todo += [p for p, (_n, parent, _o, _r) in procs.items() if parent == pid]
    return total


def named_cpu(name: str, procs: dict) -> float:
    """CPU seconds of every process called ``name`` not started by another one (its tree counted)."""
    roots = [p for p, (n, parent, _o, _r) in procs.items() if n == name and procs.get(parent, ("",))[0] != name]
    return sum(tree_cpu(p, procs) for p in roots)


def snapshot(workers: dict[str, list[int]]) -> dict[str, float]:
    procs = _processes()
    shot = {"broker": named_cpu("beam.smp", procs), "postgresql": named_cpu("postgres", procs)}
    for role, pids in workers.items():
        shot[role] = sum(tree_cpu(p, procs) for p in pids)
    return shot


# -- one installation ---------------------------------------------------------------------------------------

class Installation:
    def __init__(self, tmp: Path):
        import psycopg

        self.tmp = tmp
        self.schema = f"sohoa_bench_{uuid.uuid4().hex[:8]}"
        self.vhost = f"sohoa-bench-{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{self.schema}"')
        for args in (["add_vhost", self.vhost], ["set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*"]):
            subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True)
        self.env = {**os.environ, "SOHOA_DATA_DIR": str(tmp / "data"), "SOHOA_DEV_KEYS": "auto",
                    "SOHOA_MODEL_CACHE": str(tmp / "models"), "SOHOA_PAGES_PER_WORKER": "50",
                    "SOHOA_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path"
                                          f"%3D{self.schema}",
                    "SOHOA_BROKER_URL": f"amqp://guest:guest@127.0.0.1:5672/{self.vhost}"}
        subprocess.run([str(SOHOA), "keys", "init-dev"], env=self.env, check=True, capture_output=True)
        self.workers: list[subprocess.Popen] = []

    def start(self, command: list[str], name: str, extra: dict | None = None) -> subprocess.Popen:
        log = self.tmp / f"{name}.log"
        proc = subprocess.Popen(command, env={**self.env, **(extra or {})}, stdout=log.open("wb"),
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.workers.append(proc)
        deadline = time.monotonic() + 120
        while " ready." not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {name} did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        return proc

    def stop_workers(self) -> None:
        stop_process_groups(self.workers, timeout=60)
        self.workers = []

    def run(self, folder: Path, roles: dict[str, list[int]]) -> dict:
        """Enqueue ``folder`` and wait for its run to finish: seconds, pages, documents, CPU per role."""
        before = snapshot(roles)
        children = os.times()
        started = time.perf_counter()
        out = subprocess.run([str(SOHOA), "backfill", str(folder), "--distributed", "--no-wait", "--json"],
                             env=self.env, check=True, capture_output=True, text=True).stdout
        enqueuer = os.times()
        run = json.loads(out.splitlines()[-1])["enqueued"]["run"]
        import psycopg

        # Polled in the index itself: a `sohoa backfill --status` every half second would take a core.
        with psycopg.connect(PG_DSN, autocommit=True, options=f"-csearch_path={self.schema}") as conn:
            while True:
                total, done, failed = conn.execute("SELECT total, done, failed FROM runs WHERE id = %s",
                                                   (run,)).fetchone()
                if done >= total:
                    break
                time.sleep(0.2)
            seconds = time.perf_counter() - started
            pages, documents = conn.execute("SELECT sum(page_count), count(*) FROM job_documents WHERE run_id = %s",
                                            (run,)).fetchone()
            statuses = dict(conn.execute("SELECT status, count(*) FROM inputs GROUP BY status").fetchall())
        after = snapshot(roles)
        cpu = {role: after[role] - before[role] for role in after}
        cpu["enqueuer"] = (enqueuer.children_user + enqueuer.children_system
                           - children.children_user - children.children_system)
        return {"seconds": seconds, "pages": int(pages or 0), "documents": documents, "cpu": cpu, "failed": failed,
                "by_status": statuses}

    def close(self) -> None:
        import psycopg

        self.stop_workers()
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", self.vhost], capture_output=True)


def worker_command(queues: str, concurrency: int, sleepy: bool = False) -> list[str]:
    base = [sys.executable, str(ROOT / "bench" / "sleepy_worker.py")] if sleepy else [str(SOHOA), "worker"]
    return [*base, "--queues", queues, "-c", str(concurrency), "--sweep-every", "30", "-v"]


# -- 1. real OCR: 1 and 2 workers ---------------------------------------------------------------------------

def real_ocr(tmp: Path, copies: int, rounds: int) -> None:
    pages = page_images(ROOT / "samples", tmp)
    totals = {1: 0.0, 2: 0.0}
    page_count = 0
    for r in range(rounds):
        for workers in ((1, 2) if r % 2 == 0 else (2, 1)):
            install = Installation(tmp / f"real-{r}-{workers}")
            try:
                # a warm-up document per worker: its first document loads what the first one loads
                warm = distinct_copies(pages[:1], workers, tmp / f"warm-{r}-{workers}", tag=f"w{r}{workers}")[0].parent
                pids = [install.start(worker_command("page,document", 1), f"w{i}").pid for i in range(workers)]
                install.run(warm, {"workers": pids})
                files = distinct_copies(pages, copies, tmp / f"pages-{r}-{workers}", tag=f"r{r}{workers}")
                result = install.run(files[0].parent, {"workers": pids})
            finally:
                install.close()
            page_count = result["pages"]
            totals[workers] += result["seconds"]
            cpu = result["cpu"]
            print(f"round {r + 1}, {workers} worker{'s' if workers > 1 else ''}: {result['pages']} pages in "
                  f"{result['seconds']:.1f} s = {result['pages'] / result['seconds']:.2f} pages/s "
                  f"(workers {cpu['workers']:.1f} s CPU, broker {cpu['broker']:.2f} s, PostgreSQL "
                  f"{cpu['postgresql']:.2f} s; {result['failed']} failed)", flush=True)
    print(f"real OCR, {rounds} rounds of {page_count} pages: 2 workers give {totals[1] / totals[2]:.3f}x the "
          "throughput of 1 worker", flush=True)


# -- 2. coordination ceiling: sleeping page workers ---------------------------------------------------------

def page_template(tmp: Path) -> Path:
    """A real page reading of one sample page (page.json, page.pdf) for the sleeping workers to hand on."""
    from digitize.pages import run_page
    from digitize.workers import PageJob, page_outcome_to_dict

    folder = tmp / "template"
    folder.mkdir()
    outcome = run_page(PageJob(ROOT / "samples" / "09-ly-lich-tu-phap.jpg", "image", 0, folder))
    shutil.move(outcome.pdf_path, folder / "page.pdf")
    (folder / "page.json").write_text(json.dumps(page_outcome_to_dict(outcome, None)))
    return folder


def ten_page_documents(folder: Path, count: int, tag: str) -> Path:
    """``count`` distinct small 10-page PDFs (their pages are never looked at: the workers sleep instead)."""
    import io

    import img2pdf
    from PIL import Image

    folder.mkdir(parents=True)
    for number in range(count):
        pages = []
        for page in range(10):
            image = Image.new("L", (170, 240), 255)
            image.putpixel((number % 170, page), 0)
            image.putpixel((page, 100 + number // 170), 0)
            buffer = io.BytesIO()
            image.save(buffer, format="PNG", dpi=(20, 20))
            pages.append(buffer.getvalue())
        (folder / f"{tag}-{number:04d}.pdf").write_bytes(img2pdf.convert(pages))
    return folder


def sleeping(tmp: Path, counts: list[int]) -> None:
    template = page_template(tmp)
    base = None
    print("workers  pages  seconds  pages/s  x of 1 | CPU ms a page: page workers  broker  PostgreSQL  enqueuer "
          "| document worker, ms a document", flush=True)
    for workers in counts:
        install = Installation(tmp / f"sleep-{workers}")
        try:
            extra = {"BENCH_PAGE_TEMPLATE": str(template), "SOHOA_PAGES_PER_WORKER": "1000"}
            pages_pid = install.start(worker_command("page", workers, sleepy=True), "pages", extra).pid
            document_pid = install.start(worker_command("document", 2), "documents", extra).pid
            roles = {"page workers": [pages_pid], "document worker": [document_pid]}
            install.run(ten_page_documents(tmp / f"warm-{workers}", 2, f"warm{workers}"), roles)
            result = install.run(ten_page_documents(tmp / f"docs-{workers}", 3 * workers, f"s{workers}"), roles)
        finally:
            install.close()
        rate = result["pages"] / result["seconds"]
        base = base or rate
        cpu, pages, docs = result["cpu"], result["pages"], max(result["documents"], 1)
        per_page = {role: 1000 * seconds / pages for role, seconds in cpu.items()}

        print(f"{workers:7d}  {pages:5d}  {result['seconds']:7.1f}  {rate:7.2f}  {rate / base:6.2f} | "
              f"{per_page['page workers']:26.1f}  {per_page['broker']:6.1f}  {per_page['postgresql']:10.1f}  "
              f"{per_page['enqueuer']:8.1f} | {1000 * cpu['document worker'] / docs:8.0f}  "
              f"(inputs so far: {result['by_status']})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--sleep-workers", default="1,4,8,16")
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--skip-sleep", action="store_true")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder (workers' logs).")
    args = parser.parse_args()
    os.environ["OMP_THREAD_LIMIT"] = "1"
    kept = tempfile.mkdtemp(prefix="sohoa-bench-") if args.keep else None
    with contextlib.nullcontext(kept) if kept else tempfile.TemporaryDirectory() as tmp:
        if kept:
            print(f"temporary folder kept: {kept}")
        if not args.skip_real:
            real_ocr(Path(tmp), args.copies, args.rounds)
        if not args.skip_sleep:
            sleeping(Path(tmp), [int(n) for n in args.sleep_workers.split(",")])


if __name__ == "__main__":
    main()
