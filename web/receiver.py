"""A reference receiver of sohoa's webhooks (``sohoa receiver serve``): it verifies each delivery with the stock
Standard Webhooks library, stores each event once by its id (the idempotency key), and can be told to fail,
so that the whole path is tested without the real receiving systems.  Meant for loopback and tests: its
``/control`` endpoint takes no credentials.
"""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class ReceiverState:
    """What the receiver stored (``received.jsonl``, one line per event id) and how it is told to behave."""

    def __init__(self, store: Path, secrets: list[str]):
        store.mkdir(parents=True, exist_ok=True)
        self.path = store / "received.jsonl"
        self.verifiers = [Webhook(secret) for secret in secrets]
        self.lock = threading.Lock()
        self.stored: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            for line in self.path.read_text("utf-8").splitlines():
                entry = json.loads(line)
                self.stored[entry["id"]] = entry
        self.receipts: dict[str, int] = {}
        self.fail, self.fail_status, self.retry_after, self.delay = 0, 503, None, 0.0

    def verify(self, body: bytes, headers: dict[str, str]) -> dict[str, Any] | None:
        for verifier in self.verifiers:
            try:
                return verifier.verify(body, headers)
            except WebhookVerificationError:
                continue
        return None

    def store_once(self, event_id: str, event: dict[str, Any]) -> bool:
        """Keep ``event`` unless its id was stored before; True when it is new."""
        with self.lock:
            if event_id in self.stored:
                return False
            entry = {"id": event_id, "type": event.get("type"), "event": event}
            with self.path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(entry, ensure_ascii=False) + "\n")
                out.flush()
            self.stored[event_id] = entry
            return True


REQUIRED_DOSSIER = ("MaHoSo", "DinhDanhCHS", "TrangThaiHoSo", "DanhSachGiayToKetQua")
REQUIRED_PAPER = ("TenGiayTo", "MaThanhPhanHoSo", "GiayToId", "DuongDanTepTinKetQua", "MaGiayToKetQua")


def receiver_app(store: Path, secrets: list[str], national: tuple[str, str] | None = None) -> FastAPI:
    state = ReceiverState(store, secrets)
    tokens: set[str] = set()
    app = FastAPI(title="sohoa reference receiver", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.receiver = state

    @app.post("/control")
    async def control(request: Request) -> dict[str, Any]:
        """Tell the receiver to fail the next N deliveries (status, Retry-After) or to answer slowly."""
        wanted = await request.json()
        state.fail = int(wanted.get("fail", 0))
        state.fail_status = int(wanted.get("status", 503))
        state.retry_after = wanted.get("retry_after")
        state.delay = float(wanted.get("delay", 0.0))
        return {"fail": state.fail, "status": state.fail_status, "delay": state.delay}

    @app.get("/received")
    def received() -> dict[str, Any]:
        return {"events": list(state.stored), "receipts": dict(state.receipts)}

    @app.post("/national/token")
    async def national_token(request: Request) -> JSONResponse:
        """The store's token endpoint: the configured user and password give a token."""
        asked = await request.json()
        if national is None or (asked.get("username"), asked.get("password")) != national or not asked.get("unit"):
            return JSONResponse({"error_code": "401", "message": "sai thông tin đăng nhập"}, status_code=401)
        import secrets as random

        token = random.token_urlsafe(16)
        tokens.add(token)
        return JSONResponse({"access_token": token, "expires_in": 3600})

    @app.post("/national/sync")
    async def national_sync(request: Request) -> JSONResponse:
        """The store's sync endpoint: a body per dossier with its result papers; each paper kept once by its id."""
        if request.headers.get("authorization", "").removeprefix("Bearer ") not in tokens:
            return JSONResponse({"error_code": "401", "message": "token không hợp lệ"}, status_code=401)
        if state.fail > 0:
            state.fail -= 1
            return JSONResponse({"error_code": "99", "message": "hệ thống đang bận"}, status_code=200)
        body = await request.json()
        dossiers = body.get("data") if body.get("service") == "DongBoHoSoMC" else None
        if not isinstance(dossiers, list) or not dossiers:
            return JSONResponse({"error_code": "2", "message": "sai cấu trúc dữ liệu"})
        for dossier in dossiers:
            missing = [k for k in REQUIRED_DOSSIER if k not in dossier]
            papers = dossier.get("DanhSachGiayToKetQua") or []
            missing += [k for paper in papers for k in REQUIRED_PAPER if not paper.get(k)]
            if missing or not papers:
                return JSONResponse({"error_code": "3", "message": "thiếu trường: " + ", ".join(missing)})
        for dossier in dossiers:
            for paper in dossier["DanhSachGiayToKetQua"]:
                key = f"national:{paper['GiayToId']}"
                state.receipts[key] = state.receipts.get(key, 0) + 1
                state.store_once(key, {"type": "national.sync", "dossier": dossier, "paper": paper})
        return JSONResponse({"error_code": "0", "message": "thành công"})

    @app.post("/{path:path}")
    async def deliver(path: str, request: Request) -> JSONResponse:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        event = state.verify(body, headers)
        if event is None:
            return JSONResponse({"error": "signature not valid"}, status_code=400)
        event_id = headers["webhook-id"]
        state.receipts[event_id] = state.receipts.get(event_id, 0) + 1  # every verified delivery, stored or not
        if state.delay:
            await asyncio.sleep(state.delay)
        if state.fail > 0:
            state.fail -= 1
            extra = {"Retry-After": str(state.retry_after)} if state.retry_after is not None else None
            return JSONResponse({"error": "told to fail"}, status_code=state.fail_status, headers=extra)
        new = state.store_once(event_id, event)
        return JSONResponse({"stored": new}, status_code=200)

    return app


def serve_receiver(host: str, port: int, store: Path, secrets: list[str],
                   national: tuple[str, str] | None = None) -> None:
    import uvicorn

    uvicorn.run(receiver_app(store, secrets, national), host=host, port=port, log_level="warning",
                server_header=False)
