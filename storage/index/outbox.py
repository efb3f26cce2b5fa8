"""The transactional outbox: an event is written in the same transaction as what it records (no event without
its record, no record without its event), with one delivery per matching webhook; dispatchers lease due
deliveries (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's write lock serializes them), and a lease that
runs out (a dispatcher killed mid-delivery) is taken over: delivery is at least once, keyed by the event id.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from storage.index.schema import (
    Database,
    DeliveryRow,
    OutboxEventRow,
    ResultRecord,
    WebhookRow,
    _aware,
    utc_now,
)

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


def result_event_body(record: ResultRecord, event_type: str, event_id: str, at: dt.datetime) -> dict[str, Any]:
    """What subscribers are told of an archived result: never the holder's name or ID number."""
    return {"type": event_type, "id": event_id, "time": at.isoformat(), "data": {
        "code": record.code, "version": record.version, "result_alias": record.result_alias,
        "dossier_code": record.dossier_code, "doc_type": {"code": record.doc_type, "name": record.doc_type_name},
        "level": record.level, "agency": record.agency, "issuer_agency": record.fields.get("issuer_agency"),
        "issued_on": record.fields.get("issued_on"), "sha256": record.sha256,
        "links": {"self": f"/v1/results/{record.code}", "document": f"/v1/results/{record.code}/document"}}}


def write_event(session: Session, event_type: str, code: str | None, body_for) -> str:
    """Add an event (``body_for(event_id, at)`` gives its body) and its deliveries inside ``session``'s
    transaction; returns the event id."""
    event_id, at = f"evt_{uuid.uuid4().hex}", utc_now()
    row = OutboxEventRow(event_id=event_id, event_type=event_type, code=code, body=body_for(event_id, at),
                         created_at=at)
    session.add(row)
    session.flush()
    for hook in session.scalars(select(WebhookRow).where(WebhookRow.disabled_at.is_(None))):
        if hook.events is None or event_type in hook.events:
            session.add(DeliveryRow(event=row.id, webhook=hook.id, status=PENDING, attempts=0, next_attempt_at=at))
    return event_id


@dataclass(frozen=True)
class WebhookRecord:
    id: int
    url: str
    events: list[str] | None
    secret: str
    previous_secret: str | None
    previous_until: dt.datetime | None
    created_at: dt.datetime
    disabled_at: dt.datetime | None
    kind: str = "webhook"


def _hook(row: WebhookRow) -> WebhookRecord:
    return WebhookRecord(row.id, row.url, list(row.events) if row.events is not None else None, row.secret,
                         row.previous_secret, _aware(row.previous_until) if row.previous_until else None,
                         _aware(row.created_at), _aware(row.disabled_at) if row.disabled_at else None,
                         row.kind or "webhook")


@dataclass(frozen=True)
class Lease:
    """A delivery a dispatcher holds until ``until``."""

    delivery_id: int
    webhook: WebhookRecord
    event_id: str
    body: dict[str, Any]
    attempts: int
    event_created_at: dt.datetime


@dataclass(frozen=True)
class DeliveryRecord:
    id: int
    event_id: str
    event_type: str
    webhook: int
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str | None
    delivered_at: dt.datetime | None


