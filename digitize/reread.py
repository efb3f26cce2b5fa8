"""Second readings of the lines that carry the required fields: above all the two blanks a văn thư fills in,
the number ("Số: 07 /CT-UBND") and the day of the date line ("ngày 08 tháng 01 năm 2025"), often written by
hand in blue ink or stamped; and the values after a number or holder label ("Họ và tên: LÊ QUANG HUY").

The page reading sees the cleaned image, from which coloured ink was lifted (seals and signatures) and
which was binarized; a handwritten number may be gone or broken there.  Each line whose page reading is
missing, unsure or in a filled-in blank is cropped from the word boxes, on the original image with its ink
kept dark and on the cleaned image, and read again: by TrueOCR, an independent line recognizer (7 ms a
line, when installed), and by Tesseract on the crops where TrueOCR did not read what the page did.  A blank
is also read digit by digit by ``digitize.digits`` (a few ms), on lines the page read surely too: a pen's
black, upright digits can look printed.  The cost is a few small crops, not another page; ``digitize.fields``
weighs the readings.
"""

from __future__ import annotations

import re

import cv2
import numpy as np

from digitize.digits import broken_ink, read_digits, read_first_digits
from digitize.fields import GLUED_LETTER_RE, NUMBER_LINE_RE, check_person_name, read_date, symbol_key
from digitize.model import Reread, Segment
from digitize.ocr import OcrConfig, PageTimeout, read_lines, read_words
from digitize.text import DIGIT_LOOKALIKES, fold, nfc, parse_vietnamese_date, strip_accents

_DATE_LINE = re.compile(r"\bngay\b.*\b(thang|nam)\b", re.IGNORECASE)
_SURE = 88.0  # every word of the line at least this sure: no second reading
DIGIT_SURE = 90.0  # the digit reader votes only when its least sure digit is this sure (chosen on the tuning split)
_DIGITS = "0123456789"


def lines_to_reread(segments: tuple[Segment, ...], page_height: int,
                    field_labels: tuple[tuple[str, str], ...] = (),
                    sure_too: bool = False) -> list[tuple[str, Segment, int, bool]]:
    """(field, line, x where its value starts, unsure) of the lines worth a second reading: the header's
    number and date lines and the lines after a number or holder label.  ``unsure``: the page reading is
    missing, unsure, or the line has a filled-in blank; such a line needs a second reading that agrees.
    Only such lines are returned, unless ``sure_too``."""
    found: dict[str, tuple[Segment, int, bool]] = {}
    for i, seg in enumerate(segments):
        if "number" not in found and seg.y < 0.4 * page_height and NUMBER_LINE_RE.match(seg.text):
            unsure = _unsure_digits(seg) or len(seg.words) < 2 or filled_in(seg) or \
                any(GLUED_LETTER_RE.search(w.text) for w in seg.words)
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
                if field == "number_label":
                    # A letter among a code's digits ("31F11665552") is what print is misread in (E for F).
                    unsure = unsure or any(re.search(r"\d[^\W\d_]|[^\W\d_]\d", w.text) for w in words)
                if field == "holder":
                    unsure = unsure or bool(check_person_name(" ".join(w.text for w in words))[1])
                found[field] = (value_seg, start, unsure)
                break
    return [(field, seg, start, unsure) for field, (seg, start, unsure) in found.items() if unsure or sure_too]


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


def blank_of(seg: Segment, field: str) -> tuple[int, int, str] | None:
    """The blank a văn thư fills in on a number or date line, found between the printed words around it:
    (x where it starts, x where it ends, the line with ``{}`` where the blank is), e.g. "{} /CT-UBND" between
    "Số:" and "/CT-UBND", or "ngày {} tháng 4 năm 2021" between "ngày" and "tháng".  None when the printed words
    around it were not read (nothing says where the blank ends)."""
    words = seg.words
    if field == "number":
        first = 1 if len(words) > 1 and words[1].text in (":", ".") else 0
        tails = [k for k in range(first + 1, len(words)) if words[k].text.startswith("/")]
        if not tails:
            return None
        start, end = words[first].x + words[first].w, words[tails[-1]].x
        template = "{} " + " ".join(w.text for w in words[tails[-1]:])
    else:
        folded = [strip_accents(w.text).lower() for w in words]
        day = next((k for k, w in enumerate(folded) if w == "ngay"), None)
        month = next((k for k, w in enumerate(folded) if day is not None and k > day and w == "thang"), None)
        if day is None or month is None:
            return None
        start, end = words[day].x + words[day].w, words[month].x
        template = "ngày {} " + " ".join(w.text for w in words[month:])
    return (start, end, template) if end - start >= 1.2 * seg.height else None


