"""What the clerks' workspace keeps: users, counter uploads, review claims, and runs (for progress)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.index.schema import (
    Database,
    OfficerRow,
    ReviewClaimRow,
    RunRow,
    UploadRow,
    UserRow,
    _aware,
    utc_now,
)


@dataclass(frozen=True)
class UserRecord:
    name: str
    role: str
    password_hash: str
    password_set_at: dt.datetime
    failed_logins: int
    locked_until: dt.datetime | None
    disabled_at: dt.datetime | None
    created_at: dt.datetime

    @property
    def active(self) -> bool:
        return self.disabled_at is None


def _user(row: UserRow) -> UserRecord:
    return UserRecord(row.name, row.role, row.password_hash, _aware(row.password_set_at), row.failed_logins,
                      _aware(row.locked_until) if row.locked_until else None,
                      _aware(row.disabled_at) if row.disabled_at else None, _aware(row.created_at))


class Users:
    """Workspace users (officers) with their role and password hash."""

    def __init__(self, db: Database):
        self.engine, self.writer = db.engine, db.writer

    def add(self, name: str, role: str, password_hash: str) -> bool:
        """False when a user of that name exists."""
        try:
            with Session(self.writer) as session, session.begin():
                session.add(UserRow(name=name, role=role, password_hash=password_hash, failed_logins=0))
            return True
        except IntegrityError:
            return False

    def get(self, name: str) -> UserRecord | None:
        with Session(self.engine) as session:
            row = session.scalars(select(UserRow).where(UserRow.name == name)).first()
            return _user(row) if row else None

    def all(self) -> list[UserRecord]:
        with Session(self.engine) as session:
            return [_user(r) for r in session.scalars(select(UserRow).order_by(UserRow.name))]

    def _update(self, name: str, **values: Any) -> bool:
        with Session(self.writer) as session, session.begin():
            return bool(session.execute(update(UserRow).where(UserRow.name == name).values(**values)).rowcount)

    def set_password(self, name: str, password_hash: str) -> bool:
        """A new password; sessions signed in with the old one end, and a lock-out is lifted."""
        return self._update(name, password_hash=password_hash, password_set_at=utc_now(), failed_logins=0,
                            locked_until=None)

    def rehash(self, name: str, password_hash: str) -> None:
        """The same password under newer hashing parameters (sessions go on)."""
        self._update(name, password_hash=password_hash)

    def disable(self, name: str) -> bool:
        return self._update(name, disabled_at=utc_now())

    def failed_login(self, name: str, lock_after: int, lock_for: dt.timedelta) -> None:
        """Count a wrong password; the ``lock_after``-th in a row locks the user for ``lock_for``."""
        with Session(self.writer) as session, session.begin():
            row = session.scalars(select(UserRow).where(UserRow.name == name)).first()
            if row is None:
                return
            row.failed_logins += 1
            if row.failed_logins >= lock_after:
                row.locked_until, row.failed_logins = utc_now() + lock_for, 0

    def signed_in(self, name: str) -> None:
        self._update(name, failed_logins=0, locked_until=None)


@dataclass(frozen=True)
class UploadRecord:
    id: int
    batch: str
    officer: str
    file_name: str
    stored_path: str
    sha256: str
    dossier_code: str | None
    type_hint: str | None
    status: str
    results: list[dict[str, Any]]
    created_at: dt.datetime
    updated_at: dt.datetime
    procedure_code: str | None = None
    holder_id: str | None = None
    idempotency_key: str | None = None


def _upload(row: UploadRow) -> UploadRecord:
    return UploadRecord(row.id, row.batch, row.officer, row.file_name, row.stored_path, row.sha256,
                        row.dossier_code, row.type_hint, row.status, list(row.results or []),
                        _aware(row.created_at), _aware(row.updated_at), row.procedure_code, row.holder_id,
                        row.idempotency_key)


QUEUED, PROCESSING = "queued", "processing"


class Uploads:
    """Files handed in at the counter, and how far each got: the counter page polls this."""

    def __init__(self, db: Database):
        self.engine, self.writer = db.engine, db.writer

    def add(self, batch: str, officer: str, file_name: str, stored_path: str, sha256: str,
            dossier_code: str | None, type_hint: str | None, procedure_code: str | None = None,
            holder_id: str | None = None, idempotency_key: str | None = None) -> int:
        with Session(self.writer) as session, session.begin():
            row = UploadRow(batch=batch, officer=officer, file_name=file_name, stored_path=stored_path,
                            sha256=sha256, dossier_code=dossier_code, type_hint=type_hint, status=QUEUED,
                            results=[], procedure_code=procedure_code, holder_id=holder_id,
                            idempotency_key=idempotency_key)
            session.add(row)
            session.flush()
            return row.id

    def take(self, limit: int) -> list[UploadRecord]:
        """Up to ``limit`` queued uploads, oldest first, marked as processing (none is taken twice)."""
        taken = []
        with Session(self.writer) as session, session.begin():
            for row in session.scalars(select(UploadRow).where(UploadRow.status == QUEUED)
                                       .order_by(UploadRow.id).limit(limit).with_for_update(skip_locked=True)):
                row.status, row.updated_at = PROCESSING, utc_now()
                taken.append(_upload(row))
        return taken

    def requeue_processing(self) -> int:
        """Uploads a stopped server was working on go back to the queue (the ingest's claims and the
        index keep a document from being archived twice)."""
        with Session(self.writer) as session, session.begin():
            return session.execute(update(UploadRow).where(UploadRow.status == PROCESSING)
                                   .values(status=QUEUED, updated_at=utc_now())).rowcount

    def finish(self, upload_id: int, status: str, results: list[dict[str, Any]]) -> None:
        with Session(self.writer) as session, session.begin():
            session.execute(update(UploadRow).where(UploadRow.id == upload_id)
                            .values(status=status, results=results, updated_at=utc_now()))

    def get(self, upload_id: int) -> UploadRecord | None:
        with Session(self.engine) as session:
            row = session.get(UploadRow, upload_id)
            return _upload(row) if row else None

    def batch(self, batch: str) -> list[UploadRecord]:
        with Session(self.engine) as session:
            return [_upload(r) for r in session.scalars(select(UploadRow).where(UploadRow.batch == batch)
                                                         .order_by(UploadRow.id))]

    def batch_for_key(self, officer: str, idempotency_key: str) -> str | None:
        """The batch a submitter's earlier request with this key made, if any."""
        with Session(self.engine) as session:
            return session.scalars(select(UploadRow.batch).where(UploadRow.officer == officer,
                                                                 UploadRow.idempotency_key == idempotency_key)
                                   .limit(1)).first()

    def recent(self, officer: str | None = None, limit: int = 50) -> list[UploadRecord]:
        """The newest uploads (of one officer, or everyone's), newest first."""
        with Session(self.engine) as session:
            query = select(UploadRow).order_by(UploadRow.id.desc()).limit(limit)
            if officer is not None:
                query = query.where(UploadRow.officer == officer)
            return [_upload(r) for r in session.scalars(query)]

    def counts(self) -> dict[str, int]:
        with Session(self.engine) as session:
            return {status: int(n) for status, n in
                    session.execute(select(UploadRow.status, func.count()).group_by(UploadRow.status))}


