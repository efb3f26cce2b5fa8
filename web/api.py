"""sohoa HTTP API: other systems fetch digitized results by code (FastAPI); the clerks' workspace
(``web.workspace``) is served by the same app.

Every endpoint but ``/v1/health`` needs ``Authorization: Bearer <token>`` of a client made with
``sohoa clients add``.  Codes from the URL are validated (``workflow.results.find_result``) before anything
touches storage; errors are JSON ``{"error": {"status", "message"}}``, never a stack trace.  Routes only:
what they do is the application layer's (``workflow``).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated, Any, Literal

from cachetools import LRUCache, TTLCache
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException
from werkzeug.http import parse_range_header

from workflow import results, sharing
from workflow.rooms import Rooms
from workflow.sharing import AccessLog, ClientRecord, ResultFilters, ResultRecord

log = logging.getLogger("sohoa.api")
MAX_URL_LENGTH = 2048
LEVELS = ("ministry", "province", "district", "commune")


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        self.status, self.message, self.headers = status, message, headers


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": message}}, status_code=status, headers=headers)


def mask_id(value: str | None) -> str | None:
    if not value:
        return value
    return value[:3] + "*" * (len(value) - 6) + value[-3:] if len(value) > 6 else "*" * len(value)


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


class SecurityHeaders:
    """Plain ASGI middleware: nothing sohoa answers may be cached by a shared cache, sniffed into another
    type, framed, or run as a page (the answers are JSON and PDFs)."""

    HEADERS = [(b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff"),
               (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
               (b"referrer-policy", b"no-referrer")]

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _value in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *(h for h in self.HEADERS if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, with_headers)


_bearer = HTTPBearer(auto_error=False)


CLIENT_CACHE_SECONDS = 1.0  # a revoked token stops working within this time


async def current_client(request: Request,
                         credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> ClientRecord:
    """The API client named by the Bearer token; 401 without a valid, unrevoked one."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "credentials required: Authorization: Bearer <token>", challenge)
    token = credentials.credentials
    address = f"ip {request.client.host}" if request.client else "ip unknown"
    guesses: sharing.MissThrottle = request.app.state.token_throttle
    try:
        guesses.check(address)  # an address that keeps trying tokens that do not exist waits
    except sharing.Throttled as exc:
        request.app.state.log_access("-", None, "auth", 429, address)
        raise ApiError(429, str(exc), {"Retry-After": str(exc.retry_after)}) from None
    cache: TTLCache = request.app.state.client_cache
    try:
        found = cache[token]
    except KeyError:
        found = cache[token] = results.client_for_token(request.app.state.rooms, token)
    if found is None:
        guesses.miss(address)
        request.app.state.log_access("-", None, "auth", 401, address)
        raise ApiError(401, "unknown or revoked token", challenge)
    return found


Client = Annotated[ClientRecord, Depends(current_client)]


