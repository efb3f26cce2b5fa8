"""Intake: recognize a file by its bytes, refuse what cannot be a document, and give pages one by one."""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from digitize.layout import reading_order, split_run_on_motto
from digitize.model import PageText, Word
from digitize.text import nfc

SUPPORTED_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pdf"}
MAX_FILE_BYTES = 1 << 30  # 1 GiB
MAX_PAGES = 2000
MAX_PAGE_PIXELS = 120_000_000  # ~A0 at 300 dpi; larger is a decompression bomb, not a scan
MIN_SIDE_PIXELS = 200
# OpenCV's geometric operations (remap, warpAffine) take at most 32767 pixels a side; A0 at 600 dpi is 28087.
MAX_SIDE_PIXELS = 32_000
MAX_ASPECT_RATIO = 8.0  # a long receipt is 1:7.5; a 200 x 599,000 image is a strip, not a page
MAX_PDF_PAGE_SIDE_POINTS = 4_000  # 141 cm: an A0 sheet is 119 cm long
MAX_RENDER_PIXELS = 36_000_000  # A2 at 300 dpi; a larger page is rendered at a lower resolution to fit
TEXT_LAYER_MIN_CHARS = 20
PDF_RENDER_DPI = 300

Image.MAX_IMAGE_PIXELS = MAX_PAGE_PIXELS


class RejectedInput(Exception):
    """The input cannot be processed; ``str(exc)`` is a sentence a clerk can act on."""


@dataclass(frozen=True)
class SourceFile:
    path: Path
    kind: str  # png | jpeg | tiff | pdf
    sha256: str
    size: int
    page_count: int
    text_layer: bool = False  # PDF whose every page carries real text
    signed: bool = False  # PDF that already carries a signature: never rasterized or rewritten
    text_pages: tuple[bool, ...] = ()  # PDF: which pages carry real text (the others are scans to OCR)
    active_content: tuple[str, ...] = ()  # PDF: scripts, launch actions, embedded files, appended bytes found

    @property
    def suffix(self) -> str:
        return {"png": ".png", "jpeg": ".jpg", "tiff": ".tiff", "pdf": ".pdf"}[self.kind]


def expand_inputs(paths: Iterable[Path]) -> Iterator[Path]:
    """Files as given, and the supported files inside folders (sorted, recursively)."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() in SUPPORTED_SUFFIXES and not child.name.startswith("."):
                    yield child
        else:
            yield path


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in pieces (hashlib's own loop: 40 % less CPU than reading 1 MiB chunks here)."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def sniff_kind(head: bytes) -> str | None:
    """The kind of file its first bytes say it is; ``RejectedInput`` for a PDF with something in front of it."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if b"%PDF-" in head[:1024]:
        # An HTML page or a ZIP archive with a PDF behind it (a polyglot): readers disagree on what it is.
        raise RejectedInput(f"{head.index(b'%PDF-')} bytes of something else (HTML, an archive?) come before the "
                            "PDF header: a disguised file is not taken; ask for the PDF itself")
    return None


