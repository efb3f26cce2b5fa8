"""Backfills on many machines: the tree is enqueued once, Celery workers (``sohoa worker``) read its pages and
finish its documents, the index (PostgreSQL) decides everything, the broker (RabbitMQ) only carries work.

- ``enqueue`` walks the tree as ``backfill`` does (skipping what is archived, waiting or failed), records each
  input as a job in the index, stages it in the work store when the workers cannot see the folder, and hands
  one ``page`` task per page to the broker (a born-digital PDF goes straight to the ``document`` queue).
- ``read_page`` (a ``page`` task): clean-up and OCR of one page; the page PDF goes to the work store, the
  reading to the index.  The page that completes its document (decided in one transaction) sends the
  ``document`` task.
- ``finish_document`` (a ``document`` task): claims the document, fetches its pages, and runs the same
  document stage as a local run (``workflow.ingest.finish_read_pages``): understood, coded, signed and
  archived, kept for review, or rejected.
- ``sweep``: hands out again what the broker lost (see ``storage.index.jobs.Jobs.sweep``).

Every task may be delivered twice, or again after its worker died: a page is recorded once, a document is
claimed by one worker at a time, and a worker that takes over a dead worker's claim first finishes what the
crash left in the archive (``storage.recover``), so the source's SHA-256 finds the result if it was archived.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytesseract import TesseractError

from digitize.intake import RejectedInput, expand_inputs, file_sha256, inspect
from digitize.workers import PageJob, page_outcome_from_dict, page_outcome_to_dict
from storage import STORAGE_ERRORS, Index, recover
from storage.index.jobs import DONE, READING, READY, JobDocument, JobProgress, needs_page_reading
from storage.workfiles import WorkFiles, default_work_url, open_workfiles
from workflow.backfill import report_row
from workflow.contracts import Outcome, SourcePart, Status, printable
from workflow.ingest import DocumentJob, Ingest, IngestOptions, claim_is_stale, failure_reason, finish_read_pages
from workflow.rooms import Rooms
from workflow.settings import Settings
from workflow.workers import ocr_config

log = logging.getLogger("sohoa.distributed")

PAGE_QUEUE, DOCUMENT_QUEUE = "page", "document"
PAGE_TASK, DOCUMENT_TASK = "sohoa.page", "sohoa.document"
MAX_PAGE_ATTEMPTS = 3  # a page whose worker died this often (a crash, the hard time limit) is a poison page
DOCUMENT_SOFT_SECONDS, DOCUMENT_HARD_SECONDS = 600, 900  # a 300-page document is assembled and signed well within
DOCUMENT_LEASE = dt.timedelta(seconds=DOCUMENT_HARD_SECONDS + 120)  # a claim older than this is a lost worker's
SWEEP_AFTER = dt.timedelta(minutes=2)  # how long the broker may take to hand out a task before the sweeper looks
STAGED_CACHE_FILES = 16  # staged originals a worker keeps locally, for the other pages of the same file


RETRYABLE = STORAGE_ERRORS  # the index or a store failed, not the work: a task is tried again later


class DistributedError(RuntimeError):
    """A distributed backfill cannot run as configured; the message says what to set."""


def page_time_limits(settings: Settings) -> tuple[float, float]:
    """Soft and hard time limits of a ``page`` task: the OCR's own timeout first, then the task's."""
    return settings.page_timeout + 60, settings.page_timeout + 120


def celery_app(settings: Settings):
    """The Celery application of sohoa's workers and enqueuers: durable queues, late acknowledgement, one
    task prefetched at a time, a task whose worker died handed out again, no result backend (state lives
    in the index)."""
    from celery import Celery
    from kombu import Exchange, Queue

    if not settings.broker_url:
        raise DistributedError("set SOHOA_BROKER_URL (e.g. amqp://guest:guest@127.0.0.1:5672//) to the broker "
                               "every worker reaches")
    app = Celery("sohoa", broker=settings.broker_url, set_as_current=False)
    EXCHANGE = Exchange("sohoa", type="direct", durable=True)  # noqa: N806 - kombu's own spelling
    soft, hard = page_time_limits(settings)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_max_tasks_per_child=settings.pages_per_worker,
        worker_cancel_long_running_tasks_on_connection_loss=True,  # the broker hands them out again
        task_ignore_result=True,
        task_serializer="json", accept_content=["json"],
        task_queues=(Queue(PAGE_QUEUE, EXCHANGE, routing_key=PAGE_QUEUE, durable=True),
                     Queue(DOCUMENT_QUEUE, EXCHANGE, routing_key=DOCUMENT_QUEUE, durable=True)),
        task_default_exchange="sohoa", task_default_routing_key=PAGE_QUEUE,
        task_routes={PAGE_TASK: {"queue": PAGE_QUEUE, "routing_key": PAGE_QUEUE},
                     DOCUMENT_TASK: {"queue": DOCUMENT_QUEUE, "routing_key": DOCUMENT_QUEUE}},
        task_default_queue=PAGE_QUEUE,
        task_default_delivery_mode="persistent",
        task_annotations={PAGE_TASK: {"soft_time_limit": soft, "time_limit": hard},
                          DOCUMENT_TASK: {"soft_time_limit": DOCUMENT_SOFT_SECONDS,
                                          "time_limit": DOCUMENT_HARD_SECONDS}},
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        broker_transport_options={"confirm_publish": True},  # a message is sent once the broker has it
        task_publish_retry=True,
        task_publish_retry_policy={"max_retries": 60, "interval_start": 0.5, "interval_step": 1.0,
                                   "interval_max": 5.0},
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        broker_heartbeat=30,
    )
    return app


class Dispatch:
    """Hands tasks to the broker by name (the enqueuer needs no task code) and asks it how long the queues are."""

    def __init__(self, app):
        self.app = app

    def pages(self, job_id: int, indexes: list[int]) -> None:
        with self.app.producer_or_acquire() as producer:
            for index in indexes:
                self.app.send_task(PAGE_TASK, args=(job_id, index), producer=producer)

    def document(self, job_id: int) -> None:
        self.app.send_task(DOCUMENT_TASK, args=(job_id,))

    def queue_lengths(self) -> dict[str, int | None]:
        """Messages waiting in each queue (handed out and not yet acknowledged ones are not counted)."""
        lengths: dict[str, int | None] = {}
        try:
            with self.app.connection_for_write() as connection:
                channel = connection.default_channel
                for name in (PAGE_QUEUE, DOCUMENT_QUEUE):
                    lengths[name] = channel.queue_declare(name, passive=True).message_count
        except Exception as exc:  # noqa: BLE001 - an unreachable broker or an undeclared queue: unknown
            log.debug("queue lengths unknown: %s", exc)
            lengths = dict.fromkeys((PAGE_QUEUE, DOCUMENT_QUEUE))
        return lengths


def require_shared_index(settings: Settings) -> None:
    """Workers on other machines share one index: PostgreSQL, not a SQLite file."""
    if not settings.database_url.startswith("postgresql"):
        raise DistributedError("a distributed backfill keeps its state in the index, which every worker must "
                               "reach: set SOHOA_DATABASE_URL to PostgreSQL (postgresql+psycopg://…)")


@functools.cache
def work_files(settings: Settings) -> WorkFiles:
    """Where workers hand files on (``SOHOA_WORK_URL``; by default beside the archive), opened once per process:
    an S3 store checks its bucket as it opens, which is not to be done for every page."""
    url = settings.work_url or default_work_url(settings.archive_url, settings.data_dir)
    return open_workfiles(url, s3_endpoint=settings.s3_endpoint, s3_access_key=settings.s3_access_key,
                          s3_secret_key=settings.s3_secret_key, s3_secure=settings.s3_secure)


def page_key(job_id: int, index: int) -> str:
    return f"pages/{job_id}/{index:05d}.pdf"


def staged_key(sha256: str, path: Path) -> str:
    suffix = path.suffix.lower() if path.suffix.lower().lstrip(".").isalnum() else ""
    return f"inputs/{sha256}{suffix}"


# -- enqueueing ---------------------------------------------------------------------------------------------

@dataclass
class EnqueueSummary:
    run_id: int
    files: int = 0
    enqueued: int = 0  # handed to the workers now
    in_flight: int = 0  # enqueued by an earlier run and still being worked on: now counted in this run
    decided: list[Outcome] = field(default_factory=list)  # skipped or rejected before any page work

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run_id, "files": self.files, "enqueued": self.enqueued, "in_flight": self.in_flight,
                "decided": len(self.decided)}


def enqueue(rooms: Rooms, dispatch: Dispatch, root: Path, *, stage: bool = False, retry_failed: bool = False,
            split_blank: bool = False, on_file: Callable[[Path], None] | None = None) -> EnqueueSummary:
    """Record every supported file under ``root`` as a job and hand its pages to the workers (module docstring).

    Resumable: a file archived, waiting for review or failed before (unless ``retry_failed``) is skipped, one
    still being worked on is adopted by this run, one enqueued and never handed to the broker is handed now.
    ``stage``: the workers cannot see ``root``, so each file is uploaded to the work store first.
    """
    settings, index = rooms.settings, rooms.index
    require_shared_index(settings)
    store = work_files(settings) if stage else None
    recovered = recover(rooms.store, agent="sohoa backfill recovery")
    if recovered:
        log.info("finished %d leftovers of an interrupted run", len(recovered))
    files = list(expand_inputs([root]))
    run_id = index.runs.start("backfill", printable(f"{root} (distributed)")[:500], _enqueuer(), len(files))
    summary = EnqueueSummary(run_id, len(files))
    statuses = index.inputs.statuses()
    skip_statuses = {Status.ARCHIVED: "already archived", Status.NEEDS_REVIEW: "waiting for review"}
    if not retry_failed:
        skip_statuses[Status.REJECTED] = "failed before (rerun with --retry-failed)"
    for path in files:
        if on_file:
            on_file(path)
        part = SourcePart(path)
        reason = skip_statuses.get(statuses.get(str(part), ""))
        if reason:
            summary.decided.append(Outcome(part, Status.SKIPPED, error=reason))
            continue
        try:
            sha = file_sha256(path)
            source = inspect(path, sha)
        except (RejectedInput, OSError) as exc:
            error = failure_reason(exc) if isinstance(exc, RejectedInput) else f"cannot be read: {exc}"
            sha = file_sha256(path) if path.is_file() else "-"
            index.inputs.record(str(part), sha, Status.REJECTED, error=error)
            summary.decided.append(Outcome(part, Status.REJECTED, error=error, source_sha256=sha))
            continue
        if index.results.for_source(sha):
            summary.decided.append(Outcome(part, Status.SKIPPED, source_sha256=sha, error="already archived"))
            continue
        key = staged_key(sha, path) if store else None
        job = index.jobs.add(run_id, str(path), sha, source.kind, source.page_count, list(source.text_pages),
                             signed=source.signed, split_blank=split_blank and not source.signed, staged_key=key)
        if job.state == DONE:
            if not retry_failed:
                summary.decided.append(Outcome(part, Status.SKIPPED, source_sha256=sha,
                                               error="done in an earlier run"))
                continue
            job = index.jobs.restart(job.id, run_id, key)
        if job.state != "queued":
            summary.in_flight += 1
            continue
        if store and key:
            store.put(key, path)
        hand_out(index, dispatch, job)
        summary.enqueued += 1
    done = len(summary.decided)
    failed = sum(1 for o in summary.decided if o.status == Status.REJECTED)
    index.runs.count(run_id, done, failed, 0, [_failure(o.source, o.error) for o in summary.decided
                                               if o.status == Status.REJECTED][-20:])
    if done == len(files):
        index.runs.finish(run_id)
    return summary


def hand_out(index, dispatch: Dispatch, job: JobDocument) -> None:
    """Mark a queued job handed out, then give its tasks to the broker.  In that order: a page task may run
    before this function returns, and must find its job being read.  A crash in between leaves a job being
    read with no task at the broker: the sweeper hands its pages out again."""
    index.jobs.published(job.id)
    if needs_page_reading(job.kind, job.page_count, job.text_pages):
        dispatch.pages(job.id, list(range(job.page_count)))
    else:
        dispatch.document(job.id)


def _enqueuer() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _failure(source: str, reason: str | None) -> dict[str, str]:
    return {"source": source[-200:], "reason": (reason or "")[:300]}


# -- the workers' side --------------------------------------------------------------------------------------

@dataclass
class PageRooms:
    """What a page task needs: the settings and the index, not the signing key (a machine that only reads
    pages holds none)."""

    settings: Settings
    index: Index

    @property
    def ocr(self):
        return ocr_config(self.settings)

    def close(self) -> None:
        self.index.close()


def open_page_rooms(settings: Settings) -> PageRooms:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.data_dir.chmod(0o700)  # staged originals hold personal data
    return PageRooms(settings, Index(settings.database_url))


def worker_name() -> str:
    """This worker process, as its claims name it (host and pid: a dead pid on this host is seen at once)."""
    return f"{socket.gethostname()}:{os.getpid()}"


@contextlib.contextmanager
def readable_source(rooms: Rooms | PageRooms, job: JobDocument) -> Iterator[Path]:
    """The job's original as a local file: the shared path, or the staged copy fetched into a small cache."""
    if not job.staged_key:
        path = Path(job.source)
        if not path.is_file():
            raise RejectedInput(f"{job.source} is not readable on {socket.gethostname()}: mount the folder at the "
                                "same path on every worker, or enqueue with --stage-to-s3")
        yield path
        return
    cache = rooms.settings.data_dir / "tmp" / "staged"
    cache.mkdir(parents=True, exist_ok=True)
    local = cache / Path(job.staged_key).name
    if not local.is_file():
        fd, tmp = tempfile.mkstemp(dir=cache, prefix=".fetch-")
        os.close(fd)
        try:
            work_files(rooms.settings).fetch(job.staged_key, Path(tmp))
            os.replace(tmp, local)
        finally:
            Path(tmp).unlink(missing_ok=True)
        for old in sorted((p for p in cache.iterdir() if not p.name.startswith(".")),
                          key=lambda p: p.stat().st_mtime)[:-STAGED_CACHE_FILES]:
            old.unlink(missing_ok=True)
    yield local


