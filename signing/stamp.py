"""The visible signature stamp: where it goes on the first page and how it looks (text + QR code).

The stamp is drawn with a font that has every Vietnamese letter (FreeSerif, else Noto Serif or DejaVu
Serif), embedded as a subset with a ToUnicode map so its text extracts correctly.  It goes in the first
free corner of page 1 (no word of the page under it); only when every corner is covered does it take the
least covered one.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.stamp import QRPosition, QRStampStyle

logging.getLogger("fontTools.subset").setLevel(logging.ERROR)  # "FFTM NOT subset" is noise
FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/freefont/FreeSerif.ttf"),
    Path("/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"),
)
STAMP_WIDTH, STAMP_HEIGHT, MARGIN = 270, 78, 14
CORNERS = ("bottom-right", "bottom-left", "top-right", "top-left")
_BOX_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)\s*$")


# ASCII, the Vietnamese letters (Latin-1, Ă Đ Ĩ Ũ Ơ Ư, U+1EA0-U+1EF9), dashes and quotes, the đồng sign.
# pyHanko parses and subsets this font for every stamp: ~240 glyphs cost a quarter of the ~900 of all Latin.
_VIETNAMESE_REPERTOIRE = [*range(0x20, 0x7F), *map(ord, "ÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝàáâãèéêìíòóôõùúý×ĂăĐđĨĩŨũƠơƯư°"),
                          *range(0x1EA0, 0x1EFA), *range(0x2010, 0x2027), 0x20AB]


def vietnamese_font() -> Path:
    """A font with every Vietnamese letter, cut down once to the Latin/Vietnamese repertoire.

    pyHanko parses and subsets the font again for every stamp: from the 2 MB FreeSerif that costs ~0.2 s a
    signature, from the cut-down copy ~25 ms (bench/signing.py: stamp against no stamp).
    """
    source = next((p for p in FONT_CANDIDATES if p.exists()), None)
    if source is None:
        raise RuntimeError("no font with every Vietnamese letter found for the stamp: install fonts-freefont-ttf")
    stat = source.stat()
    cache = Path(tempfile.gettempdir()) / f"sohoa-fonts-{os.getuid()}"
    target = cache / f"{source.stem}-vi3-{stat.st_size}-{int(stat.st_mtime)}.ttf"
    if not target.exists():
        from fontTools import subset

        cache.mkdir(mode=0o700, exist_ok=True)
        options = subset.Options()
        # Stamp text is NFC: every Vietnamese letter is one precomposed glyph, so no shaping tables needed.
        options.layout_features = []
        options.name_IDs = ["*"]
        options.drop_tables += ["FFTM", "GSUB", "GPOS", "GDEF"]
        font = subset.load_font(str(source), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=_VIETNAMESE_REPERTOIRE)
        subsetter.subset(font)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        font.save(str(tmp))
        os.replace(tmp, target)
    return target


@dataclass(frozen=True)
class _PresetBoundsFontFactory(GlyphAccumulatorFactory):
    """pyHanko's font engine, told that the glyphs' bounding boxes are already right.

    Subsetting does not change a glyph's outline, yet fontTools recomputes every box when it saves the
    subset, decoding and re-encoding each glyph in Python: that was half the time of a stamped signature.
    """

    def create_font_engine(self, writer, obj_stream=None):
        engine = super().create_font_engine(writer, obj_stream)
        engine.tt.recalcBBoxes = False
        return engine


@dataclass(frozen=True)
class Placement:
    box: tuple[int, int, int, int]  # x1, y1, x2, y2 in PDF points, origin bottom-left
    corner: str
    overlaps_text: bool
    qr_above_text: bool = False  # a narrow, tall stamp: the QR code above the text, not left of it


def validate_position(position: str) -> str:
    """``off``, a corner name, or an explicit box ``x1,y1,x2,y2`` in points; anything else is refused."""
    if position in ("off", *CORNERS) or _BOX_RE.match(position):
        return position
    raise ValueError(f"stamp position must be off, one of {', '.join(CORNERS)}, or x1,y1,x2,y2 — not {position!r}")


def _first_page_text(pdf: bytes | Path) -> tuple[float, float, list[tuple[float, float, float, float]]]:
    """Page 1's size and its text rectangles (runs of characters) in PDF points, origin bottom-left."""
    document = pdfium.PdfDocument(str(pdf) if isinstance(pdf, Path) else pdf)
    try:
        page = document[0]
        width, height = page.get_size()
        x0, y0 = page.get_mediabox()[:2]
        textpage = page.get_textpage()
        words = [(left - x0, bottom - y0, right - x0, top - y0)
                 for left, bottom, right, top in (textpage.get_rect(i) for i in range(textpage.count_rects()))]
    finally:
        document.close()
    return width, height, words


def _covered(box: tuple[float, float, float, float], words: list[tuple[float, float, float, float]]) -> float:
    total = 0.0
    for wx1, wy1, wx2, wy2 in words:
        dx, dy = min(box[2], wx2) - max(box[0], wx1), min(box[3], wy2) - max(box[1], wy1)
        if dx > 0 and dy > 0:
            total += dx * dy
    return total


# The officer's stamp carries the QR code of Circular 01/2023, which must stay readable at 150 dpi: about
# 80 points square for a version 8 code.  Wide (QR left of the text) where the corner is free, else narrow
# and tall (QR above the text) in the left margin beside the header.
OFFICER_SIZES = ((300, 112), (260, 100))
OFFICER_TALL_SIZES = ((112, 150), (96, 134), (84, 122))
OFFICER_MARGIN, MIN_BAND = 8, 40


