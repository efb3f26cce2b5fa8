"""The counter: files a clerk hands in through the workspace are kept, queued in the index, and digitized
by the counter worker; each file's progress lives in the index, so a reload or a second tab never loses it."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import secrets
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from codes import InvalidCode, parse_dossier_code
from digitize.intake import MAX_FILE_BYTES
from storage.index import UploadRecord
from workflow.contracts import Outcome, Refusal, Status, printable
from workflow.ingest import DocumentJob, Ingest, IngestOptions, run_owner
from workflow.progress import RunTracker
from workflow.rooms import Rooms
from workflow.workers import start_page_workers

log = logging.getLogger("sohoa.counter")
MAX_FILES_PER_UPLOAD = 200
CHUNK = 1 << 20


class CounterError(Refusal):
    """An upload is refused as a whole; ``vi`` says why in Vietnamese."""


@dataclass(frozen=True)
class HandedIn:
    """One file as the browser sent it."""

    name: str
    stream: BinaryIO


def _safe_name(name: str) -> str:
    """A file name fit to store: its last part, NFC, letters, digits and . _ - only, at most 100 characters."""
    base = unicodedata.normalize("NFC", printable(name)).replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = re.sub(r"[^\w.\-]+", "_", base).strip("._") or "scan"
    return cleaned[-100:]


def check_upload_options(rooms: Rooms, dossier: str | None, type_hint: str | None) -> tuple[str | None, str | None]:
    """The dossier code and type hint, validated (``CounterError`` with the reason)."""
    dossier = (dossier or "").strip() or None
    type_hint = (type_hint or "").strip() or None
    if dossier:
        try:
            dossier = str(parse_dossier_code(dossier))
        except InvalidCode as exc:
            raise CounterError(f"the dossier code is not valid: {exc}",
                               "mã hồ sơ không hợp lệ (dạng 000.00.00.H26-261124-0042)") from None
    if type_hint and rooms.catalogue.get(type_hint) is None:
        raise CounterError(f"{type_hint} is not a type of the catalogue", "loại giấy tờ không có trong danh mục")
    return dossier, type_hint


PROCEDURE_CODE_RE = re.compile(r"\d\.\d{6}(?:\.[0-9A-Z.]{1,30})?")  # 1.011442, or 1.011442.000.00.00.H38
HOLDER_ID_RE = re.compile(r"\d{9}|\d{10}|\d{12}|\d{13}|\d{10}-\d{3}")  # ID card, citizen ID, tax/enterprise


def hand_in(rooms: Rooms, officer: str, files: Iterable[HandedIn], dossier: str | None = None,
            type_hint: str | None = None, procedure_code: str | None = None, holder_id: str | None = None,
            idempotency_key: str | None = None) -> str:
    """Keep the files (streamed to disk, hashed on the way) and queue them; returns the batch id.

    ``officer``: who hands them in (a user, or ``api:CLIENT`` for a submitting system); ``procedure_code``
    and ``holder_id``: what the submitter knows of them; ``idempotency_key``: a repeated request with the
    same key returns the first batch, nothing is queued twice."""
    if idempotency_key:
        earlier = rooms.index.uploads.batch_for_key(officer, idempotency_key)
        if earlier:
            return earlier
    dossier, type_hint = check_upload_options(rooms, dossier, type_hint)
    procedure_code = (procedure_code or "").strip() or None
    holder_id = (holder_id or "").strip() or None
    if procedure_code and not PROCEDURE_CODE_RE.fullmatch(procedure_code):
        raise CounterError(f"{procedure_code!r} is not a procedure code (e.g. 1.011442)",
                           "mã thủ tục hành chính không hợp lệ (ví dụ 1.011442)")
    if holder_id and not HOLDER_ID_RE.fullmatch(holder_id):
        raise CounterError("the holder identifier is an ID number (9 or 12 digits), a tax code or an enterprise code",
                           "số định danh, mã số thuế hoặc mã số doanh nghiệp không hợp lệ")
    files = list(files)
    if not files:
        raise CounterError("no file was sent", "chưa chọn tệp nào")
    if len(files) > MAX_FILES_PER_UPLOAD:
        raise CounterError(f"at most {MAX_FILES_PER_UPLOAD} files at a time",
                           f"mỗi lần gửi tối đa {MAX_FILES_PER_UPLOAD} tệp")
    batch = secrets.token_hex(8)
    folder = rooms.settings.data_dir / "counter" / batch
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for number, handed in enumerate(files, start=1):
        target = folder / f"{number:03d}-{_safe_name(handed.name)}"
        partial = target.with_name(target.name + ".part")
        digest, size = hashlib.sha256(), 0
        with partial.open("wb") as out:
            while chunk := handed.stream.read(CHUNK):
                size += len(chunk)
                if size > MAX_FILE_BYTES:
                    out.close()
                    partial.unlink()
                    raise CounterError(f"{handed.name} is larger than {MAX_FILE_BYTES >> 20} MiB",
                                       f"tệp {printable(handed.name)} lớn hơn {MAX_FILE_BYTES >> 20} MiB")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
        rooms.index.uploads.add(batch, officer, printable(handed.name)[:300], str(target), digest.hexdigest(),
                                dossier, type_hint, procedure_code, holder_id, idempotency_key)
    return batch


def batch_status(rooms: Rooms, officer: str, batch: str) -> list[UploadRecord] | None:
    """The files of one batch handed in by ``officer`` (None: no such batch of theirs)."""
    rows = rooms.index.uploads.batch(batch) if re.fullmatch(r"[0-9a-f]{16}", batch) else []
    return rows if rows and all(r.officer == officer for r in rows) else None


def recent_uploads(rooms: Rooms, officer: str | None, limit: int = 50) -> list[UploadRecord]:
    """The newest uploads of ``officer`` (None: everyone's), newest first."""
    return rooms.index.uploads.recent(officer, limit)


def queue_counts(rooms: Rooms) -> dict[str, int]:
    """How many uploads are in each state (queued, processing, archived…)."""
    return rooms.index.uploads.counts()


def upload_status(outcomes: list[Outcome]) -> str:
    """One file's status from its documents': waiting for review wins, then rejected, else archived."""
    statuses = {o.status for o in outcomes}
    for status in (Status.NEEDS_REVIEW, Status.REJECTED, Status.ARCHIVED):
        if status in statuses:
            return str(status)
    return "queued"


def _result_line(rooms: Rooms, outcome: Outcome) -> dict:
    line = {"source": outcome.source, "status": str(outcome.status), "code": outcome.code,
            "doc_type": outcome.doc_type_code, "doc_type_name": outcome.doc_type.name if outcome.doc_type else None,
            "reason": outcome.reason or None, "result_alias": outcome.result_alias, "review_id": None}
    if outcome.status == Status.NEEDS_REVIEW and outcome.source_sha256:
        found = rooms.index.inputs.find(outcome.source, outcome.source_sha256)
        line["review_id"] = found.id if found else None
    return line


def process_queued(rooms: Rooms, ingest: Ingest, stop: threading.Event | None = None, limit: int = 16) -> int:
    """Digitize the queued uploads (up to ``limit`` files); returns how many were finished (a file another
    run is reading goes back to the queue)."""
    taken = rooms.index.uploads.take(limit)
    if not taken:
        return 0
    by_path: dict[Path, UploadRecord] = {Path(u.stored_path): u for u in taken}
    outcomes: dict[int, list[Outcome]] = {u.id: [] for u in taken}
    jobs = [DocumentJob(Path(u.stored_path), dossier=u.dossier_code, officer=u.officer, type_hint=u.type_hint,
                        procedure_code=u.procedure_code, holder_id=u.holder_id) for u in taken]
    tracker = RunTracker(rooms, "counter", f"{len(taken)} tệp tại quầy", run_owner(), len(taken))
    finished = 0
    try:
        for outcome in ingest.run(jobs, stop=stop):
            upload = by_path.get(outcome.part.path)
            if upload is not None:
                outcomes[upload.id].append(outcome)
            tracker.add(outcome)
    finally:
        tracker.finish()
        for upload in taken:
            done = [o for o in outcomes[upload.id] if o.status != Status.SKIPPED]
            status = upload_status(done)
            rooms.index.uploads.finish(upload.id, status, [_result_line(rooms, o) for o in done])
            finished += status != "queued"
            if status in {Status.ARCHIVED, Status.NEEDS_REVIEW}:
                # Kept by the archive or the review queue now: the counter's copy of personal data goes.
                Path(upload.stored_path).unlink(missing_ok=True)
                _remove_if_empty(Path(upload.stored_path).parent)
    return finished


class CounterWorker(threading.Thread):
    """Digitizes what the counter queues, in the serving process, until ``stop`` is set."""

    def __init__(self, rooms: Rooms, workers: int, interval: float = 0.5):
        super().__init__(name="sohoa-counter", daemon=True)
        self.rooms, self.workers, self.interval = rooms, workers, interval
        self.stop_event = threading.Event()

    def run(self) -> None:
        requeued = self.rooms.index.uploads.requeue_processing()
        if requeued:
            log.info("%d uploads taken up again after a stop", requeued)
        # One set of page workers for the life of the server: a clerk's scan does not wait for them to start.
        with start_page_workers(self.rooms.settings, self.workers) as pool:
            ingest = Ingest(self.rooms, IngestOptions(self.workers), pool)
            while not self.stop_event.is_set():
                try:
                    # Only finished work loops at once: a file another run holds is looked at again later.
                    if process_queued(self.rooms, ingest, self.stop_event):
                        continue
                except Exception:  # noqa: BLE001 - the index or the archive failed: try again later, never exit
                    log.exception("the counter worker failed; trying again")
                    self.stop_event.wait(10)
                self.stop_event.wait(self.interval)

    def stop(self) -> None:
        self.stop_event.set()


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not empty (a rejected file stays), or already gone
        folder.rmdir()
