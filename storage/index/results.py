"""Results and inputs: what was archived (with its preservation events) and what was read."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import String, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.index.outbox import result_event_body, write_event
from storage.index.schema import (
    ClaimRow,
    Database,
    Event,
    EventRow,
    InputRecord,
    InputRow,
    ResultQuery,
    ResultRecord,
    ResultRow,
    input_from_row,
    result_from_row,
    utc_now,
)
from storage.index.search import index_body, matching_codes_sql, write_search_body


class ResultIndex:
    """Archived results (one row per code: its current version) and their preservation events."""

    def __init__(self, db: Database):
        self.engine, self.writer = db.engine, db.writer

    def add_events(self, events: list[Event]) -> None:
        with Session(self.writer) as session, session.begin():
            session.add_all(EventRow(code=e.code, event_type=e.event_type, agent=e.agent, at=e.at,
                                     outcome=e.outcome, detail=e.detail) for e in events)

    def events(self, code: str | None = None, event_type: str | None = None) -> list[Event]:
        with Session(self.engine) as session:
            query = select(EventRow).order_by(EventRow.id)
            if code is not None:
                query = query.where(EventRow.code == code)
            if event_type is not None:
                query = query.where(EventRow.event_type == event_type)
            return [Event(r.event_type, r.agent, r.outcome, r.detail, r.at, r.code) for r in session.scalars(query)]

    def add(self, record: ResultRecord, events: list[Event] = (), document_text: str = "") -> None:
        """Record a result (or its new version), its events and its searchable words in one transaction."""
        body = index_body(record.code, record.doc_type_name, record.fields, record.dossier_code,
                          record.result_alias, document_text)
        event_type = "result.archived" if record.version == 1 else "result.version"
        with Session(self.writer) as session, session.begin():
            write_search_body(session.connection(), record.code, body)
            # The outbox event is written with the record it announces (one transaction).
            write_event(session, event_type, record.code,
                        lambda event_id, at: result_event_body(record, event_type, event_id, at))
            session.merge(ResultRow(**{k: getattr(record, k) for k in record.__dataclass_fields__},
                                    issued_on=record.fields.get("issued_on"),
                                    holder_id=record.fields.get("holder_id"),
                                    issuer_agency=record.fields.get("issuer_agency")))
            session.add_all(EventRow(code=e.code or record.code, event_type=e.event_type, agent=e.agent, at=e.at,
                                     outcome=e.outcome, detail=e.detail) for e in events)

    def get(self, code: str) -> ResultRecord | None:
        with Session(self.engine) as session:
            row = session.get(ResultRow, code)
            return result_from_row(row) if row else None

    def for_source(self, source_sha256: str) -> list[ResultRecord]:
        """Results made from one input file (several when a stack was split), oldest first."""
        with Session(self.engine) as session:
            return [result_from_row(r) for r in session.scalars(select(ResultRow)
                                                        .where(ResultRow.source_sha256 == source_sha256)
                                                        .order_by(ResultRow.created_at, ResultRow.code))]

    def all(self) -> list[ResultRecord]:
        with Session(self.engine) as session:
            return [result_from_row(r) for r in session.scalars(select(ResultRow).order_by(ResultRow.code))]

    def search(self, query: ResultQuery, offset: int = 0, limit: int = 50) -> tuple[int, list[ResultRecord]]:
        """Results matching ``query`` (newest first) and how many match in all."""
        from sqlalchemy import func, or_

        conditions = []
        if query.doc_types:
            conditions.append(ResultRow.doc_type.in_(query.doc_types))
        if query.levels:
            conditions.append(ResultRow.level.in_(query.levels))
        if query.agencies:
            conditions.append(ResultRow.agency.in_(query.agencies))
        if query.issued_from:
            conditions.append(ResultRow.issued_on >= query.issued_from)
        if query.issued_to:
            conditions.append(ResultRow.issued_on <= query.issued_to)
        if query.holder_id:
            conditions.append(ResultRow.holder_id == query.holder_id)  # exact match only
        if query.dossier_code:
            conditions.append(ResultRow.dossier_code == query.dossier_code)
        if query.number:
            conditions.append(ResultRow.fields["number"].as_string() == query.number)
        if query.words:
            found = matching_codes_sql(self.engine.dialect.name, query.words)
            if found is None:
                return 0, []
            sql, params = found
            conditions.append(ResultRow.code.in_(text(sql).bindparams(**params).columns(code=String)))
        if query.text:
            # The text is matched as written: % and _ are letters here, not LIKE wildcards.
            escaped = query.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"%{escaped}%"
            conditions.append(or_(ResultRow.code.like(pattern, escape="\\"),
                                  ResultRow.doc_type_name.like(pattern, escape="\\")))
        with Session(self.engine) as session:
            total = session.scalar(select(func.count()).select_from(ResultRow).where(*conditions)) or 0
            rows = session.scalars(select(ResultRow).where(*conditions)
                                   .order_by(ResultRow.created_at.desc(), ResultRow.code).offset(offset).limit(limit))
            return int(total), [result_from_row(r) for r in rows]

    def by_alias(self, alias: str) -> ResultRecord | None:
        with Session(self.engine) as session:
            row = session.scalars(select(ResultRow).where(ResultRow.result_alias == alias)).first()
            return result_from_row(row) if row else None

    def count_in_dossier(self, dossier_code: str) -> int:
        from sqlalchemy import func

        with Session(self.engine) as session:
            return int(session.scalar(select(func.count()).select_from(ResultRow)
                                      .where(ResultRow.dossier_code == dossier_code)) or 0)

    def digitized_by_issuer(self, until: dt.datetime) -> dict[str, int]:
        """How many results of each issuing agency were archived before ``until``."""
        from sqlalchemy import func

        with Session(self.engine) as session:
            rows = session.execute(select(ResultRow.issuer_agency, func.count())
                                   .where(ResultRow.issuer_agency.is_not(None), ResultRow.created_at < until)
                                   .group_by(ResultRow.issuer_agency))
            return {agency: int(n) for agency, n in rows}



class InputLog:
    """Every processed input once per path and content, with its status (and review state)."""

    def __init__(self, db: Database):
        self.engine, self.writer = db.engine, db.writer

    def record(self, source: str, source_sha256: str, status: str, error: str | None = None,
                     code: str | None = None, doc_type: str | None = None,
                     review: dict[str, Any] | None = None, event_type: str | None = None) -> InputRecord:
        """Insert or update the row of one processed input (one row per path and content); ``event_type``: an
        outbox event announcing it (a review decision), written in the same transaction."""
        review_json = json.loads(json.dumps(review, ensure_ascii=False)) if review is not None else None
        with Session(self.writer) as session, session.begin():
            row = session.scalars(select(InputRow).where(InputRow.source_sha256 == source_sha256,
                                                         InputRow.source == source)).first()
            if row is None:
                row = InputRow(source=source, source_sha256=source_sha256, status=status)
                session.add(row)
            row.status, row.error, row.code, row.doc_type, row.review = status, error, code, doc_type, review_json
            row.updated_at = utc_now()
            session.flush()
            if event_type:
                data = {"input_id": row.id, "status": status, "doc_type": doc_type, "code": code}
                write_event(session, event_type, code, lambda event_id, at: {
                    "type": event_type, "id": event_id, "time": at.isoformat(), "data": data})
            return input_from_row(row)

    def statuses(self) -> dict[str, str]:
        """Latest status of every input path (for resuming a batch without re-reading files)."""
        with Session(self.engine) as session:
            rows = session.execute(select(InputRow.source, InputRow.status).order_by(InputRow.updated_at))
            return {source: status for source, status in rows}

    def source_for_code(self, code: str) -> str | None:
        """The input label (path, or path#k for part of a stack) a result was made from."""
        with Session(self.engine) as session:
            return session.scalars(select(InputRow.source).where(InputRow.code == code).order_by(InputRow.id)).first()

    def get(self, input_id: int) -> InputRecord | None:
        with Session(self.engine) as session:
            row = session.get(InputRow, input_id)
            return input_from_row(row) if row else None

    def all(self) -> list[InputRecord]:
        with Session(self.engine) as session:
            return [input_from_row(r) for r in session.scalars(select(InputRow).order_by(InputRow.id))]

    def with_status(self, status: str) -> list[InputRecord]:
        """The inputs in one status (e.g. waiting for review), oldest change first."""
        with Session(self.engine) as session:
            return [input_from_row(r) for r in session.scalars(
                select(InputRow).where(InputRow.status == status).order_by(InputRow.updated_at, InputRow.id))]

    def find(self, source: str, source_sha256: str) -> InputRecord | None:
        """The row of one input (path or path#part) with that content."""
        with Session(self.engine) as session:
            row = session.scalars(select(InputRow).where(InputRow.source == source,
                                                         InputRow.source_sha256 == source_sha256)).first()
            return input_from_row(row) if row else None

    # -- claims: one run works on an input at a time
    def claim(self, source_sha256: str, owner: str, is_stale: Callable[[str, dt.datetime], bool]) -> str | None:
        """Claim the input ``source_sha256`` for ``owner``; None when claimed, else the run that holds it.

        A claim whose holder ``is_stale`` (a run that died) is taken over, atomically: of two runs taking
        over the same stale claim, one wins.
        """
        for _ in range(5):
            try:
                with Session(self.writer) as session, session.begin():
                    session.execute(insert(ClaimRow).values(source_sha256=source_sha256, owner=owner,
                                                            claimed_at=utc_now()))
                return None
            except IntegrityError:
                pass
            with Session(self.engine) as session:
                row = session.get(ClaimRow, source_sha256)
                if row is None:
                    continue  # released in between: try again
                holder, since = row.owner, row.claimed_at
            if holder == owner:
                return None
            if not is_stale(holder, since if since.tzinfo else since.replace(tzinfo=dt.UTC)):
                return holder
            with Session(self.writer) as session, session.begin():
                taken = session.execute(update(ClaimRow).where(ClaimRow.source_sha256 == source_sha256,
                                                               ClaimRow.owner == holder)
                                        .values(owner=owner, claimed_at=utc_now())).rowcount
            if taken:
                return None
        return holder

    def release(self, source_sha256: str, owner: str) -> None:
        """Give up the claim on an input (its document is finished, or was never started)."""
        with Session(self.writer) as session, session.begin():
            session.execute(delete(ClaimRow).where(ClaimRow.source_sha256 == source_sha256,
                                                   ClaimRow.owner == owner))
