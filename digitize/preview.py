"""What a person reviewing a document sees: page previews (a PDF page as a JPEG) and where each field stands."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from digitize.model import PageText, Word
from digitize.text import strip_accents

Box = tuple[int, int, int, int]  # x, y, width, height

PREVIEW_WIDTH = 1240  # 150 dpi on A4: words readable, zoomable in the browser


def pdf_page_previews(path: Path, width: int = PREVIEW_WIDTH, first: int = 0, count: int | None = None
                      ) -> list[bytes]:
    """JPEGs of pages ``first``… of the PDF at ``path``, ``width`` pixels wide, one page in memory at a time."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        last = len(pdf) if count is None else min(len(pdf), first + count)
        previews = []
        for index in range(first, last):
            page = pdf[index]
            try:
                page_width, _height = page.get_size()
                image = page.render(scale=width / max(page_width, 1.0)).to_pil().convert("RGB")
            finally:
                page.close()
            buf = io.BytesIO()
            image.save(buf, format="JPEG", quality=82)
            previews.append(buf.getvalue())
        return previews
    finally:
        pdf.close()


def _key(text: str) -> str:
    return "".join(ch for ch in strip_accents(text).lower() if ch.isalnum())


def _union(words: list[Word]) -> Box:
    left, top = min(w.x for w in words), min(w.y for w in words)
    right, bottom = max(w.x + w.w for w in words), max(w.y + w.h for w in words)
    return left, top, right - left, bottom - top


def locate_field(pages: Sequence[PageText], name: str, value: str | None) -> tuple[int, Box] | None:
    """Where a field's value stands: (page number from 1, the box of its words in the page's pixels), or None.

    The value is looked for in the words as they were read (diacritics, case and punctuation ignored); an
    issue date (stored as YYYY-MM-DD) is the "ngày … tháng … năm …" run with its year; a long name is found
    by its first words.
    """
    if not value:
        return None
    targets = [_key(value)]
    if name in {"issuer", "holder"} and len(value.split()) > 3:
        targets.append(_key(" ".join(value.split()[:3])))
    for number, page in enumerate(pages, start=1):
        words = [w for seg in page.segments for w in seg.words]
        keys = [_key(w.text) for w in words]
        if name == "issued_on":
            year = value[:4]
            for i, key in enumerate(keys):
                if key.startswith("ngay"):
                    run = "".join(keys[i:i + 9])
                    if year in run:
                        end = next((j for j in range(i, min(i + 9, len(keys))) if year in "".join(keys[i:j + 1])),
                                   i)
                        return number, _union(words[i:end + 1])
            continue
        for target in targets:
            if not target:
                continue
            for i, key in enumerate(keys):
                if not key:
                    continue
                joined = ""
                for j in range(i, min(i + 16, len(keys))):
                    joined += keys[j]
                    found = joined.find(target)
                    if 0 <= found < len(key):
                        return number, _union(words[i:j + 1])
                    if len(joined) > len(target) + len(key):
                        break
    return None


def pdf_page_count(pdf_file: Path | bytes) -> int:
    """How many pages a PDF (a file, or its bytes) has: its page tree is read, not its pages."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(pdf_file) if isinstance(pdf_file, Path) else pdf_file)
    try:
        return len(pdf)
    finally:
        pdf.close()


def read_qr_top_left(pdf: bytes, dpi: int = 150) -> str | None:
    """The QR code in the top-left quarter of page 1 rendered at ``dpi`` (where Circular 01/2023 puts it),
    as OpenCV reads it; None when there is none it can read."""
    import cv2
    import numpy as np
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        document.init_forms()  # the signature stamps are form widgets: the QR code is in the officer's
        page = document[0]
        try:
            image = page.render(scale=dpi / 72, may_draw_forms=True).to_pil().convert("RGB")
        finally:
            page.close()
    finally:
        document.close()
    pixels = np.asarray(image)[:, :, ::-1]
    height, width = pixels.shape[:2]
    corner = np.ascontiguousarray(pixels[: height // 4, : width // 2])
    gray = cv2.cvtColor(corner, cv2.COLOR_BGR2GRAY)
    # As a phone's reader does: the picture as it is, then enlarged, then made black and white; each with
    # OpenCV's two detectors (the ArUco-based one is the steadier on printed codes).
    candidates = [corner, cv2.resize(gray, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC),
                  cv2.threshold(cv2.resize(gray, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC), 0, 255,
                                cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]]
    for picture in candidates:
        for detector in (cv2.QRCodeDetectorAruco(), cv2.QRCodeDetector()):
            text = detector.detectAndDecode(picture)[0]
            if text:
                return text
    return None

