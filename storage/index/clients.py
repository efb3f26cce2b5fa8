"""Systems allowed to use the HTTP API (token hashes and scopes) and the log of what they read."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.index.schema import AccessRecord, AccessRow, ClientRecord, ClientRow, Database, utc_now


class ApiClients:
    """Registered API clients and the access log."""

    def __init__(self, db: Database):
        self.engine, self.writer = db.engine, db.writer

    def add(self, name: str, token_sha256: str, scopes: dict[str, Any]) -> None:
        with Session(self.writer) as session, session.begin():
            if session.scalars(select(ClientRow).where(ClientRow.name == name)).first():
                raise ValueError(f"a client named {name!r} already exists")
            session.add(ClientRow(name=name, token_sha256=token_sha256, scopes=scopes))

    def for_token(self, token_sha256: str) -> ClientRecord | None:
        """The active (not revoked) client whose token hashes to ``token_sha256``."""
        with Session(self.engine) as session:
            row = session.scalars(select(ClientRow).where(ClientRow.token_sha256 == token_sha256,
                                                          ClientRow.revoked_at.is_(None))).first()
            return ClientRecord(row.name, dict(row.scopes), row.created_at, row.revoked_at) if row else None

    def all(self) -> list[ClientRecord]:
        with Session(self.engine) as session:
            return [ClientRecord(r.name, dict(r.scopes), r.created_at, r.revoked_at)
                    for r in session.scalars(select(ClientRow).order_by(ClientRow.name))]

    def revoke(self, name: str) -> bool:
        with Session(self.writer) as session, session.begin():
            row = session.scalars(select(ClientRow).where(ClientRow.name == name,
                                                          ClientRow.revoked_at.is_(None))).first()
            if row is None:
                return False
            row.revoked_at = utc_now()
            return True

    def log_access(self, client: str, code: str | None, action: str, status: int) -> None:
        self.log_accesses([AccessRecord(client, code, action, status, utc_now())])

    def log_accesses(self, entries: list[AccessRecord]) -> None:
        """Write several access-log entries in one transaction."""
        with Session(self.writer) as session, session.begin():
            session.add_all(AccessRow(client=e.client, code=e.code, action=e.action, status=e.status, at=e.at,
                                      detail=e.detail) for e in entries)

    def access_log(self, client: str | None = None) -> list[AccessRecord]:
        with Session(self.engine) as session:
            query = select(AccessRow).order_by(AccessRow.id)
            if client:
                query = query.where(AccessRow.client == client)
            return [AccessRecord(r.client, r.code, r.action, r.status, r.at, r.detail)
                    for r in session.scalars(query)]

    def misses_since(self, client: str, since: dt.datetime, actions: tuple[str, ...]) -> int:
        """How many of the client's look-ups found nothing since ``since`` (status 404, or a logged no-hit)."""
        from sqlalchemy import func, or_

        with Session(self.engine) as session:
            return int(session.scalar(select(func.count()).select_from(AccessRow).where(
                AccessRow.client == client, AccessRow.at >= since,
                or_(AccessRow.status == 404, AccessRow.action.in_(actions)))) or 0)