class ReviewClaims:
    """Who is working on a document waiting for review, so that two clerks never edit the same one."""

    def __init__(self, db: Database):
        self.engine, self.writer = db.engine, db.writer

    def claim(self, input_id: int, officer: str, stale_after: dt.timedelta) -> str | None:
        """Claim ``input_id`` for ``officer``: None when it is theirs now, else the officer who holds it.
        A claim older than ``stale_after`` (a clerk who left) is taken over."""
        for _ in range(3):
            try:
                with Session(self.writer) as session, session.begin():
                    session.execute(insert(ReviewClaimRow).values(input_id=input_id, officer=officer,
                                                                  claimed_at=utc_now()))
                return None
            except IntegrityError:
                pass
            with Session(self.writer) as session, session.begin():
                row = session.get(ReviewClaimRow, input_id)
                if row is None:
                    continue
                if row.officer == officer or utc_now() - _aware(row.claimed_at) > stale_after:
                    row.officer, row.claimed_at = officer, utc_now()
                    return None
                return row.officer
        return None

    def holder(self, input_id: int) -> tuple[str, dt.datetime] | None:
        with Session(self.engine) as session:
            row = session.get(ReviewClaimRow, input_id)
            return (row.officer, _aware(row.claimed_at)) if row else None

    def all(self) -> dict[int, str]:
        with Session(self.engine) as session:
            return {r.input_id: r.officer for r in session.scalars(select(ReviewClaimRow))}

    def release(self, input_id: int, officer: str | None = None) -> None:
        with Session(self.writer) as session, session.begin():
            query = delete(ReviewClaimRow).where(ReviewClaimRow.input_id == input_id)
            if officer is not None:
                query = query.where(ReviewClaimRow.officer == officer)
            session.execute(query)


