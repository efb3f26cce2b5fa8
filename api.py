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
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from codes import InvalidCode, parse_code
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


_bearer = HTTPBearer(auto_error=False)


def current_client(request: Request,
                   credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> ClientRecord:
    """The API client named by the Bearer token; 401 without a valid, unrevoked one."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "credentials required: Authorization: Bearer <token>", challenge)
    found = request.app.state.rooms.index.client_for_token(token_hash(credentials.credentials))
    if found is None:
        raise ApiError(401, "unknown or revoked token", challenge)
    return found


Client = Annotated[ClientRecord, Depends(current_client)]


def create_app(rooms) -> FastAPI:
    """The API over already opened rooms (see ``digitize.pipeline.open_rooms``)."""
    from signing import verify_pdf

    app = FastAPI(title="sohoa", version="1", summary="Digitized results of administrative procedures, by code",
                  description="Fetch signed digitized results by their code. Authenticate with a Bearer token.")
    app.state.rooms = rooms
    store = rooms.store

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

    @app.middleware("http")
    async def _limit_url(request: Request, call_next):
        if len(str(request.url)) > MAX_URL_LENGTH:
            return _error(414, f"the URL is longer than {MAX_URL_LENGTH} characters")
        return await call_next(request)

    def checked_code(code: str) -> str:
        try:
            parse_code(code)
        except InvalidCode as exc:
            raise ApiError(400, f"invalid code: {exc}") from None
        return code

    def in_scope(who, record) -> bool:
        scopes = who.scopes
        return ((not scopes.get("levels") or record.level in scopes["levels"])
                and (not scopes.get("types") or record.doc_type in scopes["types"])
                and (not scopes.get("agencies") or record.agency in scopes["agencies"]))

    def result_for(who, code: str, action: str):
        code = checked_code(code)
        record = rooms.index.get_result(code)
        if record is None:
            rooms.index.log_access(who.name, code, action, 404)
            raise ApiError(404, f"no result with code {code}")
        if not in_scope(who, record):
            rooms.index.log_access(who.name, code, action, 403)
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
            "links": {"self": f"/v1/results/{record.code}", "document": f"/v1/results/{record.code}/document",
                      "verification": f"/v1/results/{record.code}/verification"},
        }

    @app.get("/v1/health", tags=["service"])
    def health() -> dict[str, str]:
        """Liveness; needs no credentials."""
        return {"status": "ok"}

    @app.get("/v1/results/{code}", tags=["results"])
    def get_result(code: str, who: Client) -> dict[str, Any]:
        """Metadata of a result: type, fields, level, agency, dates, checksum, signature summary, versions."""
        record = result_for(who, code, "metadata")
        meta = store.metadata(record.code, record.version)
        body = summary(who, record) | {
            "versions": store.versions(record.code), "retention": record.retention,
            "issued_on": record.fields.get("issued_on"),
            "signature": {"signer": meta.get("signer"), "subfilter": "ETSI.CAdES.detached", "digest": "sha256"},
            "files": meta.get("files", {}),
        }
        rooms.index.log_access(who.name, record.code, "metadata", 200)
        return body

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
        if number not in store.versions(record.code):
            raise ApiError(404, f"{record.code} has no version {number}")
        key = f"{record.code}/v{number}/document.pdf"
        if redirect == "presigned":
            presign = getattr(rooms.archive, "presigned_url", None)
            if presign is None:
                raise ApiError(400, "presigned redirects need the S3 archive backend")
            rooms.index.log_access(who.name, record.code, "document-presigned", 307)
            return RedirectResponse(presign(key, 300), status_code=307)
        sha = store.metadata(record.code, number)["files"]["document.pdf"]["sha256"]
        etag = f'"{sha}"'
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag})
        data = rooms.archive.get(key)
        headers = {"ETag": etag, "Accept-Ranges": "bytes",
                   "Content-Disposition": f'inline; filename="{record.code}.pdf"'}
        status, body = 200, data
        wanted = request.headers.get("range")
        if wanted:
            match = re.fullmatch(r"bytes=(\d*)-(\d*)", wanted.strip())
            if not match or match.groups() == ("", ""):
                raise ApiError(416, "only one byte range 'bytes=START-END' is supported",
                               {"Content-Range": f"bytes */{len(data)}"})
            start_text, end_text = match.groups()
            if start_text:
                start, end = int(start_text), int(end_text) if end_text else len(data) - 1
            else:
                start, end = max(0, len(data) - int(end_text)), len(data) - 1
            end = min(end, len(data) - 1)
            if start > end or start >= len(data):
                raise ApiError(416, "range not satisfiable", {"Content-Range": f"bytes */{len(data)}"})
            status, body = 206, data[start:end + 1]
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        rooms.index.log_access(who.name, record.code, "document", status)
        return Response(body, status_code=status, media_type="application/pdf", headers=headers)

    @app.get("/v1/results/{code}/verification", tags=["results"])
    def get_verification(code: str, who: Client) -> dict[str, Any]:
        """Signature and fixity report of the current version."""
        record = result_for(who, code, "verification")
        data = rooms.archive.get(record.archive_key)
        fixity_ok = hashlib.sha256(data).hexdigest() == record.sha256
        report = verify_pdf(data, rooms.trust_roots)
        rooms.index.log_access(who.name, record.code, "verification", 200)
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
        page: Annotated[int, Query(ge=1, le=10_000)] = 1,
        per_page: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> dict[str, Any]:
        """Search results; a client sees only its scope, and holder IDs masked unless it has that scope."""
        from storage import ResultQuery

        scopes = who.scopes

        def narrowed(wanted: str | None, allowed: list[str] | None) -> tuple[str, ...]:
            if wanted and allowed and wanted not in allowed:
                return ("\x00none",)  # asks for something outside its scope: nothing matches
            return (wanted,) if wanted else tuple(allowed or ())

        query = ResultQuery(
            doc_types=narrowed(type, scopes.get("types")), levels=narrowed(level, scopes.get("levels")),
            agencies=tuple(scopes.get("agencies") or ()),
            issued_from=issued_from.isoformat() if issued_from else None,
            issued_to=issued_to.isoformat() if issued_to else None, holder_id=holder_id, text=q,
        )
        total, records = rooms.index.search_results(query, offset=(page - 1) * per_page, limit=per_page)
        rooms.index.log_access(who.name, None, "search", 200)
        return {"total": total, "page": page, "per_page": per_page,
                "results": [summary(who, r) for r in records]}

    return app


def serve(host: str, port: int) -> None:
    """Run the API with uvicorn on the configured rooms."""
    import uvicorn

    from digitize.pipeline import open_rooms
    from settings import load_settings

    uvicorn.run(create_app(open_rooms(load_settings())), host=host, port=port, log_level="warning",
                server_header=False, limit_concurrency=256, h11_max_incomplete_event_size=16 * 1024)
