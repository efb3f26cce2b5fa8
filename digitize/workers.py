"""The page-worker pool and its jobs, kept light so that they can start before the pipeline is imported.

Worker processes import the clean-up and OCR code as they start.  ``sohoa process`` starts them first
and hands them the first pages (``prefetch``) before it imports the pipeline and opens the archive, the
index and the keys: on a small counter batch those seconds would otherwise come before the first page.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from digitize.intake import RejectedInput, SourceFile, expand_inputs, inspect
from digitize.model import CoverSheet, PageText
from digitize.ocr import DEFAULT_OCR, OcrConfig

PAGES_PER_WORKER = 50  # workers are replaced after 50 pages, which bounds the memory any leak could take


def init_worker(parent_pid: int | None = None) -> None:
    """Process-pool initializer: OpenCV single-threaded, one page per process; ends with its parent.

    Pages are spread over processes, one per core: threads inside a worker would only compete with the
    other workers (OpenCV otherwise starts a thread per core in every worker).  Tesseract's and OpenBLAS's
    threads are limited by the environment the workers inherit (``workflow.settings``).
    """
    if parent_pid is not None:
        _end_with_parent(parent_pid)
    import cv2

    import digitize.pages  # noqa: F401  (imported now, while the main process is still starting)

    cv2.setNumThreads(1)


def _end_with_parent(parent_pid: int) -> None:
    """Ask Linux to stop this worker when the process that started it dies (e.g. a run killed with SIGKILL),
    instead of leaving an orphan waiting on a queue nobody reads."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os._exit(1)


class _RecyclingPool(ProcessPoolExecutor):
    """A process pool that always replaces a worker that left at its page limit.

    Python 3.11 to 3.13 (before their fixes of CPython gh-115634) may not replace it: the manager thread
    takes a token of the idle-worker semaphore left by a finished task as proof that an idle worker exists,
    even after that worker exited at ``max_tasks_per_child``.  With pages queued and no worker left, the
    run waits forever; with two workers it goes on at half speed.  Fixed Pythons no longer call this
    method from the manager thread, so the override then changes nothing.
    """

    def _adjust_process_count(self) -> None:
        if threading.current_thread() is getattr(self, "_executor_manager_thread", None):  # a worker exited
            if len(self._processes) < self._max_workers:
                self._spawn_process()
            return
        super()._adjust_process_count()


def start_pool(workers: int, pages_per_worker: int = PAGES_PER_WORKER) -> ProcessPoolExecutor:
    """A pool of ``workers`` page workers, all started now rather than at the first page.

    Each worker is replaced after ``pages_per_worker`` pages.  The workers inherit this process's
    environment: start them through ``workflow.workers.start_page_workers``, which makes them single-threaded.
    """
    pool = _RecyclingPool(max(1, workers), initializer=init_worker, initargs=(os.getpid(),),
                          max_tasks_per_child=pages_per_worker)
    for _ in range(max(1, workers)):
        pool.submit(os.getpid)  # each submission with no idle worker starts one
    return pool


@dataclass(frozen=True)
class PageJob:
    path: Path
    kind: str
    index: int
    work_dir: Path
    split_blank: bool = False  # blank pages separate documents (and are not archived)
    text_layer: bool = False  # a PDF page with real text: read it, do not OCR it
    ocr: OcrConfig = DEFAULT_OCR  # the page worker's whole configuration travels with the job


@dataclass(frozen=True)
class PageOutcome:
    page: PageText
    pdf_path: Path | None  # None for separator pages (cover sheets, blank separators)
    seconds: float
    cover: CoverSheet | None = None
    blank_separator: bool = False

    @property
    def separator(self) -> bool:
        return self.cover is not None or self.blank_separator


def page_outcome_to_dict(outcome: PageOutcome, pdf_key: str | None) -> dict:
    """A page's reading as plain JSON (for the index of a distributed backfill; never pickled, since workers
    trust nothing they read back); ``pdf_key`` names where the page PDF was handed on."""
    page = outcome.page
    return {
        "index": page.index, "width": page.width, "height": page.height, "source": page.source,
        "skew_degrees": page.skew_degrees,
        "segments": [[[w.text, w.conf, w.x, w.y, w.w, w.h] for w in seg.words] for seg in page.segments],
        "rereads": [[r.field, r.text, r.confidence, list(r.box), r.source, r.unsure] for r in page.rereads],
        "pdf_key": pdf_key, "seconds": outcome.seconds,
        "cover": [outcome.cover.dossier_code, outcome.cover.doc_type] if outcome.cover else None,
        "blank_separator": outcome.blank_separator,
    }


