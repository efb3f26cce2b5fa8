"""What other systems may read: a client's scope, searches narrowed to it, and the log of who read what."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass

from codes import InvalidCode, TargetsReport, parse_dossier_code
from storage import AccessRecord, ClientRecord, Index, ResultQuery, ResultRecord
from workflow.keys import installation_secret
from workflow.results import BadCode
from workflow.rooms import Rooms
from workflow.settings import Settings

log = logging.getLogger("sohoa.sharing")
__all__ = ["AccessLog", "ClientRecord", "MissThrottle", "PersonalDataRefused", "ResultFilters", "ResultRecord",
           "Throttled", "document_allowed", "in_scope", "search", "search_fingerprint", "targets_in_scope"]
PERSONAL_DATA_SCOPE = "holder_id"


class PersonalDataRefused(Exception):
    """The client asked for personal data (an ID number in clear) without the scope for it."""


def reads_personal_data(client: ClientRecord) -> bool:
    return bool(client.scopes.get(PERSONAL_DATA_SCOPE))


def document_allowed(client: ClientRecord, record: ResultRecord) -> bool:
    """Whether a client may have the signed PDF: it shows in clear the ID number the JSON masks, so a
    result that carries one goes only to clients with the personal-data scope."""
    return reads_personal_data(client) or not record.fields.get("holder_id")

def in_scope(client: ClientRecord, record: ResultRecord) -> bool:
    """Whether a client's scopes (levels, types, agencies) let it read ``record``."""
    scopes = client.scopes
    return ((not scopes.get("levels") or record.level in scopes["levels"])
            and (not scopes.get("types") or record.doc_type in scopes["types"])
            and (not scopes.get("agencies") or record.agency in scopes["agencies"]))


@dataclass(frozen=True)
class ResultFilters:
    """A search as a client asks it; ``None`` means any."""

    doc_type: str | None = None
    level: str | None = None
    issued_from: dt.date | None = None
    issued_to: dt.date | None = None
    holder_id: str | None = None  # exact match only
    text: str | None = None
    dossier: str | None = None


def search(rooms: Rooms, client: ClientRecord, filters: ResultFilters, offset: int,
           limit: int) -> tuple[int, list[ResultRecord]]:
    """Results matching ``filters`` within the client's scope (newest first), and how many match in all.

    Searching by ID number needs the personal-data scope (``PersonalDataRefused``): exact matches on it
    would otherwise tell a client without it whose number it is.
    """
    scopes = client.scopes
    if filters.holder_id and not reads_personal_data(client):
        raise PersonalDataRefused("searching by ID number needs the holder_id scope")
    dossier = None
    if filters.dossier:
        try:
            dossier = str(parse_dossier_code(filters.dossier))
        except InvalidCode as exc:
            raise BadCode(f"invalid dossier code: {exc}") from None

    def narrowed(wanted: str | None, allowed: list[str] | None) -> tuple[str, ...]:
        if wanted and allowed and wanted not in allowed:
            return ("\x00none",)  # asks for something outside its scope: nothing matches
        return (wanted,) if wanted else tuple(allowed or ())

    query = ResultQuery(
        doc_types=narrowed(filters.doc_type, scopes.get("types")), levels=narrowed(filters.level, scopes.get("levels")),
        agencies=tuple(scopes.get("agencies") or ()),
        issued_from=filters.issued_from.isoformat() if filters.issued_from else None,
        issued_to=filters.issued_to.isoformat() if filters.issued_to else None, holder_id=filters.holder_id,
        text=filters.text, dossier_code=dossier,
    )
    return rooms.index.results.search(query, offset=offset, limit=limit)


class AccessLog:
    """Batches access-log entries and writes them from one thread every ``interval`` seconds.

    One transaction per request would serialize every request on the index's write lock; batching keeps
    the log complete (flushed on close) while requests only append to a queue.
    """

    def __init__(self, rooms: Rooms, interval: float = 0.2):
        self.index, self.interval = rooms.index, interval
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="access-log", daemon=True)
        self.thread.start()

    def __call__(self, client: str, code: str | None, action: str, status: int, detail: str | None = None) -> None:
        self.queue.put(AccessRecord(client, code, action, status, dt.datetime.now(dt.UTC).replace(microsecond=0),
                                    detail))

    def flush(self) -> None:
        entries = []
        while not self.queue.empty():
            entries.append(self.queue.get_nowait())
        if entries:
            self.index.clients.log_accesses(entries)

    def _run(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                self.flush()
            except Exception as exc:  # the next round retries what is still queued
                log.error("access log not written yet: %s", type(exc).__name__)
        self.flush()

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)


def targets_in_scope(report: TargetsReport, client: ClientRecord) -> TargetsReport:
    """The targets report cut to what a client may read: its levels and agencies only."""
    levels, agencies = client.scopes.get("levels") or [], client.scopes.get("agencies") or []
    if not levels and not agencies:
        return report

    def allowed(row) -> bool:
        return (not levels or row.level in levels) and (not agencies or row.key in agencies)

    return dataclasses.replace(report, levels=[r for r in report.levels if not levels or r.level in levels],
                               agencies=[r for r in report.agencies if allowed(r)],
                               unknown_agencies=[a for a in report.unknown_agencies if not agencies or a in agencies])


def _log_key(settings: Settings) -> bytes:
    """This installation's secret for hashing search parameters (made once, readable by sohoa only)."""
    return installation_secret(settings, "access-log.key")


def search_fingerprint(settings: Settings, filters: ResultFilters) -> str:
    """A keyed hash of a search's parameters for the access log: who searched for what can be checked by
    someone holding the installation's key (recompute it for a given ID number), never read off the log."""
    canonical = "&".join(f"{name}={value}" for name, value in sorted(dataclasses.asdict(filters).items())
                         if value is not None)
    return hmac.new(_log_key(settings), canonical.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


class Throttled(Exception):
    """Too many look-ups that found nothing; ``retry_after`` seconds until the next is answered."""

    def __init__(self, retry_after: int):
        super().__init__(f"too many look-ups that found nothing: try again in {retry_after} s")
        self.retry_after = retry_after


NO_HIT_SEARCH = "search-nohit"  # a search by ID number that found nothing, as the access log names it


class MissThrottle:
    """Slows guessing: a client whose look-ups found nothing ``limit`` times within ``window`` seconds (an
    unknown code, a search by ID number with no hit) is refused until the window has room again.

    Misses are counted here and, once a client has a few, in the access log too, which every server
    process writes: the limit holds across processes (within the log's 0.2 s batching).
    """

    def __init__(self, rooms: Rooms | None = None, limit: int = 20, window: float = 60.0, ask_log_after: int = 5):
        self.index: Index | None = rooms.index if rooms is not None else None
        self.limit, self.window, self.ask_log_after = limit, window, ask_log_after
        self.misses: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        times = self.misses.setdefault(client, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def check(self, client: str) -> None:
        with self.lock:
            now = time.monotonic()
            local = len(self._recent(client, now))
        count = local
        if self.index is not None and local >= self.ask_log_after:
            since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=self.window)
            count = max(local, self.index.clients.misses_since(client, since, (NO_HIT_SEARCH,)))
        if count >= self.limit:
            raise Throttled(int(self.window))

    def miss(self, client: str) -> None:
        with self.lock:
            self._recent(client, time.monotonic()).append(time.monotonic())
