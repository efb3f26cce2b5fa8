"""The sohoa result code: ``{agency id}-{paper-type code}-{YYMMDD}-{NNNN}`` (see shared/domain.md §3).

Example: ``000.00.00.H26-KS-230515-0001``.  The sequence runs per agency, type and day and is
allocated by a ``SequenceSource`` (the index), so two processes never get the same code.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from codes.agencies import InvalidAgencyId, validate_agency_id
from codes.catalogue import TYPE_CODE_RE

# Codes, targets and dates a clerk gives are days in Vietnam (UTC+7).
VIETNAM_TIME = dt.timezone(dt.timedelta(hours=7))

CODE_FORMAT_VERSION = 1
MAX_CODE_LENGTH = 35 + 1 + 6 + 1 + 6 + 1 + 6


class InvalidCode(ValueError):
    """A code from outside does not follow the sohoa code structure; the message says which segment."""


@dataclass(frozen=True)
class ResultCode:
    agency: str
    doc_type: str
    day: date
    sequence: int

    def __str__(self) -> str:
        return f"{self.agency}-{self.doc_type}-{self.day:%y%m%d}-{self.sequence:04d}"


class SequenceSource(Protocol):
    """Hands out the next number of a named sequence, atomically across processes."""

    def next_sequence(self, key: str) -> int: ...


def assign_code(agency: str, doc_type: str, day: date, sequences: SequenceSource) -> ResultCode:
    """Allocate a new, never reused code for a result of ``doc_type`` digitized by ``agency`` on ``day``."""
    validate_agency_id(agency)
    if not TYPE_CODE_RE.match(doc_type):
        raise InvalidCode(f"paper-type code {doc_type!r} must be 2-6 characters A-Z/0-9")
    number = sequences.next_sequence(f"{agency}|{doc_type}|{day:%y%m%d}")
    if number > 999_999:
        raise InvalidCode("sequence exhausted for this agency, type and day")
    return ResultCode(agency, doc_type, day, number)


def parse_code(code: str) -> ResultCode:
    """Parse and strictly validate a sohoa code; raise ``InvalidCode`` naming the faulty segment."""
    if not isinstance(code, str) or not code:
        raise InvalidCode("code is empty")
    if len(code) > MAX_CODE_LENGTH:
        raise InvalidCode(f"code is longer than {MAX_CODE_LENGTH} characters")
    if not code.isascii() or any(c.isspace() for c in code):
        raise InvalidCode("code may contain only ASCII letters, digits, dots and hyphens")
    parts = code.split("-")
    if len(parts) != 4:
        raise InvalidCode(f"code must have 4 segments separated by '-', found {len(parts)}")
    agency, doc_type, day_text, seq_text = parts
    try:
        validate_agency_id(agency)
    except InvalidAgencyId as exc:
        raise InvalidCode(f"segment 1 (agency): {exc}") from None
    if not TYPE_CODE_RE.match(doc_type):
        raise InvalidCode("segment 2 (paper type) must be 2-6 capital letters or digits")
    if not re.fullmatch(r"\d{6}", day_text):
        raise InvalidCode("segment 3 must be a date YYMMDD")
    try:
        day = date(2000 + int(day_text[:2]), int(day_text[2:4]), int(day_text[4:]))
    except ValueError:
        raise InvalidCode(f"segment 3 ({day_text}) is not a real date YYMMDD") from None
    if not re.fullmatch(r"\d{4,6}", seq_text) or int(seq_text) == 0:
        raise InvalidCode("segment 4 must be a sequence of 4-6 digits, not 0000")
    code_obj = ResultCode(agency, doc_type, day, int(seq_text))
    if len(seq_text) > 4 and seq_text.startswith("0"):
        raise InvalidCode("segment 4 longer than 4 digits must not start with 0")
    return code_obj
