"""Runs as they go, kept in the index so that the workspace's progress page (on any machine sharing the
index) shows the batches and backfills running now: done, failed, rate, time left, failures with reasons."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from storage.index import RunRecord
from workflow.contracts import Outcome, Status, printable
from workflow.rooms import Rooms

UPDATE_EVERY_SECONDS = 1.0


class RunTracker:
    """Counts one run's outcomes into its ``runs`` row (at most once a second, and at the end)."""

    def __init__(self, rooms: Rooms, kind: str, label: str, owner: str, total: int):
        self.rooms = rooms
        self.id = rooms.index.runs.start(kind, printable(label)[:500], owner, total)
        self.done = self.failed = self.pages = 0
        self.new_failures: list[dict[str, str]] = []
        self.written = time.monotonic()

    def add(self, outcome: Outcome) -> None:
        self.done += 1
        self.pages += outcome.pages
        if outcome.status == Status.REJECTED:
            self.failed += 1
            self.new_failures.append({"source": outcome.source[-200:], "reason": (outcome.error or "")[:300]})
        if time.monotonic() - self.written >= UPDATE_EVERY_SECONDS:
            self.flush()

    def flush(self) -> None:
        self.rooms.index.runs.progress(self.id, self.done, self.failed, self.pages, self.new_failures)
        self.new_failures, self.written = [], time.monotonic()

    def finish(self) -> None:
        self.flush()
        self.rooms.index.runs.finish(self.id)


@dataclass(frozen=True)
class RunProgress:
    """A run as the progress page shows it."""

    run: RunRecord
    per_minute: float
    eta: dt.timedelta | None

    @property
    def running(self) -> bool:
        return self.run.finished_at is None


STALLED_AFTER = dt.timedelta(minutes=10)  # a run not heard of for this long is shown as stopped


def recent_runs(rooms: Rooms, limit: int = 20) -> list[RunProgress]:
    """Runs going on now first, then the latest finished ones, each with its rate and time left."""
    now = dt.datetime.now(dt.UTC)
    shown = []
    for run in rooms.index.runs.recent(limit):
        end = run.finished_at or (run.updated_at if now - run.updated_at > STALLED_AFTER else now)
        minutes = max((end - run.started_at).total_seconds() / 60, 1 / 60)
        rate = run.done / minutes
        left = max(run.total - run.done, 0)
        eta = dt.timedelta(minutes=left / rate) if rate > 0 and left and run.finished_at is None else None
        shown.append(RunProgress(run, round(rate, 1), eta))
    return shown
