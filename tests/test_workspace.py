"""The clerks' workspace through the app's own test client: sign-in, sessions, CSRF, roles, the counter,
the review queue (claims, corrections, escaping), search and result pages, progress."""

from __future__ import annotations

import json
import os
import re
import shutil
import time

import pytest

from tests.conftest import SAMPLES, json_lines, number_in_margin, run_cli

DOSSIER = "000.00.00.H26-261207-0007"
PASSWORD = "mật khẩu đủ dài 2026"
USERS = {"clerk1": "clerk", "clerk2": "clerk", "reviewer1": "reviewer", "admin1": "admin", "lockme": "clerk"}


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    from fastapi.testclient import TestClient

    from web.api import create_app
    from workflow.rooms import open_rooms
    from workflow.settings import load_settings

    data_dir = tmp_path_factory.mktemp("desk-data")
    inputs = tmp_path_factory.mktemp("desk-in")
    shutil.copy(SAMPLES / "06-thong-bao.pdf", inputs / "06-thong-bao.pdf")
    number_in_margin(inputs)
    outcomes = json_lines(run_cli("process", str(inputs), "--json", "--dossier", DOSSIER, data_dir=data_dir).stdout)
    assert sorted(o["status"] for o in outcomes) == ["archived", "needs_review"], outcomes
    secret = tmp_path_factory.mktemp("secret") / "password.txt"
    secret.write_text(PASSWORD + "\n", "utf-8")
    for name, role in USERS.items():
        run_cli("users", "add", name, "--role", role, "--password-file", str(secret), data_dir=data_dir)
    # clerk2 has a personal key: what they hand in at the counter carries their signature top left.
    run_cli("keys", "init-dev", "--officer", "clerk2", "--full-name", "Lê Văn Hai", data_dir=data_dir)
    old = os.environ.get("SOHOA_DATA_DIR")
    os.environ["SOHOA_DATA_DIR"] = str(data_dir)
    try:
        rooms = open_rooms(load_settings())
    finally:
        if old is None:
            os.environ.pop("SOHOA_DATA_DIR", None)
        else:
            os.environ["SOHOA_DATA_DIR"] = old
    app = create_app(rooms)
    archived = next(o for o in outcomes if o["status"] == "archived")
    yield {"app": app, "rooms": rooms, "data_dir": data_dir, "archived": archived, "client": TestClient,
           "secret": secret}
    rooms.close()


def browser(desk, lang: str = "vi"):
    """A fresh client (its own cookie jar), as a second tab in another browser would be."""
    return desk["client"](desk["app"], base_url="http://testserver", follow_redirects=False,
                          headers={"Accept-Language": "en-US,en;q=0.8" if lang == "en" else "vi-VN,vi;q=0.9"})


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def signed_in(desk, name: str, lang: str = "vi"):
    client = browser(desk, lang)
    page = client.get("/login")
    answer = client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": csrf_of(page.text)})
    assert answer.status_code == 303 and answer.headers["location"] == "/counter", answer.text
    return client


def waiting_id(desk) -> int:
    from workflow import review

    return review.waiting(desk["rooms"])[0].id


