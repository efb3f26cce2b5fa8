"""Events to the systems that reuse results: webhook subscribers (Standard Webhooks signatures), the dispatcher
that delivers the outbox at least once with retries, and the pull feed.

Events are written by the index in the same transaction as what they record (``storage/index/outbox.py``);
here they are delivered.  A delivery is leased by one dispatcher at a time; a failure waits (exponential
backoff with jitter, or the receiver's ``Retry-After``) and a delivery still failing
``SOHOA_OUTBOX_DEAD_AFTER_HOURS`` after its event is dead (``sohoa outbox retry`` revives it).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import secrets
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import httpx
from cryptography.fernet import Fernet
from standardwebhooks.webhooks import Webhook
from tenacity import RetryCallState, wait_exponential_jitter

from storage.index import Lease, WebhookRecord
from workflow import national_store
from workflow.ingest import run_owner
from workflow.keys import installation_secret
from workflow.rooms import Rooms

log = logging.getLogger("sohoa.outbox")
EVENT_TYPES = ("result.archived", "result.version", "review.rejected")
ROTATION_OVERLAP = dt.timedelta(hours=24)
MAX_WAIT_SECONDS = 3600.0
TIMEOUT_SECONDS = 10.0


class WebhookError(Exception):
    """A webhook command cannot be carried out; the message says why."""


def _fernet(rooms: Rooms) -> Fernet:
    """Webhook secrets are kept encrypted with a key of this installation (``keys/webhook-secrets.key``)."""
    key = hashlib.sha256(installation_secret(rooms.settings, "webhook-secrets.key")).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


@dataclass(frozen=True)
class ListedWebhook:
    id: int
    url: str
    events: list[str] | None
    active: bool
    rotating: bool
    kind: str = "webhook"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "url": self.url, "events": self.events, "active": self.active,
                "rotating": self.rotating}


def add_webhook(rooms: Rooms, url: str, events: list[str] | None = None) -> tuple[int, str]:
    """A subscriber; returns its id and its signing secret (shown once, kept encrypted)."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or len(url) > 2000:
        raise WebhookError("the URL must be http(s)://host[:port]/path")
    unknown = sorted(set(events or ()) - set(EVENT_TYPES))
    if unknown:
        raise WebhookError(f"unknown event type(s) {', '.join(unknown)}: choose among {', '.join(EVENT_TYPES)}")
    secret = _new_secret()
    webhook_id = rooms.index.outbox.add_webhook(url, sorted(set(events)) if events else None,
                                                _fernet(rooms).encrypt(secret.encode()).decode())
    return webhook_id, secret


def list_webhooks(rooms: Rooms) -> list[ListedWebhook]:
    now = dt.datetime.now(dt.UTC)
    return [ListedWebhook(h.id, h.url, h.events, h.disabled_at is None,
                          bool(h.previous_until and h.previous_until > now), h.kind)
            for h in rooms.index.outbox.webhooks()]


def disable_webhook(rooms: Rooms, webhook_id: int) -> None:
    if not rooms.index.outbox.disable_webhook(webhook_id):
        raise WebhookError(f"no webhook {webhook_id}")


def rotate_secret(rooms: Rooms, webhook_id: int) -> str:
    """A new secret; for a day both the old and the new one sign each delivery."""
    hook = rooms.index.outbox.webhook(webhook_id)
    if hook is not None and hook.kind != "webhook":
        raise WebhookError(f"subscriber {webhook_id} is the national store: it signs in with its own credentials")
    secret = _new_secret()
    if not rooms.index.outbox.rotate_secret(webhook_id, _fernet(rooms).encrypt(secret.encode()).decode(),
                                            ROTATION_OVERLAP):
        raise WebhookError(f"no webhook {webhook_id}")
    return secret


def signed_headers(rooms: Rooms, hook: WebhookRecord, event_id: str, body: bytes,
                   now: dt.datetime) -> dict[str, str]:
    """Standard Webhooks headers: ``webhook-id`` (the event id: the receiver's idempotency key),
    ``webhook-timestamp`` and ``webhook-signature`` (``v1,…``; two during a rotation)."""
    fernet = _fernet(rooms)
    keys = [fernet.decrypt(hook.secret.encode()).decode()]
    if hook.previous_secret and hook.previous_until and hook.previous_until > now:
        keys.append(fernet.decrypt(hook.previous_secret.encode()).decode())
    signatures = [Webhook(key).sign(event_id, now, body) for key in keys]
    return {"webhook-id": event_id, "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": " ".join(signatures), "content-type": "application/json"}


