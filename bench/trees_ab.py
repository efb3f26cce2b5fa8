"""A/B of two checkouts of sohoa: wall time and main-process CPU of `sohoa process --workers 1`, in turns.

Usage: .venv/bin/python bench/trees_ab.py TREE_A TREE_B [ROUNDS] [COPIES]   (default 3 rounds, 3 copies)
e.g. `git worktree add /tmp/before HEAD~3`, then `.venv/bin/python bench/trees_ab.py /tmp/before .`.
Both trees run with this virtualenv (TREE on PYTHONPATH), each into its own data folder made beforehand
(keys, index, trained text model), on fresh distinct JPEG copies of the 9 scanned sample pages every
round, in alternating order.  The main process's CPU (classification, signature, archive; the page
workers excluded) is read with getrusage as it exits: that is what a change of the house can cost.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from speed import distinct_copies, page_images  # noqa: E402

# Runs `sohoa` and prints its own CPU when it exits (cli.run ends with os._exit, past any atexit).
RUNNER = """
import os, resource, sys
def report(code, real_exit=os._exit):
    used = resource.getrusage(resource.RUSAGE_SELF)
    sys.stderr.write(f"MAIN_CPU {used.ru_utime + used.ru_stime:.3f}\\n")
    sys.stderr.flush()
    real_exit(code)
if __name__ == "__main__":
    os._exit = report
    sys.argv = ["sohoa", *sys.argv[1:]]
    import cli
    cli.run()
"""


def main() -> None:
    trees = {"A": Path(sys.argv[1]).resolve(), "B": Path(sys.argv[2]).resolve()}
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    copies = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        runner = tmp / "run_sohoa.py"
        runner.write_text(RUNNER)
        pages = page_images(ROOT / "samples", tmp)
        env = {**os.environ, "OMP_THREAD_LIMIT": "1", "SOHOA_DEV_KEYS": "auto", "SOHOA_MODEL_CACHE": str(tmp / "m")}

        def run(name: str, inputs: list[Path]) -> tuple[float, float]:
            started = time.perf_counter()
            done = subprocess.run([sys.executable, str(runner), "process", *map(str, inputs), "--json", "--workers",
                                   "1"], env={**env, "PYTHONPATH": str(trees[name]),
                                              "SOHOA_DATA_DIR": str(tmp / f"data-{name}")},
                                  capture_output=True, text=True, check=True)
            wall = time.perf_counter() - started
            cpu = next(float(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("MAIN_CPU"))
            return wall, cpu

        for name in trees:
            run(name, pages[:1])  # keys, index and text model made before the timing
        totals = {name: [0.0, 0.0] for name in trees}
        for number in range(rounds):
            for name in (("A", "B") if number % 2 == 0 else ("B", "A")):
                folder = tmp / f"copies-{name}-{number}"
                folder.mkdir()
                wall, cpu = run(name, distinct_copies(pages, copies, folder, tag=f"{name}{number}"))
                totals[name][0] += wall
                totals[name][1] += cpu
                print(f"round {number + 1} {name} ({trees[name]}): wall {wall:6.1f} s   main-process CPU {cpu:5.2f} s",
                      flush=True)
        (wall_a, cpu_a), (wall_b, cpu_b) = totals["A"], totals["B"]
        print(f"B against A: wall {wall_b / wall_a:.3f}x, main-process CPU {cpu_b / cpu_a:.3f}x "
              f"({rounds} rounds of {len(pages) * copies} pages)")


if __name__ == "__main__":
    main()
