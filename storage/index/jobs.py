"""Distributed backfills in the index, the single source of truth: each enqueued input and its pages.

The broker only carries work (``page`` and ``document`` tasks, which may be delivered twice or after a crash);
every decision is taken here, in one transaction each:

- a page is read at most once to the end: ``start_page`` counts deliveries, ``add_page`` records the first
  reading only;
- a document becomes ready exactly once: ``add_page`` locks the document's row (``FOR UPDATE``; SQLite's
  write lock), so of two pages finishing at the same time one sees the other's row;
- a document is finished by one worker at a time: ``claim`` hands it out with its holder's name, and a
  claim whose holder died is taken over.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from storage.index.schema import Database, JobDocumentRow, PageResultRow, _aware, utc_now

QUEUED, READING, READY, DOCUMENTING, DONE = "queued", "reading", "ready", "documenting", "done"


@dataclass(frozen=True)
class JobDocument:
    id: int
    run_id: int
    source: str
    source_sha256: str
    staged_key: str | None
    kind: str
    page_count: int
    text_pages: tuple[bool, ...]
    signed: bool
    split_blank: bool
    state: str
    pages_in: int
    outcomes: tuple[dict[str, Any], ...]
    claimed_by: str | None
    claimed_at: dt.datetime | None
    created_at: dt.datetime
    ready_at: dt.datetime | None
    finished_at: dt.datetime | None


@dataclass(frozen=True)
class PageResult:
    page_index: int
    attempts: int
    done: bool
    page: dict[str, Any] | None
    error: str | None
    worker: str | None
    seconds: float


@dataclass(frozen=True)
class JobProgress:
    """One run's documents by state, and its pages read of all."""

    documents: int
    by_state: dict[str, int]
    pages: int
    pages_in: int


def needs_page_reading(kind: str, page_count: int, text_pages) -> bool:
    """Whether an input's pages go to page workers: not for a born-digital PDF (its text layer is read in the
    document stage)."""
    return page_count > 0 and not (kind == "pdf" and text_pages and all(text_pages))


def _document(row: JobDocumentRow) -> JobDocument:
    def aware(moment):
        return _aware(moment) if moment else None

    return JobDocument(row.id, row.run_id, row.source, row.source_sha256, row.staged_key, row.kind, row.page_count,
                       tuple(row.text_pages or ()), row.signed, row.split_blank, row.state, row.pages_in,
                       tuple(row.outcomes or ()), row.claimed_by, aware(row.claimed_at), _aware(row.created_at),
                       aware(row.ready_at), aware(row.finished_at))


def _page(row: PageResultRow) -> PageResult:
    return PageResult(row.page_index, row.attempts, row.done, row.page, row.error, row.worker, row.seconds)