def _wait(rooms: Rooms, attempts: int) -> float:
    """Exponential backoff with jitter (tenacity's), from the configured first wait, at most an hour."""
    state = RetryCallState(None, None, (), {})
    state.attempt_number = attempts
    first = rooms.settings.outbox_first_retry_seconds
    return wait_exponential_jitter(initial=first, max=MAX_WAIT_SECONDS, jitter=first)(state)


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    if raw.strip().isdigit():
        return float(raw)
    try:
        from email.utils import parsedate_to_datetime

        return max(0.0, (parsedate_to_datetime(raw) - dt.datetime.now(dt.UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def deliver(rooms: Rooms, client: httpx.Client, lease: Lease, owner: str) -> bool:
    """Send one leased delivery; record what happened.  True when the receiver took it."""
    outbox = rooms.index.outbox
    now = dt.datetime.now(dt.UTC)
    wait, error = None, None
    try:
        if lease.webhook.kind == national_store.KIND:  # the citizen's store: its own shape and token
            national_store.push(rooms, client, lease.body, lease.event_id)
            outbox.delivered(lease.delivery_id, owner)
            return True
        body = json.dumps(lease.body, ensure_ascii=False, separators=(",", ":")).encode()
        headers = signed_headers(rooms, lease.webhook, lease.event_id, body, now)
        response = client.post(lease.webhook.url, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
        if 200 <= response.status_code < 300:
            outbox.delivered(lease.delivery_id, owner)
            return True
        error = f"HTTP {response.status_code}"
        wait = _retry_after(response)
    except httpx.HTTPStatusError as exc:
        error = f"HTTP {exc.response.status_code}"
        wait = _retry_after(exc.response)
    except (httpx.HTTPError, national_store.NationalStoreError, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    attempts = lease.attempts + 1
    wait = min(wait if wait is not None else _wait(rooms, attempts), MAX_WAIT_SECONDS)
    dead = now - lease.event_created_at > dt.timedelta(hours=rooms.settings.outbox_dead_after_hours)
    outbox.failed(lease.delivery_id, owner, now + dt.timedelta(seconds=wait), error, dead)
    log.info("delivery %s of %s failed (%s)%s", lease.delivery_id, lease.event_id, error, ": dead" if dead else "")
    return False


def dispatch_once(rooms: Rooms, client: httpx.Client, owner: str | None = None, batch: int = 20) -> int:
    """Lease and send the due deliveries (at most ``batch``); returns how many were attempted."""
    owner = owner or run_owner()
    leases = rooms.index.outbox.lease(owner, batch, dt.timedelta(seconds=rooms.settings.outbox_lease_seconds))
    for lease in leases:
        deliver(rooms, client, lease, owner)
    return len(leases)


def run_dispatcher(rooms: Rooms, stop: threading.Event, until_empty: bool = False, interval: float = 1.0) -> int:
    """Deliver until ``stop`` is set, or (``until_empty``) until nothing is due; returns deliveries attempted."""
    owner, total = run_owner(), 0
    with httpx.Client(follow_redirects=False) as client:
        while not stop.is_set():
            try:
                done = dispatch_once(rooms, client, owner)
            except Exception:  # noqa: BLE001 - the index is away for a moment: try again, never exit
                log.exception("the dispatcher failed; trying again")
                done = 0
            total += done
            if done:
                continue
            if until_empty:
                break
            stop.wait(interval)
    return total


class Dispatcher(threading.Thread):
    """The dispatcher as a thread of ``sohoa serve``."""

    def __init__(self, rooms: Rooms):
        super().__init__(name="sohoa-outbox", daemon=True)
        self.rooms, self.stop_event = rooms, threading.Event()

    def run(self) -> None:
        run_dispatcher(self.rooms, self.stop_event)

    def stop(self) -> None:
        self.stop_event.set()


def feed(rooms: Rooms, after: int, limit: int, allowed=lambda body: True) -> tuple[list[dict[str, Any]], int]:
    """The pull feed: events after position ``after`` the reader may see (``allowed``), each with its
    ``position``; and the position to ask after next."""
    rows = rooms.index.outbox.events(after, limit)
    shown = [{"position": position, **body} for position, body in rows if allowed(body)]
    return shown, rows[-1][0] if rows else after


def delivery_counts(rooms: Rooms) -> dict[str, int]:
    return rooms.index.outbox.counts()


def list_deliveries(rooms: Rooms, status: str | None = None):
    return rooms.index.outbox.deliveries(status)


def retry_deliveries(rooms: Rooms, ids: list[int] | None = None) -> int:
    return rooms.index.outbox.retry(ids)


def replay(rooms: Rooms, webhook_id: int, after: int = 0) -> int:
    if rooms.index.outbox.webhook(webhook_id) is None:
        raise WebhookError(f"no webhook {webhook_id}")
    return rooms.index.outbox.replay(webhook_id, after)
