"""Issuing registers (sổ đăng ký văn bản đi): read them from CSV or XLSX, and find the entry a scan is.

An office records every document it issues: number and symbol, date, kind, summary (trích yếu), signer.
Archivists who backfill usually hold that register as a spreadsheet.  A scan whose number was written by
hand and cannot be read is still one register entry: same kind, same date or month, summary words on the
page, the symbol's printed tail ("/QĐ-UBND") and whatever digits could be read.  One strong, unique
match gives the register's number and date, with the match as evidence; several close ones are a question
for a clerk.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from codes import DocumentType
from digitize.text import fold, nfc, parse_vietnamese_date

MAX_REGISTER_BYTES = 50 * 1024 * 1024
# Header names (folded: no accents, upper case) of each column, as offices and their software title them.
COLUMNS = {
    "number": ("SO, KY HIEU", "SO KY HIEU", "SO/KY HIEU", "SO VA KY HIEU", "SO VAN BAN", "SO KY HIEU VAN BAN",
               "SO", "NUMBER"),
    "issued_on": ("NGAY THANG", "NGAY, THANG", "NGAY BAN HANH", "NGAY THANG VAN BAN", "NGAY VAN BAN", "NGAY",
                  "DATE", "ISSUED_ON"),
    "kind": ("TEN LOAI", "TEN LOAI VAN BAN", "LOAI VAN BAN", "LOAI", "KIND"),
    "summary": ("TRICH YEU", "TRICH YEU NOI DUNG", "TRICH YEU NOI DUNG VAN BAN", "NOI DUNG", "SUMMARY"),
    "signer": ("NGUOI KY", "NGUOI KY VAN BAN", "SIGNER"),
}
STRONG, MARGIN, CLOSE = 7.0, 3.0, 5.0


class RegisterError(ValueError):
    """A register file that cannot be read, with the reason."""


@dataclass(frozen=True)
class RegisterEntry:
    """One line of an issuing register."""

    number: str
    issued_on: str  # ISO date
    kind: str = ""
    summary: str = ""
    signer: str = ""
    register: str = ""


@dataclass(frozen=True)
class RegisterMatch:
    """What the register says about a scan: the entry when one matches strongly and alone, else the close
    candidates (ambiguous) or nothing."""

    entry: RegisterEntry | None
    evidence: str
    candidates: tuple[RegisterEntry, ...] = ()


def read_register(path: Path, name: str = "") -> list[RegisterEntry]:
    """Entries of a register file (.csv in UTF-8, or .xlsx), found by their column titles."""
    if path.stat().st_size > MAX_REGISTER_BYTES:
        raise RegisterError(f"{path.name}: larger than {MAX_REGISTER_BYTES // 2**20} MB")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = _csv_rows(path)
    elif suffix in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(path)
    else:
        raise RegisterError(f"{path.name}: a register is a .csv or .xlsx file")
    header_at, columns = _find_header(rows[:20])
    entries = []
    for line, row in enumerate(rows[header_at + 1:], start=header_at + 2):
        cell = {field: row[columns[field]] if columns.get(field, len(row)) < len(row) else None for field in COLUMNS}
        number = nfc(str(cell["number"] or "")).strip()
        if not number:
            continue
        issued = _date(cell["issued_on"])
        if issued is None:
            raise RegisterError(f"{path.name} line {line}: the date {cell['issued_on']!r} is not a date")
        entries.append(RegisterEntry(number.replace(" ", ""), issued.isoformat(),
                                     *(nfc(str(cell.get(f) or "")).strip() for f in ("kind", "summary", "signer")),
                                     register=name or path.stem))
    if not entries:
        raise RegisterError(f"{path.name}: no entries under the header")
    return entries


def _csv_rows(path: Path) -> list[list[object]]:
    try:
        text = path.read_text("utf-8-sig")
    except UnicodeDecodeError:
        raise RegisterError(f"{path.name}: not UTF-8 text; save the register as CSV UTF-8 or as .xlsx") from None
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [list(row) for row in csv.reader(text.splitlines(), dialect)]


def _xlsx_rows(path: Path) -> list[list[object]]:
    try:
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        raise RegisterError(f"{path.name}: not a readable .xlsx workbook ({type(exc).__name__})") from None
    try:
        return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def _find_header(rows: Sequence[Sequence[object]]) -> tuple[int, dict[str, int]]:
    for at, row in enumerate(rows):
        titles = [re.sub(r"\s+", " ", fold(str(c or "")).replace(".", "")).strip() for c in row]
        columns = {}
        for field, names in COLUMNS.items():
            for i, title in enumerate(titles):
                if title in names and i not in columns.values():
                    columns[field] = i
                    break
        if "number" in columns and "issued_on" in columns:
            return at, columns
    raise RegisterError("no header row with a number column (Số, ký hiệu) and a date column (Ngày tháng)")


def _date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return parse_vietnamese_date(text)


_STOPWORDS = {"CUA", "VAN", "BAN", "CAC", "VIEC", "VOI", "CHO", "NAM", "THEO", "TREN", "DUOC", "TAI", "NGAY", "THANG"}


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[A-Z0-9Đ]+", fold(text)) if len(w) >= 3 and w not in _STOPWORDS}


def _kind_matches(entry: RegisterEntry, doc_type: DocumentType) -> bool:
    kind = fold(entry.kind)
    if kind and (kind in fold(doc_type.name) or fold(doc_type.name) in kind):
        return True
    abbreviation = doc_type.abbreviation
    return bool(abbreviation) and re.search(rf"/{re.escape(abbreviation)}-", entry.number) is not None


def match_register(entries: Iterable[RegisterEntry], doc_type: DocumentType | None, text: str,
                   number_line: str | None, issued_on: str | None, month_year: tuple[int, int] | None
                   ) -> RegisterMatch | None:
    """The register entry a document is, from what could be read of it.

    ``number_line``: the number line as read (digits may be missing: "Số: /QĐ-UBND"); ``issued_on``: the
    date read, if any; ``month_year``: month and year of a date line whose day is blank.
    """
    if doc_type is None:
        return None
    page_words = _words(text)
    line = (number_line or "").replace(" ", "")
    digits_read = re.match(r"\D*?(\d+)", line.split("/")[0] if "/" in line else line)
    tail = line[line.index("/"):] if "/" in line else ""
    scored = []
    for entry in entries:
        if not _kind_matches(entry, doc_type):
            continue
        score, why = 0.0, []
        entry_date = dt.date.fromisoformat(entry.issued_on)
        if issued_on:
            if entry.issued_on != issued_on:
                continue
            score += 3
            why.append("same date")
        elif month_year:
            if (entry_date.month, entry_date.year) != month_year:
                continue
            score += 1.5
            why.append("same month")
        if tail and len(tail) >= 3:
            if entry.number.endswith(tail):
                score += 2
                why.append(f"symbol {tail}")
            else:
                continue
        entry_digits = re.match(r"\d+", entry.number)
        if digits_read and entry_digits:
            if digits_read.group(1) == entry_digits.group(0):
                score += 3
                why.append("same digits")
            elif len(digits_read.group(1)) == len(entry_digits.group(0)):
                same = sum(a == b for a, b in zip(digits_read.group(1), entry_digits.group(0), strict=True))
                score += 1 if same * 2 >= len(entry_digits.group(0)) else -2
            else:
                score -= 2
        summary = _words(entry.summary)
        if summary:
            share = len(summary & page_words) / len(summary)
            score += 4 * share
            if share:
                why.append(f"{share:.0%} of the summary's words")
        scored.append((score, entry, why))
    if not scored:
        return None
    scored.sort(key=lambda s: -s[0])
    best_score, best, why = scored[0]
    runner_up = scored[1][0] if len(scored) > 1 else float("-inf")
    if best_score >= STRONG and best_score - runner_up >= MARGIN:
        return RegisterMatch(best, f"issuing register {best.register}: entry {best.number} of "
                                   f"{best.issued_on} ({', '.join(why)})")
    close = tuple(e for s, e, _ in scored if s >= CLOSE and best_score - s < MARGIN)
    if len(close) >= 2:
        return RegisterMatch(None, f"the issuing register has {len(close)} entries that could be this document: "
                                   + ", ".join(f"{e.number} of {e.issued_on}" for e in close[:5]), close)
    return None