PAGES = ["/", "/counter", "/counter/uploads", "/review", "/review/1", "/review/1/page/1.jpg", "/search?q=an",
         "/progress", "/progress/chart.png", "/results/000.00.00.H26-KS-261207-0001",
         "/results/000.00.00.H26-KS-261207-0001/document"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_needs_a_session(desk, path):
    answer = browser(desk).get(path)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next="), path


def test_a_polled_part_of_a_page_sends_the_whole_page_to_sign_in(desk):
    answer = browser(desk).get("/counter/uploads", headers={"HX-Request": "true"})
    assert answer.status_code == 204 and answer.headers["hx-redirect"] == "/login"


@pytest.mark.parametrize("path", ["/counter/upload", "/review/1/accept", "/review/1/reject", "/logout"])
def test_every_form_needs_a_session(desk, path):
    answer = browser(desk).post(path, data={"csrf_token": "x"})
    assert answer.status_code in (303, 403)
    if answer.status_code == 303:
        assert answer.headers["location"].startswith("/login")


def test_sign_in_needs_the_forms_token_and_the_right_password(desk):
    client = browser(desk)
    page = client.get("/login")
    assert page.status_code == 200 and 'name="username"' in page.text and 'name="password"' in page.text
    assert "Đăng nhập" in page.text and page.headers["content-security-policy"].startswith("default-src 'self'")
    assert client.post("/login", data={"username": "clerk1", "password": PASSWORD}).status_code == 403  # no token
    wrong = client.post("/login", data={"username": "clerk1", "password": "sai mật khẩu rồi",
                                         "csrf_token": csrf_of(page.text)})
    assert wrong.status_code == 401 and "không đúng" in wrong.text
    unknown = client.post("/login", data={"username": "nobody", "password": PASSWORD, "csrf_token": csrf_of(page.text)})
    assert unknown.status_code == 401 and unknown.text.count("không đúng") == wrong.text.count("không đúng")
    cookie = next(v for k, v in client.get("/login").headers.multi_items() if k == "set-cookie") \
        if "set-cookie" in client.get("/login").headers else None
    right = client.post("/login", data={"username": "clerk1", "password": PASSWORD, "csrf_token": csrf_of(page.text),
                                        "next": "//evil.example/x"})
    assert right.status_code == 303 and right.headers["location"] == "/counter"  # never to another site
    set_cookie = right.headers["set-cookie"]
    assert "sohoa_session=" in set_cookie and "httponly" in set_cookie.lower() and "samesite=lax" in set_cookie.lower()
    assert "secure" not in set_cookie.lower().replace("samesite", "")  # plain HTTP here: Secure needs TLS
    assert cookie is None or cookie != set_cookie  # a new session on sign-in
    assert client.get("/counter").status_code == 200


def test_behind_tls_the_session_cookie_is_secure(desk):
    import dataclasses

    from web.api import create_app

    rooms = desk["rooms"]
    secure = dataclasses.replace(rooms, settings=dataclasses.replace(rooms.settings, secure_cookies=True))
    client = desk["client"](create_app(secure), base_url="https://testserver", follow_redirects=False)
    token = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"username": "clerk2", "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 303 and "; secure" in answer.headers["set-cookie"].lower()


def test_other_readings_are_offered_in_one_click(desk):
    from workflow import review

    client = signed_in(desk, "clerk1")
    review_id = waiting_id(desk)
    folder = next(p for p in (desk["data_dir"] / "review").iterdir() if (p / "pages.json").exists())
    kept = json.loads((folder / "pages.json").read_text("utf-8"))
    kept["alternatives"] = {"holder": ["NGUYỄN MINH ÁNH"]}  # as a second reader would have said
    (folder / "pages.json").write_text(json.dumps(kept, ensure_ascii=False), "utf-8")
    page = client.get(f"/review/{review_id}").text
    assert 'data-use="holder" data-value="NGUYỄN MINH ÁNH"' in page
    assert review.review_view(desk["rooms"], review_id).alternatives == {"holder": ["NGUYỄN MINH ÁNH"]}
    kept["alternatives"] = {}
    (folder / "pages.json").write_text(json.dumps(kept, ensure_ascii=False), "utf-8")


def test_a_multi_page_document_shows_thumbnails_and_each_pages_words(desk):
    client = signed_in(desk, "clerk1")
    review_id = waiting_id(desk)
    folder = next(p for p in (desk["data_dir"] / "review").iterdir() if (p / "pages.json").exists())
    original = (folder / "pages.json").read_text("utf-8")
    kept = json.loads(original)
    second = {**kept["pages"][0], "words": [["trang", 95, 10, 10, 50, 20]]}
    kept["pages"].append(second)
    (folder / "pages.json").write_text(json.dumps(kept, ensure_ascii=False), "utf-8")
    shutil.copy(folder / "page-1.jpg", folder / "page-2.jpg")
    try:
        first = client.get(f"/review/{review_id}").text
        assert f'href="/review/{review_id}?page=2"' in first and f"/review/{review_id}/page/2.jpg" in first
        other = client.get(f"/review/{review_id}?page=2").text
        data = json.loads(re.search(r'id="page-data">(.*?)</script>', other, re.S)[1])
        assert data["words"] == [["trang", 95, 10, 10, 50, 20]] and data["boxes"] == {}  # the fields are on page 1
    finally:
        (folder / "pages.json").write_text(original, "utf-8")
        (folder / "page-2.jpg").unlink()


def test_kept_page_views_locate_fields_and_carry_the_second_readings(tmp_path):
    from digitize.model import PageText, Reread, Segment, Word
    from workflow import review
    from workflow.contracts import Outcome, SourcePart, Status

    words = [Word("Họ", 96, 100, 500, 60, 40), Word("và", 96, 170, 500, 50, 40), Word("tên:", 96, 230, 500, 80, 40),
             Word("NGUYỄN", 91, 330, 500, 200, 40), Word("MINH", 55, 540, 500, 120, 40),
             Word("ANH", 90, 670, 500, 100, 40), Word("ngày", 96, 100, 600, 90, 40), Word("08", 96, 200, 600, 40, 40),
             Word("tháng", 96, 250, 600, 100, 40), Word("4", 96, 360, 600, 20, 40), Word("năm", 96, 390, 600, 80, 40),
             Word("2020", 96, 480, 600, 90, 40)]
    page = PageText(0, 1000, 1400, (Segment(tuple(words[:6])), Segment(tuple(words[6:]))), "ocr",
                    rereads=(Reread("holder", "NGUYỄN MINH ÁNH", 80.0, (330, 500, 440, 40), "trueocr, ink kept"),))
    outcome = Outcome(SourcePart(tmp_path / "a.png"), Status.NEEDS_REVIEW,
                      fields={"holder": "NGUYỄN MINH ANH", "issued_on": "2020-04-08", "number": None})
    review._keep_page_views(tmp_path, [page], [], outcome)
    kept = json.loads((tmp_path / "pages.json").read_text("utf-8"))
    assert kept["fields"] == {"holder": {"page": 1, "box": [330, 500, 440, 40]},
                              "issued_on": {"page": 1, "box": [100, 600, 470, 40]}}
    assert kept["alternatives"] == {"holder": ["NGUYỄN MINH ÁNH"]}
    assert kept["pages"][0]["words"][4] == ["MINH", 55, 540, 500, 120, 40]


def test_repeated_failures_lock_the_user_out_until_a_reset(desk):
    client = browser(desk)
    token = csrf_of(client.get("/login").text)
    for _ in range(5):
        assert client.post("/login", data={"username": "lockme", "password": "không phải mật khẩu",
                                           "csrf_token": token}).status_code == 401
    locked = client.post("/login", data={"username": "lockme", "password": PASSWORD, "csrf_token": token})
    assert locked.status_code == 401 and "tạm khóa" in locked.text
    listed = json_lines(run_cli("users", "list", "--json", data_dir=desk["data_dir"]).stdout)
    assert next(u for u in listed if u["name"] == "lockme")["locked_until"]
    run_cli("users", "reset-password", "lockme", "--password-file", str(desk["secret"]), data_dir=desk["data_dir"])
    assert client.post("/login", data={"username": "lockme", "password": PASSWORD,
                                       "csrf_token": token}).status_code == 303


def test_an_address_that_keeps_failing_to_sign_in_is_slowed_down(desk):
    from web.api import create_app

    client = desk["client"](create_app(desk["rooms"]), base_url="http://testserver", follow_redirects=False)
    token = csrf_of(client.get("/login").text)
    statuses = [client.post("/login", data={"username": f"guess{n}", "password": "x" * 12, "csrf_token": token})
                .status_code for n in range(21)]
    assert statuses == [401] * 20 + [429]
    slowed = client.post("/login", data={"username": "clerk1", "password": PASSWORD, "csrf_token": token})
    assert slowed.status_code == 429 and "thử lại sau" in slowed.text  # even the right password waits


def test_users_are_managed_from_the_terminal_and_passwords_are_never_arguments(desk):
    data_dir = desk["data_dir"]
    listed = {u["name"]: u for u in json_lines(run_cli("users", "list", "--json", data_dir=data_dir).stdout)}
    assert {name: u["role"] for name, u in listed.items()} == USERS
    again = run_cli("users", "add", "clerk1", "--role", "clerk", "--password-file", str(desk["secret"]),
                    data_dir=data_dir, check=False)
    assert again.returncode == 2 and "exists" in again.stderr
    short = run_cli("users", "add", "short", "--role", "clerk", data_dir=data_dir, check=False, input="ngắn\n")
    assert short.returncode == 2 and "10" in short.stderr
    assert run_cli("users", "add", "x1", "--role", "clerk", "--password", "secret-secret", data_dir=data_dir,
                   check=False).returncode == 2
    assert run_cli("users", "add", "bad", "--role", "boss", data_dir=data_dir, check=False,
                   input=PASSWORD + "\n").returncode == 2
    stored = desk["rooms"].index.users.get("clerk1").password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_a_disabled_user_is_signed_out_at_the_next_request(desk):
    run_cli("users", "add", "leaving", "--role", "clerk", "--password-file", str(desk["secret"]),
            data_dir=desk["data_dir"])
    client = signed_in(desk, "leaving")
    run_cli("users", "disable", "leaving", data_dir=desk["data_dir"])
    assert client.get("/counter").headers["location"].startswith("/login")
    token = csrf_of(client.get("/login").text)
    refused = client.post("/login", data={"username": "leaving", "password": PASSWORD, "csrf_token": token})
    assert refused.status_code == 401 and "bị khóa" in refused.text


def test_an_idle_session_ends(desk, monkeypatch):
    import web.workspace

    client = signed_in(desk, "clerk2")
    assert client.get("/counter").status_code == 200
    later = time.time() + 31 * 60
    monkeypatch.setattr(web.workspace.time, "time", lambda: later)
    answer = client.get("/counter")
    assert answer.status_code == 303 and "why=idle" in answer.headers["location"]
    assert "lâu không thao tác" in client.get(answer.headers["location"]).text


def test_pages_are_vietnamese_first_and_english_on_request(desk):
    vi = signed_in(desk, "clerk2").get("/counter").text
    en = signed_in(desk, "clerk2", lang="en").get("/counter").text
    assert "Tiếp nhận bản giấy để số hóa" in vi and 'lang="vi"' in vi
    assert "Hand in paper to digitize" in en and 'lang="en"' in en
    assert "https://" not in vi and "http://" not in vi  # nothing loaded from outside (no CDN)


def test_forms_without_their_token_are_refused(desk):
    client = signed_in(desk, "clerk1")
    review_id = waiting_id(desk)
    for path in (f"/review/{review_id}/accept", f"/review/{review_id}/reject", "/logout"):
        answer = client.post(path, data={"reason": "x", "number": "1/2020"})
        assert answer.status_code == 403 and "hết hạn" in answer.text, path
    upload = client.post("/counter/upload", files={"files": ("a.png", b"\x89PNG", "image/png")})
    assert upload.status_code == 403
    assert desk["rooms"].index.uploads.recent() == []


def test_values_from_outside_are_shown_escaped_and_checked_like_the_cli(desk):
    client = signed_in(desk, "clerk1")
    review_id = waiting_id(desk)
    page = client.get(f"/review/{review_id}")
    hostile = '<script>alert("x")</script> Trần "Ước"'
    answer = client.post(f"/review/{review_id}/accept", data={
        "csrf_token": csrf_of(page.text), "holder": hostile, "issued_on": "31/02/2020", "number": "125/2020"})
    assert answer.status_code == 422 and "không có trên lịch" in answer.text  # the CLI's date check, in Vietnamese
    assert "<script>alert" not in answer.text and "&lt;script&gt;" in answer.text and "&#34;Ước&#34;" in answer.text
    assert desk["rooms"].index.inputs.get(review_id).status == "needs_review"  # nothing archived


def test_two_clerks_never_edit_the_same_document(desk):
    first, second = signed_in(desk, "clerk1"), signed_in(desk, "clerk2")
    review_id = waiting_id(desk)
    assert "đang duyệt" not in first.get(f"/review/{review_id}").text  # clerk1 claims it by opening it
    seen = second.get(f"/review/{review_id}")
    assert "clerk1 đang duyệt" in seen.text
    refused = second.post(f"/review/{review_id}/accept", data={"csrf_token": csrf_of(seen.text),
                                                               "number": "999/2020"})
    assert refused.status_code == 409 and "chưa được lưu" in refused.text
    rejected = second.post(f"/review/{review_id}/reject", data={"csrf_token": csrf_of(seen.text), "reason": "x"})
    assert rejected.status_code == 303
    assert desk["rooms"].index.inputs.get(review_id).status == "needs_review"
    queue = first.get("/review").text
    assert f'href="/review/{review_id}"' in queue and "Số, ký hiệu: 1" in queue  # counts per reason


def test_the_review_page_shows_the_kept_page_and_its_boxes_without_ocr(desk):
    client = signed_in(desk, "clerk1")
    review_id = waiting_id(desk)
    page = client.get(f"/review/{review_id}").text
    data = json.loads(re.search(r'<script type="application/json" id="page-data">(.*?)</script>', page, re.S)[1])
    assert data["width"] == 2480 and any(w[0] == "125/2020" for w in data["words"])
    assert {"issued_on", "holder", "issuer"} <= data["boxes"].keys()
    assert "holder_id" not in data["boxes"]  # a clerk without the right is not shown where the ID number is
    assert re.search(r'id="f-holder_id"[^>]*value="001\*+345"', page)  # masked for a clerk
    image = client.get(f"/review/{review_id}/page/1.jpg")
    assert image.status_code == 200 and image.content[:3] == b"\xff\xd8\xff"
    assert client.get(f"/review/{review_id}/page/2.jpg").status_code == 404
    reviewer = signed_in(desk, "reviewer1").get(f"/review/{review_id}").text
    assert 'value="001320012345"' in reviewer


def test_accepting_a_correction_archives_it_with_the_officer_and_search_finds_it(desk):
    client = signed_in(desk, "clerk1")
    review_id = waiting_id(desk)
    page = client.get(f"/review/{review_id}").text
    form = {name: value for name, value in re.findall(r'<input id="f-\w+" name="(\w+)" value="([^"]*)"', page)}
    form.update({"csrf_token": csrf_of(page), "number": "125/2020",
                 "holder_id": "999999999999"})  # a crafted change a clerk may not make: ignored
    done = client.post(f"/review/{review_id}/accept", data=form)
    assert done.status_code == 303 and done.headers["location"] == "/review", done.text[-2000:]
    assert "Đã chấp nhận" in client.get("/review").text
    rooms = desk["rooms"]
    code = rooms.index.inputs.get(review_id).code
    meta = rooms.store.metadata(code, 1)
    assert meta.fields["number"] == "125/2020" and meta.fields["holder_id"] == "001320012345"  # a mask never saved
    assert meta.review["officer"] == "clerk1" and meta.review["corrected"] == ["number"]
    assert meta.digitization["officer"] == "clerk1" and meta.digitization["officer_signature"] is False  # no key
    assert any(e.event_type == "review" and e.agent == "officer clerk1" for e in rooms.index.results.events(code))
    found = client.get("/search?q=nguyen minh anh").text
    assert code in found and "001*" in found and "001320012345" not in found  # masked for a clerk
    assert client.get(f"/search?q={code}").headers["location"] == f"/results/{code}"
    alias = rooms.index.results.get(code).result_alias
    assert client.get(f"/search?q={alias}").headers["location"] == f"/results/{code}"
    refused = client.get("/search?holder_id=001320012345").text
    assert "cần quyền" in refused
    reviewer = signed_in(desk, "reviewer1")
    assert code in reviewer.get("/search?holder_id=001320012345").text
    shown = client.get(f"/results/{code}").text
    assert "Hợp lệ" in shown and "clerk1" in shown and "001320012345" not in shown
    assert "001320012345" in reviewer.get(f"/results/{code}").text
    pdf = client.get(f"/results/{code}/document")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"


def test_the_counter_keeps_each_files_progress_in_the_index(desk):
    from workflow import counter
    from workflow.ingest import Ingest, IngestOptions

    client = signed_in(desk, "clerk2")
    token = csrf_of(client.get("/counter").text)
    with (SAMPLES / "09-ly-lich-tu-phap.jpg").open("rb") as scan:
        sent = client.post("/counter/upload", data={"csrf_token": token, "dossier": DOSSIER, "type_hint": ""},
                           files=[("files", ("09 lý lịch.jpg", scan, "image/jpeg")),
                                  ("files", ("empty.pdf", b"", "application/pdf"))])
    assert sent.status_code == 303
    rows = signed_in(desk, "clerk2").get("/counter/uploads").text  # another tab sees the same
    assert rows.count("Đang chờ") == 2 and "09 lý lịch.jpg" in rows
    assert "09 lý lịch.jpg" not in signed_in(desk, "clerk1").get("/counter/uploads").text  # someone else's
    assert "09 lý lịch.jpg" in signed_in(desk, "admin1").get("/counter/uploads").text
    bad = client.post("/counter/upload", data={"csrf_token": token, "dossier": "not-a-dossier"},
                      files=[("files", ("x.png", b"x", "image/png"))])
    assert bad.status_code == 303 and "mã hồ sơ không hợp lệ" in client.get("/counter").text
    rooms = desk["rooms"]
    assert counter.process_queued(rooms, Ingest(rooms, IngestOptions(1))) == 2
    rows = client.get("/counter/uploads").text
    assert "Đã lưu trữ" in rows and "Bị từ chối" in rows and "empty" in rows
    upload = next(u for u in rooms.index.uploads.recent() if u.file_name == "09 lý lịch.jpg")
    line = upload.results[0]
    assert line["status"] == "archived" and line["result_alias"].startswith(DOSSIER + "-KQ")
    assert f'/results/{line["code"]}/document' in rows
    events = rooms.index.results.events(line["code"])
    assert next(e for e in events if e.event_type == "ingestion").agent.startswith("officer clerk2")
    meta = rooms.store.metadata(line["code"], 1)
    assert meta.officer == "clerk2" and meta.digitization["officer_signature"] is True
    assert meta.digitization["officer_stamp"]["corner"].startswith("top-left")
    rejected = next(u for u in rooms.index.uploads.recent() if u.file_name == "empty.pdf")
    assert rejected.status == "rejected" and os.path.exists(rejected.stored_path)  # the original is kept
    assert not os.path.exists(upload.stored_path)  # archived: the counter's copy of personal data is gone
    runs = client.get("/progress").text
    assert "tại quầy" in runs and "Chỉ tiêu năm" in runs


def test_a_cover_sheet_prints_for_the_dossier(desk):
    client = signed_in(desk, "clerk1")
    sheet = client.get(f"/counter/cover-sheet?dossier={DOSSIER}&type=KS")
    assert sheet.status_code == 200 and sheet.content.startswith(b"%PDF")
    assert client.get("/counter/cover-sheet?dossier=nonsense").status_code == 422