def read_page(rooms: Rooms | PageRooms, dispatch: Dispatch, job_id: int, index: int) -> str:
    """The ``page`` task: read one page of a job, record it, and send the document task if it was the last.

    Returns what happened (for the worker's log): read, failed, already read, not needed.
    """
    jobs = rooms.index.jobs
    worker = worker_name()
    state, attempt = jobs.start_page(job_id, index, worker)
    if state is None:
        return "no such job"
    if state != READING:
        if state == READY:
            dispatch.document(job_id)  # the page that made it ready may have died before sending this
        return "not needed"
    if attempt is None:
        return "already read"
    job = jobs.get(job_id)
    started = time.perf_counter()
    page: dict[str, Any] | None = None
    error: str | None = None
    if attempt > MAX_PAGE_ATTEMPTS:
        error = (f"page {index + 1}: its worker was lost {attempt - 1} times while reading it (a crash or the "
                 "time limit): not read; nothing was archived")
    else:
        page, error = _read(rooms, job, index)
    if jobs.add_page(job_id, index, page, error, worker, round(time.perf_counter() - started, 3)):
        dispatch.document(job_id)
    return "failed" if error else "read"


def _read(rooms: Rooms | PageRooms, job: JobDocument, index: int) -> tuple[dict[str, Any] | None, str | None]:
    from digitize.pages import run_page

    # One folder per worker process, reused page after page (named for leftovers of dead processes).
    work_dir = rooms.settings.data_dir / "tmp" / f"doc-{os.getpid()}-pages"
    work_dir.mkdir(parents=True, exist_ok=True)
    pdf_path: Path | None = None
    try:
        with readable_source(rooms, job) as path:
            text_layer = bool(job.text_pages[index]) if index < len(job.text_pages) else False
            outcome = run_page(PageJob(path, job.kind, index, work_dir, job.split_blank,
                                       text_layer=text_layer and not job.signed, ocr=rooms.ocr))
        key, pdf_path = None, outcome.pdf_path
        if pdf_path is not None:
            key = page_key(job.id, index)
            work_files(rooms.settings).put(key, pdf_path, move=True)
        return page_outcome_to_dict(outcome, key), None
    except STORAGE_ERRORS:
        raise  # the work store or the index failed, not this page: the task is tried again
    except TesseractError as exc:
        return None, f"OCR failed on this file: {exc.message}"
    except Exception as exc:  # noqa: BLE001 - whatever this page does, the document ends with its reason
        return None, failure_reason(exc)
    finally:
        if pdf_path is not None:
            pdf_path.unlink(missing_ok=True)