def place_top_left(pdf: bytes | Path) -> Placement:
    """The officer's stamp in the top-left corner of page 1 (Circular 01/2023), never over text: the largest
    size that is free there (wide, then tall), else the band of the top margin above the text, else (nothing
    free) the corner itself, reported as overlapping."""
    width, height, words = _first_page_text(pdf)
    m = OFFICER_MARGIN
    for sizes, tall in ((OFFICER_SIZES, False), (OFFICER_TALL_SIZES, True)):
        for w, h in sizes:
            box = (m, height - m - h, min(m + w, width - m), height - m)
            if _covered(box, words) == 0:
                return Placement(tuple(round(v) for v in box), "top-left", False, qr_above_text=tall)
    w = OFFICER_SIZES[0][0]
    tops = [y2 for x1, _y1, x2, y2 in words if x1 < m + w and x2 > m and y2 > height / 2]
    band_bottom = max(tops, default=height - m) + 2
    if height - m - band_bottom >= MIN_BAND:
        h = min(OFFICER_SIZES[0][1], height - m - band_bottom)
        box = (m, height - m - h, m + w, height - m)
        return Placement(tuple(round(v) for v in box), "top-left margin", _covered(box, words) > 0)
    w, h = OFFICER_SIZES[-1]
    box = (m, height - m - h, m + w, height - m)
    return Placement(tuple(round(v) for v in box), "top-left", True)


def place_top_right(pdf: bytes | Path) -> Placement:
    """The agency's stamp beside the officer's (Decree 30/2020: top right), never over text: the corner if it
    is free, else the band of the top margin above the text, else the first free corner (``place_stamp``)."""
    width, height, words = _first_page_text(pdf)
    w, h, m = min(STAMP_WIDTH, width - 2 * MARGIN), STAMP_HEIGHT, OFFICER_MARGIN
    box = (width - m - w, height - m - h, width - m, height - m)
    if _covered(box, words) == 0:
        return Placement(tuple(round(v) for v in box), "top-right", False)
    tops = [y2 for x1, _y1, x2, y2 in words if x2 > width - m - w and x1 < width - m and y2 > height / 2]
    band_bottom = max(tops, default=height - m) + 2
    if height - m - band_bottom >= MIN_BAND:
        box = (width - m - w, band_bottom, width - m, min(height - m, band_bottom + h))
        if _covered(box, words) == 0:
            return Placement(tuple(round(v) for v in box), "top-right margin", False)
    return place_stamp(pdf, "top-right")


def place_stamp(pdf: bytes | Path, position: str = "bottom-right") -> Placement:
    """Where the stamp goes on page 1: the preferred corner if no text is there, else the next free one.

    ``pdf`` is the document's bytes or its file (pdfium then reads only what page 1 needs).
    """
    if match := _BOX_RE.match(position):
        x1, y1, x2, y2 = (int(float(v)) for v in match.groups())
        return Placement((x1, y1, x2, y2), "explicit", False)
    width, height, words = _first_page_text(pdf)
    w, h = min(STAMP_WIDTH, width - 2 * MARGIN), min(STAMP_HEIGHT, height / 4)
    boxes = {
        "bottom-right": (width - MARGIN - w, MARGIN, width - MARGIN, MARGIN + h),
        "bottom-left": (MARGIN, MARGIN, MARGIN + w, MARGIN + h),
        "top-right": (width - MARGIN - w, height - MARGIN - h, width - MARGIN, height - MARGIN),
        "top-left": (MARGIN, height - MARGIN - h, MARGIN + w, height - MARGIN),
    }
    order = [position, *(c for c in CORNERS if c != position)] if position in CORNERS else list(CORNERS)

    scores = [(_covered(boxes[c], words), i, c) for i, c in enumerate(order)]
    best = next((s for s in scores if s[0] == 0), min(scores))
    bx1, by1, bx2, by2 = boxes[best[2]]
    return Placement((round(bx1), round(by1), round(bx2), round(by2)), best[2], best[0] > 0)


def stamp_style(development: bool, font_size: int = 7, officer: bool = False,
                qr_above_text: bool = False) -> QRStampStyle:
    """The look of the stamp: QR code on the left, Vietnamese text on the right.  The officer's stamp
    (Circular 01/2023) shows the officer's name and the time; the agency's, who signed for the agency."""
    lines = [
        "Người số hóa: %(officer)s",
        "Thời điểm ký: %(ts)s",
        "Mã kết quả: %(code)s",
        "Cơ quan số hóa: %(agency)s",
    ] if officer else [
        "Bản số hóa từ bản chính — ký số bởi %(signer)s",
        "Cơ quan số hóa: %(agency)s",
        "Mã kết quả: %(code)s",
        "Thời điểm ký: %(ts)s",
    ]
    if development:
        lines.append("KHÓA PHÁT TRIỂN — KHÔNG CÓ GIÁ TRỊ PHÁP LÝ (development key)")
    if qr_above_text:  # narrow: the name and the time only, under the code, each on one short line
        lines = ["%(officer)s", "%(ts)s"] + (["KHÓA PHÁT TRIỂN"] if development else [])
        font_size = min(font_size, 6)
    # The QR code takes the stamp's short side (pyHanko's sizing): the officer's must stay readable at 150 dpi.
    return QRStampStyle(
        qr_position=QRPosition.ABOVE_TEXT if qr_above_text else QRPosition.LEFT_OF_TEXT,
        stamp_text="\n".join(lines),
        text_box_style=TextBoxStyle(font=_PresetBoundsFontFactory(str(vietnamese_font()), font_size=font_size)),
        timestamp_format="%d/%m/%Y %H:%M %z" if qr_above_text else "%d/%m/%Y %H:%M:%S %z",
        border_width=1,
        background=None,
    )