def page_outcome_from_dict(data: dict, pdf_path: Path | None) -> PageOutcome:
    """The page reading ``page_outcome_to_dict`` wrote, its PDF fetched to ``pdf_path``."""
    from digitize.model import Reread, Segment, Word

    segments = tuple(Segment(tuple(Word(str(t), float(c), int(x), int(y), int(w), int(h))
                                   for t, c, x, y, w, h in seg)) for seg in data["segments"])
    rereads = tuple(Reread(f, t, float(c), tuple(int(v) for v in box), s, bool(u))
                    for f, t, c, box, s, u in data["rereads"])
    page = PageText(int(data["index"]), int(data["width"]), int(data["height"]), segments, data["source"],
                    float(data["skew_degrees"]), rereads)
    cover = CoverSheet(*data["cover"]) if data["cover"] else None
    return PageOutcome(page, pdf_path, float(data["seconds"]), cover, bool(data["blank_separator"]))


def run_page_job(job: PageJob) -> PageOutcome:
    """Worker side of a job (``digitize.pages.run_page``); referenced from here so that the process that
    submits jobs does not have to import the clean-up and OCR code."""
    from digitize.pages import run_page

    return run_page(job)


def submit_pages(pool: ProcessPoolExecutor, source: SourceFile, work_dir: Path, split_blank: bool = False,
                 ocr: OcrConfig = DEFAULT_OCR) -> list[Future]:
    """One job per page of ``source``; each writes its searchable page PDF into ``work_dir``."""
    # A signed PDF is one document kept byte for byte: its pages are OCRed for text only, never split.
    split_blank = split_blank and not source.signed
    # A mixed PDF is decided page by page: real text is read, scanned pages are OCRed.
    text_pages = source.text_pages or (False,) * source.page_count
    return [pool.submit(run_page_job, PageJob(source.path, source.kind, i, work_dir, split_blank,
                                              text_layer=text_pages[i] and not source.signed, ocr=ocr))
            for i in range(source.page_count)]


@dataclass
class Prefetched:
    """Pages of an input submitted before the pipeline could check it; the pipeline adopts or discards them."""

    source: SourceFile
    work_dir: Path
    futures: list[Future]

    def discard(self) -> None:
        """Cancel the pages not started yet and remove the work folder."""
        for future in self.futures:
            future.cancel()
        shutil.rmtree(self.work_dir, ignore_errors=True)


def prefetch(paths: Iterable[Path], pool: ProcessPoolExecutor, tmp_root: Path, max_pages: int,
             split_blank: bool = False, ocr: OcrConfig = DEFAULT_OCR) -> dict[Path, Prefetched]:
    """Submit the pages of the first inputs (up to about ``max_pages``) to the workers right away.

    Only inspection happens here; whether an input is a duplicate is checked once the index is open, and
    a duplicate's pages are then discarded (at most ``max_pages`` pages of work lost, never a second
    record).  Inputs that fail inspection, and born-digital PDFs (not OCRed), are left to the pipeline.
    """
    prefetched: dict[Path, Prefetched] = {}
    pages = 0
    for path in expand_inputs(paths):
        if pages >= max_pages:
            break
        if path in prefetched:
            continue
        try:
            source = inspect(path)
        except (RejectedInput, OSError):
            continue
        if source.kind == "pdf" and source.text_layer:
            continue
        tmp_root.mkdir(parents=True, exist_ok=True)
        work_dir = Path(tempfile.mkdtemp(prefix=f"doc-{os.getpid()}-", dir=tmp_root))  # pid: leftovers found
        prefetched[path] = Prefetched(source, work_dir, submit_pages(pool, source, work_dir, split_blank, ocr))
        pages += source.page_count
    return prefetched
