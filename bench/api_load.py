"""Load on the HTTP API: 8 concurrent clients on metadata and on a ~1 MB signed PDF; p50/p99 and req/s.

Usage: .venv/bin/python bench/api_load.py [REQUESTS_PER_CLIENT]
Starts its own `sohoa serve` (one worker per core) on a free loopback port over a fresh data directory
(one sample processed), loads it with wrk for 5 s when wrk is installed (apt-get install wrk) and with
8 Python client threads (a bounded number of requests each), then stops the server.  Traffic stays on
127.0.0.1.  Load generator and server share the 2 cores, so the figures are upper bounds.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SOHOA = Path(sys.executable).parent / "sohoa"
CLIENTS = 8


def run(*args: str, env: dict) -> str:
    return subprocess.run([str(SOHOA), *args], env=env, check=True, capture_output=True, text=True).stdout


def measure_wrk(base: str, path: str, token: str, seconds: int = 5) -> dict:
    """wrk (C, from Debian) as the load: it takes far less of the 2 cores than Python clients."""
    import re

    out = subprocess.run(["wrk", "-t2", f"-c{CLIENTS}", f"-d{seconds}s", "--latency", "-H",
                          f"Authorization: Bearer {token}", base + path], capture_output=True, text=True,
                         check=True).stdout

    def millis(label: str) -> float:
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", out).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    requests = int(re.search(r"(\d+) requests in", out).group(1))
    errors = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    return {"requests": requests, "errors": errors, "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": millis("50%"), "p99_ms": millis("99%")}


def measure(base: str, path: str, token: str, per_client: int) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def worker() -> None:
        nonlocal errors
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
            for _ in range(per_client):
                started = time.perf_counter()
                response = client.get(path)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    errors += response.status_code != 200
    threads = [threading.Thread(target=worker) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {"requests": len(latencies), "errors": errors, "rps": len(latencies) / wall,
            "p50_ms": 1000 * statistics.median(latencies), "p99_ms": 1000 * latencies[int(0.99 * len(latencies)) - 1]}


def main() -> None:
    per_client = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "SOHOA_DATA_DIR": data, "SOHOA_DEV_KEYS": "auto"}
        # A scan that is archived without review (the marriage certificate waits for a clerk: no code).
        row = json.loads(run("process", str(ROOT / "samples" / "09-ly-lich-tu-phap.jpg"), "--json",
                             env=env).splitlines()[0])
        if row["status"] != "archived":
            raise SystemExit(f"the sample was not archived ({row['status']}): nothing to load the API with")
        # It carries an ID number: its PDF goes only to clients with the personal-data scope.
        token = run("clients", "add", "bench", "--scope", "holder_id", env=env).strip().splitlines()[-1]
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = subprocess.Popen([str(SOHOA), "serve", "--port", str(port)], env=env)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    httpx.get(base + "/v1/health", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            code = row["code"]
            size = len(httpx.get(f"{base}/v1/results/{code}/document",
                                 headers={"Authorization": f"Bearer {token}"}).content)
            import shutil

            tools = [("python threads", lambda p: measure(base, p, token, per_client))]
            if shutil.which("wrk"):
                tools.insert(0, ("wrk", lambda p: measure_wrk(base, p, token)))
            for tool, run_load in tools:
                for label, path in (("metadata", f"/v1/results/{code}"),
                                    (f"document ({size / 1e6:.1f} MB)", f"/v1/results/{code}/document")):
                    figures = run_load(path)
                    print(f"{tool:<15} {label:<17} {figures['requests']} requests, {figures['errors']} errors, "
                          f"{figures['rps']:.0f} req/s, p50 {figures['p50_ms']:.1f} ms, "
                          f"p99 {figures['p99_ms']:.1f} ms")
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
