"""The clerks' workspace: server-rendered pages (Jinja2, htmx) for the counter, the review queue, search,
results and progress, served by ``sohoa serve`` beside the API.

Routes only: what they do is the application layer's (``workflow``).  Every page needs a signed-in officer
(303 to ``/login`` otherwise); every form carries the session's CSRF token; sessions end after
``SOHOA_IDLE_MINUTES`` without a request, and when the officer is disabled or their password changes.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from web.i18n import day, language, translate
from web.i18n import reason as reason_in
from workflow import counter, finding, progress, results, review
from workflow.contracts import CORRECTABLE_FIELDS, ReviewDecision, Status
from workflow.rooms import Rooms
from workflow.sharing import MissThrottle, Throttled
from workflow.users import Officer, Right, SignInRefused, officer_for_session, sign_in

HERE = Path(__file__).parent
PAGE_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
LEVELS = ("ministry", "province", "district", "commune")
AGES = {"1h": dt.timedelta(hours=1), "1d": dt.timedelta(days=1), "7d": dt.timedelta(days=7)}
SESSION_COOKIE = "sohoa_session"
FormText = Annotated[str | None, Form(max_length=400)]


class SignInNeeded(Exception):
    def __init__(self, reason: str | None = None):
        self.reason = reason


class Forbidden(Exception):
    def __init__(self, key: str = "forbidden", status: int = 403):
        self.key, self.status = key, status


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True))
    env.filters["day"] = day
    env.filters["tojson_attr"] = lambda value: json.dumps(value, ensure_ascii=False)
    return env


templates = Jinja2Templates(env=_environment())


def lang_of(request: Request) -> str:
    return language(request.headers.get("accept-language"))


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


async def check_csrf(request: Request) -> None:
    """Every state-changing request carries the session's token (form field, or header for scripts)."""
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        sent = form.get("csrf_token")
    expected = request.session.get("csrf")
    if not expected or not isinstance(sent, str) or not secrets.compare_digest(sent, expected):
        raise Forbidden("csrf")


def current_officer(request: Request) -> Officer:
    """The signed-in officer; ``SignInNeeded`` without a live session."""
    session = request.session
    name, stamp, seen = session.get("user"), session.get("stamp"), session.get("seen")
    if not name or not stamp:
        raise SignInNeeded()
    idle = request.app.state.rooms.settings.idle_minutes * 60
    if not isinstance(seen, (int, float)) or time.time() - seen > idle:
        session.clear()
        raise SignInNeeded("idle")
    found = officer_for_session(request.app.state.rooms, name, stamp)
    if found is None:
        session.clear()
        raise SignInNeeded()
    session["seen"] = int(time.time())
    return found


SignedIn = Annotated[Officer, Depends(current_officer)]


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang = lang_of(request)
    officer = context.get("officer")

    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)

    flashes = request.session.pop("flash", []) if "session" in request.scope else []
    def why(text: str) -> tuple[str, str | None]:
        return reason_in(lang, text)

    response = templates.TemplateResponse(request, template, {
        "t": t, "why": why, "lang": lang, "csrf": csrf_token(request), "officer": officer, "flashes": flashes,
        "may_ids": bool(officer and officer.may(Right.PERSONAL_IDS)), **context}, status_code=status)
    response.headers["Content-Security-Policy"] = PAGE_CSP
    return response


def flash(request: Request, key: str, kind: str = "ok", **values: object) -> None:
    request.session.setdefault("flash", []).append({"kind": kind, "text": translate(lang_of(request), key, **values)})


def flash_text(request: Request, text: str, kind: str = "error") -> None:
    request.session.setdefault("flash", []).append({"kind": kind, "text": text})


