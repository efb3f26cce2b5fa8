"""Second readings of the lines that carry the required fields: above all the two blanks a văn thư fills in,
the number ("Số: 07 /CT-UBND") and the day of the date line ("ngày 08 tháng 01 năm 2025"), often written by
hand in blue ink or stamped; and the values after a number or holder label ("Họ và tên: LÊ QUANG HUY").

The page reading sees the cleaned image, from which coloured ink was lifted (seals and signatures) and
which was binarized; a handwritten number may be gone or broken there.  Each line whose page reading is
missing, unsure or in a filled-in blank is cropped from the word boxes, on the original image with its ink
kept dark and on the cleaned image, and read again: by TrueOCR, an independent line recognizer (7 ms a
line, when installed), and by Tesseract on the crops where TrueOCR did not read what the page did.  The
cost is a few small crops, not another page; ``digitize.fields`` weighs the readings.
"""

from __future__ import annotations

import re

import cv2
import numpy as np

from digitize.fields import NUMBER_LINE_RE, check_person_name, symbol_key
from digitize.model import Reread, Segment
from digitize.ocr import OcrConfig, PageTimeout, read_words
from digitize.text import fold, nfc, parse_vietnamese_date, strip_accents

_DATE_LINE = re.compile(r"\bngay\b.*\b(thang|nam)\b", re.IGNORECASE)
_SURE = 88.0  # every word of the line at least this sure: no second reading


def lines_to_reread(segments: tuple[Segment, ...], page_height: int,
                    field_labels: tuple[tuple[str, str], ...] = ()) -> list[tuple[str, Segment, int, bool]]:
    """(field, line, x where its value starts, unsure) of the lines worth a second reading: the header's
    number and date lines and the lines after a number or holder label.  ``unsure``: the page reading is
    missing, unsure, or the line has a filled-in blank; such a line needs a second reading that agrees.
    Only such lines are returned."""
    found: dict[str, tuple[Segment, int, bool]] = {}
    for i, seg in enumerate(segments):
        if "number" not in found and seg.y < 0.4 * page_height and NUMBER_LINE_RE.match(seg.text):
            unsure = _unsure_digits(seg) or len(seg.words) < 2 or filled_in(seg)
            found["number"] = (seg, seg.words[0].x + seg.words[0].w, unsure)
        elif "issued_on" not in found and seg.y < 0.4 * page_height and _DATE_LINE.search(strip_accents(seg.text)):
            sure = parse_vietnamese_date(seg.text) is not None and not _unsure_digits(seg) and not filled_in(seg)
            found["issued_on"] = (seg, _date_start(seg), not sure)
        else:
            for labelled, label in field_labels:
                field = "number_label" if labelled == "number" else labelled
                if field in found:
                    continue
                value = _after_label(segments, i, label)
                if value is None:
                    continue
                value_seg, start = value
                words = [w for w in value_seg.words if w.x >= start]
                if not words:
                    break
                unsure = min(w.conf for w in words) < _SURE
                if field == "holder":
                    unsure = unsure or bool(check_person_name(" ".join(w.text for w in words))[1])
                found[field] = (value_seg, start, unsure)
                break
    return [(field, seg, start, unsure) for field, (seg, start, unsure) in found.items() if unsure]


def _unsure_digits(seg: Segment) -> bool:
    digits = [w for w in seg.words if any(c.isdigit() for c in w.text)]
    return not digits or min(w.conf for w in digits) < _SURE


def _after_label(segments: tuple[Segment, ...], i: int, label: str) -> tuple[Segment, int] | None:
    """Where the value after ``label`` starts on line ``i`` ("Họ và tên: X"), or the cell right of a label
    cell on the same line."""
    seg = segments[i]
    pattern = re.escape(fold(label)).replace(r"\ ", r"\s*")
    folded = fold(seg.text)
    if not re.match(rf"\W{{0,3}}(?:\d{{1,2}}[.)])?\s*{pattern}\s*([:.;|]|$)", folded):
        return None
    for k, word in enumerate(seg.words):
        if word.text.endswith((":", "|", ";")) and k + 1 < len(seg.words):
            return seg, seg.words[k + 1].x
    if re.fullmatch(rf"\W{{0,3}}(?:\d{{1,2}}[.)])?\s*{pattern}\s*[:.;|]?", folded):
        for other in segments[i + 1:i + 4]:
            if other.y < seg.bottom and seg.y < other.bottom and other.x > seg.right:
                return other, other.x
    return None


