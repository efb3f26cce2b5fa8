"""Per-page work, run in worker processes: load one page, clean it, OCR it, write its searchable PDF."""

from __future__ import annotations

import time

from digitize.cleanup import clean
from digitize.coversheet import is_blank, read_cover
from digitize.intake import RejectedInput, load_page_image, text_layer_pages
from digitize.layout import reading_order
from digitize.model import PageText
from digitize.ocr import PageTimeout, read_words
from digitize.pdf import searchable_page
from digitize.reread import reread_blanks
from digitize.workers import PageJob, PageOutcome


def run_page(job: PageJob) -> PageOutcome:
    """Load, clean, OCR (one Tesseract call) and render one page; only small results go back."""
    started = time.perf_counter()
    if job.text_layer:
        return _text_layer_page(job, started)
    image = load_page_image(job.path, job.kind, job.index)
    cleaned = clean(image.pixels)
    height, width = cleaned.gray.shape
    cover = read_cover(cleaned.gray)
    if cover is not None or (job.split_blank and is_blank(cleaned.gray)):
        page = PageText(job.index, width, height, (), "cover" if cover else "blank")
        return PageOutcome(page, None, time.perf_counter() - started, cover, cover is None)
    if cleaned.problem:
        raise RejectedInput(f"page {job.index + 1}: {cleaned.problem}")
    try:
        words = read_words(cleaned.gray, image.dpi * cleaned.scale, job.ocr)
    except PageTimeout as exc:
        raise RejectedInput(f"page {job.index + 1}: {exc}") from None
    segments = tuple(reading_order(words, width))
    rereads = reread_blanks(segments, cleaned.gray, image.pixels, cleaned.matrix, job.ocr)
    page = PageText(job.index, width, height, segments, "ocr", cleaned.skew_degrees, rereads)
    to_original = cleaned.to_original() if cleaned.geometric else None
    lines = [seg.words for seg in page.segments]
    # The image stays as scanned; /Rotate shows a turned page upright (the text layer turns with it).
    original_width, original_height = image.size
    pdf_bytes = searchable_page(image.embed_bytes, original_width, original_height, image.dpi, lines, to_original,
                                rotate=(4 - cleaned.quarter_turns) % 4 * 90)
    pdf_path = job.work_dir / f"page-{job.index:05d}.pdf"
    pdf_path.write_bytes(pdf_bytes)
    return PageOutcome(page, pdf_path, time.perf_counter() - started)


def _text_layer_page(job: PageJob, started: float) -> PageOutcome:
    """A born-digital page of a mixed PDF: its text from the text layer, the page itself copied as it is."""
    from pypdf import PdfReader, PdfWriter

    page = text_layer_pages(job.path, only=job.index)[0]
    writer = PdfWriter()
    writer.add_page(PdfReader(job.path).pages[job.index])
    pdf_path = job.work_dir / f"page-{job.index:05d}.pdf"
    with pdf_path.open("wb") as fh:
        writer.write(fh)
    return PageOutcome(page, pdf_path, time.perf_counter() - started)
