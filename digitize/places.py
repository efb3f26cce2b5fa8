"""Place names of Vietnamese administrative units, to check an issuer's name as read.

OCR's usual slip on a header printed in capitals is a wrong or lost mark on a place name (KIEN GIANG, VĂN CHÂN,
HẢI HUNG).  The gazetteer (``data/places.toml``: the official lists before and after the 2025 reorganization and
the provinces of 1976–1997) says which spelling exists.  A name that is not in it but has exactly one spelling
there with the same letters, at the level its unit word names, is read as that spelling; anything else is left as
read.  A name after a unit word that is neither in the list nor put right (split or garbled: "TINH N HUỆ") is
told to the clerk: a real place missing from the list (a commune of the 1990s) costs a look, never a wrong
issuer archived.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

from digitize.text import modern_tone_marks, nfc, strip_accents

_PLACES_FILE = Path(__file__).parent / "data" / "places.toml"
# The unit word before a name, and the levels whose names may follow it.
_UNIT_LEVELS = {("TỈNH",): ("provinces",), ("THÀNH", "PHỐ"): ("provinces", "districts"),
                ("HUYỆN",): ("districts",), ("QUẬN",): ("districts",), ("THỊ", "XÃ"): ("districts",),
                ("XÃ",): ("communes",), ("PHƯỜNG",): ("communes",), ("THỊ", "TRẤN"): ("communes",)}
_LONGEST_NAME = 4  # words


@dataclass(frozen=True)
class Gazetteer:
    names: dict[str, frozenset[str]]  # level → upper-case names
    by_letters: dict[str, dict[str, frozenset[str]]]  # level → letters without marks and spaces → names

    def known(self, name: str, levels: tuple[str, ...] = ("provinces", "districts", "communes")) -> bool:
        """Whether ``name`` (any case) is the name of a unit at one of ``levels``."""
        key = _upper(name)
        return any(key in self.names[level] for level in levels)

    def spellings(self, name: str, levels: tuple[str, ...]) -> frozenset[str]:
        """The names at ``levels`` written with the same letters as ``name``, whatever its marks and spaces."""
        letters = _letters(name)
        return frozenset().union(*(self.by_letters[level].get(letters, frozenset()) for level in levels))


def _letters(name: str) -> str:
    return strip_accents(_upper(name)).replace(" ", "")


def _upper(name: str) -> str:
    return " ".join(modern_tone_marks(nfc(name)).upper().replace("-", " - ").split())


@functools.cache
def gazetteer() -> Gazetteer:
    """The gazetteer, loaded once per process."""
    raw = tomllib.loads(_PLACES_FILE.read_text("utf-8"))
    names, by_letters = {}, {}
    for level in ("provinces", "districts", "communes"):
        upper = frozenset(_upper(name) for name in raw[level])
        grouped: dict[str, set[str]] = {}
        for name in upper:
            grouped.setdefault(_letters(name), set()).add(name)
        names[level] = upper
        by_letters[level] = {letters: frozenset(group) for letters, group in grouped.items()}
    return Gazetteer(names, by_letters)


def correct_place_names(issuer: str) -> tuple[str, list[str]]:
    """An upper-case issuer with each place name after a unit word checked against the gazetteer:
    (the issuer with misread marks or a lost space put right, what was put right).  "TỈNH KIEN GIANG" →
    "TỈNH KIÊN GIANG", "TỈNH THÁIBÌNH" → "TỈNH THÁI BÌNH"."""
    places = gazetteer()
    words = issuer.split()
    changes = []
    i = 0
    while i < len(words):
        unit, levels = _unit_at(words, i)
        if not levels:
            i += 1
            continue
        start = i + len(unit)
        span = _known_span(words, start, levels)
        if span is None:
            for n in range(min(_LONGEST_NAME, len(words) - start), 0, -1):
                read = " ".join(words[start:start + n])
                spellings = places.spellings(read, levels)
                # One word stands for a name of two or more whose space was lost ("THÁIBÌNH"), never for a
                # one-word name: too many of those share their letters with a misread word.
                if len(spellings) == 1 and (n > 1 or len(next(iter(spellings)).split()) > 1):
                    right = next(iter(spellings))
                    words[start:start + n] = right.split()
                    changes.append(f"{read} read, {right} in the list of administrative units")
                    span = len(right.split())
                    break
        i = start + (span or 1)
    return " ".join(words), changes


def unknown_places(issuer: str) -> list[tuple[str, str]]:
    """(unit word, the two words after it) where the unit word is followed by no name of the list
    (("XÃ", "TINH N")): what ``correct_place_names`` could neither find nor put right.  Numbered units (QUẬN 1,
    PHƯỜNG 5) and "XÃ HỘI" (of a department's name: LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI) are no places to check."""
    words = issuer.split()
    unknown = []
    i = 0
    while i < len(words):
        unit, levels = _unit_at(words, i)
        start = i + len(unit)
        if not levels or start >= len(words) or words[start].isdigit() or \
                (unit == ("XÃ",) and words[start] == "HỘI"):
            i = start if levels else i + 1
            continue
        span = _known_span(words, start, levels)
        if span is None:
            unknown.append((" ".join(unit), " ".join(words[start:start + 2])))
        i = start + (span or 1)
    return unknown


def _unit_at(words: list[str], i: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    for unit in sorted(_UNIT_LEVELS, key=len, reverse=True):
        if tuple(words[i:i + len(unit)]) == unit:
            return unit, _UNIT_LEVELS[unit]
    return (), ()


def _known_span(words: list[str], start: int, levels: tuple[str, ...]) -> int | None:
    """How many words after ``start`` make a known name (the longest), if any.  None too when more words read
    as a known name with other marks ("THANH ĐÔNG" of THẠNH ĐÔNG): a shorter name in it ("THANH") is no reading
    of the place, which ``correct_place_names`` puts right or leaves unknown."""
    for n in range(min(_LONGEST_NAME, len(words) - start), 0, -1):
        read = " ".join(words[start:start + n])
        if gazetteer().known(read, levels):
            return n
        if n > 1 and gazetteer().spellings(read, levels):
            return None
    return None
