"""Dossier codes (mã hồ sơ, Decree 61/2018 Art. 26, Circular 01/2018 Art. 19) and result aliases.

``000.00.00.H26-230515-0001`` — receiving unit, reception date YYMMDD, sequence within the day (4 digits;
ministries use 6–7; portals also write the short agency form ``H15.50.05.13-261008-0975``).
A result synced to the citizen's store is ``{dossier code}-KQ{n}`` (Decree 45/2020 Art. 14(3));
``KQ1``, ``KQ01`` and ``KQ(1)`` are all accepted and written back as ``KQ1``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from codes.agencies import InvalidAgencyId, validate_agency_id
from codes.result_code import InvalidCode, ResultCode, parse_code

_KQ_RE = re.compile(r"^KQ(?:(\d{1,3})|\((\d{1,3})\))$")


@dataclass(frozen=True)
class DossierCode:
    agency: str
    day: date
    sequence: str  # kept as printed: its padding is part of the code

    def __str__(self) -> str:
        return f"{self.agency}-{self.day:%y%m%d}-{self.sequence}"


@dataclass(frozen=True)
class ResultAlias:
    dossier: DossierCode
    number: int

    def __str__(self) -> str:
        return f"{self.dossier}-KQ{self.number}"


def _check_ascii(text: str) -> None:
    if not isinstance(text, str) or not text:
        raise InvalidCode("code is empty")
    if len(text) > 64:
        raise InvalidCode("code is longer than 64 characters")
    if not text.isascii() or any(c.isspace() for c in text):
        raise InvalidCode("code may contain only ASCII letters, digits, dots, hyphens and brackets")


def parse_dossier_code(text: str) -> DossierCode:
    """Parse a dossier code strictly; ``InvalidCode`` names the faulty segment."""
    _check_ascii(text)
    parts = text.split("-")
    if len(parts) != 3:
        raise InvalidCode(f"a dossier code has 3 segments separated by '-', found {len(parts)}")
    agency, day_text, sequence = parts
    try:
        validate_agency_id(agency)
    except InvalidAgencyId as exc:
        raise InvalidCode(f"segment 1 (receiving unit): {exc}") from None
    if not re.fullmatch(r"\d{6}", day_text):
        raise InvalidCode("segment 2 must be the reception date YYMMDD")
    try:
        day = date(2000 + int(day_text[:2]), int(day_text[2:4]), int(day_text[4:]))
    except ValueError:
        raise InvalidCode(f"segment 2 ({day_text}) is not a real date YYMMDD") from None
    if not re.fullmatch(r"\d{4,7}", sequence) or int(sequence) == 0:
        raise InvalidCode("segment 3 must be a sequence of 4-7 digits, not all zeros")
    return DossierCode(agency, day, sequence)


def parse_result_alias(text: str) -> ResultAlias:
    """Parse ``{dossier code}-KQ{n}``."""
    _check_ascii(text)
    head, _, tail = text.rpartition("-")
    match = _KQ_RE.match(tail)
    if not head or not match:
        raise InvalidCode("a result alias ends in -KQ{n}, e.g. 000.00.00.H26-230515-0001-KQ1")
    number = int(match.group(1) or match.group(2))
    if number == 0:
        raise InvalidCode("the result number after KQ starts at 1")
    return ResultAlias(parse_dossier_code(head), number)


def parse_any(text: str) -> ResultCode | ResultAlias | DossierCode:
    """Whatever code comes from outside: a sohoa result code, a result alias, or a dossier code."""
    _check_ascii(text)
    parts = text.split("-")
    if parts and _KQ_RE.match(parts[-1]):
        return parse_result_alias(text)
    if len(parts) == 3:
        return parse_dossier_code(text)
    return parse_code(text)