class Outbox:
    """Webhook subscribers, events and their deliveries."""

    def __init__(self, db: Database):
        self.engine, self.writer = db.engine, db.writer

    # -- subscribers
    def add_webhook(self, url: str, events: list[str] | None, secret: str, kind: str = "webhook") -> int:
        with Session(self.writer) as session, session.begin():
            row = WebhookRow(url=url, events=events, secret=secret, kind=kind)
            session.add(row)
            session.flush()
            return row.id

    def webhooks(self) -> list[WebhookRecord]:
        with Session(self.engine) as session:
            return [_hook(r) for r in session.scalars(select(WebhookRow).order_by(WebhookRow.id))]

    def webhook(self, webhook_id: int) -> WebhookRecord | None:
        with Session(self.engine) as session:
            row = session.get(WebhookRow, webhook_id)
            return _hook(row) if row else None

    def disable_webhook(self, webhook_id: int) -> bool:
        with Session(self.writer) as session, session.begin():
            return bool(session.execute(update(WebhookRow).where(WebhookRow.id == webhook_id)
                                        .values(disabled_at=utc_now())).rowcount)

    def rotate_secret(self, webhook_id: int, secret: str, keep_old_for: dt.timedelta) -> bool:
        """A new secret; the old one still signs deliveries for ``keep_old_for`` (both signatures are sent)."""
        with Session(self.writer) as session, session.begin():
            row = session.get(WebhookRow, webhook_id)
            if row is None:
                return False
            row.previous_secret, row.previous_until, row.secret = row.secret, utc_now() + keep_old_for, secret
            return True

    # -- events
    def events(self, after: int = 0, limit: int = 100, types: tuple[str, ...] = ()) -> list[tuple[int, dict]]:
        """Events after the position ``after`` (the feed's stable ids), oldest first: (position, body)."""
        with Session(self.engine) as session:
            query = select(OutboxEventRow.id, OutboxEventRow.body).where(OutboxEventRow.id > after)
            if types:
                query = query.where(OutboxEventRow.event_type.in_(types))
            return [(position, dict(body)) for position, body in
                    session.execute(query.order_by(OutboxEventRow.id).limit(limit))]

    # -- deliveries
    def lease(self, owner: str, limit: int, lease_for: dt.timedelta) -> list[Lease]:
        """Take up to ``limit`` due deliveries of active webhooks for ``owner`` until the lease runs out."""
        now = utc_now()
        with Session(self.writer) as session, session.begin():
            rows = session.execute(
                select(DeliveryRow, OutboxEventRow, WebhookRow)
                .join(OutboxEventRow, OutboxEventRow.id == DeliveryRow.event)
                .join(WebhookRow, WebhookRow.id == DeliveryRow.webhook)
                .where(DeliveryRow.status == PENDING, DeliveryRow.next_attempt_at <= now,
                       WebhookRow.disabled_at.is_(None),
                       or_(DeliveryRow.lease_until.is_(None), DeliveryRow.lease_until < now))
                .order_by(DeliveryRow.id).limit(limit)
                .with_for_update(skip_locked=True, of=DeliveryRow)).all()
            leases = []
            for delivery, event, hook in rows:
                delivery.lease_until, delivery.leased_by = now + lease_for, owner
                leases.append(Lease(delivery.id, _hook(hook), event.event_id, dict(event.body), delivery.attempts,
                                    _aware(event.created_at)))
            return leases

    def _finish(self, delivery_id: int, owner: str, **values: Any) -> bool:
        with Session(self.writer) as session, session.begin():
            return bool(session.execute(
                update(DeliveryRow).where(DeliveryRow.id == delivery_id, DeliveryRow.leased_by == owner,
                                          DeliveryRow.status == PENDING)
                .values(lease_until=None, leased_by=None, **values)).rowcount)

    def delivered(self, delivery_id: int, owner: str) -> bool:
        return self._finish(delivery_id, owner, status=DELIVERED, delivered_at=utc_now(), last_error=None,
                            attempts=DeliveryRow.attempts + 1)

    def failed(self, delivery_id: int, owner: str, next_attempt_at: dt.datetime, error: str, dead: bool) -> bool:
        return self._finish(delivery_id, owner, status=DEAD if dead else PENDING, next_attempt_at=next_attempt_at,
                            last_error=error[:500], attempts=DeliveryRow.attempts + 1)

    def deliveries(self, status: str | None = None, limit: int = 200) -> list[DeliveryRecord]:
        with Session(self.engine) as session:
            query = (select(DeliveryRow, OutboxEventRow.event_id, OutboxEventRow.event_type)
                     .join(OutboxEventRow, OutboxEventRow.id == DeliveryRow.event).order_by(DeliveryRow.id.desc())
                     .limit(limit))
            if status:
                query = query.where(DeliveryRow.status == status)
            return [DeliveryRecord(d.id, event_id, event_type, d.webhook, d.status, d.attempts,
                                   _aware(d.next_attempt_at), d.last_error,
                                   _aware(d.delivered_at) if d.delivered_at else None)
                    for d, event_id, event_type in session.execute(query)]

    def retry(self, delivery_ids: list[int] | None = None) -> int:
        """Dead (or the given) deliveries are due again now."""
        with Session(self.writer) as session, session.begin():
            query = update(DeliveryRow).values(status=PENDING, next_attempt_at=utc_now(), lease_until=None,
                                               leased_by=None)
            query = query.where(DeliveryRow.id.in_(delivery_ids)) if delivery_ids else \
                query.where(DeliveryRow.status == DEAD)
            return session.execute(query).rowcount

    def replay(self, webhook_id: int, after: int = 0) -> int:
        """Every event after position ``after`` is delivered to the webhook again (or for the first time)."""
        now = utc_now()
        with Session(self.writer) as session, session.begin():
            hook = session.get(WebhookRow, webhook_id)
            if hook is None:
                return 0
            count = 0
            for event in session.scalars(select(OutboxEventRow).where(OutboxEventRow.id > after)):
                if hook.events is not None and event.event_type not in hook.events:
                    continue
                existing = session.scalars(select(DeliveryRow).where(and_(DeliveryRow.event == event.id,
                                                                          DeliveryRow.webhook == hook.id))).first()
                if existing is None:
                    session.add(DeliveryRow(event=event.id, webhook=hook.id, status=PENDING, attempts=0,
                                            next_attempt_at=now))
                else:
                    existing.status, existing.next_attempt_at = PENDING, now
                    existing.lease_until = existing.leased_by = None
                count += 1
            return count

    def counts(self) -> dict[str, int]:
        from sqlalchemy import func

        with Session(self.engine) as session:
            return {status: int(n) for status, n in
                    session.execute(select(DeliveryRow.status, func.count()).group_by(DeliveryRow.status))}