def filled_in(seg: Segment) -> bool:
    """Whether the line's value was written in by hand or stamp, or not at all, so that one reading of it
    is not enough: a printed blank (a gap far wider than a space), or digits taller than the printed words
    or off their baseline (a pen's: a token of digits alone, the printed rest of a symbol apart)."""
    if any(b.x - (a.x + a.w) > 0.8 * seg.height for a, b in zip(seg.words, seg.words[1:], strict=False)):
        return True
    printed = sorted(w.h for w in seg.words if not any(c.isdigit() for c in w.text))
    if not printed:
        return False
    height = printed[len(printed) // 2]
    baseline = sorted(w.y + w.h for w in seg.words if not any(c.isdigit() for c in w.text))[len(printed) // 2]
    return any(w.h > 1.25 * height or abs(w.y + w.h - baseline) > 0.3 * height
               for w in seg.words if w.text.strip(".,:;").isdigit())


def reread_blanks(segments: tuple[Segment, ...], cleaned_gray: np.ndarray, original_rgb: np.ndarray,
                  to_cleaned: np.ndarray, config: OcrConfig) -> tuple[Reread, ...]:
    """Re-read the unsure lines of a page, all in one Tesseract call; boxes are in cleaned-image pixels."""
    height, width = cleaned_gray.shape
    reader = second_reader(config)
    jobs = []
    # Only lines that need it: on printed lines the page reading is better than either second reader (both
    # misread printed digits and marks now and then: 2016 as 2018, XUÂN as XUẢN).
    for name, seg, start, unsure in lines_to_reread(segments, height, config.field_labels):
        pad = max(4, seg.height // 3)
        # The header's number crop starts just after "Số:", clear of its colon; the others at their first word.
        x0 = max(0, start + max(3, seg.height // 6) if name == "number" else start - 3)
        y0 = max(0, seg.y - pad)
        if name == "number" and seg.center_x < width / 2:
            # A number written into an empty "Số:" may reach past the printed line, up to the header's gutter.
            x1 = min(width // 2, seg.right + 8 * seg.height)
        else:
            x1 = seg.right + 2 * seg.height
        x1, y1 = min(width, max(seg.right, x1)), min(height, seg.bottom + pad)
        if x1 - x0 < 8 or y1 - y0 < 8:
            continue
        box = (int(x0), int(y0), int(x1 - x0), int(y1 - y0))
        jobs.append((name, box, unsure, "ink kept", _ink_kept_crop(original_rgb, to_cleaned, box)))
        jobs.append((name, box, unsure, "cleaned", cleaned_gray[y0:y1, x0:x1]))
    if not jobs:
        return ()
    readings: list[Reread] = []
    if reader is not None:
        texts = reader.predict([crop for *_, crop in jobs])
        readings += [Reread(name, text, confidence, box, f"trueocr, {source}", unsure)
                     for (name, box, unsure, source, _), (text, confidence) in zip(jobs, texts, strict=True)]
    # Tesseract (0.3 s a crop) re-reads an unsure line only when TrueOCR (7 ms) did not read what the page did.
    confirmed = {(r.field, r.box) for r in readings if r.source.endswith("ink kept")
                 and _same(r.text, _page_words(segments, r.field, r.box), marks=r.field == "holder")}
    unsure_jobs = [job for job in jobs if job[2] and (job[0], job[1]) not in confirmed]
    if unsure_jobs:
        # A line that needs confirming is also read by Tesseract alone on its crop: two engines, two images.
        texts = _tesseract_lines([crop for *_, crop in unsure_jobs], config)
        readings += [Reread(name, text, confidence, box, f"tesseract, {source}", unsure)
                     for (name, box, unsure, source, _), (text, confidence) in zip(unsure_jobs, texts, strict=True)]
    return tuple(readings)


def _page_words(segments: tuple[Segment, ...], field: str, box: tuple[int, int, int, int]) -> str:
    """What the page reading has inside a crop's box."""
    x, y, w, h = box
    return " ".join(word.text for seg in segments for word in seg.words
                    if x <= word.x + word.w / 2 <= x + w and y <= word.y + word.h / 2 <= y + h)


def _same(a: str, b: str, marks: bool = False) -> bool:
    """Two readings of a line alike in their letters and digits (spaces, punctuation, case aside; marks
    too, unless ``marks``: a name's marks are what its reading is unsure of)."""
    def key(text: str) -> str:
        return re.sub(r"[\W_]", "", nfc(text).upper()) if marks else symbol_key(text)
    return bool(key(a)) and key(a) == key(b)


class _TrueOcr:
    """TrueOCR's line recognizer (ONNX, one thread), loaded once per worker process."""

    def __init__(self) -> None:
        from pathlib import Path

        import trueocr
        from trueocr import Recognizer

        self.recognizer = Recognizer(Path(trueocr.__file__).parent / "models", threads=1)

    def predict(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        return [(nfc(p.text), 100 * p.confidence) for p in self.recognizer.predict(crops)]


_reader: _TrueOcr | None = None
_reader_missing = False


def second_reader(config: OcrConfig) -> _TrueOcr | None:
    """The independent second reader when configured (``trueocr``, or ``auto`` and installed), else None:
    Tesseract re-reads the crops then, at about 0.3 s a line against 7 ms."""
    global _reader, _reader_missing
    if config.second_reader == "tesseract" or (_reader_missing and config.second_reader == "auto"):
        return None
    if _reader is None:
        try:
            _reader = _TrueOcr()
        except ImportError:
            if config.second_reader == "trueocr":
                raise RuntimeError("SOHOA_SECOND_READER=trueocr needs the trueocr package: "
                                   "pip install -e '.[second-reader]'") from None
            _reader_missing = True
            return None
    return _reader


def _date_start(seg: Segment) -> int:
    for word in seg.words:
        if strip_accents(word.text).lower().startswith("ngay"):
            return word.x - 2
    return seg.x


def _ink_kept_crop(rgb: np.ndarray, to_cleaned: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The box cut from the original image with coloured ink as dark as black (the darkest channel),
    straightened and scaled as the cleaned page was.  Only the box's own region is converted."""
    x, y, w, h = box
    to_crop = np.array([[1, 0, -x], [0, 1, -y]], np.float64) @ np.vstack([to_cleaned, [0, 0, 1]])
    back = cv2.invertAffineTransform(to_crop)  # crop pixels → original pixels
    corners = back @ np.array([[0, w, 0, w], [0, 0, h, h], [1, 1, 1, 1]], np.float64)
    x0, y0 = np.floor(corners.min(axis=1)).astype(int) - 2
    x1, y1 = np.ceil(corners.max(axis=1)).astype(int) + 2
    x0, y0 = max(0, x0), max(0, y0)
    region = rgb[y0:max(y0 + 1, y1), x0:max(x0 + 1, x1)]
    darkest = region.min(axis=2) if region.ndim == 3 else region
    matrix = to_crop @ np.array([[1, 0, x0], [0, 1, y0], [0, 0, 1]], np.float64)
    crop = cv2.warpAffine(np.ascontiguousarray(darkest), matrix, (w, h), flags=cv2.INTER_CUBIC, borderValue=255)
    _, binary = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return binary


def _tesseract_lines(crops: list[np.ndarray], config: OcrConfig) -> list[tuple[str, float]]:
    """Each crop read as one line, at twice the scale, in one Tesseract call on the crops stacked with white
    between them (by the configured engine: the command or libtesseract): [(text, lowest word confidence)]."""
    width = max(c.shape[1] for c in crops) * 2 + 40
    rows = []
    for crop in crops:
        big = cv2.resize(crop, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
        rows.append(cv2.copyMakeBorder(big, 30, 30, 20, width - big.shape[1] - 20, cv2.BORDER_CONSTANT, value=255))
    bands = np.cumsum([0] + [r.shape[0] for r in rows])
    try:
        words = read_words(np.vstack(rows), 600, config)
    except (PageTimeout, RuntimeError, OSError):
        return [("", 0.0)] * len(crops)
    lines: list[list[tuple[str, float]]] = [[] for _ in crops]
    for word in sorted(words, key=lambda w: (w.y, w.x)):
        band = int(np.searchsorted(bands, word.y + word.h / 2, side="right")) - 1
        lines[min(max(band, 0), len(crops) - 1)].append((word, word.conf))
    return [(" ".join(w.text for w, _ in sorted(line, key=lambda item: item[0].x)),
             min((c for _, c in line), default=0.0)) if line else ("", 0.0) for line in lines]
