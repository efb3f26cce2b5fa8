"""sohoa HTTP API: other systems fetch digitized results by code (FastAPI).

Every endpoint but ``/v1/health`` needs ``Authorization: Bearer <token>`` of a client made with
``sohoa clients add``.  Codes from the URL are validated by ``codes.parse_code`` before anything touches
storage; errors are JSON ``{"error": {"status", "message"}}``, never a stack trace.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from codes import DossierCode, InvalidCode, ResultAlias, parse_any, parse_dossier_code
from storage import ClientRecord

log = logging.getLogger("sohoa.api")
MAX_URL_LENGTH = 2048
LEVELS = ("ministry", "province", "district", "commune")


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        self.status, self.message, self.headers = status, message, headers


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": message}}, status_code=status, headers=headers)


def token_hash(token: str) -> str:
    """Tokens are long random strings: a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(token.encode()).hexdigest()


def mask_id(value: str | None) -> str | None:
    if not value:
        return value
    return value[:3] + "*" * (len(value) - 6) + value[-3:] if len(value) > 6 else "*" * len(value)


class AccessLog:
    """Batches access-log entries and writes them from one thread every ``interval`` seconds.

    One transaction per request would serialize every request on the index's write lock; batching keeps
    the log complete (flushed on shutdown) while requests only append to a queue.
    """

    def __init__(self, index, interval: float = 0.2):
        import queue
        import threading

        self.index, self.interval = index, interval
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="access-log", daemon=True)
        self.thread.start()

    def __call__(self, client: str, code: str | None, action: str, status: int) -> None:
        import datetime as dt

        from storage import AccessRecord

        self.queue.put(AccessRecord(client, code, action, status, dt.datetime.now(dt.UTC).replace(microsecond=0)))

    def flush(self) -> None:
        entries = []
        while not self.queue.empty():
            entries.append(self.queue.get_nowait())
        if entries:
            self.index.log_accesses(entries)

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