def _safe_next(target: str | None) -> str:
    """Only a path of this site (never //host or a scheme) is followed after signing in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/counter"


def install_workspace(app: FastAPI, rooms: Rooms) -> None:
    """Add the workspace's pages, its static files and its session handling to ``app``."""
    from starlette.middleware.sessions import SessionMiddleware

    from workflow.keys import installation_secret

    settings = rooms.settings
    app.add_middleware(SessionMiddleware, secret_key=installation_secret(settings, "web-session.key").hex(),
                       session_cookie=SESSION_COOKIE, max_age=12 * 3600, same_site="lax",
                       https_only=settings.secure_cookies)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, exc: SignInNeeded) -> Response:
        if request.headers.get("hx-request"):  # a polled part of a page: the whole page goes to sign-in
            return Response(status_code=204, headers={"HX-Redirect": "/login" + ("?why=idle" if exc.reason else "")})
        if request.method != "GET":
            return Response(status_code=303, headers={"Location": "/login"})
        query = {"next": request.url.path + (f"?{request.url.query}" if request.url.query else "")}
        if exc.reason:
            query["why"] = exc.reason
        return RedirectResponse(f"/login?{urlencode(query)}", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return render(request, "message.html", status=exc.status, message=translate(lang_of(request), exc.key))

    app.include_router(_router(rooms))


def _router(rooms: Rooms) -> APIRouter:  # noqa: C901 - one place lists every page
    router = APIRouter(include_in_schema=False)
    guesses = MissThrottle(limit=20, window=60.0)  # failed sign-ins per address, in this server process

    # -- signing in and out
    @router.get("/")
    def home(officer: SignedIn) -> RedirectResponse:
        return RedirectResponse("/counter", status_code=303)

    @router.get("/login")
    def login_page(request: Request, next: str | None = None, why: str | None = None) -> HTMLResponse:
        message = translate(lang_of(request), "login.idle") if why == "idle" else None
        return render(request, "login.html", next=_safe_next(next), message=message)

    @router.post("/login", dependencies=[Depends(check_csrf)])
    def login(request: Request, username: Annotated[str, Form(max_length=100)],
              password: Annotated[str, Form(max_length=400)], next: Annotated[str, Form()] = "/counter") -> Response:
        lang = lang_of(request)
        address = f"ip {request.client.host}" if request.client else "ip unknown"
        try:
            guesses.check(address)  # one address trying many names and passwords waits
        except Throttled as exc:
            return render(request, "login.html", status=429, next=_safe_next(next), username=username,
                          message=translate(lang, "login.slow", seconds=exc.retry_after))
        try:
            officer, stamp = sign_in(rooms, username.strip(), password)
        except SignInRefused as exc:
            guesses.miss(address)
            key = {"locked": "login.locked", "disabled": "login.disabled"}.get(exc.reason, "login.wrong")
            message = translate(lang, key, until=day(exc.until) if exc.until else "")
            return render(request, "login.html", status=401, next=_safe_next(next), message=message,
                          username=username)
        request.session.clear()  # a new session on sign-in: a planted cookie is worth nothing
        request.session.update({"user": officer.name, "stamp": stamp, "seen": int(time.time()),
                                "csrf": secrets.token_urlsafe(32)})
        return RedirectResponse(_safe_next(next), status_code=303)

    @router.post("/logout", dependencies=[Depends(check_csrf)])
    def logout(request: Request) -> RedirectResponse:
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # -- the counter
    def need(officer: Officer, right: Right) -> None:
        if not officer.may(right):
            raise Forbidden()

    @router.get("/counter")
    def counter_page(request: Request, officer: SignedIn) -> HTMLResponse:
        need(officer, Right.COUNTER)
        return render(request, "counter.html", officer=officer, types=list(rooms.catalogue),
                      uploads=_uploads_of(officer))

    def _uploads_of(officer: Officer):
        return counter.recent_uploads(rooms, None if officer.may(Right.EVERY_UPLOAD) else officer.name)

    @router.get("/counter/uploads")
    def counter_rows(request: Request, officer: SignedIn) -> HTMLResponse:
        need(officer, Right.COUNTER)
        return render(request, "counter_rows.html", officer=officer, uploads=_uploads_of(officer))

    @router.post("/counter/upload")
    async def counter_upload(request: Request, officer: SignedIn) -> Response:
        need(officer, Right.COUNTER)
        form = await request.form(max_files=counter.MAX_FILES_PER_UPLOAD + 1, max_fields=20)
        sent = form.get("csrf_token")
        if not isinstance(sent, str) or not secrets.compare_digest(sent, request.session.get("csrf", "")):
            raise Forbidden("csrf")
        files = [f for f in form.getlist("files") if hasattr(f, "filename") and f.filename]
        dossier, type_hint = form.get("dossier"), form.get("type_hint")
        try:
            await run_in_threadpool(counter.hand_in, rooms, officer.name,
                                    [counter.HandedIn(f.filename, f.file) for f in files],
                                    dossier if isinstance(dossier, str) else None,
                                    type_hint if isinstance(type_hint, str) else None)
        except counter.CounterError as exc:
            flash_text(request, exc.said_in(lang_of(request)))
            return RedirectResponse("/counter", status_code=303)
        finally:
            for f in files:
                await f.close()
        flash(request, "counter.sent", n=len(files))
        return RedirectResponse("/counter", status_code=303)

    @router.get("/counter/cover-sheet")
    def cover_sheet(request: Request, officer: SignedIn, dossier: Annotated[str, Query(max_length=64)],
                    type: Annotated[str | None, Query(max_length=8)] = None) -> Response:
        need(officer, Right.COUNTER)
        from workflow.registry import RegistryInputError, write_coversheets_for

        with tempfile.TemporaryDirectory(prefix="sohoa-web-") as folder:
            target = Path(folder) / "cover.pdf"
            try:
                write_coversheets_for(rooms.settings, [f"{dossier}:{type}" if type else dossier], target)
            except RegistryInputError as exc:
                return render(request, "message.html", status=422, officer=officer, message=str(exc))
            data = target.read_bytes()
        return Response(data, media_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="phieu-bia-{quote(dossier)}.pdf"'})

    # -- the review queue
    def _queue(everything: list[review.WaitingDocument], kind: str | None = None, doc_type: str | None = None,
               agency: str | None = None, age: str | None = None) -> list[review.WaitingDocument]:
        now = dt.datetime.now(dt.UTC)
        older = AGES.get(age or "")
        return [d for d in everything
                if (not kind or kind in d.kinds) and (not doc_type or d.doc_type == doc_type)
                and (not agency or d.agency == agency) and (not older or (d.since and now - d.since >= older))]

    @router.get("/review")
    def review_queue(request: Request, officer: SignedIn, reason: str | None = None, type: str | None = None,
                     agency: str | None = None, age: str | None = None) -> HTMLResponse:
        need(officer, Right.REVIEW)
        everything = review.waiting(rooms)
        counts = {kind: sum(1 for d in everything if kind in d.kinds) for kind in review.REASON_KINDS}
        shown = _queue(everything, reason, type, agency, age)
        return render(request, "review_list.html", officer=officer, documents=shown, counts=counts,
                      kinds=review.REASON_KINDS, types=list(rooms.catalogue),
                      agencies=sorted({d.agency for d in everything if d.agency}),
                      chosen={"reason": reason, "type": type, "agency": agency, "age": age},
                      type_names={t.code: t.name for t in rooms.catalogue})

    def _neighbours(input_id: int) -> tuple[int | None, int | None]:
        ids = [d.id for d in review.waiting(rooms)]
        if input_id not in ids:
            return (ids[0] if ids else None), None
        at = ids.index(input_id)
        return (ids[at + 1] if at + 1 < len(ids) else None), (ids[at - 1] if at > 0 else None)

    @router.get("/review/{input_id}")
    def review_page(request: Request, officer: SignedIn, input_id: int, page: int = 1) -> Response:
        need(officer, Right.REVIEW)
        try:
            view = review.review_view(rooms, input_id)
        except review.ReviewError as exc:
            flash_text(request, exc.said_in(lang_of(request)))
            return RedirectResponse("/review", status_code=303)
        held_by = None
        try:
            review.claim(rooms, input_id, officer.name)
        except review.ReviewError:
            held_by = review.claimed_by(rooms, input_id)
        return _review_render(request, officer, view, page, held_by)

    def _review_render(request: Request, officer: Officer, view: review.ReviewView, page: int,
                       held_by: str | None, status: int = 200, error: str | None = None,
                       values: dict[str, str] | None = None) -> HTMLResponse:
        page = min(max(page, 1), max(len(view.pages), 1))
        next_id, prev_id = _neighbours(view.document.id)
        proposal = view.proposal
        fields = dict(proposal.get("fields") or {})
        if fields.get("issued_on"):
            fields["issued_on"] = day(fields["issued_on"])
        shown = finding.shown_fields(officer, fields)
        if values:
            shown.update(values)
        confidence = proposal.get("confidence") or {}
        boxes = {name: box for name, box in view.field_boxes.items() if box["page"] == page}
        if not officer.may(Right.PERSONAL_IDS):
            boxes.pop("holder_id", None)
        words = view.pages[page - 1] if view.pages else None
        return render(request, "review.html", status=status, officer=officer, view=view, page=page,
                      fields=shown, confidence=confidence, boxes=boxes, words=words, held_by=held_by,
                      next_id=next_id, prev_id=prev_id, error=error, types=list(rooms.catalogue),
                      field_names=[n for n in CORRECTABLE_FIELDS], doc_type=(proposal.get("doc_type") or {}),
                      has_image=bool(view.pages) and review.has_page_preview(rooms, view.document.id, page))

    @router.get("/review/{input_id}/page/{page}.jpg")
    def review_image(officer: SignedIn, input_id: int, page: int) -> Response:
        need(officer, Right.REVIEW)
        try:
            data = review.page_preview(rooms, input_id, page)
        except review.ReviewError:
            data = None
        if data is None:
            return Response(status_code=404)
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, no-store"})

    @router.post("/review/{input_id}/accept", dependencies=[Depends(check_csrf)])
    def review_accept(request: Request, officer: SignedIn, input_id: int,
                      doc_type: FormText = None, number: FormText = None, issued_on: FormText = None,
                      issuer: FormText = None, holder: FormText = None, holder_id: FormText = None) -> Response:
        # A plain function: accepting signs and archives, which runs in a worker thread, not the event loop.
        need(officer, Right.REVIEW)
        form = {"number": number, "issued_on": issued_on, "issuer": issuer, "holder": holder,
                "holder_id": holder_id}
        try:
            view = review.review_view(rooms, input_id)
        except review.ReviewError as exc:
            flash_text(request, exc.said_in(lang_of(request)))
            return RedirectResponse("/review", status_code=303)
        proposal = view.proposal
        proposed = dict(proposal.get("fields") or {})
        if proposed.get("issued_on"):
            proposed["issued_on"] = day(proposed["issued_on"])
        masked = finding.shown_fields(officer, proposed)
        corrections: dict[str, str] = {}
        values: dict[str, str] = {}
        for name in CORRECTABLE_FIELDS:
            sent = form.get(name)
            if not isinstance(sent, str):
                continue
            if name == "holder_id" and not officer.may(Right.PERSONAL_IDS):
                continue  # shown masked and read-only: only an officer who may read ID numbers changes one
            values[name] = sent
            if " ".join(sent.split()) != " ".join(str(masked.get(name) or "").split()):
                if not sent.strip() and not proposed.get(name):
                    continue  # left empty as it was
                corrections[name] = sent
        proposed_type = (proposal.get("doc_type") or {}).get("code")
        doc_type = doc_type or None
        type_reason = any(review.reason_kind(r) == "type" for r in view.document.reasons)
        if doc_type == proposed_type and not type_reason:
            doc_type = None  # kept as sohoa read it
        decision = ReviewDecision(doc_type=doc_type, fields=corrections, officer=officer.name)
        try:
            outcome = review.accept(rooms, input_id, decision)
        except review.ReviewError as exc:
            message = exc.said_in(lang_of(request))
            conflict = "reviewing" in str(exc)
            return _review_render(request, officer, view, 1, None, status=409 if conflict else 422, error=message,
                                  values=values)
        if outcome.status != Status.ARCHIVED:
            return _review_render(request, officer, review.review_view(rooms, input_id), 1, None, status=422,
                                  error=outcome.reason)
        flash(request, "review.accepted", code=outcome.code)
        next_id, _prev = _neighbours(input_id)
        return RedirectResponse(f"/review/{next_id}" if next_id else "/review", status_code=303)

    @router.post("/review/{input_id}/reject", dependencies=[Depends(check_csrf)])
    def review_reject(request: Request, officer: SignedIn, input_id: int,
                      reason: Annotated[str, Form(max_length=300)] = "") -> Response:
        need(officer, Right.REVIEW)
        next_id, _prev = _neighbours(input_id)
        try:
            review.reject(rooms, input_id, reason, officer.name)
        except review.ReviewError as exc:
            flash_text(request, exc.said_in(lang_of(request)))
            return RedirectResponse(f"/review/{input_id}", status_code=303)
        flash(request, "review.rejected", id=input_id)
        return RedirectResponse(f"/review/{next_id}" if next_id else "/review", status_code=303)

    # -- search and results
    @router.get("/search")
    def search_page(request: Request, officer: SignedIn, q: Annotated[str | None, Query(max_length=200)] = None,
                    dossier: Annotated[str | None, Query(max_length=64)] = None,
                    holder_id: Annotated[str | None, Query(max_length=16)] = None,
                    number: Annotated[str | None, Query(max_length=100)] = None,
                    type: Annotated[str | None, Query(max_length=8)] = None,
                    level: Annotated[str | None, Query(max_length=16)] = None,
                    agency: Annotated[str | None, Query(max_length=40)] = None,
                    issued_from: str | None = None, issued_to: str | None = None,
                    page: Annotated[int, Query(ge=1, le=1000)] = 1) -> Response:
        need(officer, Right.SEARCH)
        wanted = finding.OfficerSearch(q=(q or "").strip() or None, dossier=dossier or None,
                                       holder_id=(holder_id or "").strip() or None, number=number or None,
                                       doc_type=type or None, level=level if level in LEVELS else None,
                                       agency=agency or None, issued_from=_date(issued_from),
                                       issued_to=_date(issued_to))
        exact = finding.exact_code(rooms, wanted.q)
        if exact is not None:
            return RedirectResponse(f"/results/{quote(exact.code)}", status_code=303)
        found, total, error = [], 0, None
        if not wanted.empty:
            try:
                total, found = finding.search(rooms, officer, wanted, offset=(page - 1) * 20, limit=20)
            except finding.SearchRefused as exc:
                error = exc.said_in(lang_of(request))
        shown = [(r, finding.shown_fields(officer, r.fields)) for r in found]
        return render(request, "search.html", officer=officer, wanted=wanted, results=shown, total=total,
                      error=error, searched=not wanted.empty, types=list(rooms.catalogue), levels=LEVELS,
                      page=page, query=request.url.query)

    @router.get("/results/{code}")
    def result_view(request: Request, officer: SignedIn, code: Annotated[str, Depends(_code)]) -> Response:
        need(officer, Right.SEARCH)
        try:
            shown = finding.result_page(rooms, officer, code)
        except results.ResultLookupError:
            raise Forbidden("notfound", 404) from None
        return render(request, "result.html", officer=officer, page=shown)

    @router.get("/results/{code}/document")
    def result_document(officer: SignedIn, code: Annotated[str, Depends(_code)],
                        version: Annotated[int | None, Query(ge=1, le=10_000)] = None) -> Response:
        need(officer, Right.SEARCH)
        try:
            record = results.find_result(rooms, code)
            number = results.check_version(rooms, record, version)
        except results.ResultLookupError:
            raise Forbidden("notfound", 404) from None
        meta = results.version_metadata(rooms, record.code, number)
        body = results.document_pieces(rooms, record.code, number, meta.document.sha256)
        return StreamingResponse(body, media_type="application/pdf", headers={
            "Content-Disposition": f'inline; filename="{record.code}.pdf"', "Content-Length": str(meta.document.size),
            "Cache-Control": "private, no-store"})

    # -- progress
    @router.get("/progress")
    def progress_page(request: Request, officer: SignedIn, year: Annotated[int | None, Query(ge=2000, le=2100)]
                      = None) -> HTMLResponse:
        from workflow.maintenance import targets_report

        year = year or dt.date.today().year
        report = targets_report(rooms, year)
        counts = counter.queue_counts(rooms)
        return render(request, "progress.html", officer=officer, report=report, year=year,
                      runs=progress.recent_runs(rooms), queued=counts.get("queued", 0),
                      processing=counts.get("processing", 0))

    @router.get("/progress/chart.png")
    def progress_chart(officer: SignedIn, year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> Response:
        from workflow.maintenance import draw_targets_chart, targets_report

        with tempfile.TemporaryDirectory(prefix="sohoa-web-") as folder:
            target = Path(folder) / "chart.png"
            try:
                draw_targets_chart(targets_report(rooms, year or dt.date.today().year), target)
            except ImportError:
                return Response(status_code=404)
            return Response(target.read_bytes(), media_type="image/png", headers={"Cache-Control": "no-store"})

    return router


def _code(code: str) -> str:
    if len(code) > 80:
        raise Forbidden("notfound", 404)
    return code


def _date(raw: str | None) -> dt.date | None:
    """A date from a form: dd/mm/yyyy as people write it, or yyyy-mm-dd from a date field."""
    if not raw:
        return None
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(raw.strip(), pattern).date()
        except ValueError:
            continue
    return None
