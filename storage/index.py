"""The index: every processed input, every archived result, preservation events and code sequences.

SQLAlchemy models; SQLite by default, PostgreSQL by URL.  The schema is managed by Alembic migrations in
``storage/migrations`` and brought up to date when an ``Index`` is opened.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest revision in migrations/versions (a test keeps the two equal).  Knowing it here spares every
# start Alembic's import, half a second of CPU, when the schema is already current.
SCHEMA_HEAD = "0003"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class Base(DeclarativeBase):
    pass


class SequenceRow(Base):
    __tablename__ = "sequences"
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, nullable=False)


class ResultRow(Base):
    __tablename__ = "results"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    source_sha256: Mapped[str] = mapped_column(String(64), index=True)
    doc_type: Mapped[str] = mapped_column(String(8), index=True)
    doc_type_name: Mapped[str] = mapped_column(String(200))
    confidence: Mapped[float] = mapped_column(Float)
    level: Mapped[str | None] = mapped_column(String(16), index=True, nullable=True)
    agency: Mapped[str] = mapped_column(String(40), index=True)
    fields: Mapped[dict] = mapped_column(JSON)
    pages: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    archive_key: Mapped[str] = mapped_column(String(512))
    retention: Mapped[str] = mapped_column(String(16), default="permanent")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    issued_on: Mapped[str | None] = mapped_column(String(10), nullable=True, index=True)
    holder_id: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    issuer_agency: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    dossier_code: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    result_alias: Mapped[str | None] = mapped_column(String(80), nullable=True, unique=True)


class AgencyRow(Base):
    __tablename__ = "agencies"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    level: Mapped[str] = mapped_column(String(16))
    parent: Mapped[str | None] = mapped_column(String(40), nullable=True)
    successor: Mapped[str | None] = mapped_column(String(40), nullable=True)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ValidResultsRow(Base):
    __tablename__ = "valid_results"
    agency: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ClientRow(Base):
    __tablename__ = "clients"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AccessRow(Base):
    __tablename__ = "access_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client: Mapped[str] = mapped_column(String(100), index=True)
    code: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(32))
    status: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class EventRow(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    event_type: Mapped[str] = mapped_column(String(32), index=True)
    agent: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


class InputRow(Base):
    __tablename__ = "inputs"
    __table_args__ = (UniqueConstraint("source_sha256", "source", name="uq_input_source"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(Text)
    source_sha256: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    code: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    doc_type: Mapped[str | None] = mapped_column(String(8), nullable=True)
    review: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, onupdate=_now)


@dataclass(frozen=True)
class ResultRecord:
    code: str
    version: int
    source_sha256: str
    doc_type: str
    doc_type_name: str
    confidence: float
    level: str | None
    agency: str
    fields: dict[str, Any]
    pages: int
    sha256: str
    size: int
    archive_key: str
    created_at: dt.datetime
    retention: str = "permanent"
    dossier_code: str | None = None
    result_alias: str | None = None


@dataclass(frozen=True)
class Event:
    """A PREMIS-like preservation event: what happened to a result, by which agent, when, how it ended."""

    event_type: str  # ingestion | ocr | classification | code_assignment | signing | storage | fixity_check …
    agent: str  # tool and version, e.g. "tesseract 5.3.0"
    outcome: str  # success | failure | warning
    detail: str | None = None
    at: dt.datetime = field(default_factory=_now)
    code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"event_type": self.event_type, "agent": self.agent, "outcome": self.outcome,
                "detail": self.detail, "at": self.at.isoformat(), "code": self.code}


@dataclass(frozen=True)
class ClientRecord:
    name: str
    scopes: dict[str, Any]
    created_at: dt.datetime
    revoked_at: dt.datetime | None


@dataclass(frozen=True)
class AccessRecord:
    client: str
    code: str | None
    action: str
    status: int
    at: dt.datetime


@dataclass(frozen=True)
class ResultQuery:
    """Filters of a result search; empty lists and None mean "any"."""

    doc_types: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    issued_from: str | None = None
    issued_to: str | None = None
    holder_id: str | None = None
    text: str | None = None
    dossier_code: str | None = None


@dataclass(frozen=True)
class InputRecord:
    id: int
    source: str
    source_sha256: str
    status: str
    error: str | None
    code: str | None
    doc_type: str | None
    review: dict[str, Any] | None
    updated_at: dt.datetime


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; every time sohoa stores is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _result(row: ResultRow) -> ResultRecord:
    return ResultRecord(row.code, row.version, row.source_sha256, row.doc_type, row.doc_type_name,
                        row.confidence, row.level, row.agency, dict(row.fields), row.pages, row.sha256,
                        row.size, row.archive_key, _aware(row.created_at), row.retention, row.dossier_code,
                        row.result_alias)


def _input(row: InputRow) -> InputRecord:
    return InputRecord(row.id, row.source, row.source_sha256, row.status, row.error, row.code, row.doc_type,
                       row.review, row.updated_at)


class Index:
    """SQLite by default, PostgreSQL by URL.  Implements ``codes.SequenceSource``."""

    def __init__(self, url: str):
        kwargs: dict[str, Any] = {"future": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 60}
        self.engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            @event.listens_for(self.engine, "connect")
            def _sqlite_pragmas(dbapi_conn, _record):
                dbapi_conn.execute("PRAGMA journal_mode=WAL")
                dbapi_conn.execute("PRAGMA synchronous=FULL")
                dbapi_conn.execute("PRAGMA busy_timeout=60000")
                # Let SQLAlchemy's BEGIN decide when the transaction starts.
                dbapi_conn.isolation_level = None

            @event.listens_for(self.engine, "begin")
            def _sqlite_begin(conn):
                # Writers take the write lock up front (no deadlocked lock upgrades); readers do not.
                conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("writer") else "BEGIN")
        self.writer = self.engine.execution_options(writer=True)  # PostgreSQL ignores the option
        self._migrate()

    def _migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (a no-op when it is already there)."""
        if self.revision() == SCHEMA_HEAD:
            return
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.writer.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def revision(self) -> str | None:
        """The schema's Alembic revision, read from its ``alembic_version`` table (None before the first)."""
        if not inspect(self.engine).has_table("alembic_version"):
            return None
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()

    def close(self) -> None:
        self.engine.dispose()

    # -- preservation events
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

    # -- codes.SequenceSource
    def next_sequence(self, key: str) -> int:
        """Atomically increment and return the sequence ``key`` (first value 1)."""
        for _ in range(20):
            with Session(self.writer) as session, session.begin():
                value = session.execute(
                    update(SequenceRow).where(SequenceRow.key == key)
                    .values(value=SequenceRow.value + 1).returning(SequenceRow.value)
                ).scalar_one_or_none()
                if value is not None:
                    return int(value)
            try:
                with Session(self.writer) as session, session.begin():
                    session.execute(insert(SequenceRow).values(key=key, value=1))
                return 1
            except IntegrityError:
                continue  # another process created it first: increment instead
        raise RuntimeError(f"could not allocate a number in sequence {key}")

    # -- results
    def add_result(self, record: ResultRecord, events: list[Event] = ()) -> None:
        """Record a result (or its new version) and its events in one transaction."""
        with Session(self.writer) as session, session.begin():
            session.merge(ResultRow(**{k: getattr(record, k) for k in record.__dataclass_fields__},
                                    issued_on=record.fields.get("issued_on"),
                                    holder_id=record.fields.get("holder_id"),
                                    issuer_agency=record.fields.get("issuer_agency")))
            session.add_all(EventRow(code=e.code or record.code, event_type=e.event_type, agent=e.agent, at=e.at,
                                     outcome=e.outcome, detail=e.detail) for e in events)

    def get_result(self, code: str) -> ResultRecord | None:
        with Session(self.engine) as session:
            row = session.get(ResultRow, code)
            return _result(row) if row else None

    def results_for_source(self, source_sha256: str) -> list[ResultRecord]:
        """Results made from one input file (several when a stack was split), oldest first."""
        with Session(self.engine) as session:
            return [_result(r) for r in session.scalars(select(ResultRow)
                                                        .where(ResultRow.source_sha256 == source_sha256)
                                                        .order_by(ResultRow.created_at, ResultRow.code))]

    def results(self) -> list[ResultRecord]:
        with Session(self.engine) as session:
            return [_result(r) for r in session.scalars(select(ResultRow).order_by(ResultRow.code))]

    def search_results(self, query: ResultQuery, offset: int = 0, limit: int = 50) -> tuple[int, list[ResultRecord]]:
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
        if query.text:
            pattern = f"%{query.text.replace('%', '').replace('_', '')}%"
            conditions.append(or_(ResultRow.code.like(pattern), ResultRow.doc_type_name.like(pattern)))
        with Session(self.engine) as session:
            total = session.scalar(select(func.count()).select_from(ResultRow).where(*conditions)) or 0
            rows = session.scalars(select(ResultRow).where(*conditions)
                                   .order_by(ResultRow.created_at.desc(), ResultRow.code).offset(offset).limit(limit))
            return int(total), [_result(r) for r in rows]

    def get_result_by_alias(self, alias: str) -> ResultRecord | None:
        with Session(self.engine) as session:
            row = session.scalars(select(ResultRow).where(ResultRow.result_alias == alias)).first()
            return _result(row) if row else None

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

    # -- imported agencies and counts of still-valid results (denominators of the targets)
    def upsert_agencies(self, agencies: list[dict[str, Any]]) -> int:
        with Session(self.writer) as session, session.begin():
            for entry in agencies:
                session.merge(AgencyRow(id=entry["id"], name=entry["name"], level=entry["level"],
                                        parent=entry.get("parent"), successor=entry.get("successor"),
                                        imported_at=_now()))
        return len(agencies)

    def imported_agencies(self) -> list[dict[str, Any]]:
        with Session(self.engine) as session:
            return [{"id": r.id, "name": r.name, "level": r.level, "parent": r.parent, "successor": r.successor}
                    for r in session.scalars(select(AgencyRow).order_by(AgencyRow.id))]

    def set_valid_results(self, rows: list[tuple[str, int, int]]) -> int:
        with Session(self.writer) as session, session.begin():
            for agency, year, count in rows:
                session.merge(ValidResultsRow(agency=agency, year=year, count=count, imported_at=_now()))
        return len(rows)

    def valid_results(self, year: int) -> dict[str, int]:
        with Session(self.engine) as session:
            return {r.agency: r.count for r in session.scalars(select(ValidResultsRow)
                                                               .where(ValidResultsRow.year == year))}

    # -- API clients and the access log
    def add_client(self, name: str, token_sha256: str, scopes: dict[str, Any]) -> None:
        with Session(self.writer) as session, session.begin():
            if session.scalars(select(ClientRow).where(ClientRow.name == name)).first():
                raise ValueError(f"a client named {name!r} already exists")
            session.add(ClientRow(name=name, token_sha256=token_sha256, scopes=scopes))

    def client_for_token(self, token_sha256: str) -> ClientRecord | None:
        """The active (not revoked) client whose token hashes to ``token_sha256``."""
        with Session(self.engine) as session:
            row = session.scalars(select(ClientRow).where(ClientRow.token_sha256 == token_sha256,
                                                          ClientRow.revoked_at.is_(None))).first()
            return ClientRecord(row.name, dict(row.scopes), row.created_at, row.revoked_at) if row else None

    def clients(self) -> list[ClientRecord]:
        with Session(self.engine) as session:
            return [ClientRecord(r.name, dict(r.scopes), r.created_at, r.revoked_at)
                    for r in session.scalars(select(ClientRow).order_by(ClientRow.name))]

    def revoke_client(self, name: str) -> bool:
        with Session(self.writer) as session, session.begin():
            row = session.scalars(select(ClientRow).where(ClientRow.name == name,
                                                          ClientRow.revoked_at.is_(None))).first()
            if row is None:
                return False
            row.revoked_at = _now()
            return True

    def log_access(self, client: str, code: str | None, action: str, status: int) -> None:
        self.log_accesses([AccessRecord(client, code, action, status, _now())])

    def log_accesses(self, entries: list[AccessRecord]) -> None:
        """Write several access-log entries in one transaction."""
        with Session(self.writer) as session, session.begin():
            session.add_all(AccessRow(client=e.client, code=e.code, action=e.action, status=e.status, at=e.at)
                            for e in entries)

    def access_log(self, client: str | None = None) -> list[AccessRecord]:
        with Session(self.engine) as session:
            query = select(AccessRow).order_by(AccessRow.id)
            if client:
                query = query.where(AccessRow.client == client)
            return [AccessRecord(r.client, r.code, r.action, r.status, r.at) for r in session.scalars(query)]

    # -- inputs
    def record_input(self, source: str, source_sha256: str, status: str, error: str | None = None,
                     code: str | None = None, doc_type: str | None = None,
                     review: dict[str, Any] | None = None) -> InputRecord:
        """Insert or update the row of one processed input (one row per path and content)."""
        review_json = json.loads(json.dumps(review, ensure_ascii=False)) if review is not None else None
        with Session(self.writer) as session, session.begin():
            row = session.scalars(select(InputRow).where(InputRow.source_sha256 == source_sha256,
                                                         InputRow.source == source)).first()
            if row is None:
                row = InputRow(source=source, source_sha256=source_sha256, status=status)
                session.add(row)
            row.status, row.error, row.code, row.doc_type, row.review = status, error, code, doc_type, review_json
            row.updated_at = _now()
            session.flush()
            return _input(row)

    def input_statuses(self) -> dict[str, str]:
        """Latest status of every input path (for resuming a batch without re-reading files)."""
        with Session(self.engine) as session:
            rows = session.execute(select(InputRow.source, InputRow.status).order_by(InputRow.updated_at))
            return {source: status for source, status in rows}

    def input_source_for_code(self, code: str) -> str | None:
        """The input label (path, or path#k for part of a stack) a result was made from."""
        with Session(self.engine) as session:
            return session.scalars(select(InputRow.source).where(InputRow.code == code).order_by(InputRow.id)).first()

    def get_input(self, input_id: int) -> InputRecord | None:
        with Session(self.engine) as session:
            row = session.get(InputRow, input_id)
            return _input(row) if row else None

    def inputs(self) -> list[InputRecord]:
        with Session(self.engine) as session:
            return [_input(r) for r in session.scalars(select(InputRow).order_by(InputRow.id))]
