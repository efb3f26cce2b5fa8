"""``sohoa worker``: a Celery worker that runs the ``page`` and ``document`` tasks of distributed backfills.

The tasks are thin: each calls ``workflow.distributed`` with the rooms its process opened once.  Worker
processes are forked by Celery's prefork pool, each single-threaded (Tesseract, OpenCV, OpenBLAS), each
replaced after ``SOHOA_PAGES_PER_WORKER`` tasks; the main process sweeps for lost work once a minute.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from workflow.distributed import (
    DOCUMENT_QUEUE,
    DOCUMENT_TASK,
    PAGE_QUEUE,
    PAGE_TASK,
    RETRYABLE,
    Dispatch,
    DocumentHeld,
    PageRooms,
    Sweeper,
    celery_app,
    finish_document,
    open_ingest,
    open_page_rooms,
    read_page,
)
from workflow.rooms import Rooms, open_rooms
from workflow.settings import Settings, prepare_worker_environment

QUEUES = (PAGE_QUEUE, DOCUMENT_QUEUE)
HELD_RETRY_SECONDS = 30  # a document another live worker holds is looked at again this much later


class _Process:
    """What one worker process opens once, after the fork (never inherited): the index and settings for
    pages, the whole rooms (signing key included) only when it finishes a document."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.pid: int | None = None
        self._page_rooms: PageRooms | None = None
        self._rooms: Rooms | None = None
        self._ingest = None

    def _forked(self) -> None:
        if self.pid != os.getpid():
            self._page_rooms = self._rooms = self._ingest = None
            self.pid = os.getpid()

    @property
    def page_rooms(self) -> PageRooms | Rooms:
        self._forked()
        if self._rooms is not None:
            return self._rooms
        if self._page_rooms is None:
            self._page_rooms = open_page_rooms(self.settings)
        return self._page_rooms

    @property
    def rooms(self) -> Rooms:
        self._forked()
        if self._rooms is None:
            self._rooms = open_rooms(self.settings)
        return self._rooms

    @property
    def ingest(self):
        rooms = self.rooms
        if self._ingest is None:
            self._ingest = open_ingest(rooms)
        return self._ingest


def build_app(settings: Settings) -> tuple[Any, Dispatch]:
    """The Celery app with sohoa's two tasks registered, and the dispatch its tasks send with."""
    app = celery_app(settings)
    dispatch = Dispatch(app)
    process = _Process(settings)

    @app.task(name=PAGE_TASK, autoretry_for=RETRYABLE, retry_backoff=2, retry_backoff_max=120, max_retries=None)
    def page(job_id: int, index: int) -> str:
        return read_page(process.page_rooms, dispatch, int(job_id), int(index))

    @app.task(name=DOCUMENT_TASK, bind=True, autoretry_for=RETRYABLE, retry_backoff=2, retry_backoff_max=120,
              max_retries=None)
    def document(self, job_id: int) -> str:
        try:
            outcomes = finish_document(process.rooms, process.ingest, int(job_id))
        except DocumentHeld:
            raise self.retry(countdown=HELD_RETRY_SECONDS, max_retries=None) from None
        return ", ".join(f"{o.status} {o.code or ''}".strip() for o in outcomes) or "nothing to do"

    return app, dispatch


def run_worker(settings: Settings, queues: list[str], concurrency: int, sweep_every: float = 60.0,
               loglevel: str = "INFO") -> None:
    """Run a worker until it is stopped (SIGTERM or Ctrl-C finish the tasks in hand; SIGKILL loses nothing)."""
    unknown = sorted(set(queues) - set(QUEUES))
    if unknown:
        raise ValueError(f"unknown queue {', '.join(unknown)}: use {', '.join(QUEUES)}")
    prepare_worker_environment()
    app, dispatch = build_app(settings)
    sweeper = Sweeper(settings, dispatch, sweep_every) if sweep_every > 0 else None
    if sweeper:
        sweeper.start()
    try:
        app.worker_main(["worker", "--queues", ",".join(queues), "--concurrency", str(max(1, concurrency)),
                         "--pool", "prefork", "--hostname", f"sohoa-{os.getpid()}@{socket.gethostname()}",
                         "--without-gossip", "--without-mingle", "--loglevel", loglevel])
    finally:
        if sweeper:
            sweeper.stopping.set()
