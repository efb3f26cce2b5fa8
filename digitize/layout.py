"""Reading order from word boxes: lines split into column segments, Decree 30 header kept sensible."""

from __future__ import annotations

import statistics

import numpy as np

from digitize.model import Segment, Word
from digitize.text import fold


def group_lines(words: list[Word]) -> list[list[Word]]:
    """Group words into visual lines by vertical overlap, top to bottom, each line left to right."""
    lines: list[list[Word]] = []
    for word in sorted(words, key=lambda w: (w.y + w.h / 2, w.x)):
        mid = word.y + word.h / 2
        for line in reversed(lines[-3:]):
            top = min(w.y for w in line)
            bottom = max(w.y + w.h for w in line)
            if top <= mid <= bottom:
                line.append(word)
                break
        else:
            lines.append([word])
    return [sorted(line, key=lambda w: w.x) for line in lines]


def split_segments(line: list[Word], page_width: int | None = None, header: bool = False,
                   gutter: float | None = None) -> list[Segment]:
    """Split a line where the gap between two words is far wider than a space (column boundary).

    In the header (``header=True``) the gap closest to the header's column gutter (``header_gutter``),
    if it is within 3 % of the page width of it, separates the two Decree 30 columns even when narrow.
    """
    height = statistics.median(w.h for w in line)
    cut = _motto_start(line) if header else None
    if cut is None and header and gutter is not None and page_width:
        gaps = [(abs((prev.x + prev.w + word.x) / 2 - gutter), i) for i, (prev, word) in
                enumerate(zip(line, line[1:], strict=False), start=1) if word.x - (prev.x + prev.w) > 0.25 * height]
        if gaps and min(gaps)[0] < 0.03 * page_width:
            cut = min(gaps)[1]
    segments, current = [], [line[0]]
    for i, (prev, word) in enumerate(zip(line, line[1:], strict=False), start=1):
        gap = word.x - (prev.x + prev.w)
        if i == cut or (gap > 1.2 * height and not (gap < 6 * height and _blank_between(prev, word))):
            segments.append(Segment(tuple(current)))
            current = []
        current.append(word)
    segments.append(Segment(tuple(current)))
    return segments


# Words around a blank that the văn thư fills in by hand, by stamp or by a signing widget:
# "Số:  07  /CT-UBND", "ngày  08  tháng 01 năm 2025".  A wide gap there is not a column boundary.
_BEFORE_BLANK = {"SO", "SO:", "NGAY", "THANG", "NAM"}
_AFTER_BLANK = {"THANG", "NAM"}


def _blank_between(prev: Word, word: Word) -> bool:
    return (fold(prev.text) in _BEFORE_BLANK or word.text.startswith(("/", "-"))
            or fold(word.text) in _AFTER_BLANK)


# The right column of a Decree 30 header always starts with the national motto and its subtitle.
_MOTTO_STARTS = (("CONG", "HOA"), ("DOC", "LAP"))


def _motto_start(line: list[Word]) -> int | None:
    """Index of the word that starts "CỘNG HÒA XÃ HỘI…" or "Độc lập - …" after other words, if any."""
    folded = [fold(w.text) for w in line]
    for i in range(1, len(line) - 1):
        if any(folded[i] == a and folded[i + 1].startswith(b) for a, b in _MOTTO_STARTS):
            return i
    return None


def header_gutter(lines: list[list[Word]], page_width: int) -> float | None:
    """The x between the header's two columns, from the header lines where a wide gap separates them."""
    lefts, rights = [], []
    for line in lines:
        segments = split_segments(line)
        if len(segments) >= 2:
            left, right = segments[0].words, segments[1].words
            x1, x0 = left[-1].x + left[-1].w, right[0].x
            if 0.3 * page_width < (x1 + x0) / 2 < 0.65 * page_width:
                lefts.append(x1)
                rights.append(x0)
    if not lefts:
        return None
    if max(lefts) < min(rights):
        return (max(lefts) + min(rights)) / 2
    return float(np.median([(a + b) / 2 for a, b in zip(lefts, rights, strict=True)]))


def reading_order(words: list[Word], page_width: int) -> list[Segment]:
    """Segments in reading order: header's left column, then its right column, then the body."""
    if not words:
        return []
    page_height = max(w.y + w.h for w in words)
    lines = group_lines(words)
    in_header = [min(w.y for w in line) < 0.25 * page_height for line in lines]
    gutter = header_gutter([line for line, head in zip(lines, in_header, strict=True) if head], page_width)
    segments = [seg for line, head in zip(lines, in_header, strict=True)
                for seg in split_segments(line, page_width, header=head, gutter=gutter)]
    # The two-column header ends at the first segment centred on the page (the title, "Kính gửi",
    # or a full body line); the header's columns are centred near a quarter and three quarters.
    centre = page_width / 2
    header_end = len(segments)
    for i, seg in enumerate(segments):
        if abs(seg.center_x - centre) < page_width * 0.08:
            header_end = i
            break
    header, body = segments[:header_end], segments[header_end:]
    left = [s for s in header if s.center_x < centre]
    right = [s for s in header if s.center_x >= centre]
    return left + right + body


# Words that start the right column's motto ("CỘNG HÒA…", "Độc lập…"), by the word that follows them.
_MOTTO_HEADS = {"CONG": "HOA", "DOC": "LAP"}


def split_run_on_motto(words: list[Word]) -> list[Word]:
    """Split a word in which a header line ran into the motto with no gap between them ("ĐỒNG THÁPCỘNG" of
    "UBND TỈNH ĐỒNG THÁP" and "CỘNG HÒA…"): a PDF's text layer joins characters that touch into one word."""
    out = []
    for word, following in zip(words, [*words[1:], None], strict=True):
        folded = fold(word.text)
        head = next((h for h, then in _MOTTO_HEADS.items() if len(folded) > len(h) and folded.endswith(h)
                     and following is not None and fold(following.text).startswith(then)), None)
        if head is None or len(fold(word.text)) != len(word.text):
            out.append(word)
            continue
        cut = len(word.text) - len(head)
        width = round(word.w * cut / len(word.text))
        out += [Word(word.text[:cut], word.conf, word.x, word.y, max(1, width), word.h),
                Word(word.text[cut:], word.conf, word.x + width, word.y, max(1, word.w - width), word.h)]
    return out