class UrlLengthLimit:
    """Plain ASGI middleware (cheaper than BaseHTTPMiddleware): 414 for over-long URLs."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and len(scope.get("raw_path", b"")) + len(scope.get("query_string", b"")) \
                > MAX_URL_LENGTH:
            await _error(414, f"the URL is longer than {MAX_URL_LENGTH} characters")(scope, receive, send)
            return
        await self.app(scope, receive, send)


_bearer = HTTPBearer(auto_error=False)


CLIENT_CACHE_SECONDS = 1.0  # a revoked token stops working within this time


async def current_client(request: Request,
                   credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> ClientRecord:
    """The API client named by the Bearer token; 401 without a valid, unrevoked one."""
    import time

    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "credentials required: Authorization: Bearer <token>", challenge)
    digest = token_hash(credentials.credentials)
    cache: dict = request.app.state.client_cache
    now = time.monotonic()
    hit = cache.get(digest)
    if hit and hit[1] > now:
        found = hit[0]
    else:
        found = request.app.state.rooms.index.client_for_token(digest)
        if len(cache) > 10_000:
            cache.clear()
        cache[digest] = (found, now + CLIENT_CACHE_SECONDS)
    if found is None:
        raise ApiError(401, "unknown or revoked token", challenge)
    return found


Client = Annotated[ClientRecord, Depends(current_client)]


def create_app(rooms) -> FastAPI:
    """The API over already opened rooms (see ``digitize.pipeline.open_rooms``)."""
    from contextlib import asynccontextmanager

    log_access = AccessLog(rooms.index)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        log_access.close()  # write what is still queued before the server exits

    app = FastAPI(title="sohoa", version="1", summary="Digitized results of administrative procedures, by code",
                  description="Fetch signed digitized results by their code. Authenticate with a Bearer token.",
                  lifespan=lifespan)
    app.state.rooms = rooms
    app.state.client_cache = {}
    store = rooms.store

    from functools import lru_cache

    @lru_cache(maxsize=4096)
    def metadata(code: str, version: int) -> dict[str, Any]:
        """Archived metadata never changes (WORM): it can be kept once read."""
        return store.metadata(code, version)

    version_cache: dict[str, tuple[list[int], float]] = {}

    def versions(code: str) -> list[int]:
        """Complete versions of a result; a new version shows within a second."""
        import time

        now = time.monotonic()
        hit = version_cache.get(code)
        if hit and hit[1] > now:
            return hit[0]
        if len(version_cache) > 10_000:
            version_cache.clear()
        found = store.versions(code)
        version_cache[code] = (found, now + 1.0)
        return found

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.message, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path"))
        return _error(422, f"{where}: {first.get('msg', 'invalid request')}")

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error: %s", type(exc).__name__)
        return _error(500, "internal error")

    app.add_middleware(UrlLengthLimit)

    def lookup(code: str):
        """The record a code from outside names: a sohoa code, or a -KQ{n} alias of a dossier's result."""
        try:
            parsed = parse_any(code)
        except InvalidCode as exc:
            raise ApiError(400, f"invalid code: {exc}") from None
        if isinstance(parsed, DossierCode):
            raise ApiError(400, "a dossier code names a dossier, not a result: search with ?dossier=")
        if isinstance(parsed, ResultAlias):
            return str(parsed), rooms.index.get_result_by_alias(str(parsed))
        return code, rooms.index.get_result(code)

    def in_scope(who, record) -> bool:
        scopes = who.scopes
        return ((not scopes.get("levels") or record.level in scopes["levels"])
                and (not scopes.get("types") or record.doc_type in scopes["types"])
                and (not scopes.get("agencies") or record.agency in scopes["agencies"]))

    def result_for(who, code: str, action: str):
        code, record = lookup(code)
        if record is None:
            log_access(who.name, code, action, 404)
            raise ApiError(404, f"no result with code {code}")
        if not in_scope(who, record):
            log_access(who.name, code, action, 403)
            raise ApiError(403, "this result is outside the client's scope")
        return record

    def public_fields(who, fields: dict[str, Any]) -> dict[str, Any]:
        shown = dict(fields)
        if not who.scopes.get("holder_id"):
            shown["holder_id"] = mask_id(shown.get("holder_id"))
        return shown

    def summary(who, record) -> dict[str, Any]:
        return {
            "code": record.code, "version": record.version,
            "doc_type": {"code": record.doc_type, "name": record.doc_type_name, "confidence": record.confidence},
            "fields": public_fields(who, record.fields), "level": record.level, "agency": record.agency,
            "pages": record.pages, "sha256": record.sha256, "created_at": record.created_at.isoformat(),
            "dossier_code": record.dossier_code, "result_alias": record.result_alias,
            "links": {"self": f"/v1/results/{record.code}", "document": f"/v1/results/{record.code}/document",
                      "verification": f"/v1/results/{record.code}/verification"},
        }

    @app.get("/v1/health", tags=["service"])
    async def health() -> dict[str, str]:
        """Liveness; needs no credentials."""
        return {"status": "ok"}

    @app.get("/v1/results/{code}", tags=["results"])
    async def get_result(code: str, who: Client) -> JSONResponse:
        """Metadata of a result: type, fields, level, agency, dates, checksum, signature summary, versions."""
        record = result_for(who, code, "metadata")
        meta = metadata(record.code, record.version)
        body = summary(who, record) | {
            "versions": versions(record.code), "retention": record.retention,
            "issued_on": record.fields.get("issued_on"),
            "signature": {"signer": meta.get("signer"), "subfilter": "ETSI.CAdES.detached", "digest": "sha256"},
            "files": meta.get("files", {}),
        }
        log_access(who.name, record.code, "metadata", 200)
        return JSONResponse(body)

    @app.get("/v1/results/{code}/document", tags=["results"],
             responses={200: {"content": {"application/pdf": {}}}, 206: {"description": "Partial content"},
                        304: {"description": "Not modified"}, 307: {"description": "Presigned redirect"},
                        416: {"description": "Range not satisfiable"}})
    def get_document(
        code: str, who: Client, request: Request,
        version: Annotated[int | None, Query(ge=1, le=10_000, description="An older version")] = None,
        redirect: Annotated[Literal["presigned"] | None, Query(description="S3 only: redirect to a presigned URL")]
        = None,
    ) -> Response:
        """The signed PDF (``ETag`` = its SHA-256; range requests supported)."""
        record = result_for(who, code, "document")
        number = version or record.version
        if number not in versions(record.code):
            raise ApiError(404, f"{record.code} has no version {number}")
        key = f"{record.code}/v{number}/document.pdf"
        if redirect == "presigned":
            presign = getattr(rooms.archive, "presigned_url", None)
            if presign is None:
                raise ApiError(400, "presigned redirects need the S3 archive backend")
            log_access(who.name, record.code, "document-presigned", 307)
            return RedirectResponse(presign(key, 300), status_code=307)
        sha = metadata(record.code, number)["files"]["document.pdf"]["sha256"]
        etag = f'"{sha}"'
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag})
        size = int(metadata(record.code, number)["files"]["document.pdf"]["size"])
        headers = {"ETag": etag, "Accept-Ranges": "bytes",
                   "Content-Disposition": f'inline; filename="{record.code}.pdf"'}
        status, start, end = 200, 0, size - 1
        wanted = request.headers.get("range")
        if wanted:
            match = re.fullmatch(r"bytes=(\d*)-(\d*)", wanted.strip())
            if not match or match.groups() == ("", ""):
                raise ApiError(416, "only one byte range 'bytes=START-END' is supported",
                               {"Content-Range": f"bytes */{size}"})
            start_text, end_text = match.groups()
            if start_text:
                start, end = int(start_text), int(end_text) if end_text else size - 1
            else:
                start, end = max(0, size - int(end_text)), size - 1
            end = min(end, size - 1)
            if start > end or start >= size:
                raise ApiError(416, "range not satisfiable", {"Content-Range": f"bytes */{size}"})
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        headers["Content-Length"] = str(end - start + 1)
        # Streamed from the archive piece by piece: a long document is never whole in the server's memory.
        body = rooms.archive.stream(key, start, end - start + 1)
        log_access(who.name, record.code, "document", status)
        return StreamingResponse(body, status_code=status, media_type="application/pdf", headers=headers)

    @app.get("/v1/results/{code}/verification", tags=["results"])
    def get_verification(code: str, who: Client) -> dict[str, Any]:
        """Signature and fixity report of the current version."""
        record = result_for(who, code, "verification")
        data = rooms.archive.get(record.archive_key)
        fixity_ok = hashlib.sha256(data).hexdigest() == record.sha256
        report = rooms.verify(data)
        log_access(who.name, record.code, "verification", 200)
        return {"code": record.code, "version": record.version, "valid": report.valid and fixity_ok,
                "fixity": {"sha256": record.sha256, "ok": fixity_ok}, **report.to_dict()}

    @app.get("/v1/results", tags=["results"])
    def search(
        who: Client,
        type: Annotated[str | None, Query(pattern=r"^[A-Z][A-Z0-9]{1,5}$", description="Catalogue type code")]
        = None,
        level: Annotated[Literal["ministry", "province", "district", "commune"] | None, Query()] = None,
        issued_from: Annotated[date | None, Query()] = None,
        issued_to: Annotated[date | None, Query()] = None,
        holder_id: Annotated[str | None, Query(pattern=r"^\d{9,13}$", description="Exact ID number")] = None,
        q: Annotated[str | None, Query(max_length=100, description="Text in the code or type name")] = None,
        dossier: Annotated[str | None, Query(max_length=64, description="Dossier code (mã hồ sơ)")] = None,
        page: Annotated[int, Query(ge=1, le=10_000)] = 1,
        per_page: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> dict[str, Any]:
        """Search results; a client sees only its scope, and holder IDs masked unless it has that scope."""
        from storage import ResultQuery

        scopes = who.scopes
        if dossier:
            try:
                dossier = str(parse_dossier_code(dossier))
            except InvalidCode as exc:
                raise ApiError(400, f"invalid dossier code: {exc}") from None

        def narrowed(wanted: str | None, allowed: list[str] | None) -> tuple[str, ...]:
            if wanted and allowed and wanted not in allowed:
                return ("\x00none",)  # asks for something outside its scope: nothing matches
            return (wanted,) if wanted else tuple(allowed or ())

        query = ResultQuery(
            doc_types=narrowed(type, scopes.get("types")), levels=narrowed(level, scopes.get("levels")),
            agencies=tuple(scopes.get("agencies") or ()),
            issued_from=issued_from.isoformat() if issued_from else None,
            issued_to=issued_to.isoformat() if issued_to else None, holder_id=holder_id, text=q,
            dossier_code=dossier,
        )
        total, records = rooms.index.search_results(query, offset=(page - 1) * per_page, limit=per_page)
        log_access(who.name, None, "search", 200)
        return {"total": total, "page": page, "per_page": per_page,
                "results": [summary(who, r) for r in records]}

    @app.get("/v1/stats/targets", tags=["statistics"])
    def stats_targets(
        who: Client, year: Annotated[int | None, Query(ge=2000, le=2100, description="Default: this year")] = None,
    ) -> dict[str, Any]:
        """Digitization progress per level and agency against the year's targets (as `sohoa report`)."""
        from digitize.pipeline import targets_report

        figures = targets_report(rooms, year or date.today().year)
        log_access(who.name, None, "stats-targets", 200)
        return figures.to_dict()

    return app


def app_from_settings() -> FastAPI:
    """App factory for uvicorn workers: each worker process opens the rooms from the settings."""
    from digitize.pipeline import open_rooms
    from settings import load_settings

    return create_app(open_rooms(load_settings()))


def serve(host: str, port: int, workers: int = 1) -> None:
    """Run the API with uvicorn (``workers`` processes) on the configured rooms."""
    import uvicorn

    app_from_settings()  # open the rooms once here: migrations and keys are ready before workers start
    uvicorn.run("api:app_from_settings", factory=True, host=host, port=port, workers=workers,
                log_level="warning", server_header=False, limit_concurrency=256,
                h11_max_incomplete_event_size=16 * 1024)
