"""Backfill throughput and memory: pages per second on 1 and 2 workers, peak memory per worker, one run.

Usage: .venv/bin/python bench/backfill.py [PAGES]   (default 100)
Renders PAGES single-page scans of generated documents (all catalogue types), runs `sohoa backfill` on
them with 1 and then 2 workers in fresh data directories, and samples /proc for the peak resident memory
(VmHWM) of the main process and of each worker process.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("SOHOA_DEV_KEYS", "auto")  # development keys in the throw-away data dirs

from codes import load_catalogue  # noqa: E402
from digitize.training import synth_document  # noqa: E402
from samples.make_samples import save_sample  # noqa: E402
from samples.synth import to_spec  # noqa: E402

SOHOA = Path(sys.executable).parent / "sohoa"


def peak_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def run(folder: Path, workers: int, data: Path) -> dict:
    env = {**os.environ, "SOHOA_DATA_DIR": str(data)}
    proc = subprocess.Popen([str(SOHOA), "backfill", str(folder), "--json", "--workers", str(workers)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    peaks: dict[int, int] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for pid in [proc.pid, *children(proc.pid)]:
                peaks[pid] = max(peaks.get(pid, 0), peak_kib(pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    done.set()
    sampler.join()
    summary = json.loads(out.strip().splitlines()[-1])["summary"]
    workers_peak = max((kib for pid, kib in peaks.items() if pid != proc.pid), default=0)
    return {"pages_per_second": summary["pages_per_second"], "pages": summary["pages"],
            "seconds": summary["seconds"], "main_mib": peaks.get(proc.pid, 0) / 1024, "worker_mib": workers_peak / 1024}


def main() -> None:
    pages = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    catalogue = list(load_catalogue())
    rng = random.Random(55)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        scans = tmp / "scans"
        scans.mkdir()
        for i in range(pages):
            doc = synth_document(catalogue[i % len(catalogue)], rng, 20_000 + i)
            save_sample(to_spec(doc, "jpg", skew=rng.uniform(-2, 2)), scans)
        results = {w: run(scans, w, tmp / f"data-{w}") for w in (1, 2)}
    for workers, r in results.items():
        print(f"{workers} worker(s): {r['pages']} pages in {r['seconds']:.0f} s = {r['pages_per_second']:.2f} pages/s;"
              f" peak memory: main {r['main_mib']:.0f} MiB, largest worker {r['worker_mib']:.0f} MiB")
    print(f"2 workers / 1 worker throughput: {results[2]['pages_per_second'] / results[1]['pages_per_second']:.2f}x")


if __name__ == "__main__":
    main()
