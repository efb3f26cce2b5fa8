"""Vietnamese text helpers: NFC normalization, accent folding, date parsing."""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date


def nfc(text: str) -> str:
    """Return ``text`` in Unicode NFC (composed) form, the only form sohoa stores."""
    return unicodedata.normalize("NFC", text)


def strip_accents(text: str) -> str:
    """Remove Vietnamese diacritics (đ→d too), keeping case and spacing."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


@functools.lru_cache(maxsize=16384)  # the same lines and catalogue titles are folded again and again
def fold(text: str) -> str:
    """Upper-case, accent-free, single-spaced form of ``text`` for tolerant matching."""
    return re.sub(r"\s+", " ", strip_accents(text)).strip().upper()


# OCR often reads digits as look-alike letters inside a date; map them back before parsing.
DIGIT_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "Ø": "0", "ø": "0", "D": "0", "Q": "0", "l": "1", "I": "1",
                                   "i": "1", "|": "1", "!": "1", "]": "1", "Z": "2", "z": "2",
                                   "S": "5", "s": "5", "B": "8", "g": "9", "q": "9", "G": "6", "b": "6", "T": "7"})
_DIGIT = r"[0-9OoØøDQlIi|!\]ZzSsBgqGbT]"
_NUM = rf"({_DIGIT}{{1,4}})"
_YEAR = rf"({_DIGIT}(?: ?{_DIGIT}){{3}})"  # four digits; OCR sometimes splits them ("201 1")
_DATE_RE = re.compile(
    rf"NGAY\s*[:.]?\s*{_NUM}\s*[,.]?\s*THANG\s*[:.]?\s*{_NUM}\s*[,.]?\s*NAM\s*[:.]?\s*{_YEAR}",
    re.IGNORECASE,
)
_NUMERIC_DATE_RE = re.compile(r"\b(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})\b")


def _as_int(token: str) -> int:
    return int(token.replace(" ", "").translate(DIGIT_LOOKALIKES))


def parse_vietnamese_date(text: str) -> date | None:
    """Find the first Vietnamese written date ("ngày 08 tháng 4 năm 2020") or dd/mm/yyyy in ``text``.

    Tolerates missing accents, OCR look-alike characters in the numbers and stray punctuation.
    Returns ``None`` when no valid date is present.
    """
    folded = strip_accents(nfc(text))
    for match in _DATE_RE.finditer(folded):
        try:
            return date(_as_int(match.group(3)), _as_int(match.group(2)), _as_int(match.group(1)))
        except ValueError:
            continue
    for match in _NUMERIC_DATE_RE.finditer(folded):
        try:
            return date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
        except ValueError:
            continue
    return None


_ID_RE = re.compile(r"(?<!\d)(\d{3})\d{6}(\d{3})(?!\d)")


def mask_personal_ids(text: str) -> str:
    """Mask 12-digit personal identification numbers (keep 3 first and 3 last digits) for logs."""
    return _ID_RE.sub(lambda m: f"{m.group(1)}******{m.group(2)}", text)


# Old-style tone placement (hoà, thuỷ) -> the modern one used by official documents (hòa, thủy).
_OLD_TONES = {
    "oà": "òa", "oá": "óa", "oả": "ỏa", "oã": "õa", "oạ": "ọa",
    "oè": "òe", "oé": "óe", "oẻ": "ỏe", "oẽ": "õe", "oẹ": "ọe",
    "uỳ": "ùy", "uý": "úy", "uỷ": "ủy", "uỹ": "ũy", "uỵ": "ụy",
}
_OLD_TONES.update({k.upper(): v.upper() for k, v in list(_OLD_TONES.items())})
_OLD_TONES.update({k[0].upper() + k[1]: v[0].upper() + v[1] for k, v in list(_OLD_TONES.items()) if k.islower()})
_OLD_TONE_RE = re.compile("(?:" + "|".join(_OLD_TONES) + r")(?![a-zA-Zà-ỹÀ-Ỹ])")


def modern_tone_marks(text: str) -> str:
    """Rewrite word-final old-style tone placement ("Uỷ ban", "hoà") in the modern style ("Ủy ban", "hòa")."""
    return _OLD_TONE_RE.sub(lambda m: _OLD_TONES[m.group(0)], nfc(text))


# Letters OCR reads in place of a marker's letters ("V/v" read "V/w", "V/y").
_MARKER_LOOKALIKES = {"V": "VWY"}


@functools.cache
def _subject_mark_re(marker: str) -> re.Pattern[str]:
    """The pattern of a subject marker as OCR reads it: "V/v" also as "V/V", "V/w", "V/ ", "V.v", "V|v", "Vv"
    (a part after a slash may be lost or run on without the slash), followed by the subject's words."""

    def letters(part: str) -> str:
        return "".join(f"[{re.escape(_MARKER_LOOKALIKES.get(c, c))}]" for c in part)

    first, *rest = fold(marker).replace(" ", "").split("/")
    pattern = r"^\W{0,2}" + letters(first)
    for part in rest:
        pattern += rf"\s*(?:[/|\\.]\s*(?:{letters(part)})?|{letters(part)})"
    return re.compile(pattern + r"\s*[.:]?\s(?=\s*\w)")


def is_subject_line(text: str, marker: str = "V/v") -> bool:
    """Whether ``text`` opens with a subject ``marker`` (the "V/v" of a công văn), however OCR read the mark."""
    return bool(_subject_mark_re(marker).match(fold(text)))
