"""The outbox: events delivered per second to a local receiver, and the end-to-end time from a scan submitted
over HTTP to the receiver's event.

Usage: .venv/bin/python bench/outbox.py [EVENTS]

1. EVENTS (default 500) result events are written into a fresh index (synthetic records, as
   ``ResultIndex.add`` writes them with a result), then one ``sohoa outbox run --until-empty`` delivers them
   to the reference receiver (``sohoa receiver serve``, on loopback, verifying every signature): events/s.
2. ``sohoa serve`` (1 server process, counter worker, dispatcher) takes a one-page born-digital scan on
   ``POST /v1/documents``; the time until the receiver stores its ``result.archived`` event.
Receiver, dispatcher and server share the machine's 2 cores: figures are a floor, not a ceiling.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SOHOA = Path(sys.executable).parent / "sohoa"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str) -> None:
    for _ in range(300):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        env = {**os.environ, "SOHOA_DATA_DIR": str(data), "SOHOA_OUTBOX_FIRST_RETRY_SECONDS": "0.2"}
        run = lambda *args: subprocess.run([str(SOHOA), *args], env=env, check=True,  # noqa: E731
                                           capture_output=True, text=True).stdout
        run("keys", "init-dev")
        port = free_port()
        secret = run("webhooks", "add", f"http://127.0.0.1:{port}/hooks").strip().splitlines()[-1]
        (Path(tmp) / "secret").write_text(secret + "\n")
        receiver = subprocess.Popen([str(SOHOA), "receiver", "serve", "--store", str(Path(tmp) / "store"),
                                     "--secret-file", str(Path(tmp) / "secret"), "--port", str(port)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server = None
        try:
            wait_for(f"http://127.0.0.1:{port}/received")
            from storage import Index, ResultRecord

            index = Index(f"sqlite:///{data / 'index.sqlite3'}")
            for n in range(count):
                code = f"000.00.00.H26-KS-261207-{n:04d}"
                index.results.add(ResultRecord(code, 1, "bb" * 32, "KS", "Giấy khai sinh", 0.97, "commune",
                                               "000.00.00.H26", {"number": f"{n}/2026"}, 1, "aa" * 32, 10,
                                               f"{code}/v1/document.pdf", dt.datetime.now(dt.UTC)))
            index.close()
            started = time.perf_counter()
            run("outbox", "run", "--until-empty")
            seconds = time.perf_counter() - started
            got = len(httpx.get(f"http://127.0.0.1:{port}/received", timeout=10).json()["events"])
            print(f"{got}/{count} events delivered by one dispatcher in {seconds:.1f} s: "
                  f"{got / seconds:.0f} events/s (process start included)")

            token = run("clients", "add", "motcua", "--scope", "submit").strip().splitlines()[-1]
            api = free_port()
            server = subprocess.Popen([str(SOHOA), "serve", "--port", str(api), "--workers", "1",
                                       "--counter-workers", "1"], env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
            wait_for(f"http://127.0.0.1:{api}/v1/health")
            time.sleep(3)  # the counter worker's page workers start
            before = set(httpx.get(f"http://127.0.0.1:{port}/received", timeout=10).json()["events"])
            started = time.perf_counter()
            with (ROOT / "samples" / "06-thong-bao.pdf").open("rb") as scan:
                answer = httpx.post(f"http://127.0.0.1:{api}/v1/documents", timeout=30,
                                    headers={"Authorization": f"Bearer {token}"},
                                    files=[("files", ("thong-bao.pdf", scan, "application/pdf"))])
            assert answer.status_code == 202, answer.text
            while True:
                events = set(httpx.get(f"http://127.0.0.1:{port}/received", timeout=10).json()["events"])
                if events - before:
                    break
                if time.perf_counter() - started > 120:
                    raise RuntimeError("no event within 120 s")
                time.sleep(0.05)
            print(f"one-page born-digital scan: submitted -> event stored by the receiver in "
                  f"{time.perf_counter() - started:.2f} s")
        finally:
            for process in (receiver, server):
                if process is not None:
                    process.terminate()
                    process.wait(timeout=30)


if __name__ == "__main__":
    main()
