"""Page workers as configured: light enough for `sohoa process` to start them before the rest is imported."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from digitize.ocr import OcrConfig
from digitize.workers import Prefetched, prefetch, start_pool
from workflow.settings import Settings, prepare_worker_environment

__all__ = ["Prefetched", "ocr_config", "prefetch_pages", "start_page_workers"]


def ocr_config(settings: Settings) -> OcrConfig:
    """What a page worker needs to know of the settings; it travels in every page job."""
    return OcrConfig(lang=settings.ocr_lang, engine=settings.ocr_engine, page_timeout=settings.page_timeout,
                     tessdata_dir=settings.tessdata_dir, field_labels=field_labels(settings.catalogue),
                     second_reader=settings.second_reader)


@functools.cache
def field_labels(catalogue_path: Path | None) -> tuple[tuple[str, str], ...]:
    """The labels after which the catalogue's types print their number and holder, for second readings."""
    from codes import load_catalogue
    from digitize.fields import GENERIC_HOLDER_LABELS

    catalogue = load_catalogue(catalogue_path)
    labels = [("number", label) for t in catalogue for label in t.number_labels]
    labels += [("holder", label) for t in catalogue for label in t.holder_labels]
    labels += [("holder", label) for label in GENERIC_HOLDER_LABELS]
    return tuple(dict.fromkeys(labels))


def start_page_workers(settings: Settings, workers: int) -> ProcessPoolExecutor:
    """``workers`` single-threaded page workers, started now, each replaced after ``pages_per_worker`` pages."""
    ocr_config(settings).check()
    prepare_worker_environment()
    return start_pool(workers, settings.pages_per_worker)


def prefetch_pages(settings: Settings, pool: ProcessPoolExecutor, paths: Iterable[Path], max_pages: int,
                   split_blank: bool = False) -> dict[Path, Prefetched]:
    """Hand the first pages of ``paths`` to the workers before the rest of sohoa is loaded (``Ingest.run``
    adopts them, or drops a duplicate's)."""
    return prefetch(paths, pool, settings.data_dir / "tmp", max_pages, split_blank, ocr_config(settings))