class DocumentHeld(Exception):
    """Another worker, still alive, is finishing this document; the task is tried again later."""


def finish_document(rooms: Rooms, ingest: Ingest, job_id: int) -> list[Outcome]:
    """The ``document`` task: claim the job, fetch its pages, and run the document stage (module docstring)."""
    jobs = rooms.index.jobs
    worker = worker_name()
    claimed = jobs.claim(job_id, worker, claim_is_stale_or_lease)
    if claimed is None:
        return []
    if isinstance(claimed, str):
        raise DocumentHeld(f"job {job_id} is held by {claimed}")
    job, taken_over = claimed
    if taken_over:  # the worker before died inside the document stage: finish what it left in the archive
        recover(rooms.store, agent="sohoa worker recovery")
    tmp_root = rooms.settings.data_dir / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(prefix=f"doc-{os.getpid()}-", dir=tmp_root))
    store = work_files(rooms.settings)
    try:
        outcomes = _document_stage(rooms, ingest, job, store, work_dir)
    except BaseException:
        # The index or a store failed (or the worker is stopping): the document is handed back, and its task
        # tried again; nothing of it was recorded as done.
        shutil.rmtree(work_dir, ignore_errors=True)
        jobs.release(job_id, worker)
        raise
    rows = [report_row(o) for o in outcomes]
    if jobs.finish(job_id, worker, rows):
        failed = [o for o in outcomes if o.status == Status.REJECTED]
        rooms.index.runs.count(job.run_id, 1, 1 if failed else 0, sum(o.pages for o in outcomes),
                               [_failure(o.source, o.error) for o in failed])
        run = rooms.index.runs.get(job.run_id)  # one row: a run of 200,000 files is not counted again each time
        if run is not None and run.finished_at is None and run.done >= run.total:
            rooms.index.runs.finish(job.run_id)
        page_keys = [p.page["pdf_key"] for p in jobs.pages(job_id) if p.page and p.page.get("pdf_key")]
        store.delete([*page_keys, *([job.staged_key] if job.staged_key else [])])
    return outcomes


