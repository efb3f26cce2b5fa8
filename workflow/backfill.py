"""Archive backfills: walk a tree of old scans, process them in parallel, resumable at any moment.

A rerun skips inputs already archived (by path, then by SHA-256 in the pipeline), those waiting for
review, and those that failed (unless ``retry_failed``).  Before work starts, what an interrupted run
left in the archive is finished (``storage.recover``), so a run killed even with SIGKILL never archives a
file twice.  The report is written line by line (CSV and JSON lines), so a killed run keeps its report.
"""

from __future__ import annotations

import csv
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from digitize.intake import expand_inputs
from storage import recover
from workflow.contracts import Outcome, SourcePart, Status
from workflow.ingest import Ingest, run_owner
from workflow.progress import RunTracker
from workflow.rooms import Rooms

REPORT_COLUMNS = ("source", "code", "doc_type", "status", "reason", "pages", "seconds")


@dataclass
class BackfillSummary:
    files: int = 0
    pages: int = 0
    seconds: float = 0.0
    stopped: bool = False
    recovered: int = 0
    by_status: Counter = field(default_factory=Counter)
    by_type: Counter = field(default_factory=Counter)
    by_level: Counter = field(default_factory=Counter)

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict:
        return {"files": self.files, "pages": self.pages, "seconds": round(self.seconds, 1),
                "pages_per_second": round(self.pages_per_second, 2), "stopped": self.stopped,
                "recovered": self.recovered, "by_status": dict(self.by_status), "by_type": dict(self.by_type),
                "by_level": dict(self.by_level)}


def report_row(outcome: Outcome) -> dict:
    """One line of a backfill report (``REPORT_COLUMNS``)."""
    return {"source": outcome.source, "code": outcome.code, "doc_type": outcome.doc_type_code,
            "status": str(outcome.status), "reason": outcome.reason or None, "pages": outcome.pages,
            "seconds": outcome.seconds}


class ReportWriter:
    """CSV and JSON-lines report, flushed after every document."""

    def __init__(self, path: Path | None):
        self.csv_file = self.jsonl_file = None
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        csv_path = path if path.suffix == ".csv" else path.with_suffix(".csv")
        new = not csv_path.exists()
        self.csv_file = csv_path.open("a", newline="", encoding="utf-8")
        self.csv = csv.writer(self.csv_file)
        if new:
            self.csv.writerow(REPORT_COLUMNS)
        self.jsonl_file = csv_path.with_suffix(".jsonl").open("a", encoding="utf-8")

    def write(self, outcome: Outcome) -> None:
        self.write_row(report_row(outcome))

    def write_row(self, row: dict) -> None:
        """One line of the report: ``row`` has the ``REPORT_COLUMNS``."""
        if self.csv_file is None:
            return
        self.csv.writerow([row[c] if row[c] is not None else "" for c in REPORT_COLUMNS])
        self.jsonl_file.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.csv_file.flush()
        self.jsonl_file.flush()

    def close(self, summary: BackfillSummary | dict) -> None:
        if self.jsonl_file is not None:
            facts = summary if isinstance(summary, dict) else summary.to_dict()
            self.jsonl_file.write(json.dumps({"summary": facts}, ensure_ascii=False) + "\n")
            self.csv_file.close()
            self.jsonl_file.close()


def write_report(path: Path, rows: Iterable[dict], summary: dict) -> None:
    """A whole report at once (a distributed run's, from the index): the rows, then the summary; an earlier
    report of the same name is replaced."""
    csv_path = path if path.suffix == ".csv" else path.with_suffix(".csv")
    csv_path.unlink(missing_ok=True)
    csv_path.with_suffix(".jsonl").unlink(missing_ok=True)
    writer = ReportWriter(path)
    for row in rows:
        writer.write_row(row)
    writer.close(summary)


def backfill(ingest: Ingest, root: Path, report: Path | None = None, retry_failed: bool = False,
             on_start: Callable[[int], None] | None = None, on_outcome: Callable[[Outcome], None] | None = None,
             stop: threading.Event | None = None) -> BackfillSummary:
    """Process every supported file under ``root``; see the module docstring for the guarantees.

    ``stop``: once set, the documents in flight are finished and the run ends (a rerun continues).
    """
    rooms: Rooms = ingest.rooms
    stop = stop or threading.Event()
    summary = BackfillSummary()
    summary.recovered = len(recover(rooms.store, agent="sohoa backfill recovery"))
    files = list(expand_inputs([root]))
    if on_start:
        on_start(len(files))
    statuses = rooms.index.inputs.statuses()
    skip_statuses = {Status.ARCHIVED: "already archived", Status.NEEDS_REVIEW: "waiting for review"}
    if not retry_failed:
        skip_statuses[Status.REJECTED] = "failed before (rerun with --retry-failed)"

    def skip(path: Path) -> str | None:
        return skip_statuses.get(statuses.get(str(SourcePart(path)), ""))

    writer = ReportWriter(report)
    started = time.perf_counter()
    tracker = RunTracker(rooms, "backfill", str(root), run_owner(), len(files))
    try:
        for outcome in ingest.run(files, stop=stop, skip=skip):
            summary.files += 1
            summary.by_status[str(outcome.status)] += 1
            if outcome.status != Status.SKIPPED:
                summary.pages += outcome.pages
                summary.by_type[outcome.doc_type_code or "-"] += 1
                summary.by_level[outcome.level or "-"] += 1
            writer.write(outcome)
            tracker.add(outcome)
            if on_outcome:
                on_outcome(outcome)
    finally:
        summary.seconds = time.perf_counter() - started
        summary.stopped = stop.is_set()
        writer.close(summary)
        tracker.finish()
    return summary
