"""Searchable page PDFs (made in the page workers): the original page image (lossless where the input was) under
an invisible text layer.  Joining them into the archived PDF/A document is `digitize.pdfa`."""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import img2pdf
import numpy as np
from pypdf import PdfReader, PdfWriter
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from digitize.model import Word

# The text layer needs a font that has every Vietnamese letter.
TEXT_FONT_PATHS = (
    Path("/usr/share/fonts/truetype/freefont/FreeSerif.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"),
    Path("/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf"),
)
TEXT_FONT = "SohoaText"


def _register_font() -> None:
    if TEXT_FONT in pdfmetrics.getRegisteredFontNames():
        return
    for path in TEXT_FONT_PATHS:
        if path.exists():
            pdfmetrics.registerFont(TTFont(TEXT_FONT, str(path)))
            return
    raise RuntimeError("no font with Vietnamese letters found: install fonts-freefont-ttf")


def _text_layer(lines: Iterable[Sequence[Word]], width_pt: float, height_pt: float, px_to_pt: float,
                to_original: np.ndarray | None) -> bytes:
    _register_font()
    buf = io.BytesIO()
    # The initial font is ours too: reportlab would otherwise list a non-embedded Helvetica (not PDF/A).
    c = canvas.Canvas(buf, pagesize=(width_pt, height_pt), invariant=1, initialFontName=TEXT_FONT)
    # One text run per line, so that extractors (pdftotext, search) see whole lines in order.
    for line in lines:
        if not line:
            continue
        word = Word(" ".join(w.text for w in line), 0.0, line[0].x, min(w.y for w in line),
                    line[-1].x + line[-1].w - line[0].x, max(w.y + w.h for w in line) - min(w.y for w in line))
        x0, y0 = word.x, word.y + word.h
        x1 = word.x + word.w
        if to_original is not None:
            (x0, y0), (x1, y1) = (to_original @ np.array([[x0, x1], [y0, y0], [1, 1]])).T
        else:
            y1 = y0
        px, py = x0 * px_to_pt, height_pt - y0 * px_to_pt
        angle = math.degrees(math.atan2(-(y1 - y0), x1 - x0))
        size = max(1.0, word.h * px_to_pt)
        natural = pdfmetrics.stringWidth(word.text, TEXT_FONT, size)
        target = math.hypot(x1 - x0, y1 - y0) * px_to_pt
        text = c.beginText()
        text.setTextRenderMode(3)  # invisible, yet searchable and selectable
        text.setFont(TEXT_FONT, size)
        if natural > 0:
            text.setHorizScale(100.0 * target / natural)
        c.saveState()
        c.translate(px, py)
        c.rotate(angle)
        text.setTextOrigin(0, 0)
        text.textOut(word.text)
        c.drawText(text)
        c.restoreState()
    c.showPage()
    c.save()
    return buf.getvalue()


def searchable_page(embed_bytes: bytes, width_px: int, height_px: int, dpi: float,
                    lines: Sequence[Sequence[Word]], to_original: np.ndarray | None = None, rotate: int = 0) -> bytes:
    """One PDF page: the image exactly as embedded bytes allow, with ``lines`` of words as invisible text.

    Words are in the cleaned image's pixels; ``to_original`` maps them back onto the original image.
    ``rotate`` (degrees clockwise) is set as the page's /Rotate, so a page scanned sideways shows upright.
    """
    layout = img2pdf.get_fixed_dpi_layout_fun((dpi, dpi))
    image_pdf = img2pdf.convert(embed_bytes, layout_fun=layout)
    writer = PdfWriter(clone_from=io.BytesIO(image_pdf))
    page = writer.pages[0]
    width_pt, height_pt = float(page.mediabox.width), float(page.mediabox.height)
    overlay = _text_layer(lines, width_pt, height_pt, width_pt / width_px, to_original)
    page.merge_page(PdfReader(io.BytesIO(overlay)).pages[0])
    if rotate:
        page.rotate(rotate)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