def create_app(rooms: Rooms) -> FastAPI:
    """The API over already opened rooms (``workflow.rooms.open_rooms``)."""
    from contextlib import asynccontextmanager

    log_access = AccessLog(rooms)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        log_access.close()  # write what is still queued before the server exits

    # The schema stays public at /openapi.json (it says what exists, no data); the interactive pages load
    # scripts from a CDN, so they are not served.
    app = FastAPI(title="sohoa", version="1", summary="Digitized results of administrative procedures, by code",
                  description="Fetch signed digitized results by their code. Authenticate with a Bearer token.",
                  lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.rooms = rooms
    app.state.log_access = log_access
    app.state.token_throttle = sharing.MissThrottle()  # per server process: wrong tokens from one address
    # A revoked token stops working within CLIENT_CACHE_SECONDS.
    app.state.client_cache = TTLCache(maxsize=10_000, ttl=CLIENT_CACHE_SECONDS)
    throttle = sharing.MissThrottle(rooms)
    metadata_cache: LRUCache = LRUCache(maxsize=4096)  # archived metadata never changes (WORM)
    version_cache: TTLCache = TTLCache(maxsize=10_000, ttl=1.0)  # a new version shows within a second

    def metadata(code: str, version: int):
        key = (code, version)
        if key not in metadata_cache:
            metadata_cache[key] = results.version_metadata(rooms, code, version)
        return metadata_cache[key]

    def versions(code: str) -> list[int]:
        if code not in version_cache:
            version_cache[code] = results.versions(rooms, code)
        return version_cache[code]

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.message, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        log_access("-", None, "invalid-request", 422, f"ip {request.client.host}" if request.client else None)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path"))
        return _error(422, f"{where}: {first.get('msg', 'invalid request')}")

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error: %s", type(exc).__name__)
        return _error(500, "internal error")

    app.add_middleware(UrlLengthLimit)
    app.add_middleware(SecurityHeaders)

    def not_throttled(who: ClientRecord, action: str, code: str | None = None) -> None:
        try:
            throttle.check(who.name)
        except sharing.Throttled as exc:
            log_access(who.name, code, action, 429)
            raise ApiError(429, str(exc), {"Retry-After": str(exc.retry_after)}) from None

    def result_for(who: ClientRecord, code: str, action: str) -> ResultRecord:
        not_throttled(who, action)
        try:
            record = results.find_result(rooms, code)
        except results.BadCode as exc:
            log_access(who.name, None, action, 400)
            raise ApiError(400, str(exc)) from None
        except results.UnknownResult as exc:
            throttle.miss(who.name)
            log_access(who.name, None, action, 404)
            raise ApiError(404, str(exc)) from None
        if not sharing.in_scope(who, record):
            log_access(who.name, record.code, action, 403)
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
            "signature": {"signer": meta.signer, "subfilter": "ETSI.CAdES.detached", "digest": "sha256"},
            "files": {name: info.to_dict() for name, info in meta.files.items()},
            # Circular 01/2023's minimum data (ID numbers masked as in the fields) and who signed where.
            "minimum_data": public_fields(who, meta.minimum_data) if meta.minimum_data else None,
            "digitization": meta.digitization,
        }
        log_access(who.name, record.code, "metadata", 200)
        return JSONResponse(body)

    @app.api_route("/v1/results/{code}/document", methods=["GET", "HEAD"], tags=["results"],
             responses={200: {"content": {"application/pdf": {}}}, 206: {"description": "Partial content"},
                        304: {"description": "Not modified"}, 307: {"description": "Presigned redirect"},
                        416: {"description": "Range not satisfiable"}})
    def get_document(
        code: str, who: Client, request: Request,
        version: Annotated[int | None, Query(ge=1, le=10_000, description="An older version")] = None,
        redirect: Annotated[Literal["presigned"] | None, Query(description="S3 only: redirect to a presigned URL")]
        = None,
    ) -> Response:
        """The signed PDF (``ETag`` = its SHA-256; range requests supported).

        A result that carries an ID number goes only to clients with the ``holder_id`` scope: the PDF shows in
        clear what the JSON masks.
        """
        record = result_for(who, code, "document")
        if not sharing.document_allowed(who, record):
            log_access(who.name, record.code, "document", 403)
            raise ApiError(403, "this result's document shows an ID number in clear: the client needs the "
                                "holder_id scope to read it")
        number = version or record.version
        if number not in versions(record.code):
            raise ApiError(404, f"{record.code} has no version {number}")
        if redirect == "presigned":
            try:
                url = results.presigned_document_url(rooms, record.code, number, 300)
            except NotImplementedError:
                raise ApiError(400, "presigned redirects need the S3 archive backend") from None
            log_access(who.name, record.code, "document-presigned", 307)
            return RedirectResponse(url, status_code=307)
        document = metadata(record.code, number).document
        etag, size = f'"{document.sha256}"', document.size
        if request.headers.get("if-none-match") == etag:
            log_access(who.name, record.code, "document", 304)
            return Response(status_code=304, headers={"ETag": etag})
        headers = {"ETag": etag, "Accept-Ranges": "bytes",
                   "Content-Disposition": f'inline; filename="{record.code}.pdf"'}
        status, start, stop = 200, 0, size
        wanted = request.headers.get("range")
        if wanted:
            ranges = parse_range_header(wanted)
            if ranges is None or ranges.units != "bytes" or len(ranges.ranges) != 1:
                log_access(who.name, record.code, "document", 416)
                raise ApiError(416, "only one byte range 'bytes=START-END' is supported",
                               {"Content-Range": f"bytes */{size}"})
            bounds = ranges.range_for_length(size)
            if bounds is None:
                log_access(who.name, record.code, "document", 416)
                raise ApiError(416, "range not satisfiable", {"Content-Range": f"bytes */{size}"})
            status, (start, stop) = 206, bounds
            headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
        headers["Content-Length"] = str(stop - start)
        # Streamed from the archive piece by piece: a long document is never whole in the server's memory.
        # Whole: hashed on the way, and cut short if the bytes changed; a part is read as stored.
        body = results.document_pieces(rooms, record.code, number, document.sha256, start,
                                       None if status == 200 else stop - start)
        log_access(who.name, record.code, "document", status)
        return StreamingResponse(body, status_code=status, media_type="application/pdf", headers=headers)

    @app.get("/v1/results/{code}/verification", tags=["results"])
    def get_verification(code: str, who: Client) -> dict[str, Any]:
        """Signature and fixity report of the current version."""
        record = result_for(who, code, "verification")
        report = results.verification(rooms, record)
        del report["fixity_problems"]
        log_access(who.name, record.code, "verification", 200)
        return report

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
        filters = ResultFilters(type, level, issued_from, issued_to, holder_id, q, dossier)
        fingerprint = sharing.search_fingerprint(rooms.settings, filters)
        not_throttled(who, "search")
        try:
            total, records = sharing.search(rooms, who, filters, offset=(page - 1) * per_page, limit=per_page)
        except results.BadCode as exc:
            log_access(who.name, None, "search", 400, fingerprint)
            raise ApiError(400, str(exc)) from None
        except sharing.PersonalDataRefused as exc:
            log_access(who.name, None, "search", 403, fingerprint)
            raise ApiError(403, str(exc)) from None
        if holder_id and not total:
            throttle.miss(who.name)  # guessing ID numbers one by one is slowed down
        log_access(who.name, None, sharing.NO_HIT_SEARCH if holder_id and not total else "search", 200, fingerprint)
        return {"total": total, "page": page, "per_page": per_page,
                "results": [summary(who, r) for r in records]}

    def submission(batch: str, rows) -> dict[str, Any]:
        return {"id": batch, "status_url": f"/v1/documents/{batch}", "files": [
            {"name": r.file_name, "status": r.status, "documents": [
                {k: line.get(k) for k in ("status", "code", "result_alias", "doc_type", "reason")}
                for line in r.results]} for r in rows]}

    @app.post("/v1/documents", tags=["submissions"], status_code=202)
    async def submit(
        who: Client, request: Request,
        idempotency_key: Annotated[str | None, Header(max_length=200, description="A repeated key returns the "
                                                      "first answer; nothing is queued twice")] = None,
    ) -> JSONResponse:
        """Hand in scans (multipart: ``files``, optional ``dossier_code``, ``procedure_code``, ``holder_id``,
        ``type_hint``) for tokens with the ``submit`` scope; 202 with the status URL."""
        from starlette.concurrency import run_in_threadpool

        from workflow import counter

        if not who.scopes.get("submit"):
            log_access(who.name, None, "submit", 403)
            raise ApiError(403, "submitting scans needs the submit scope")
        form = await request.form(max_files=counter.MAX_FILES_PER_UPLOAD + 1, max_fields=20)
        files = [f for f in form.getlist("files") if hasattr(f, "filename") and f.filename]

        def text(name: str) -> str | None:
            value = form.get(name)
            return value if isinstance(value, str) else None

        try:
            batch = await run_in_threadpool(
                counter.hand_in, rooms, f"api:{who.name}", [counter.HandedIn(f.filename, f.file) for f in files],
                text("dossier_code"), text("type_hint"), text("procedure_code"), text("holder_id"), idempotency_key)
        except counter.CounterError as exc:
            log_access(who.name, None, "submit", 400)
            raise ApiError(400, str(exc)) from None
        finally:
            for f in files:
                await f.close()
        rows = counter.batch_status(rooms, f"api:{who.name}", batch) or []
        log_access(who.name, None, "submit", 202)
        return JSONResponse(submission(batch, rows), status_code=202,
                            headers={"Location": f"/v1/documents/{batch}"})

    @app.get("/v1/documents/{batch}", tags=["submissions"])
    def submission_status(batch: str, who: Client) -> dict[str, Any]:
        """Each submitted file: queued, processing, archived (with the code), needs_review or rejected (why)."""
        from workflow import counter

        rows = counter.batch_status(rooms, f"api:{who.name}", batch)
        if rows is None:
            raise ApiError(404, f"no submission {batch} of this client")
        log_access(who.name, None, "submission", 200)
        return submission(batch, rows)

    @app.get("/v1/events", tags=["events"])
    def events(
        who: Client, after: Annotated[int, Query(ge=0, le=2**53, description="Position of the last event read")]
        = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> dict[str, Any]:
        """The pull feed: the same events as the webhooks, oldest first, after a position; a client sees
        only the results in its scope."""
        from workflow.outbox import feed

        def allowed(body: dict[str, Any]) -> bool:
            data = body.get("data", {})
            scopes = who.scopes
            doc_type = (data.get("doc_type") or {}).get("code")
            return not ((scopes.get("levels") and data.get("level") not in scopes["levels"])
                        or (scopes.get("types") and doc_type and doc_type not in scopes["types"])
                        or (scopes.get("agencies") and data.get("agency") not in scopes["agencies"]))

        shown, next_after = feed(rooms, after, limit, allowed)
        log_access(who.name, None, "events", 200)
        return {"events": shown, "next_after": next_after}

    @app.get("/v1/stats/targets", tags=["statistics"])
    def stats_targets(
        who: Client, year: Annotated[int | None, Query(ge=2000, le=2100, description="Default: this year")] = None,
    ) -> dict[str, Any]:
        """Digitization progress per level and agency against the year's targets (as `sohoa report`)."""
        from workflow.maintenance import targets_report

        figures = sharing.targets_in_scope(targets_report(rooms, year or date.today().year), who)
        log_access(who.name, None, "stats-targets", 200)
        return figures.to_dict()

    from web.workspace import install_workspace

    install_workspace(app, rooms)
    return app


def app_from_settings() -> FastAPI:
    """App factory for uvicorn workers: each worker process opens the rooms from the settings."""
    from workflow.rooms import open_rooms
    from workflow.settings import load_settings

    return create_app(open_rooms(load_settings()))


def serve(host: str, port: int, workers: int = 1, counter_workers: int = 0, outbox: bool = True) -> None:
    """Run the API and the workspace with uvicorn (``workers`` processes) on the configured rooms, and the
    counter worker (``counter_workers`` page workers; 0: none) that digitizes what the counter queues."""
    import uvicorn

    from workflow.counter import CounterWorker
    from workflow.rooms import open_rooms
    from workflow.settings import load_settings

    app_from_settings()  # open the rooms once here: migrations and keys are ready before workers start
    worker = CounterWorker(open_rooms(load_settings()), counter_workers) if counter_workers else None
    if worker:
        worker.start()
    from workflow.outbox import Dispatcher

    dispatcher = Dispatcher(open_rooms(load_settings())) if outbox else None
    if dispatcher:
        dispatcher.start()
    try:
        uvicorn.run("web.api:app_from_settings", factory=True, host=host, port=port, workers=workers,
                    log_level="warning", server_header=False, limit_concurrency=256,
                    h11_max_incomplete_event_size=16 * 1024)
    finally:
        if dispatcher:
            dispatcher.stop()
            dispatcher.join(timeout=30)
        if worker:
            worker.stop()
            worker.join(timeout=60)
