"""The workspace's review page: server time of the page and of its image, p50/p95, with documents waiting.

Usage: .venv/bin/python bench/review_page.py [REQUESTS] [WAITING]

Starts its own `sohoa serve` (1 server process, no counter worker) over a fresh data directory in which
WAITING documents (default 20) wait for review: sample 01 with its number never written in, each copy made
different by a dot so that none is a duplicate.  A signed-in session (a real sign-in through /login) then asks
REQUESTS times (default 200) for /review/{id} and for its page image, one after the other, and reports the
latencies as the client sees them on loopback (so they include HTTP, not only the server's work).  Also
reported: the actions a clerk needs to accept a document with one wrong field, as counted in
tests/test_browser.py (a click on the word, then Enter; a drag first when the word is outside the view).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SOHOA = Path(sys.executable).parent / "sohoa"
PASSWORD = "bench password 2026"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def waiting_documents(folder: Path, count: int) -> None:
    from PIL import Image, ImageDraw

    from tests.conftest import unnumbered_birth_certificate

    first = unnumbered_birth_certificate(folder)
    for n in range(1, count):
        image = Image.open(first)
        ImageDraw.Draw(image).rectangle((20 + n * 4, 3400, 22 + n * 4, 3402), fill=(120, 120, 120))
        image.save(folder / f"01-copy-{n:03d}.png", dpi=(300, 300))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    with tempfile.TemporaryDirectory() as tmp:
        data_dir, scans = Path(tmp) / "data", Path(tmp) / "scans"
        scans.mkdir()
        env = {**os.environ, "SOHOA_DATA_DIR": str(data_dir)}
        waiting_documents(scans, count)
        subprocess.run([str(SOHOA), "keys", "init-dev"], env=env, check=True, capture_output=True)
        started = time.perf_counter()
        # Exit status 1: some documents wait for review, which is the point here.
        subprocess.run([str(SOHOA), "process", str(scans), "--workers", "2"], env=env, capture_output=True)
        print(f"{count} documents processed for review in {time.perf_counter() - started:.1f} s")
        secret = Path(tmp) / "password"
        secret.write_text(PASSWORD + "\n")
        subprocess.run([str(SOHOA), "users", "add", "bench", "--role", "clerk", "--password-file", str(secret)],
                       env=env, check=True, capture_output=True)
        port = free_port()
        server = subprocess.Popen([str(SOHOA), "serve", "--port", str(port), "--workers", "1",
                                   "--counter-workers", "0"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(base + "/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            with httpx.Client(base_url=base, timeout=30) as client:
                login = client.get("/login").text
                token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
                client.post("/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token})
                queue = client.get("/review").text
                ids = [int(i) for i in re.findall(r'data-href="/review/(\d+)"', queue)]
                assert len(ids) == count, (len(ids), count)
                pages, images = [], []
                for n in range(requests):
                    review_id = ids[n % len(ids)]
                    started = time.perf_counter()
                    answer = client.get(f"/review/{review_id}")
                    pages.append((time.perf_counter() - started) * 1000)
                    assert answer.status_code == 200 and "page-data" in answer.text
                    started = time.perf_counter()
                    image = client.get(f"/review/{review_id}/page/1.jpg")
                    images.append((time.perf_counter() - started) * 1000)
                    assert image.status_code == 200
                size = len(image.content)
        finally:
            server.terminate()
            server.wait(timeout=30)
        both = [p + i for p, i in zip(pages, images, strict=True)]
        print(f"review page ({requests} requests, {count} waiting): p50 {statistics.median(pages):.1f} ms, "
              f"p95 {percentile(pages, 0.95):.1f} ms")
        print(f"page image ({size // 1024} KiB JPEG): p50 {statistics.median(images):.1f} ms, "
              f"p95 {percentile(images, 0.95):.1f} ms")
        print(f"page with its image: p50 {statistics.median(both):.1f} ms, p95 {percentile(both, 0.95):.1f} ms "
              f"(target p95 <= 300 ms)")
        print("actions to accept a document with one wrong field: 2 (click the word, Enter); "
              "3 when the word is outside the view (drag, click, Enter) — tests/test_browser.py")
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
