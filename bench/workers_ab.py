"""A/B of `sohoa process --workers 1` against `--workers 2` (and `--workers 1` held to one core), more rounds.

Usage: .venv/bin/python bench/workers_ab.py [COPIES] [ROUNDS]   (default: 9 copies, 4 rounds)

The question only `bench/speed.py`'s sohoa rows answer, asked with more rounds and nothing else in
between: the 9 scanned sample pages as distinct JPEG copies (COPIES per page, one `sohoa process` call per
round and mode), every call into a fresh copy of a data folder set up beforehand (keys, index, text
model), the modes in a rotating order.  Reports each round's ratios and the ratio of the totals.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from speed import ROOT, SOHOA, distinct_copies, page_images  # noqa: E402

MODES = {"1 worker": ["--workers", "1"], "2 workers": ["--workers", "2"], "1 worker, 1 core": ["--workers", "1"]}


def main() -> None:
    copies = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        env = {**os.environ, "OMP_THREAD_LIMIT": "1", "SOHOA_DEV_KEYS": "auto",
               "SOHOA_MODEL_CACHE": str(tmp_path / "models")}
        pages = page_images(ROOT / "samples", tmp_path)
        template = tmp_path / "template"
        subprocess.run([str(SOHOA), "process", str(pages[0]), "--json"], env={**env, "SOHOA_DATA_DIR": str(template)},
                       check=True, capture_output=True)
        total = dict.fromkeys(MODES, 0.0)
        for r in range(rounds):
            files = distinct_copies(pages, copies, tmp_path / f"pages-{r}", tag=f"ab{r}")
            names = list(MODES)[r % len(MODES):] + list(MODES)[:r % len(MODES)]
            seconds = {}
            for name in names:
                data = tmp_path / f"data-{r}-{list(MODES).index(name)}"
                shutil.copytree(template, data)
                pinned = ["taskset", "-c", "0"] if name.endswith("1 core") else []
                started = time.perf_counter()
                subprocess.run([*pinned, str(SOHOA), "process", *map(str, files), "--json", *MODES[name]],
                               env={**env, "SOHOA_DATA_DIR": str(data)}, check=True, capture_output=True)
                seconds[name] = time.perf_counter() - started
                total[name] += seconds[name]
            print(f"round {r + 1}: " + ", ".join(f"{name} {seconds[name]:.1f} s" for name in MODES)
                  + f"; 2 workers: {seconds['1 worker'] / seconds['2 workers']:.3f}x of 1 worker, "
                  f"{seconds['1 worker, 1 core'] / seconds['2 workers']:.3f}x of 1 worker on 1 core", flush=True)
        print(f"{len(files)} pages per call, {rounds} rounds: 2 workers give "
              f"{total['1 worker'] / total['2 workers']:.3f}x the throughput of 1 worker and "
              f"{total['1 worker, 1 core'] / total['2 workers']:.3f}x that of 1 worker held to 1 core")


if __name__ == "__main__":
    main()