class Jobs:
    """The documents and pages of distributed backfills (see the module docstring)."""

    def __init__(self, db: Database):
        self.engine, self.writer = db.engine, db.writer

    def add(self, run_id: int, source: str, source_sha256: str, kind: str, page_count: int,
            text_pages: list[bool], signed: bool = False, split_blank: bool = False,
            staged_key: str | None = None) -> JobDocument:
        """The job of this input: a new one (``queued``), or the one an earlier run enqueued, now counted in
        ``run_id`` unless it is done."""
        with Session(self.writer) as session, session.begin():
            row = session.scalars(select(JobDocumentRow).where(JobDocumentRow.source == source,
                                                               JobDocumentRow.source_sha256 == source_sha256)
                                  .with_for_update()).first()
            if row is None:
                row = JobDocumentRow(run_id=run_id, source=source, source_sha256=source_sha256, staged_key=staged_key,
                                     kind=kind, page_count=page_count, text_pages=list(text_pages),
                                     signed=signed, split_blank=split_blank, state=QUEUED, pages_in=0, outcomes=[])
                session.add(row)
                session.flush()
            elif row.state != DONE:
                row.run_id = run_id
            return _document(row)

    def restart(self, job_id: int, run_id: int, staged_key: str | None = None) -> JobDocument:
        """A finished job read again from the start (``--retry-failed``): its pages are forgotten."""
        with Session(self.writer) as session, session.begin():
            session.execute(delete(PageResultRow).where(PageResultRow.document_id == job_id))
            row = session.get(JobDocumentRow, job_id, with_for_update=True)
            row.run_id, row.state, row.pages_in, row.outcomes = run_id, QUEUED, 0, []
            row.claimed_by = row.claimed_at = row.ready_at = row.finished_at = row.swept_at = None
            if staged_key:
                row.staged_key = staged_key
            return _document(row)

    def published(self, job_id: int) -> None:
        """Its tasks are with the broker: pages to read, or (born-digital, no page to read) the document."""
        with Session(self.writer) as session, session.begin():
            row = session.get(JobDocumentRow, job_id, with_for_update=True)
            if row.state == QUEUED:
                row.state = READING if needs_page_reading(row.kind, row.page_count, row.text_pages) else READY
                if row.state == READY:
                    row.ready_at = utc_now()

    def get(self, job_id: int) -> JobDocument | None:
        with Session(self.engine) as session:
            row = session.get(JobDocumentRow, job_id)
            return _document(row) if row else None

    def _insert(self, table):
        """An INSERT with ON CONFLICT for this database (PostgreSQL or SQLite)."""
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(table)

    def start_page(self, job_id: int, page_index: int, worker: str) -> tuple[str | None, int | None]:
        """Count one more delivery of a page: (the job's state, or None when there is no such job; the
        delivery's number, or None when the page is not to be read: already read, or its job not being read)."""
        with self.writer.begin() as conn:
            state = conn.execute(select(JobDocumentRow.state).where(JobDocumentRow.id == job_id)).scalar()
            if state != READING:
                return state, None
            statement = self._insert(PageResultRow).values(
                document_id=job_id, page_index=page_index, attempts=1, done=False, worker=worker, seconds=0.0)
            attempts = conn.execute(statement.on_conflict_do_update(
                index_elements=[PageResultRow.document_id, PageResultRow.page_index],
                set_={"attempts": PageResultRow.attempts + 1, "worker": worker},
                where=PageResultRow.done.is_(False)).returning(PageResultRow.attempts)).scalar()
            return state, attempts

    def add_page(self, job_id: int, page_index: int, page: dict[str, Any] | None, error: str | None,
                 worker: str, seconds: float) -> bool:
        """Record what a page read (or why it could not be read); True when this made the document ready: all
        its pages are in, or this page failed (its document is rejected whatever the others say)."""
        with self.writer.begin() as conn:
            document = conn.execute(select(JobDocumentRow.state, JobDocumentRow.page_count, JobDocumentRow.pages_in)
                                    .where(JobDocumentRow.id == job_id).with_for_update()).first()  # serializes pages
            if document is None:
                return False
            reading = {"done": True, "page": page, "error": error, "worker": worker, "seconds": seconds}
            recorded = conn.execute(update(PageResultRow).where(
                PageResultRow.document_id == job_id, PageResultRow.page_index == page_index,
                PageResultRow.done.is_(False)).values(**reading)).rowcount
            if not recorded:  # never started (a test, a sweep), or read already
                recorded = conn.execute(self._insert(PageResultRow).values(
                    document_id=job_id, page_index=page_index, attempts=1, **reading)
                    .on_conflict_do_nothing().returning(PageResultRow.page_index)).first() is not None
            if not recorded:
                return False
            pages_in = document.pages_in + 1  # exact: only the first reading of a page gets here
            ready = document.state == READING and (error is not None or pages_in >= document.page_count)
            conn.execute(update(JobDocumentRow).where(JobDocumentRow.id == job_id).values(
                pages_in=pages_in, **({"state": READY, "ready_at": utc_now()} if ready else {})))
            return ready

    def pages(self, job_id: int) -> list[PageResult]:
        with Session(self.engine) as session:
            rows = session.scalars(select(PageResultRow).where(PageResultRow.document_id == job_id)
                                   .order_by(PageResultRow.page_index))
            return [_page(r) for r in rows]

    def missing_pages(self, job_id: int) -> list[int]:
        """The pages of a document still being read not yet read."""
        job = self.get(job_id)
        if job is None:
            return []
        read = {p.page_index for p in self.pages(job_id) if p.done}
        return [i for i in range(job.page_count) if i not in read]

    def claim(self, job_id: int, owner: str,
              is_stale: Callable[[str, dt.datetime], bool]) -> tuple[JobDocument, bool] | str | None:
        """Hand a ready document to ``owner``: (the job, whether an earlier holder died holding it); the holder's
        name while another worker holds it; None when there is nothing to do (already done, not ready)."""
        with Session(self.writer) as session, session.begin():
            row = session.get(JobDocumentRow, job_id, with_for_update=True)
            if row is None or row.state not in (READY, DOCUMENTING):
                return None
            taken_over = False
            if row.state == DOCUMENTING and row.claimed_by != owner:
                if not is_stale(row.claimed_by or "", _aware(row.claimed_at or utc_now())):
                    return row.claimed_by
                taken_over = True
            elif row.state == DOCUMENTING:
                taken_over = True  # the same worker again: its earlier attempt ended without finishing
            row.state, row.claimed_by, row.claimed_at = DOCUMENTING, owner, utc_now()
            return _document(row), taken_over

    def release(self, job_id: int, owner: str) -> None:
        """Hand a claimed document back (its worker failed on the index or a store, not on the document)."""
        with Session(self.writer) as session, session.begin():
            session.execute(update(JobDocumentRow).where(
                JobDocumentRow.id == job_id, JobDocumentRow.state == DOCUMENTING, JobDocumentRow.claimed_by == owner)
                .values(state=READY, claimed_by=None, claimed_at=None))

    def finish(self, job_id: int, owner: str, outcomes: list[dict[str, Any]]) -> bool:
        """The document is done, with its report rows; False when ``owner`` no longer held it."""
        with Session(self.writer) as session, session.begin():
            done = session.execute(update(JobDocumentRow).where(
                JobDocumentRow.id == job_id, JobDocumentRow.state == DOCUMENTING, JobDocumentRow.claimed_by == owner)
                .values(state=DONE, outcomes=outcomes, finished_at=utc_now(),
                        pages_in=JobDocumentRow.page_count)).rowcount
            return bool(done)

    def progress(self, run_id: int) -> JobProgress:
        with Session(self.engine) as session:
            rows = session.execute(select(JobDocumentRow.state, func.count(), func.sum(JobDocumentRow.page_count),
                                          func.sum(JobDocumentRow.pages_in))
                                   .where(JobDocumentRow.run_id == run_id).group_by(JobDocumentRow.state)).all()
        by_state = {state: count for state, count, _p, _i in rows}
        return JobProgress(sum(by_state.values()), by_state, sum(p or 0 for *_x, p, _i in rows),
                           sum(i or 0 for *_x, i in rows))

    def outcomes(self, run_id: int) -> Iterator[dict[str, Any]]:
        """The report rows of a run's finished documents, in the order they were enqueued (streamed)."""
        with Session(self.engine) as session:
            rows = session.scalars(select(JobDocumentRow.outcomes).where(
                JobDocumentRow.run_id == run_id, JobDocumentRow.state == DONE).order_by(JobDocumentRow.id)
                .execution_options(yield_per=500))
            for outcomes in rows:
                yield from outcomes or ()

    def statuses(self, run_id: int) -> Counter:
        """How a run's finished documents ended (archived, needs_review, rejected, skipped)."""
        counts: Counter = Counter()
        for row in self.outcomes(run_id):
            counts[row.get("status", "-")] += 1
        return counts

    def latest_run(self) -> int | None:
        with Session(self.engine) as session:
            return session.scalar(select(func.max(JobDocumentRow.run_id)))

    def sweep(self, older_than: dt.timedelta, lease: dt.timedelta, is_stale: Callable[[str, dt.datetime], bool],
              pages_queue_empty: bool, documents_queue_empty: bool) -> tuple[list[int], list[int]]:
        """What the broker lost, to hand out again, each at most once per ``older_than`` across sweepers:
        (documents whose missing pages to publish again, documents to finish again).

        A document queued and never handed to the broker (its enqueuer died); ready, with the document queue
        empty, yet not taken; held by a dead worker or for longer than ``lease``; reading, with the page queue
        empty, yet missing pages.  Publishing again is safe: every task is idempotent.
        """
        now = utc_now()
        before = now - older_than
        read_again: list[int] = []
        finish_again: list[int] = []
        # Only what may need handing out is read: jobs being read in their thousands while the page queue is
        # busy must not crowd out, in the limit, the document the broker lost.
        actionable = [JobDocumentRow.state == QUEUED, JobDocumentRow.state == DOCUMENTING]
        if pages_queue_empty:
            actionable.append(JobDocumentRow.state == READING)
        if documents_queue_empty:
            actionable.append((JobDocumentRow.state == READY) & (JobDocumentRow.ready_at < before))
        with Session(self.writer) as session, session.begin():
            rows = session.scalars(select(JobDocumentRow).where(
                or_(*actionable),
                (JobDocumentRow.swept_at.is_(None)) | (JobDocumentRow.swept_at < before),
                JobDocumentRow.created_at < before).with_for_update(skip_locked=True).limit(1000)).all()
            for row in rows:
                if row.state == QUEUED or (row.state == READING and pages_queue_empty):
                    read_again.append(row.id)
                elif row.state == READY and documents_queue_empty and _aware(row.ready_at or now) < before:
                    finish_again.append(row.id)
                elif row.state == DOCUMENTING and row.claimed_at is not None and (
                        _aware(row.claimed_at) < now - lease or is_stale(row.claimed_by or "", _aware(row.claimed_at))):
                    row.state, row.claimed_by, row.claimed_at = READY, None, None
                    finish_again.append(row.id)
                else:
                    continue
                row.swept_at = now
        return read_again, finish_again
