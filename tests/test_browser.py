"""The workspace in a real browser (Debian's Chromium driven by Playwright; `playwright install` is never run):
a new clerk signs in, hands in two scans at the counter and watches them finish, corrects what sohoa was unsure
of by clicking a word on the page image, accepts with Enter, finds the result by a name typed without
diacritics, and opens its signed PDF.  A screenshot of each page is saved in the test's folder (and in
``$SOHOA_SCREENSHOTS`` when set, which is how the README's pictures are made)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, SOHOA, number_in_margin, run_cli, unnumbered_birth_certificate
from tests.servers import free_port, serve_until_up

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "mật khẩu của Lan 2026"
DOSSIER = "000.00.00.H26-261207-0042"

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (make test)")]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("browser-data")
    run_cli("keys", "init-dev", data_dir=data_dir)
    secret = tmp_path_factory.mktemp("secret") / "password.txt"
    secret.write_text(PASSWORD + "\n", "utf-8")
    run_cli("users", "add", "lan.nguyen", "--role", "clerk", "--password-file", str(secret), data_dir=data_dir)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = serve_until_up([str(SOHOA), "serve", "--port", str(port), "--workers", "1", "--counter-workers", "2"],
                             f"{base}/v1/health", env={**os.environ, "SOHOA_DATA_DIR": str(data_dir)})
    yield {"base": base, "data_dir": data_dir}
    process.terminate()
    process.wait(timeout=60)


@pytest.fixture(scope="module")
def scans(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("scans")
    shutil.copy(SAMPLES / "09-ly-lich-tu-phap.jpg", folder / "09-ly-lich-tu-phap.jpg")
    unreadable = unnumbered_birth_certificate(tmp_path_factory.mktemp("other"))
    return [number_in_margin(folder), folder / "09-ly-lich-tu-phap.jpg",
            unreadable.rename(unreadable.with_name("01-khong-so.png"))]


def test_a_new_clerk_digitizes_corrects_and_finds_a_dossier_without_a_terminal(server, scans, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    shots = [tmp_path] + ([Path(os.environ["SOHOA_SCREENSHOTS"])] if os.environ.get("SOHOA_SCREENSHOTS") else [])

    def shoot(page, name: str) -> None:
        for folder in shots:
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / f"{name}.png"))

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN",
                                      extra_http_headers={"Accept-Language": "vi-VN,vi;q=0.9"})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        outside: list[str] = []
        page.on("request", lambda request: outside.append(request.url)
                if not request.url.startswith(server["base"]) else None)

        # Without a session, every page leads to the sign-in form.
        page.goto(server["base"] + "/counter")
        assert page.url.startswith(server["base"] + "/login")
        shoot(page, "01-dang-nhap")
        page.fill("#username", "lan.nguyen")
        page.fill("#password", PASSWORD)
        page.press("#password", "Enter")
        page.wait_for_url("**/counter")

        # The counter: two scans for one dossier; each file's line follows it to the end.
        page.set_input_files("#files", [str(path) for path in scans])
        page.fill("#dossier", DOSSIER)
        page.click("button[type=submit].primary")
        page.wait_for_url("**/counter")
        expect(page.locator("#upload-table tbody tr")).to_have_count(3)
        page.reload()  # a reload loses nothing: progress lives in the index
        expect(page.locator("#upload-table .badge.queued, #upload-table .badge.processing")).to_have_count(
            0, timeout=240_000)
        expect(page.locator("#upload-table .badge.archived")).to_have_count(1)
        expect(page.locator("#upload-table .badge.needs_review")).to_have_count(2)
        shoot(page, "02-quay-tiep-nhan")
        page.goto(server["base"] + "/review")  # the queue: both waiting, counted by reason
        expect(page.locator("#queue tbody tr")).to_have_count(2)
        shoot(page, "02b-hang-cho")
        page.goto(server["base"] + "/counter")

        # The document sohoa was unsure of: its number is only in the margin. Pan to it, click it, press Enter.
        page.click("#upload-table tr:has-text('01-giay-khai-sinh') a:text('Duyệt')")
        page.wait_for_url("**/review/*")
        first = page.url
        page.keyboard.press("j")  # J: the next document waiting, K: back
        page.wait_for_url(lambda url: url != first)
        second = page.url
        page.keyboard.press("k")
        page.wait_for_url(first)
        expect(page.locator("#overlay .word").first).to_be_attached()
        assert page.locator("#f-number").input_value() == ""
        shoot(page, "03-duyet")
        page.keyboard.press("r")  # R: the reason to reject, without the mouse
        assert page.evaluate("document.activeElement.id") == "reject-reason"
        page.keyboard.press("Escape")
        stage = page.locator("#stage").bounding_box()
        page.mouse.move(stage["x"] + stage["width"] / 2, stage["y"] + stage["height"] - 20)
        page.mouse.down()
        page.mouse.move(stage["x"] + stage["width"] / 2, stage["y"] + 40, steps=8)
        page.mouse.up()
        word = page.locator('#overlay .word[data-text="125/2020"]')
        word.click()  # the number field is the target: it is the one sohoa could not read
        assert page.locator("#f-number").input_value() == "125/2020"
        shoot(page, "04-duyet-da-sua")
        page.keyboard.press("Enter")  # accepted, and the next document opens
        page.wait_for_url(second)
        expect(page.locator(".flash")).to_contain_text("Đã chấp nhận")
        page.keyboard.press("r")
        page.keyboard.type("bản quét thiếu số, cần quét lại")
        page.keyboard.press("Enter")
        page.wait_for_url("**/review")
        expect(page.locator(".flash")).to_contain_text("Đã từ chối")
        expect(page.locator("body")).to_contain_text("Không có giấy tờ nào chờ duyệt")

        # Search by the holder's name typed without diacritics; open the result and its signed PDF.
        page.goto(server["base"] + "/search")
        page.fill("#q", "nguyen minh anh")
        page.press("#q", "Enter")
        expect(page.locator("#results tbody tr")).to_have_count(1)
        shoot(page, "05-tra-cuu")
        page.click("#results tbody tr a >> nth=0")
        page.wait_for_url("**/results/*")
        expect(page.locator("#signature-verdict")).to_contain_text("Hợp lệ")
        expect(page.locator("body")).to_contain_text("125/2020")
        expect(page.locator("body")).to_contain_text("lan.nguyen")
        shoot(page, "06-ket-qua")
        pdf = page.request.get(server["base"] + page.locator("#open-pdf").get_attribute("href"))
        assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
        signed = tmp_path / "result.pdf"
        signed.write_bytes(pdf.body())
        checked = subprocess.run(["pdfsig", str(signed)], capture_output=True, text=True)
        assert "Signature is Valid" in checked.stdout, checked.stdout

        page.goto(server["base"] + "/progress")
        expect(page.locator("#runs")).to_contain_text("tại quầy")
        shoot(page, "07-tien-do")
        browser.close()
    assert not errors, errors
    assert not outside, outside  # nothing loaded from outside (no CDN)