def _document_stage(rooms: Rooms, ingest: Ingest, job: JobDocument, store: WorkFiles,
                    work_dir: Path) -> list[Outcome]:
    jobs = rooms.index.jobs
    try:
        readings: list = []
        if needs_page_reading(job.kind, job.page_count, job.text_pages):
            for result in jobs.pages(job.id):
                if not result.done:
                    continue
                if result.error is not None:
                    readings.append(RejectedInput(result.error))
                    break  # a page that failed decides the document
                key = result.page.get("pdf_key")
                local = None
                if key:
                    local = work_dir / Path(key).name
                    store.fetch(key, local)
                readings.append(page_outcome_from_dict(result.page, local))
        with readable_source(rooms, job) as path:
            source = inspect(path, job.source_sha256)
            return finish_read_pages(ingest, DocumentJob(Path(job.source)), source, readings, work_dir,
                                     owner=f"sohoa-job:{job.id}")
    except RejectedInput as exc:  # the original vanished or changed since it was enqueued
        shutil.rmtree(work_dir, ignore_errors=True)
        part = SourcePart(Path(job.source))
        rooms.index.inputs.record(str(part), job.source_sha256, Status.REJECTED, error=str(exc))
        return [Outcome(part, Status.REJECTED, error=str(exc), source_sha256=job.source_sha256)]


