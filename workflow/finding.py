"""Finding results for signed-in officers: the workspace's search and result pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from codes import InvalidCode, parse_dossier_code
from storage.index import Event, ResultQuery, ResultRecord
from workflow import results
from workflow.contracts import Refusal
from workflow.rooms import Rooms
from workflow.users import Officer, Right


class SearchRefused(Refusal):
    """A search the officer may not run, or a value that is not valid; ``vi`` says why in Vietnamese."""


@dataclass(frozen=True)
class OfficerSearch:
    """What an officer searches by; empty values mean any."""

    q: str | None = None  # a code or alias (opens it), else words found in any field or the text
    dossier: str | None = None
    holder_id: str | None = None  # exact, for officers with the right to read ID numbers
    number: str | None = None  # the number and symbol, exactly
    doc_type: str | None = None
    level: str | None = None
    agency: str | None = None
    issued_from: dt.date | None = None
    issued_to: dt.date | None = None

    @property
    def empty(self) -> bool:
        return not any(vars(self).values())


def exact_code(rooms: Rooms, q: str | None) -> ResultRecord | None:
    """The result a query names by its code or ``-KQ{n}`` alias, or None when it is not a code."""
    if not q or not any(ch.isdigit() for ch in q) or " " in q.strip():
        return None
    try:
        return results.find_result(rooms, q.strip())
    except results.ResultLookupError:
        return None


def search(rooms: Rooms, officer: Officer, wanted: OfficerSearch, offset: int = 0,
           limit: int = 20) -> tuple[int, list[ResultRecord]]:
    """Results matching ``wanted``, newest first, and how many match in all."""
    if wanted.holder_id and not officer.may(Right.PERSONAL_IDS):
        raise SearchRefused("searching by ID number needs the right to read ID numbers",
                            "tìm theo số định danh cần quyền xem số định danh")
    if wanted.holder_id and not (wanted.holder_id.isdigit() and len(wanted.holder_id) in (9, 12)):
        raise SearchRefused("an ID number has 9 or 12 digits", "số định danh có 9 hoặc 12 chữ số")
    dossier = None
    if wanted.dossier:
        try:
            dossier = str(parse_dossier_code(wanted.dossier.strip()))
        except InvalidCode as exc:
            raise SearchRefused(f"invalid dossier code: {exc}", "mã hồ sơ không hợp lệ") from None
    query = ResultQuery(
        doc_types=(wanted.doc_type,) if wanted.doc_type else (), levels=(wanted.level,) if wanted.level else (),
        agencies=(wanted.agency,) if wanted.agency else (),
        issued_from=wanted.issued_from.isoformat() if wanted.issued_from else None,
        issued_to=wanted.issued_to.isoformat() if wanted.issued_to else None, holder_id=wanted.holder_id,
        dossier_code=dossier, words=wanted.q, number=wanted.number.strip() if wanted.number else None)
    return rooms.index.results.search(query, offset=offset, limit=limit)


def shown_fields(officer: Officer, fields: dict[str, Any]) -> dict[str, Any]:
    """The fields as this officer may see them: the ID number masked without the right."""
    shown = dict(fields)
    if not officer.may(Right.PERSONAL_IDS) and shown.get("holder_id"):
        value = str(shown["holder_id"])
        shown["holder_id"] = value[:3] + "*" * (len(value) - 6) + value[-3:] if len(value) > 6 else "***"
    return shown


@dataclass(frozen=True)
class ResultPage:
    """Everything the result page shows."""

    record: ResultRecord
    fields: dict[str, Any]
    versions: list[int]
    verification: dict[str, Any] | None
    verification_error: str | None
    events: list[Event]
    metadata: dict[str, Any]


def result_page(rooms: Rooms, officer: Officer, code: str) -> ResultPage:
    """A result's metadata, versions, signature check and preservation events (``results.ResultLookupError``
    for a code that is not valid or not known)."""
    record = results.find_result(rooms, code)
    try:
        report, error = results.verification(rooms, record), None
    except Exception as exc:  # noqa: BLE001 - the page still shows what is known, and says what failed
        report, error = None, f"{type(exc).__name__}: {exc}"
    meta = results.version_metadata(rooms, record.code, record.version)
    return ResultPage(record, shown_fields(officer, record.fields), results.versions(rooms, record.code), report,
                      error, rooms.index.results.events(record.code), meta.to_dict())
