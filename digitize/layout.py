"""Reading order from word boxes: lines split into column segments, Decree 30 header kept sensible."""

from __future__ import annotations

import statistics

import numpy as np

from digitize.model import Segment, Word


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

    In the header (``header=True``) a gap that straddles the header's column gutter (the emptiest
    vertical strip between the two Decree 30 columns, see ``header_gutter``) already separates them.
    """
    height = statistics.median(w.h for w in line)
    segments, current = [], [line[0]]
    for prev, word in zip(line, line[1:], strict=False):
        gap = word.x - (prev.x + prev.w)
        straddles = header and gutter is not None and prev.x + prev.w <= gutter + 0.2 * height \
            and word.x >= gutter - 0.2 * height
        if gap > 1.2 * height or (straddles and gap > 0.25 * height):
            segments.append(Segment(tuple(current)))
            current = []
        current.append(word)
    segments.append(Segment(tuple(current)))
    return segments


def header_gutter(lines: list[list[Word]], page_width: int) -> float | None:
    """The x of the emptiest vertical strip at 35-60 % of the page width across the header lines."""
    if not lines or page_width <= 0:
        return None
    cover = np.zeros(page_width + 1, np.int32)
    for line in lines:
        for w in line:
            cover[max(0, w.x):min(page_width, w.x + w.w) + 1] += 1
    lo, hi = int(0.35 * page_width), int(0.60 * page_width)
    window = cover[lo:hi]
    least = window.min()
    # The middle of the longest run of least-covered columns.
    best_start, best_len, start = lo, 0, None
    for i, value in enumerate([*window, least + 1]):
        if value == least and start is None:
            start = i
        elif value != least and start is not None:
            if i - start > best_len:
                best_start, best_len = lo + start, i - start
            start = None
    return best_start + best_len / 2


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
