"""Peak memory of `sohoa process` on one long PDF: the main process must not hold the document.

Usage: .venv/bin/python bench/memory.py [PAGES] [MB_PER_PAGE]   (default 40 pages of 8 MB: a 320 MB PDF)
Builds a born-digital PDF from samples/06-thong-bao.pdf whose every page also carries a full-page image of
incompressible noise (as a high-resolution colour scan would), so no OCR is needed and the run measures
what the pipeline does with the document itself: classify, sign, archive with read-back.  It prints the
main process's peak resident memory against the file's size, and the pipeline's own baseline on the
one-page sample, measured in the same run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pikepdf

ROOT = Path(__file__).resolve().parents[1]
# VmHWM, not ru_maxrss: the latter survives fork and exec, so it would report this bench's own peak.
PROBE = """
import sys
sys.argv = ["sohoa", "process", *sys.argv[1:]]
from cli import app
try:
    app()
except SystemExit:
    pass
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(f"PEAK {peak.split()[1]}", file=sys.stderr)
"""


def long_pdf(target: Path, pages: int, mb_per_page: float) -> None:
    rng = np.random.default_rng(7)
    side = int((mb_per_page * 1_000_000 / 3) ** 0.5)
    with pikepdf.open(ROOT / "samples" / "06-thong-bao.pdf") as sample, pikepdf.new() as out:
        for i in range(pages):
            out.pages.append(sample.pages[0])
            page = out.pages[i]
            noise = pikepdf.Stream(out, rng.integers(0, 256, (side, side, 3), dtype=np.uint8).tobytes())
            noise.Type, noise.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
            noise.Width, noise.Height, noise.BitsPerComponent = side, side, 8
            noise.ColorSpace = pikepdf.Name.DeviceRGB
            page.Resources.XObject = page.Resources.get("/XObject", pikepdf.Dictionary())
            page.Resources.XObject.Noise = noise
            # Drawn first and tiny in a corner: the page still reads as the sample, its bytes are a scan's.
            page.contents_add(pikepdf.Stream(out, b"q 1 0 0 1 0 0 cm /Noise Do Q"), prepend=True)
        out.save(target)


def peak_mib(pdf: Path, data_dir: Path) -> tuple[float, dict]:
    env = {**os.environ, "SOHOA_DATA_DIR": str(data_dir), "SOHOA_DEV_KEYS": "auto"}
    run = subprocess.run([sys.executable, "-c", PROBE, str(pdf), "--json"], env=env, cwd=ROOT,
                         capture_output=True, text=True, check=True)
    peak = next(int(line.split()[1]) for line in run.stderr.splitlines() if line.startswith("PEAK"))
    return peak / 1024, json.loads(run.stdout.splitlines()[0])


def main() -> None:
    pages = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    mb_per_page = float(sys.argv[2]) if len(sys.argv) > 2 else 8
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        target = tmp / "long.pdf"
        long_pdf(target, pages, mb_per_page)
        size = target.stat().st_size / 2**20
        base, _ = peak_mib(ROOT / "samples" / "06-thong-bao.pdf", tmp / "data-base")
        peak, outcome = peak_mib(target, tmp / "data-long")
    print(f"one-page sample: main process peak {base:.0f} MiB")
    print(f"{pages}-page PDF of {size:.0f} MiB ({outcome['status']}): main process peak {peak:.0f} MiB "
          f"(+{peak - base:.0f} MiB over the one-page run, {(peak - base) / size:.2f}x the file's size)")


if __name__ == "__main__":
    main()
