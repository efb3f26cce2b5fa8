"""Reading order from word boxes: lines split into column segments, Decree 30 header kept sensible."""

from __future__ import annotations

import statistics

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


def split_segments(line: list[Word], page_width: int | None = None, header: bool = False) -> list[Segment]:
    """Split a line where the gap between two words is far wider than a space (column boundary).

    In the header (``header=True``) the Decree 30 column boundary lies at 35-55 % of the page width,
    where a gap only somewhat wider than a space already separates the two columns.
    """
    height = statistics.median(w.h for w in line)
    segments, current = [], [line[0]]
    for prev, word in zip(line, line[1:], strict=False):
        gap = word.x - (prev.x + prev.w)
        middle = (word.x + prev.x + prev.w) / 2
        in_boundary = header and page_width and 0.35 * page_width < middle < 0.55 * page_width
        if gap > 1.2 * height or (in_boundary and gap > 0.45 * height):
            segments.append(Segment(tuple(current)))
            current = []
        current.append(word)
    segments.append(Segment(tuple(current)))
    return segments


def reading_order(words: list[Word], page_width: int) -> list[Segment]:
    """Segments in reading order: header's left column, then its right column, then the body."""
    if not words:
        return []
    page_height = max(w.y + w.h for w in words)
    segments = [seg for line in group_lines(words)
                for seg in split_segments(line, page_width, header=min(w.y for w in line) < 0.25 * page_height)]
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