def _filled(template: str, text: str) -> str:
    """The line with what a reader read in its blank: digits only, look-alike letters read back."""
    return template.format(re.sub(r"\D", "", text.translate(DIGIT_LOOKALIKES)))


def _printed_rest_sure(field: str, seg: Segment, template: str, line_readings: list[str]) -> bool:
    """Whether the printed rest of a blank's line ("/CT-UBND", "tháng 4 năm 2021") was read surely: every word
    of it sure on the page, or another engine's reading of the whole line ending the same.  Both readings of the
    blank share it, so their agreement says nothing about it."""
    rest = template.replace("ngày {} ", "").replace("{} ", "")
    words = [w for w in seg.words if w.text in rest.split()]
    if words and min(w.conf for w in words) >= _SURE:
        return True
    if field == "number":
        return any(symbol_key(line).endswith(symbol_key(rest)) for line in line_readings if symbol_key(rest))
    mine = read_date("ngày 1 " + rest)
    return mine is not None and any((read_date(line) or "")[:7] == mine[:7] for line in line_readings)


def reread_blanks(segments: tuple[Segment, ...], cleaned_gray: np.ndarray, original_rgb: np.ndarray,
                  to_cleaned: np.ndarray, config: OcrConfig) -> tuple[Reread, ...]:
    """Re-read the unsure lines of a page, and the blanks in them, in at most two Tesseract calls; boxes are in
    cleaned-image pixels.

    A blank filled in by hand or stamp is cropped alone, between the printed words around it, and read as digits
    (Tesseract with a digit whitelist; TrueOCR): its reading stands in the line's printed rest.  A reading of the
    whole line, which the page reader and Tesseract on the line misread where a pen wrote, is kept for the rest."""
    height, width = cleaned_gray.shape
    reader = second_reader(config)
    jobs = []
    blank_jobs = []
    checked: list[Reread] = []
    # Only lines that need it: on printed lines the page reading is better than either second reader (both
    # misread printed digits and marks now and then: 2016 as 2018, XUÂN as XUẢN).
    for name, seg, start, unsure in lines_to_reread(segments, height, config.field_labels, sure_too=True):
        pad = max(4, seg.height // 3)
        printed = None
        if not unsure:
            # A pen's digits can look printed, in black ink and upright, and be read surely and wrongly (457 as
            # 427): the digit reader (a few ms) checks the blank of every number and date line the page read
            # surely; where it reads something else surely, the line is read again as a filled-in one.
            differs, reading = _digit_check(segments, seg, name, pad, original_rgb, to_cleaned)
            printed = None if differs or name != "issued_on" else _printed_date_check(seg, pad, original_rgb,
                                                                                        to_cleaned)
            if not differs and printed is None:
                continue
            unsure = True
            checked += [r for r in (reading, printed) if r]
        # The header's number crop starts just after "Số:", clear of its colon; the others at their first word.
        x0 = max(0, start + max(3, seg.height // 6) if name == "number" else start - 3)
        y0 = max(0, seg.y - pad)
        if name == "number" and seg.center_x < width / 2:
            # A number written into an empty "Số:" may reach past the printed line, up to the header's gutter.
            x1 = min(width // 2, seg.right + 8 * seg.height)
        else:
            x1 = seg.right + 2 * seg.height
        # Never into the right column's words on the same row (the date line's place: "943/QĐ-VP" read "…-VPH").
        x1 = min([x1, *(other.x - max(2, seg.height // 4) for other in segments
                        if other.x > seg.right and other.center_x > width / 2 and seg.center_x < width / 2
                        and other.y < seg.bottom and seg.y < other.bottom)])
        x1, y1 = min(width, max(seg.right, x1)), min(height, seg.bottom + pad)
        if x1 - x0 < 8 or y1 - y0 < 8:
            continue
        box = (int(x0), int(y0), int(x1 - x0), int(y1 - y0))
        jobs.append((name, box, unsure, "ink kept", _ink_kept_crop(original_rgb, to_cleaned, box)))
        jobs.append((name, box, unsure, "cleaned", cleaned_gray[y0:y1, x0:x1]))
        # Where a printed digit is in doubt, the blank is not read apart: its reading would keep the page's.
        blank = blank_of(seg, name) if name in ("number", "issued_on") and unsure and not printed else None
        if blank is not None:
            start, end, template = blank
            blank_box = (int(start + 2), int(y0), int(end - start - 4), int(y1 - y0))
            blank_jobs.append((name, blank_box, template, seg, _ink_kept_crop(original_rgb, to_cleaned, blank_box)))
    # A blank whose pen strokes a copy broke ("1 ˋ :" of 131) is read whole by no reader: its line readings decide.
    blank_jobs = [job for job in blank_jobs if not broken_ink(job[-1])]
    if not jobs:
        return ()
    readings: list[Reread] = []
    if reader is not None:
        texts = reader.predict([crop for *_, crop in jobs] + [crop for *_, crop in blank_jobs])
        readings += [Reread(name, text, confidence, box, f"trueocr, {source}", unsure)
                     for (name, box, unsure, source, _), (text, confidence) in zip(jobs, texts, strict=False)]
        line_readings = {name: [r.text for r in readings if r.field == name] for name, *_ in blank_jobs}
        blank_jobs = [job for job in blank_jobs if _printed_rest_sure(job[0], job[3], job[2], line_readings[job[0]])]
        readings += [Reread(name, _filled(template, text), confidence, box, "trueocr, blank")
                     for (name, box, template, *_), (text, confidence)
                     in zip(blank_jobs, texts[len(jobs):], strict=False) if _filled(template, text) != template]
    else:
        blank_jobs = [job for job in blank_jobs if _printed_rest_sure(job[0], job[3], job[2], [])]
    readings += _digit_readings(blank_jobs) + checked
    # Tesseract (0.3 s a call) re-reads an unsure line only when TrueOCR (7 ms) did not read what the page did,
    # and only on its crop alone when its blank is read apart (then the digit reader must not differ either).
    confirmed = {(r.field, r.box) for r in readings if r.source.endswith("ink kept")
                 and _same(r.text, _page_words(segments, r.field, r.box), marks=r.field == "holder")}
    page_reads = {(r.source, r.field) for r in readings if r.source.endswith("blank")
                  and _page_reads(r.field, r.text, " ".join(w.text for w in _line_of(segments, r.field, r.box)))}
    digits_differ = {r.field for r in readings if r.source == "digits, blank"
                     and ("digits, blank", r.field) not in page_reads}
    confirmed |= {field for source, field in page_reads if source == "trueocr, blank"} - digits_differ
    read_apart = {job[0] for job in blank_jobs}
    blank_jobs = [job for job in blank_jobs if job[0] not in confirmed]
    unsure_jobs = [job for job in jobs if job[2] and (job[0], job[1]) not in confirmed and job[0] not in read_apart]
    if unsure_jobs:
        # A line that needs confirming is also read by Tesseract alone on its crop: two engines, two images.
        texts = _tesseract_lines([crop for *_, crop in unsure_jobs], config)
        readings += [Reread(name, text, confidence, box, f"tesseract, {source}", unsure)
                     for (name, box, unsure, source, _), (text, confidence) in zip(unsure_jobs, texts, strict=True)]
    if blank_jobs:
        texts = _tesseract_blanks([crop for *_, crop in blank_jobs], config)
        readings += [Reread(name, _filled(template, text), confidence, box, "tesseract, blank")
                     for (name, box, template, *_), (text, confidence) in zip(blank_jobs, texts, strict=True)
                     if _filled(template, text) != template]
    return tuple(readings)


def _digit_check(segments: tuple[Segment, ...], seg: Segment, field: str, pad: int, original_rgb: np.ndarray,
                 to_cleaned: np.ndarray) -> tuple[bool, Reread | None]:
    """Whether the digit reader surely reads otherwise the blank of a number or date line the page read surely,
    and its reading when the blank is not one ``blank_of`` finds: a number the page read as one word, alone
    ("Số: 729") or against its printed "/2016" ("Số: 357/2016"), read up to the slash."""
    if field not in ("number", "issued_on") or seg.y - pad < 0:
        return False, None
    blank = blank_of(seg, field)
    if blank is not None:
        start, end, template = blank
        box = (int(start + 2), int(seg.y - pad), int(end - start - 4), int(seg.height + 2 * pad))
        text, confidence = read_digits(_ink_kept_crop(original_rgb, to_cleaned, box))
        differs = bool(text) and confidence >= DIGIT_SURE and not _page_reads(
            field, template.format(text), " ".join(w.text for w in _line_of(segments, field, box)))
        return differs, None
    words = seg.words
    first = 2 if len(words) > 2 and words[1].text in (":", ".") else 1
    # A number the page read as one word: alone ("Số: 729", a result without a symbol) or against its printed
    # "/2016".
    merged = re.fullmatch(r"(\d+)(/.+)?", words[first].text) if field == "number" and len(words) > first else None
    if merged is None:
        return False, None
    start = words[first - 1].x + words[first - 1].w + 2
    box = (int(start), int(seg.y - pad), int(words[first].x + words[first].w - start), int(seg.height + 2 * pad))
    text, confidence = read_first_digits(_ink_kept_crop(original_rgb, to_cleaned, box), len(merged.group(1)),
                                         len(merged.group(0)))
    if not text or confidence < DIGIT_SURE or text == merged.group(1):
        return False, None
    return True, Reread(field, text + (merged.group(2) or ""), confidence, box, "digits, blank", True)


def _printed_date_check(seg: Segment, pad: int, original_rgb: np.ndarray, to_cleaned: np.ndarray) -> Reread | None:
    """The digit reader's reading of a date line the page read surely, when it surely reads one of its printed
    numbers (the day where no blank was left for it, the month, the year) as other digits of the same count: a
    printed 1993 the page read as 1995 with 92 % confidence.  The date line with those digits, or None."""
    words = list(seg.words)
    folded = [strip_accents(w.text).lower().strip(",.:") for w in words]
    labels = ("thang", "nam") if blank_of(seg, "issued_on") else ("ngay", "thang", "nam")
    texts = [w.text for w in words]
    boxes, sure = [], 100.0
    for k in range(1, len(words)):
        digits = re.fullmatch(r"(\d{1,4})([,.]?)", words[k].text)
        if folded[k - 1] not in labels or not digits:
            continue
        word = words[k]
        box = (int(word.x - 2), int(seg.y - pad), int(word.w + 4), int(seg.height + 2 * pad))
        if box[0] < 0 or box[1] < 0:
            continue
        text, confidence = read_digits(_ink_kept_crop(original_rgb, to_cleaned, box))
        if text and confidence >= DIGIT_SURE and len(text) == len(digits.group(1)) and text != digits.group(1):
            texts[k] = text + digits.group(2)
            boxes.append(box)
            sure = min(sure, confidence)
    if not boxes:
        return None
    start = next((w.x for w, f in zip(words, folded, strict=True) if f == "ngay"), seg.x)
    box = (int(start), int(seg.y - pad), int(seg.right - start), int(seg.height + 2 * pad))
    return Reread("issued_on", " ".join(texts), sure, box, "digits, printed", True)


def _digit_readings(blank_jobs: list) -> list[Reread]:
    """The blanks read digit by digit (``digitize.digits``): a reading only where every digit is sure."""
    readings = []
    for name, box, template, _, crop in blank_jobs:
        text, confidence = read_digits(crop)
        if text and confidence >= DIGIT_SURE:
            readings.append(Reread(name, template.format(text), confidence, box, "digits, blank"))
    return readings


def _page_reads(field: str, reading: str, page_words: str) -> bool:
    """Whether the page read its blank as a second reader did ("ngày 08 tháng …" / "08 tháng …")."""
    if field == "issued_on":
        return read_date(reading) is not None and read_date(reading) == read_date(f"ngày {page_words}")
    return _same(reading, page_words)


def _line_of(segments: tuple[Segment, ...], field: str, box: tuple[int, int, int, int]) -> list:
    """The page's words on the line of a blank's box, from the blank on (the page's reading of what fills it)."""
    x, y, w, h = box
    return [word for seg in segments for word in seg.words
            if y <= word.y + word.h / 2 <= y + h and word.x + word.w > x
            and not (field == "issued_on" and strip_accents(word.text).lower() == "ngay")]


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


def _tesseract_blanks(crops: list[np.ndarray], config: OcrConfig) -> list[tuple[str, float]]:
    """Each blank's crop read alone as one line of digits, at twice the scale, in one Tesseract run (stacked,
    the crops of handwritten digits are read worse: a pen's 1 as 7): [(text, lowest word confidence)]."""
    images = [cv2.copyMakeBorder(cv2.resize(crop, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC),
                                 20, 20, 20, 20, cv2.BORDER_CONSTANT, value=255) for crop in crops]
    try:
        lines = read_lines(images, 600, config, whitelist=_DIGITS)
    except (PageTimeout, RuntimeError, OSError):
        return [("", 0.0)] * len(crops)
    return [(" ".join(w.text for w in line), min((w.conf for w in line), default=0.0)) for line in lines]


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