def claim_is_stale_or_lease(owner: str, since: dt.datetime) -> bool:
    """A document claim of a worker that died (this host), or older than a document task can run (any host)."""
    return claim_is_stale(owner, since) or dt.datetime.now(dt.UTC) - since > DOCUMENT_LEASE


def open_ingest(rooms: Rooms) -> Ingest:
    """The document stage's ingest (it starts no page workers: the page workers read the pages)."""
    return Ingest(rooms, IngestOptions(officer=rooms.settings.officer))


# -- sweeping and status ------------------------------------------------------------------------------------

def sweep(rooms: Rooms, dispatch: Dispatch) -> tuple[int, int]:
    """Hand out again what the broker lost; (jobs whose pages were handed out again, documents handed out again)."""
    return _sweep(rooms.index, dispatch)


def _sweep(index: Index, dispatch: Dispatch) -> tuple[int, int]:
    lengths = dispatch.queue_lengths()
    read_again, finish_again = index.jobs.sweep(
        SWEEP_AFTER, DOCUMENT_LEASE, claim_is_stale, pages_queue_empty=lengths.get(PAGE_QUEUE) == 0,
        documents_queue_empty=lengths.get(DOCUMENT_QUEUE) == 0)
    for job_id in read_again:
        job = index.jobs.get(job_id)
        if job is None:
            continue
        if job.state == "queued":
            hand_out(index, dispatch, job)
        elif job.state == READING:
            dispatch.pages(job_id, index.jobs.missing_pages(job_id))
    for job_id in finish_again:
        dispatch.document(job_id)
    if read_again or finish_again:
        log.warning("sweeper: %d jobs' pages and %d documents handed out again", len(read_again), len(finish_again))
    return len(read_again), len(finish_again)


