"""The citizen's electronic store on the National Public Service Portal: archived results of a dossier pushed
in the shape the portal's integration uses (shared/domain.md §7; documented in docs/national-store.md).

All of the mapping lives here.  The endpoint, the token endpoint, the credentials and the unit code are
configuration (``SOHOA_NATIONAL_STORE_*``); the store is an outbox subscriber of kind ``national``, so that
pushes are retried, dead-lettered and replayed like any webhook delivery.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from codes import VIETNAM_TIME
from workflow.rooms import Rooms

SERVICE = "DongBoHoSoMC"  # the portal's service name for syncing one-stop dossiers
KIND = "national"
EVENTS = ["result.archived", "result.version"]
STATUS_RETURNED = "10"  # TrangThaiHoSo: "đã trả kết quả" (our reading of public provincial code; configurable later)
ID_KIND = {9: "1", 12: "1", 10: "2", 13: "2"}  # LoaiDinhDanh: 1 a person's ID, 2 a tax or enterprise code


class NationalStoreError(Exception):
    """The store is not configured, or refused a push; the message says why."""


@dataclass(frozen=True)
class Pushed:
    sent: bool
    detail: str


def check_configured(rooms: Rooms) -> None:
    settings = rooms.settings
    missing = [name for name, value in (
        ("SOHOA_NATIONAL_STORE_URL", settings.national_store_url),
        ("SOHOA_NATIONAL_STORE_TOKEN_URL", settings.national_store_token_url),
        ("SOHOA_NATIONAL_STORE_USER", settings.national_store_user),
        ("SOHOA_NATIONAL_STORE_PASSWORD", settings.national_store_password),
        ("SOHOA_NATIONAL_STORE_UNIT", settings.national_store_unit),
        ("SOHOA_PUBLIC_URL", settings.public_url)) if not value]
    if missing:
        raise NationalStoreError("the national store needs " + ", ".join(missing))


def connect(rooms: Rooms) -> int:
    """Subscribe the configured store to archived results (once); returns the subscriber's id."""
    check_configured(rooms)
    for hook in rooms.index.outbox.webhooks():
        if hook.kind == KIND and hook.disabled_at is None and hook.url == rooms.settings.national_store_url:
            return hook.id
    return rooms.index.outbox.add_webhook(rooms.settings.national_store_url, EVENTS, "-", kind=KIND)


def _owner_ids(holder_id: str | None) -> list[dict[str, str]]:
    digits = (holder_id or "").replace("-", "")
    if not digits.isdigit() or len(digits) not in ID_KIND:
        return []
    return [{"LoaiDinhDanh": ID_KIND[len(digits)], "SoDinhDanh": holder_id}]


def dossier_body(rooms: Rooms, event: dict[str, Any], updating: bool) -> dict[str, Any] | None:
    """The portal's body for one archived result, or None when it belongs to no dossier (nothing to sync:
    the store files results under ``{dossier code}-KQ{n}``)."""
    data = event.get("data", {})
    record = rooms.index.results.get(data.get("code", ""))
    if record is None or not record.dossier_code:
        return None
    meta = rooms.store.metadata(record.code, record.version)
    minimum = meta.minimum_data or {}
    base = rooms.settings.public_url.rstrip("/")
    returned = record.created_at.astimezone(VIETNAM_TIME)
    paper = {
        "TenGiayTo": minimum.get("paper_name") or record.doc_type_name,
        "MaThanhPhanHoSo": minimum.get("paper_type_code") or record.doc_type,
        "GiayToId": record.code,
        "DuongDanTepTinKetQua": f"{base}/v1/results/{record.code}/document",
        "MaGiayToKetQua": record.result_alias or record.code,
        "SoKyHieu": minimum.get("number"),
        "NgayBanHanh": minimum.get("issued_on"),
        "CoQuanBanHanh": minimum.get("issuer"),
        "TrichYeu": minimum.get("summary"),
        "HieuLucDen": minimum.get("valid_until"),
    }
    return {"service": SERVICE, "isUpdating": updating, "data": [{
        "MaHoSo": record.dossier_code, "MaTTHC": minimum.get("procedure_code"),
        "DinhDanhCHS": _owner_ids(record.fields.get("holder_id")), "TrangThaiHoSo": STATUS_RETURNED,
        "NgayTra": returned.strftime("%Y%m%d%H%M%S"), "MaDonVi": rooms.settings.national_store_unit,
        "DanhSachGiayToKetQua": [paper]}]}


class _Tokens:
    """The store's access token, fetched with the configured credentials and kept until it expires."""

    def __init__(self) -> None:
        self.token: str | None = None
        self.until = 0.0

    def get(self, rooms: Rooms, client: httpx.Client) -> str:
        if self.token and time.monotonic() < self.until:
            return self.token
        settings = rooms.settings
        answer = client.post(settings.national_store_token_url, json={
            "username": settings.national_store_user, "password": settings.national_store_password,
            "unit": settings.national_store_unit}, timeout=10)
        answer.raise_for_status()
        body = answer.json()
        self.token = body.get("access_token")
        if not self.token:
            raise NationalStoreError(f"the token endpoint answered without a token: {str(body)[:200]}")
        self.until = time.monotonic() + max(30, int(body.get("expires_in", 300)) - 30)
        return self.token


TOKENS = _Tokens()


def push(rooms: Rooms, client: httpx.Client, event: dict[str, Any], event_id: str) -> Pushed:
    """Send one result to the store; ``NationalStoreError`` or ``httpx.HTTPError`` when it did not take it."""
    check_configured(rooms)
    body = dossier_body(rooms, event, updating=event.get("type") == "result.version")
    if body is None:
        return Pushed(False, "not sent: the result belongs to no dossier")
    token = TOKENS.get(rooms, client)
    answer = client.post(rooms.settings.national_store_url, json=body, timeout=30,
                         headers={"Authorization": f"Bearer {token}", "Idempotency-Key": event_id})
    if answer.status_code == 401:
        TOKENS.token = None
    answer.raise_for_status()
    reply = answer.json()
    code = str(reply.get("error_code", reply.get("ErrorCode", "")))
    message = str(reply.get("message", reply.get("Message", "")))[:300]
    if code not in ("0", "00"):
        raise NationalStoreError(f"the store refused it: error {code or '?'}: {message}")
    return Pushed(True, message or "accepted")

