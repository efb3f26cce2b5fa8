"""What other systems may read: a client's scope, searches narrowed to it, and the log of who read what."""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from dataclasses import dataclass

from codes import InvalidCode, parse_dossier_code
from storage import AccessRecord, ClientRecord, Index, ResultQuery, ResultRecord
from workflow.results import BadCode
from workflow.rooms import Rooms

log = logging.getLogger("sohoa.sharing")
__all__ = ["AccessLog", "ClientRecord", "ResultFilters", "ResultRecord", "in_scope", "search"]


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
    """Results matching ``filters`` within the client's scope (newest first), and how many match in all."""
    scopes = client.scopes
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

    def __init__(self, index: Index, interval: float = 0.2):
        self.index, self.interval = index, interval
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="access-log", daemon=True)
        self.thread.start()

    def __call__(self, client: str, code: str | None, action: str, status: int) -> None:
        self.queue.put(AccessRecord(client, code, action, status, dt.datetime.now(dt.UTC).replace(microsecond=0)))

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
