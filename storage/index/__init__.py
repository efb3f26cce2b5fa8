"""The index: every processed input, every archived result, preservation events, code sequences,
imported agencies and targets, API clients and their access log.

SQLAlchemy models over one engine (``schema.Database``); SQLite by default, PostgreSQL by URL.  The schema
is managed by Alembic migrations in ``storage/migrations`` and brought up to date when an ``Index`` is
opened.  Each concern has its own small face: ``index.results``, ``index.inputs``, ``index.sequences``,
``index.agencies``, ``index.clients``, ``index.registers``, and the workspace's ``index.users``,
``index.uploads``, ``index.review_claims``, ``index.runs``, and distributed backfills' ``index.jobs``.
"""

from __future__ import annotations

from storage.index.clients import ApiClients
from storage.index.jobs import JobDocument, JobProgress, Jobs, PageResult
from storage.index.outbox import DeliveryRecord, Lease, Outbox, WebhookRecord
from storage.index.registers import IssuingRegisters
from storage.index.registry import AgencyFigures, Sequences
from storage.index.results import InputLog, ResultIndex
from storage.index.schema import (
    SCHEMA_HEAD,
    AccessRecord,
    Base,
    ClientRecord,
    Database,
    Event,
    InputRecord,
    ResultQuery,
    ResultRecord,
)
from storage.index.workspace import (
    OfficerRecord,
    Officers,
    ReviewClaims,
    RunRecord,
    Runs,
    UploadRecord,
    Uploads,
    UserRecord,
    Users,
)

__all__ = [
    "DeliveryRecord", "JobDocument", "JobProgress", "Jobs", "PageResult", "Lease", "Outbox", "WebhookRecord",
    "SCHEMA_HEAD", "AccessRecord", "AgencyFigures", "ApiClients", "Base", "ClientRecord", "Database", "Event",
    "Index", "InputLog", "InputRecord", "IssuingRegisters", "ResultIndex", "ResultQuery", "OfficerRecord",
    "Officers", "ResultRecord", "ReviewClaims", "RunRecord", "Runs", "Sequences", "UploadRecord", "Uploads",
    "UserRecord", "Users"
]


class Index:
    """The index's parts over one database."""

    def __init__(self, url: str):
        self.db = Database(url)
        self.results = ResultIndex(self.db)
        self.inputs = InputLog(self.db)
        self.sequences = Sequences(self.db)
        self.agencies = AgencyFigures(self.db)
        self.clients = ApiClients(self.db)
        self.registers = IssuingRegisters(self.db)
        self.users = Users(self.db)
        self.uploads = Uploads(self.db)
        self.review_claims = ReviewClaims(self.db)
        self.runs = Runs(self.db)
        self.officers = Officers(self.db)
        self.outbox = Outbox(self.db)
        self.jobs = Jobs(self.db)

    @property
    def engine(self):
        return self.db.engine

    def revision(self) -> str | None:
        return self.db.revision()

    def close(self) -> None:
        self.db.close()