def inspect(path: Path, sha256: str | None = None) -> SourceFile:
    """Check ``path`` cheaply and describe it; raise ``RejectedInput`` with the reason if it is unusable."""
    if not path.is_file():
        raise RejectedInput("not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise RejectedInput("the file is empty (0 bytes)")
    if size > MAX_FILE_BYTES:
        raise RejectedInput(f"the file is larger than {MAX_FILE_BYTES >> 20} MiB")
    with path.open("rb") as fh:
        head = fh.read(1024)
    kind = sniff_kind(head)
    if kind is None:
        raise RejectedInput("unsupported file type: expected a PNG, JPEG or TIFF scan or a PDF")
    digest = sha256 or file_sha256(path)
    if kind == "pdf":
        pages, text_pages, signed = _inspect_pdf(path)
        return SourceFile(path, kind, digest, size, pages, all(text_pages), signed, text_pages, _active_content(path))
    return SourceFile(path, kind, digest, size, _inspect_image(path))


def _open_image(path: Path) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise RejectedInput("the image is too large to be a scanned page (decompression bomb?)") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise RejectedInput(f"the image cannot be read: {exc}") from None


def _inspect_image(path: Path) -> int:
    with _open_image(path) as img:
        frames = getattr(img, "n_frames", 1)
        if frames > MAX_PAGES:
            raise RejectedInput(f"more than {MAX_PAGES} pages")
        for index in range(frames):
            if index:
                try:
                    img.seek(index)
                except (EOFError, OSError, ValueError) as exc:
                    raise RejectedInput(f"page {index + 1} cannot be read: {exc}") from None
            check_page_pixels(img.size[0], img.size[1], index if frames > 1 else None)
        return frames


def check_page_pixels(width: int, height: int, index: int | None = None) -> None:
    """Refuse a page whose pixel size no scan of a document has, before any pixel is decoded."""
    where = f"page {index + 1}: " if index is not None else ""
    if min(width, height) < MIN_SIDE_PIXELS:
        raise RejectedInput(f"{where}the image is only {width}x{height} pixels: too small for a page")
    if max(width, height) / min(width, height) > MAX_ASPECT_RATIO:
        raise RejectedInput(f"{where}the image is {width}x{height} pixels: a strip, not the shape of a page")
    if width * height > MAX_PAGE_PIXELS or max(width, height) > MAX_SIDE_PIXELS:
        raise RejectedInput(f"{where}the image is {width}x{height} pixels: too large to be a scanned page "
                            "(decompression bomb?)")


def _has_signature(reader) -> bool:
    """Whether a filled signature field exists (an issuer's signature to keep valid)."""
    fields = reader.get_fields() or {}
    return any(f.get("/FT") == "/Sig" and f.get("/V") is not None for f in fields.values())


def _inspect_pdf(path: Path) -> tuple[int, tuple[bool, ...], bool]:
    """Page count, which pages carry real text, and whether an issuer signed it; reads page by page.

    pypdf gets a file handle (given a path it would read the whole file into memory) and pdfium counts
    each page's characters natively, one page at a time, so a 300-page scan is never held whole.
    """
    import pypdfium2 as pdfium
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        with path.open("rb") as fh:
            reader = PdfReader(fh)
            if reader.is_encrypted:
                raise RejectedInput("the PDF is encrypted: ask for an unprotected copy")
            pages = len(reader.pages)
            signed = _has_signature(reader)
    except RejectedInput:
        raise
    except (PyPdfError, OSError, ValueError, KeyError, TypeError) as exc:
        raise RejectedInput(f"the PDF is damaged and cannot be read: {exc}") from None
    if pages == 0:
        raise RejectedInput("the PDF has no pages")
    if pages > MAX_PAGES:
        raise RejectedInput(f"the PDF has {pages} pages, more than {MAX_PAGES}")
    try:
        text_pages = []
        for index in range(pages):
            # Opened again for every page: pdfium keeps what it parsed (images too) until the document closes.
            document = pdfium.PdfDocument(str(path))
            try:
                page = document[index]
                check_page_points(*page.get_size(), index)
                text = page.get_textpage()
                text_pages.append(len(text.get_text_range().strip()) >= TEXT_LAYER_MIN_CHARS)
                text.close()
                page.close()
            finally:
                document.close()
    except RejectedInput:
        raise
    except Exception as exc:  # pdfium raises its own error type on broken files
        raise RejectedInput(f"the PDF is damaged and cannot be read: {exc}") from None
    return pages, tuple(text_pages), signed


def _active_content(path: Path) -> tuple[str, ...]:
    """Active content found in the PDF; ``RejectedInput`` first if it is a decompression bomb."""
    from digitize.active_content import scan

    try:
        bomb, found = scan(path)
    except Exception as exc:  # pikepdf (qpdf) raises its own error types on broken structures
        raise RejectedInput(f"the PDF is damaged and cannot be read: {exc}") from None
    if bomb:
        raise RejectedInput(f"the PDF holds {bomb}")
    return found


def check_page_points(width: float, height: float, index: int) -> None:
    """Refuse a PDF page no document has (a MediaBox of metres would be rendered into gigabytes)."""
    cm = 2.54 / 72
    if max(width, height) > MAX_PDF_PAGE_SIDE_POINTS or min(width, height) < 36:
        raise RejectedInput(f"page {index + 1} measures {width * cm:.0f} x {height * cm:.0f} cm: "
                            "not the size of a document page")
    if max(width, height) / min(width, height) > MAX_ASPECT_RATIO:
        raise RejectedInput(f"page {index + 1} measures {width * cm:.0f} x {height * cm:.0f} cm: "
                            "a strip, not the shape of a page")


def render_scale(width: float, height: float) -> float:
    """Pixels per point to render a page at: 300 dpi, or less for a page larger than A2 (bounded memory)."""
    scale = PDF_RENDER_DPI / 72
    return min(scale, (MAX_RENDER_PIXELS / max(width * height, 1.0)) ** 0.5)


@dataclass(frozen=True)
class PageImage:
    """One page as pixels, plus the bytes to embed in the archived PDF (lossless where the input was)."""

    pixels: np.ndarray  # height x width x 3, RGB
    dpi: float
    embed_bytes: bytes

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.pixels.shape[1], self.pixels.shape[0]


def load_page_image(path: Path, kind: str, index: int) -> PageImage:
    """Load page ``index`` of an image file or scanned PDF (only that page is decoded)."""
    if kind == "pdf":
        return _render_pdf_page(path, index)
    img = _open_image(path)
    try:
        if index:
            img.seek(index)
        check_page_pixels(img.size[0], img.size[1], index)
        dpi = _dpi_of(img)
        img.load()
        single = getattr(img, "n_frames", 1) == 1
        # A JPEG, or a PNG img2pdf can embed as it is, passes through unchanged (no re-encoding: fast, exact).
        plain_png = kind == "png" and img.mode in {"1", "L", "RGB"} and not img.info.get("interlace") \
            and "transparency" not in img.info
        passthrough = single and (kind == "jpeg" or plain_png)
        embed = path.read_bytes() if passthrough else _lossless_bytes(img)
        # np.asarray copies the pixels out of PIL; an RGB page needs no conversion copy before it.
        pixels = np.asarray(img if img.mode == "RGB" else img.convert("RGB"))
    except RejectedInput:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise RejectedInput(f"page {index + 1} cannot be decoded (truncated or damaged file): {exc}") from None
    finally:
        img.close()
    return PageImage(pixels, dpi, embed)


def _dpi_of(img: Image.Image) -> float:
    dpi = img.info.get("dpi")
    if dpi and dpi[0] and float(dpi[0]) >= 50:
        return float(dpi[0])
    # No usable resolution recorded: assume the page is A4 wide (8.27 in).
    return max(72.0, min(600.0, img.size[0] / 8.27))


def _lossless_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    if img.mode == "1":
        img.save(buf, format="TIFF", compression="group4", dpi=(_dpi_of(img),) * 2)
    else:
        frame = img if img.mode in {"L", "RGB", "P"} else img.convert("RGB")
        if frame.mode == "P" and "transparency" in frame.info:
            frame = frame.convert("RGB")
        frame.save(buf, format="PNG", dpi=(_dpi_of(img),) * 2)
    return buf.getvalue()


def _render_pdf_page(path: Path, index: int) -> PageImage:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
        try:
            page = pdf[index]
            width, height = page.get_size()
            check_page_points(width, height, index)
            scale = render_scale(width, height)
            bitmap = page.render(scale=scale)
            rgb = bitmap.to_pil().convert("RGB")
            page.close()
        finally:
            pdf.close()
    except pdfium.PdfiumError as exc:
        raise RejectedInput(f"page {index + 1} of the PDF cannot be rendered: {exc}") from None
    dpi = scale * 72
    buf = io.BytesIO()
    rgb.save(buf, format="JPEG", quality=88, dpi=(dpi, dpi))
    return PageImage(np.asarray(rgb), dpi, buf.getvalue())


TextLayerWord = tuple[str, float, float, float, float]  # text, x, y, width, height (points)


def iter_text_layer_pages(path: Path, only: int | None = None
                          ) -> Iterator[tuple[int, float, float, list[TextLayerWord]]]:
    """Yield (index, width, height, words) of a born-digital PDF (or just page ``only``), in points: the page
    content's words and those its visible annotations draw."""
    import pdfplumber

    from digitize.annotations import annotation_words

    if only is None:
        with path.open("rb") as fh:
            from pypdf import PdfReader

            indexes: Iterable[int] = range(len(PdfReader(fh).pages))
    else:
        indexes = [only]
    for index in indexes:
        # One opening per page: pdfminer caches every object it parses, so a document opened once and
        # read through would end up whole in memory (with its images).
        with pdfplumber.open(path, pages=[index + 1]) as pdf:
            page = pdf.pages[0]
            words = page.extract_words(keep_blank_chars=False, use_text_flow=False, x_tolerance=1.5)
            # The issuer's signing software writes the number and the day into annotations over the blanks.
            yield index, float(page.width), float(page.height), [
                (w["text"], w["x0"], w["top"], w["x1"] - w["x0"], w["bottom"] - w["top"]) for w in words
            ] + annotation_words(page)


def text_layer_pages(path: Path, only: int | None = None) -> list[PageText]:
    """Pages of a born-digital PDF, read from its text layer (no OCR), coordinates in points."""
    pages = []
    for index, width, height, raw_words in iter_text_layer_pages(path, only):
        words = [Word(nfc(text), 100.0, int(x), int(y), max(1, int(w)), max(1, int(h)))
                 for text, x, y, w, h in raw_words if text.strip()]
        words = split_run_on_motto(words)
        pages.append(PageText(index, int(width), int(height), tuple(reading_order(words, int(width))),
                              "text-layer"))
    return pages
