"""Text that a born-digital page shows through its annotations, read in place.

Under Decree 30/2020 the văn thư signs the issued PDF, and the signing software writes the number and the
day into widgets (signature or form fields) or free-text annotations placed over the printed blanks
("Số:    /TB-UBND", "ngày    tháng 01 năm 2025").  The page content alone says nothing there; the text is in
each annotation's normal appearance stream.  This module runs those streams through pdfminer, mapped onto
the page as a viewer draws them (PDF 32000-1 §12.5.5), and returns their words in page coordinates.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pdfminer.converter import PDFPageAggregator
from pdfminer.layout import LTChar, LTContainer
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdftypes import PDFStream, dict_value, list_value, resolve1
from pdfminer.psparser import PSLiteral
from pdfminer.utils import apply_matrix_pt, mult_matrix

Matrix = tuple[float, float, float, float, float, float]
AnnotationWord = tuple[str, float, float, float, float]  # text, x, top, width, height (points, top-left origin)

_HIDDEN, _NO_VIEW = 1 << 1, 1 << 5
_SHOWN_SUBTYPES = {"Widget", "FreeText", "Stamp"}


def annotation_words(page: Any) -> list[AnnotationWord]:
    """Words drawn by the visible widget, free-text and stamp annotations of a pdfplumber ``page``."""
    words: list[AnnotationWord] = []
    for annot in page.annots or ():
        data = annot.get("data") or {}
        subtype = resolve1(data.get("Subtype"))
        if not isinstance(subtype, PSLiteral) or subtype.name not in _SHOWN_SUBTYPES:
            continue
        flags = resolve1(data.get("F")) or 0
        if isinstance(flags, int) and flags & (_HIDDEN | _NO_VIEW):
            continue
        stream = _normal_appearance(data)
        rect = resolve1(data.get("Rect"))
        if stream is None or not isinstance(rect, list) or len(rect) != 4:
            continue
        try:
            chars = list(_appearance_chars(page.page_obj, stream, [float(resolve1(v)) for v in rect]))
        except Exception:  # noqa: BLE001 - a broken appearance shows nothing; the page text is still read
            continue
        words.extend(_words(chars, float(page.height)))
    return words


def _normal_appearance(data: dict) -> PDFStream | None:
    appearances = resolve1(data.get("AP"))
    if not isinstance(appearances, dict):
        return None
    normal = resolve1(appearances.get("N"))
    if isinstance(normal, dict):  # per-state appearances (check boxes): the current state's
        state = resolve1(data.get("AS"))
        normal = resolve1(normal.get(state.name)) if isinstance(state, PSLiteral) else None
    return normal if isinstance(normal, PDFStream) else None


def _appearance_chars(page_obj: Any, stream: PDFStream, rect: list[float]) -> Iterator[LTChar]:
    """The characters of an appearance stream, placed on the page: BBox (through Matrix) onto Rect."""
    bbox = [float(resolve1(v)) for v in list_value(stream.get("BBox", [0, 0, 0, 0]))]
    matrix: Matrix = tuple(float(resolve1(v)) for v in list_value(stream.get("Matrix", [1, 0, 0, 1, 0, 0])))  # type: ignore[assignment]
    corners = [apply_matrix_pt(matrix, (x, y)) for x in (bbox[0], bbox[2]) for y in (bbox[1], bbox[3])]
    bx0, by0 = min(c[0] for c in corners), min(c[1] for c in corners)
    bx1, by1 = max(c[0] for c in corners), max(c[1] for c in corners)
    rx0, ry0, rx1, ry1 = min(rect[0], rect[2]), min(rect[1], rect[3]), max(rect[0], rect[2]), max(rect[1], rect[3])
    if bx1 <= bx0 or by1 <= by0:
        return
    sx, sy = (rx1 - rx0) / (bx1 - bx0), (ry1 - ry0) / (by1 - by0)
    onto_rect: Matrix = (sx, 0, 0, sy, rx0 - bx0 * sx, ry0 - by0 * sy)
    x0, y0, _, _ = page_obj.mediabox
    page_ctm: Matrix = (1, 0, 0, 1, -x0, -y0)
    resources = PDFResourceManager()
    device = PDFPageAggregator(resources)
    interpreter = PDFPageInterpreter(resources, device)
    device.begin_page(page_obj, page_ctm)
    interpreter.render_contents(dict_value(stream.get("Resources", {})), [stream],
                                ctm=mult_matrix(mult_matrix(matrix, onto_rect), page_ctm))
    device.end_page(page_obj)
    yield from _chars(device.get_result())


def _chars(item: Any) -> Iterator[LTChar]:
    if isinstance(item, LTChar):
        yield item
    elif isinstance(item, LTContainer):
        for child in item:
            yield from _chars(child)


def _words(chars: list[LTChar], page_height: float) -> list[AnnotationWord]:
    """Characters in drawing order cut into words at spaces, wide gaps and new lines."""
    words: list[AnnotationWord] = []
    current: list[LTChar] = []

    def flush() -> None:
        if current:
            x0, x1 = min(c.x0 for c in current), max(c.x1 for c in current)
            y0, y1 = min(c.y0 for c in current), max(c.y1 for c in current)
            words.append(("".join(c.get_text() for c in current), x0, page_height - y1, x1 - x0, y1 - y0))
            current.clear()

    for char in chars:
        text = char.get_text()
        if not text.strip():
            flush()
            continue
        if current:
            last = current[-1]
            size = max(last.size, 1.0)
            if char.x0 - last.x1 > 0.3 * size or abs(char.y0 - last.y0) > 0.5 * size or char.x1 < last.x0:
                flush()
        current.append(char)
    flush()
    return words
