"""Ingest: the batch loop.  Files in, one ``Outcome`` per document out, pages read in parallel processes.

intake → per page in the page workers (clean-up, OCR, page PDF) → understanding (type, fields, level) →
archived (``publish``), kept for a clerk (``review``), or rejected with the reason.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import re
import shutil
import socket
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path

from pytesseract import TesseractError

from codes import parse_dossier_code
from digitize.fields import extract_personal_id, extract_summary, extract_validity
from digitize.intake import RejectedInput, SourceFile, expand_inputs, file_sha256, inspect, text_layer_pages
from digitize.model import CoverSheet, PageText
from digitize.text import mask_personal_ids, nfc
from digitize.understand import apply_cover, apply_given_type, understand
from digitize.workers import PageOutcome, Prefetched, submit_pages
from storage import STORAGE_ERRORS, DocTypeRef, ResultRecord
from storage.layout import TEXT
from workflow.contracts import Outcome, ReviewDecision, SourcePart, Status
from workflow.publish import Reading, assemble_pages, publish
from workflow.registers import register_entries
from workflow.review import apply_decision, keep_for_review, review_record
from workflow.rooms import Rooms
from workflow.workers import start_page_workers

log = logging.getLogger("sohoa.ingest")
MAX_REASON_CHARS = 500


CLAIM_TTL = dt.timedelta(hours=12)  # a claim this old is a run that died on another machine


def run_owner() -> str:
    """Who claims inputs: this machine and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def process_alive(pid: int) -> bool:
    """Whether a process of this machine still runs."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def claim_is_stale(owner: str, since: dt.datetime) -> bool:
    """A claim of a run that no longer runs: a dead process on this machine, or one too old anywhere."""
    host, _, pid = owner.rpartition(":")
    if dt.datetime.now(dt.UTC) - since > CLAIM_TTL:
        return True
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return not process_alive(int(pid))


LEFTOVER = re.compile(r"^(?:doc|signed)-(\d+)-")


def remove_leftovers(tmp_root: Path) -> int:
    """Remove the work files of runs that died (their process is gone); those of running runs stay."""
    removed = 0
    for entry in tmp_root.iterdir() if tmp_root.is_dir() else ():
        match = LEFTOVER.match(entry.name)
        if match and not process_alive(int(match[1])):
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed += 1
    return removed


BLANK_PAGES_TO_STOP = 5  # a file whose first five pages are blank is not read further


def early_verdict(futures: list[Future]) -> Exception | None:
    """Why a file is rejected before all its pages are read, or None: a page that failed (its document is
    rejected whatever the others say), or a start of ``BLANK_PAGES_TO_STOP`` blank pages."""
    for future in futures:
        if future.done() and not future.cancelled() and future.exception() is not None:
            return future.exception()
    first = futures[:BLANK_PAGES_TO_STOP]
    if len(futures) > BLANK_PAGES_TO_STOP and all(f.done() and not f.cancelled() for f in first) \
            and all(not f.result().separator and not f.result().page.text.strip() for f in first):
        return RejectedInput(f"the first {BLANK_PAGES_TO_STOP} pages are blank: not a document (the other "
                             f"{len(futures) - BLANK_PAGES_TO_STOP} pages were not read)")
    return None


def failure_reason(exc: BaseException) -> str:
    """The sentence a rejected document carries: the reason itself, or what failed while handling it."""
    if isinstance(exc, RejectedInput):
        return str(exc)
    detail = " ".join(str(exc).split())[:MAX_REASON_CHARS] or "no detail"
    return f"this file could not be processed ({type(exc).__name__}: {detail}); nothing was archived"


SkipRule = Callable[[Path], "str | None"]  # a reason not to read an input this time, or None


@dataclass(frozen=True)
class DocumentJob:
    """One input to ingest, with what is already decided about it.

    ``recorded_as``: the name the input keeps in the index (a review re-reads its kept original under the
    name it first came in with); ``dossier``: the dossier its results belong to; ``decision``: a clerk's
    answer that replaces what sohoa would propose; ``officer`` and ``type_hint``: who handed it in at the
    counter and the type they said it is (taken unless the page clearly says otherwise).
    """

    path: Path
    recorded_as: SourcePart | None = None
    dossier: str | None = None
    decision: ReviewDecision | None = None
    officer: str | None = None  # who handed it in at the workspace's counter
    type_hint: str | None = None  # the type the officer said it is (a catalogue code)
    procedure_code: str | None = None  # mã TTHC, when the submitter knows it
    holder_id: str | None = None  # the holder's identifier, when the submitter knows it and the page does not say

    def part(self, number: int | None = None) -> SourcePart:
        if number is not None:
            return SourcePart(self.path, number)
        return self.recorded_as or SourcePart(self.path)


@dataclass(frozen=True)
class IngestOptions:
    """How a batch is read.  A dossier code from outside is validated here (raises ``codes.InvalidCode``)."""

    workers: int = 1
    allow_duplicate: bool = False
    dossier: str | None = None
    split_blank: bool = False  # blank pages separate documents too (cover sheets always do)
    officer: str | None = None  # the digitizing officer, who signs each copy top left (Circular 01/2023)

    def __post_init__(self) -> None:
        object.__setattr__(self, "workers", max(1, self.workers))
        if self.dossier:
            object.__setattr__(self, "dossier", str(parse_dossier_code(self.dossier)))


@dataclass
class _Pending:
    job: DocumentJob
    started: float
    source: SourceFile | None = None
    outcomes: list[Outcome] = field(default_factory=list)  # decided before any page work (rejected, duplicate)
    futures: list[Future] = field(default_factory=list)
    work_dir: Path | None = None
    claimed: str | None = None  # the SHA-256 this run claimed in the index, released when the item ends


class Ingest:
    """Reads documents one after another while their pages are OCRed in parallel."""

    def __init__(self, rooms: Rooms, options: IngestOptions | None = None, pool: ProcessPoolExecutor | None = None):
        self.rooms = rooms
        self.options = options or IngestOptions()
        self.pool = pool  # page workers started by the caller (``workflow.workers.start_page_workers``)
        rooms.ocr.check()  # an unknown or missing OCR engine is refused before any work (ValueError)

    def run(self, inputs: Iterable[Path | DocumentJob], *, stop: threading.Event | None = None,
            skip: SkipRule | None = None, prefetched: dict[Path, Prefetched] | None = None) -> Iterator[Outcome]:
        """Yield one ``Outcome`` per document, in input order (a stack split by separator pages gives several).

        ``stop``: once set, the documents in flight are finished and no more are started.  ``skip``: a reason
        not to read an input (reported as skipped).  ``prefetched``: pages of the first inputs already
        submitted to ``self.pool`` (``workflow.workers.prefetch_pages``): each entry is taken out of the dict
        when its input comes up (adopted, or discarded for a duplicate); those never reached are discarded.
        """
        batch = _Batch(self, stop or threading.Event(), skip, prefetched if prefetched is not None else {})
        with contextlib.nullcontext(self.pool) if self.pool else \
                start_page_workers(self.rooms.settings, self.options.workers) as pool:
            yield from batch.run(self._jobs(inputs), pool)

    def _jobs(self, inputs: Iterable[Path | DocumentJob]) -> Iterator[DocumentJob]:
        for item in inputs:
            if isinstance(item, DocumentJob):
                yield item
            else:
                for path in expand_inputs([item]):
                    yield DocumentJob(path, dossier=self.options.dossier, officer=self.options.officer)


def finish_read_pages(ingest: Ingest, job: DocumentJob, source: SourceFile, pages: list[PageOutcome | Exception],
                      work_dir: Path | None, owner: str) -> list[Outcome]:
    """The document stage of a file whose pages were read elsewhere (a distributed backfill's page workers):
    the same claim, duplicate check, understanding, archiving, review or rejection as ``Ingest.run``.

    ``pages``: each page's reading, or the exception that page raised, in page order (none for a born-digital
    PDF, whose text layer is read here); ``work_dir`` (the page PDFs) is removed at the end; ``owner``: the
    name this document's claim is held under, the same for every attempt at it.
    """
    batch = _Batch(ingest, threading.Event(), None, {})
    batch.owner = owner
    item = _Pending(job, time.perf_counter(), work_dir=work_dir)
    decided = batch._admit(item, source.sha256, lambda: source)
    if decided is not None:
        item.outcomes = decided
    for reading in pages:
        future: Future = Future()
        if isinstance(reading, Exception):
            future.set_exception(reading)
        else:
            future.set_result(reading)
        item.futures.append(future)
    return batch._finish(item)


class _Batch:
    """The state of one ``Ingest.run`` call."""

    def __init__(self, ingest: Ingest, stop: threading.Event, skip: SkipRule | None,
                 prefetched: dict[Path, Prefetched]):
        self.rooms, self.options = ingest.rooms, ingest.options
        self.stop, self.skip, self.prefetched = stop, skip, prefetched
        self.tmp_root = self.rooms.settings.data_dir / "tmp"
        self.owner = run_owner()
        self.register = register_entries(self.rooms)  # read once a batch: matched against unsure numbers

    def run(self, jobs: Iterator[DocumentJob], pool: ProcessPoolExecutor) -> Iterator[Outcome]:
        self.tmp_root.mkdir(parents=True, exist_ok=True)
        if remove_leftovers(self.tmp_root):
            log.info("removed the work files of an interrupted run")
        window = 2 * self.options.workers
        pending: deque[_Pending] = deque()
        exhausted = False

        def top_up() -> None:
            """Look ahead by at most `window` pages in flight and 2 × window documents queued."""
            nonlocal exhausted
            in_flight = sum(1 for p in pending for f in p.futures if not f.done())
            while not exhausted and in_flight < window and len(pending) < 2 * window and not self.stop.is_set():
                job = next(jobs, None)
                if job is None:
                    exhausted = True
                    break
                item = self._prepare(job, pool)
                pending.append(item)
                in_flight += len(item.futures)

        try:
            while True:
                top_up()
                if not pending:
                    return
                # Documents finish in input order, but the workers are fed as soon as any page is done: a
                # long page at the head of the queue must not leave the other workers without pages.
                head = pending[0]
                while not self.stop.is_set() and not all(f.done() for f in head.futures):
                    if early_verdict(head.futures) is not None:
                        for future in head.futures:  # decided: the pages not started yet are not read
                            future.cancel()
                        break
                    wait([f for p in pending for f in p.futures if not f.done()], return_when=FIRST_COMPLETED)
                    top_up()
                item = pending.popleft()
                if self.stop.is_set() and not any(f.running() or f.done() for f in item.futures):
                    self._discard(item)  # not started: a rerun will do it
                    continue
                yield from self._finish(item)
        finally:
            for item in pending:
                self._discard(item)
            for early in self.prefetched.values():  # pages submitted early for inputs never reached
                early.discard()
            self.prefetched.clear()

    def _prepare(self, job: DocumentJob, pool: ProcessPoolExecutor) -> _Pending:
        item = _Pending(job, time.perf_counter())
        path = job.path
        early = self.prefetched.pop(path, None)
        reason = self.skip(path) if self.skip else None
        if reason:
            if early:
                early.discard()
            item.outcomes = [Outcome(job.part(), Status.SKIPPED, error=reason)]
            return item
        try:
            sha = early.source.sha256 if early else file_sha256(path) if path.is_file() else None
            decided = self._admit(item, sha, lambda: early.source if early else inspect(path, sha))
        except STORAGE_ERRORS:
            raise  # the archive or the index failed, not this document: the run stops, a rerun resumes
        if decided is not None:
            if early:
                early.discard()  # OCRed before the index was open: the work is dropped, not archived
            item.outcomes = decided
            return item
        if early:
            item.work_dir, item.futures = early.work_dir, early.futures
            return item
        if item.source.kind == "pdf" and item.source.text_layer:
            return item  # born-digital: read in _finish, no OCR
        item.work_dir = Path(tempfile.mkdtemp(prefix=f"doc-{os.getpid()}-", dir=self.tmp_root))
        item.futures = submit_pages(pool, item.source, item.work_dir, self.options.split_blank, self.rooms.ocr)
        return item

    def _admit(self, item: _Pending, sha: str | None, load: Callable[[], SourceFile]) -> list[Outcome] | None:
        """Claim the input for this run, check it is not archived yet, inspect it (``load``): the outcomes that
        end it here (skipped, already archived, rejected), or None when its pages are to be read."""
        job = item.job
        try:
            if sha:
                # Another run working on the same content (a second `process`, a watch beside a backfill)
                # would archive it a second time: one run holds each input at a time.
                holder = self.rooms.index.inputs.claim(sha, self.owner, claim_is_stale)
                if holder is not None:
                    return [Outcome(job.part(), Status.SKIPPED, source_sha256=sha,
                                    error=f"being processed by another run ({holder}): not read twice")]
                item.claimed = sha
            if sha and not self.options.allow_duplicate:
                existing = self.rooms.index.results.for_source(sha)
                if existing:
                    return self._already_archived(job.path, existing)
            item.source = load()
            self._check_active_content(item.source)
        except STORAGE_ERRORS:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever this one file does, the batch goes on
            return [Outcome(job.part(), Status.REJECTED, error=failure_reason(exc))]
        return None

    def _check_active_content(self, source: SourceFile) -> None:
        if source.active_content and self.rooms.settings.active_content == "reject":
            raise RejectedInput("the PDF carries active content: " + "; ".join(source.active_content)
                                + ": ask the issuer for a plain copy (SOHOA_ACTIVE_CONTENT=flag archives such "
                                "files with what was found listed)")

    def _discard(self, item: _Pending) -> None:
        for future in item.futures:
            future.cancel()
        if item.work_dir:
            shutil.rmtree(item.work_dir, ignore_errors=True)
        if item.claimed:
            self.rooms.index.inputs.release(item.claimed, self.owner)
            item.claimed = None

    def _already_archived(self, path: Path, existing: list[ResultRecord]) -> list[Outcome]:
        store, index = self.rooms.store, self.rooms.index
        outcomes = []
        metas = {r.code: store.metadata(r.code, r.version) for r in existing}
        existing = sorted(existing, key=lambda r: (metas[r.code].source_pages or [0])[0])  # order in the stack
        for number, record in enumerate(existing, start=1):
            meta = metas[record.code]
            text = store.read(record.code, record.version, TEXT).decode()
            first = SourcePart.parse(index.inputs.source_for_code(record.code) or str(path))
            part = SourcePart(path) if len(existing) == 1 and first.part is None else \
                SourcePart(path, first.part or number)
            index.inputs.record(str(part), record.source_sha256, Status.ARCHIVED, code=record.code,
                                doc_type=record.doc_type)
            outcomes.append(Outcome(
                part, Status.ARCHIVED, code=record.code, doc_type=meta.doc_type, fields=dict(meta.fields),
                level=record.level, pages=record.pages, text=text, sha256=record.sha256,
                archive_key=record.archive_key, source_sha256=record.source_sha256,
                dossier_code=record.dossier_code, result_alias=record.result_alias,
                evidence=[f"already archived as {record.code}: not archived twice"],
            ))
        return outcomes

    def _rejected(self, part: SourcePart, item: _Pending, error: str) -> Outcome:
        path = item.job.path
        sha = item.source.sha256 if item.source else (file_sha256(path) if path.is_file() else "-")
        self.rooms.index.inputs.record(str(part), sha, Status.REJECTED, error=error)
        return Outcome(part, Status.REJECTED, error=error, source_sha256=sha)

    def _finish(self, item: _Pending) -> list[Outcome]:
        try:
            if item.outcomes:
                outcomes = item.outcomes
                if outcomes[0].status == Status.REJECTED:
                    outcomes = [self._rejected(outcomes[0].part, item, outcomes[0].error or "")]
            else:
                outcomes = self._documents(item)
        except STORAGE_ERRORS:
            raise  # the archive or the index failed, not this document: the run stops, a rerun resumes
        except TesseractError as exc:
            outcomes = [self._rejected(SourcePart(item.job.path), item, f"OCR failed on this file: {exc.message}")]
        except Exception as exc:  # noqa: BLE001 - whatever this one file does, the batch goes on
            outcomes = [self._rejected(item.job.part(), item, failure_reason(exc))]
        finally:
            self._discard(item)
        for outcome in outcomes:
            outcome.seconds = round((time.perf_counter() - item.started) / len(outcomes), 3)
            log.info("%s %s %s", outcome.status, outcome.code or "-", mask_personal_ids(outcome.error or ""))
        return outcomes

    def _documents(self, item: _Pending) -> list[Outcome]:
        """The documents of one input: the whole file, or the parts between separator pages."""
        if not item.futures:  # born-digital PDF: one document, no OCR
            return [self._document(item, item.job.part(), [], text_layer_pages(item.source.path), None)]
        verdict = early_verdict(item.futures)
        if verdict is not None:
            raise verdict
        results: list[PageOutcome] = [f.result() for f in item.futures]
        groups: list[tuple[CoverSheet | None, list[PageOutcome]]] = [(None, [])]
        for result in results:
            if result.cover is not None:
                groups.append((result.cover, []))
            elif result.blank_separator:  # the next result of the same dossier: dossier kept, type not
                current = groups[-1][0]
                groups.append((CoverSheet(current.dossier_code) if current else None, []))
            else:
                groups[-1][1].append(result)
        groups = [(cover, pages) for cover, pages in groups if pages]
        if not groups:
            raise RejectedInput("only separator pages (cover sheets or blank pages): no document to archive")
        split = len(results) != sum(len(pages) for _cover, pages in groups)
        outcomes = []
        for number, (cover, group) in enumerate(groups, start=1):
            part = item.job.part(number if split else None)
            try:
                outcomes.append(self._document(item, part, group, [r.page for r in group], cover, split=split))
            except STORAGE_ERRORS:
                raise
            except Exception as exc:  # noqa: BLE001 - one part of a stack does not end the others
                outcomes.append(self._rejected(part, item, failure_reason(exc)))
        return outcomes

    def _document(self, item: _Pending, part: SourcePart, results: list[PageOutcome], pages: list[PageText],
                  cover: CoverSheet | None, split: bool = False) -> Outcome:
        """Understand one document, then archive it, keep it for review, or reject it."""
        rooms, source, decision = self.rooms, item.source, item.job.decision
        text = nfc("\n\n".join(p.text for p in pages))
        if not text.strip():
            raise RejectedInput("no readable text: the page is blank or not a document")
        understanding = understand(pages, rooms.catalogue, rooms.text_model, rooms.agencies,
                                   rooms.settings.review_threshold, self.register)
        if decision is not None:
            understanding = apply_decision(understanding, decision, rooms.catalogue, rooms.agencies)
        if cover is not None:
            understanding = apply_cover(understanding, cover, rooms.catalogue)
        elif item.job.type_hint and decision is None:
            understanding = apply_given_type(understanding, item.job.type_hint, rooms.catalogue, "the counter")
        paper_type = rooms.catalogue.get(understanding.classification.type_code) \
            if understanding.classification.type_code else None
        if rooms.settings.require_paper_type_code and paper_type is not None and not paper_type.national_code \
                and decision is None:  # a clerk who accepts it decides without the code
            understanding = replace(understanding, review_reasons=(*understanding.review_reasons, (
                f"paper-type code of the National Database unknown for {paper_type.name}: add its national_code "
                "to the catalogue (SOHOA_REQUIRE_PAPER_TYPE_CODE)")))
        dossier = cover.dossier_code if cover else item.job.dossier
        cls = understanding.classification
        valid_until, validity_scope = extract_validity(pages, understanding.issued_on.value)
        fields = {**understanding.fields_dict(), "holder_id": extract_personal_id(pages).value,
                  "issuer_agency": understanding.issuer_agency, "summary": extract_summary(pages).value,
                  "valid_until": valid_until.value, "validity_scope": validity_scope.value}
        if decision is not None and decision.fields.get("holder_id"):
            fields["holder_id"] = decision.fields["holder_id"]
        elif not fields["holder_id"] and item.job.holder_id:
            fields["holder_id"] = item.job.holder_id  # as the submitting system gave it
        outcome = Outcome(
            part, Status.ARCHIVED, pages=len(pages), text=text, source_sha256=source.sha256,
            doc_type=DocTypeRef(cls.type_code, cls.type_name, cls.confidence),
            fields=fields, confidence=understanding.confidences(), review_decision=decision is not None,
            level=understanding.level,
            evidence=list(cls.evidence), review_reasons=list(understanding.review_reasons), dossier_code=dossier,
        )
        doc_type = rooms.catalogue.get(cls.type_code) if cls.type_code else None
        pdf: Path | None = None
        # A document that goes to review unsplit is kept as its original file: joining its pages would be wasted.
        if results and not source.signed and (split or not understanding.review_reasons):
            pdf = assemble_pages(rooms, [r.pdf_path for r in results],
                                 item.work_dir / f"document-{part.part if split else 1}.pdf", doc_type)
        if understanding.review_reasons:
            outcome.status = Status.NEEDS_REVIEW
            # A part of a split stack keeps its own pages (searchable PDF) as the original to review; the
            # page images and word boxes are kept too, so that the review page needs no OCR again.
            views = [(r.pdf_path, 0) for r in results] if results else \
                [(source.path, p.index) for p in pages]
            keep_for_review(rooms, source, outcome, pdf if split else None, pages, views,
                            officer=item.job.officer, procedure_code=item.job.procedure_code)
            return outcome
        assert doc_type is not None and outcome.doc_type is not None
        reading = Reading(source, outcome.doc_type, outcome.fields, outcome.level, outcome.pages, text,
                          outcome.evidence, ocr_used=bool(results), dossier=dossier,
                          source_pages=[r.page.index + 1 for r in results] if split else None,
                          officer=item.job.officer or (decision.officer if decision else None),
                          procedure_code=item.job.procedure_code,
                          review=review_record(decision) if decision else None)
        # Born-digital or already signed: the issuer's bytes are kept and signed incrementally.
        published = publish(rooms, reading, doc_type, pdf or source.path)
        rooms.index.inputs.record(str(part), source.sha256, Status.ARCHIVED, code=published.code,
                                  doc_type=doc_type.code)
        outcome.code, outcome.sha256 = published.code, published.record.sha256
        outcome.archive_key, outcome.result_alias = published.record.archive_key, published.result_alias
        outcome.minimum_data = published.minimum_data
        return outcome
