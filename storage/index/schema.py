"""The index's tables (SQLAlchemy models, managed by the Alembic migrations of ``storage/migrations``),
the records the index hands out, and the one engine and session factory every part of the index shares."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
# The newest revision in migrations/versions (a test keeps the two equal).  Knowing it here spares every
# start Alembic's import, half a second of CPU, when the schema is already current.
SCHEMA_HEAD = "0009"


def utc_now() -> dt.datetime:
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
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
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
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class ValidResultsRow(Base):
    __tablename__ = "valid_results"
    agency: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class ClientRow(Base):
    __tablename__ = "clients"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AccessRow(Base):
    __tablename__ = "access_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client: Mapped[str] = mapped_column(String(100), index=True)
    code: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(32))
    status: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    detail: Mapped[str | None] = mapped_column(String(64), nullable=True)  # keyed hash of a search's parameters


class EventRow(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    event_type: Mapped[str] = mapped_column(String(32), index=True)
    agent: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


class RegisterEntryRow(Base):
    __tablename__ = "register_entries"
    __table_args__ = (UniqueConstraint("register", "number", "issued_on", name="uq_register_entry"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    register: Mapped[str] = mapped_column(String(200), index=True)
    number: Mapped[str] = mapped_column(String(100))
    issued_on: Mapped[str] = mapped_column(String(10), index=True)
    kind: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    signer: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class ClaimRow(Base):
    __tablename__ = "claims"
    source_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    claimed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    password_set_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class OfficerRow(Base):
    __tablename__ = "officers"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    key_path: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    development: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class WebhookRow(Base):
    __tablename__ = "webhooks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16), default="webhook")  # webhook | national (the citizen's store)
    events: Mapped[list | None] = mapped_column(JSON, nullable=True)  # None: every event type
    secret: Mapped[str] = mapped_column(Text)  # encrypted by the application layer
    previous_secret: Mapped[str | None] = mapped_column(Text, nullable=True)
    previous_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class OutboxEventRow(Base):
    __tablename__ = "outbox_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    event_type: Mapped[str] = mapped_column(String(40), index=True)
    code: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    body: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class DeliveryRow(Base):
    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("event", "webhook", name="uq_delivery"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event: Mapped[int] = mapped_column(Integer, ForeignKey("outbox_events.id"), index=True)
    webhook: Mapped[int] = mapped_column(Integer, ForeignKey("webhooks.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending | delivered | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now, index=True)
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    leased_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class UploadRow(Base):
    __tablename__ = "uploads"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch: Mapped[str] = mapped_column(String(40), index=True)
    officer: Mapped[str] = mapped_column(String(100))
    file_name: Mapped[str] = mapped_column(String(300))
    stored_path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    dossier_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    type_hint: Mapped[str | None] = mapped_column(String(8), nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)  # a submitting system's
    procedure_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    holder_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # queued | processing | an Outcome status
    results: Mapped[list] = mapped_column(JSON, default=list)  # one entry per document of the file
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class ReviewClaimRow(Base):
    __tablename__ = "review_claims"
    input_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    officer: Mapped[str] = mapped_column(String(100))
    claimed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class RunRow(Base):
    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # backfill | process | counter
    label: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[list] = mapped_column(JSON, default=list)  # the latest few: source and reason
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SearchTextRow(Base):
    """The accent-folded words of each result (fields and text), for full-text search; SQLite mirrors it in
    the FTS5 table ``result_fts``, PostgreSQL indexes it with a GIN index on its tsvector."""

    __tablename__ = "result_search"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    body: Mapped[str] = mapped_column(Text)


class JobDocumentRow(Base):
    """One input of a distributed backfill, from enqueued to finished (``storage.index.jobs``)."""

    __tablename__ = "job_documents"
    __table_args__ = (UniqueConstraint("source", "source_sha256", name="uq_job_document"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(Integer, index=True)
    source: Mapped[str] = mapped_column(Text)  # the path as workers read it (a shared folder), or as it was given
    source_sha256: Mapped[str] = mapped_column(String(64), index=True)
    staged_key: Mapped[str | None] = mapped_column(Text, nullable=True)  # the original in the work store
    kind: Mapped[str] = mapped_column(String(8))
    page_count: Mapped[int] = mapped_column(Integer)
    text_pages: Mapped[list] = mapped_column(JSON, default=list)  # per page: read its text layer, no OCR
    signed: Mapped[bool] = mapped_column(Boolean, default=False)  # kept byte for byte: never split, always OCRed
    split_blank: Mapped[bool] = mapped_column(Boolean, default=False)
    # queued (not yet handed to the broker) | reading | ready (all pages in) | documenting | done
    state: Mapped[str] = mapped_column(String(16), index=True)
    pages_in: Mapped[int] = mapped_column(Integer, default=0)
    outcomes: Mapped[list] = mapped_column(JSON, default=list)  # report rows, once done
    claimed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    ready_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    swept_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)


class PageResultRow(Base):
    """One page of a distributed backfill's document: how often a worker took it, and what it read."""

    __tablename__ = "page_results"
    document_id: Mapped[int] = mapped_column(Integer, ForeignKey("job_documents.id"), primary_key=True)
    page_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    page: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # digitize.workers.page_outcome_to_dict
    error: Mapped[str | None] = mapped_column(Text, nullable=True)  # why the page could not be read
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)


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
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now, onupdate=utc_now)


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
    at: dt.datetime = field(default_factory=utc_now)
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
    detail: str | None = None  # a search: a keyed hash of its parameters (never the values themselves)


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
    words: str | None = None  # full text, diacritics ignored (storage.index.search)
    number: str | None = None  # the number and symbol, exactly


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


def result_from_row(row: ResultRow) -> ResultRecord:
    return ResultRecord(row.code, row.version, row.source_sha256, row.doc_type, row.doc_type_name,
                        row.confidence, row.level, row.agency, dict(row.fields), row.pages, row.sha256,
                        row.size, row.archive_key, _aware(row.created_at), row.retention, row.dossier_code,
                        row.result_alias)


def input_from_row(row: InputRow) -> InputRecord:
    return InputRecord(row.id, row.source, row.source_sha256, row.status, row.error, row.code, row.doc_type,
                       row.review, row.updated_at)


class Database:
    """One engine and session factory over the index's database; SQLite by default, PostgreSQL by URL.

    ``engine`` serves readers; ``writer`` takes SQLite's write lock at the start of its transactions.
    """

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