class Sweeper(threading.Thread):
    """Sweeps every ``every`` seconds until stopped; each worker runs one, and the index keeps sweepers from
    handing out the same job twice in one period.  Each sweep opens the index and closes it again: worker
    processes are forked beside this thread and must not inherit its connections."""

    def __init__(self, settings: Settings, dispatch: Dispatch, every: float = 60.0):
        super().__init__(name="sohoa-sweeper", daemon=True)
        self.settings, self.dispatch, self.every = settings, dispatch, every
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.every):
            try:
                sweep_once(self.settings, self.dispatch)
            except Exception as exc:  # noqa: BLE001 - the sweeper tries again next period
                log.warning("sweep failed: %s", exc)


def sweep_once(settings: Settings, dispatch: Dispatch) -> tuple[int, int]:
    """One sweep on an index opened for it (``sohoa backfill --sweep``, the workers' sweeper)."""
    index = Index(settings.database_url)
    try:
        return _sweep(index, dispatch)
    finally:
        index.close()


@dataclass(frozen=True)
class RunStatus:
    """A distributed run as any machine sees it in the index."""

    run_id: int
    label: str
    files: int
    done: int
    failed: int
    pages_read: int
    pages: int
    by_state: dict[str, int]
    by_status: dict[str, int]
    started_at: dt.datetime
    finished_at: dt.datetime | None
    seconds: float

    @property
    def finished(self) -> bool:
        return self.finished_at is not None or (self.files > 0 and self.done >= self.files)

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run_id, "label": self.label, "files": self.files, "done": self.done,
                "failed": self.failed, "pages_read": self.pages_read, "pages": self.pages,
                "by_state": self.by_state, "by_status": self.by_status, "started_at": self.started_at.isoformat(),
                "finished": self.finished, "seconds": round(self.seconds, 1),
                "pages_per_second": round(self.pages_read / self.seconds, 2) if self.seconds else 0.0}


def run_status(rooms: Rooms, run_id: int | None = None, with_statuses: bool = False) -> RunStatus | None:
    """The progress of a distributed run (the latest when ``run_id`` is None), from the index."""
    jobs, runs = rooms.index.jobs, rooms.index.runs
    run_id = run_id or jobs.latest_run()
    run = runs.get(run_id) if run_id else None
    if run is None:
        return None
    progress: JobProgress = jobs.progress(run_id)
    if run.finished_at is None and run.done >= run.total and run.total:
        runs.finish(run_id)
        run = runs.get(run_id)
    end = run.finished_at or dt.datetime.now(dt.UTC)
    return RunStatus(run_id, run.label, run.total, run.done, run.failed, progress.pages_in, progress.pages,
                     progress.by_state, dict(jobs.statuses(run_id)) if with_statuses else {},
                     run.started_at, run.finished_at, (end - run.started_at).total_seconds())


def run_report(rooms: Rooms, run_id: int) -> Iterator[dict[str, Any]]:
    """The report rows of a distributed run's finished documents, from the index."""
    yield from rooms.index.jobs.outcomes(run_id)