@dataclass(frozen=True)
class RunRecord:
    id: int
    kind: str
    label: str
    owner: str
    total: int
    done: int
    failed: int
    pages: int
    failures: list[dict[str, str]]
    started_at: dt.datetime
    updated_at: dt.datetime
    finished_at: dt.datetime | None


def _run(row: RunRow) -> RunRecord:
    return RunRecord(row.id, row.kind, row.label, row.owner, row.total, row.done, row.failed, row.pages,
                     list(row.failures or []), _aware(row.started_at), _aware(row.updated_at),
                     _aware(row.finished_at) if row.finished_at else None)


KEPT_FAILURES = 20


class Runs:
    """Batches and backfills as they go, for the progress page (any machine sharing the index sees them)."""

    def __init__(self, db: Database):
        self.engine, self.writer = db.engine, db.writer

    def start(self, kind: str, label: str, owner: str, total: int) -> int:
        with Session(self.writer) as session, session.begin():
            row = RunRow(kind=kind, label=label, owner=owner, total=total, done=0, failed=0, pages=0, failures=[])
            session.add(row)
            session.flush()
            return row.id

    def progress(self, run_id: int, done: int, failed: int, pages: int,
                 new_failures: list[dict[str, str]] = ()) -> None:
        with Session(self.writer) as session, session.begin():
            row = session.get(RunRow, run_id)
            if row is None:
                return
            row.done, row.failed, row.pages, row.updated_at = done, failed, pages, utc_now()
            if new_failures:
                row.failures = [*(row.failures or []), *new_failures][-KEPT_FAILURES:]

    def count(self, run_id: int, documents: int, failed: int, pages: int,
              new_failures: list[dict[str, str]] = ()) -> None:
        """Add to a run's counts (the workers of a distributed run each add what they finished)."""
        with Session(self.writer) as session, session.begin():
            row = session.get(RunRow, run_id, with_for_update=True)
            if row is None:
                return
            row.done, row.failed, row.pages = row.done + documents, row.failed + failed, row.pages + pages
            row.updated_at = utc_now()
            if new_failures:
                row.failures = [*(row.failures or []), *new_failures][-KEPT_FAILURES:]

    def get(self, run_id: int) -> RunRecord | None:
        with Session(self.engine) as session:
            row = session.get(RunRow, run_id)
            return _run(row) if row else None

    def finish(self, run_id: int) -> None:
        with Session(self.writer) as session, session.begin():
            session.execute(update(RunRow).where(RunRow.id == run_id).values(finished_at=utc_now(),
                                                                             updated_at=utc_now()))

    def recent(self, limit: int = 20) -> list[RunRecord]:
        """Runs still going first, then the latest finished, newest first."""
        with Session(self.engine) as session:
            rows = session.scalars(select(RunRow).order_by(RunRow.finished_at.is_not(None), RunRow.id.desc())
                                   .limit(limit))
            return [_run(r) for r in rows]


@dataclass(frozen=True)
class OfficerRecord:
    name: str
    full_name: str
    key_path: str
    subject: str
    development: bool
    created_at: dt.datetime
    disabled_at: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.disabled_at is None


def _officer(row: OfficerRow) -> OfficerRecord:
    return OfficerRecord(row.name, row.full_name, row.key_path, row.subject, row.development, _aware(row.created_at),
                         _aware(row.disabled_at) if row.disabled_at else None)


class Officers:
    """Digitizing officers with a personal signing key (the key itself stays in the key folder)."""

    def __init__(self, db: Database):
        self.engine, self.writer = db.engine, db.writer

    def put(self, name: str, full_name: str, key_path: str, subject: str, development: bool) -> None:
        """Add an officer, or give an existing one a new key (enabled again)."""
        with Session(self.writer) as session, session.begin():
            session.merge(OfficerRow(name=name, full_name=full_name, key_path=key_path, subject=subject,
                                     development=development, created_at=utc_now(), disabled_at=None))

    def get(self, name: str) -> OfficerRecord | None:
        with Session(self.engine) as session:
            row = session.get(OfficerRow, name)
            return _officer(row) if row else None

    def all(self) -> list[OfficerRecord]:
        with Session(self.engine) as session:
            return [_officer(r) for r in session.scalars(select(OfficerRow).order_by(OfficerRow.name))]

    def disable(self, name: str) -> bool:
        with Session(self.writer) as session, session.begin():
            return bool(session.execute(update(OfficerRow).where(OfficerRow.name == name)
                                        .values(disabled_at=utc_now())).rowcount)
