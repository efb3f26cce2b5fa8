"""Seconds per page: full `sohoa process` pipeline against bare `tesseract` on the same pages, one run.

Usage: .venv/bin/python bench/speed.py [FOLDER]   (default: samples/)
Reports ratios measured in the same run; absolute seconds vary with the machine's load.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SOHOA = Path(sys.executable).parent / "sohoa"


def page_images(folder: Path, out: Path) -> list[Path]:
    """Every page of every scanned sample as a PNG (born-digital PDFs are not OCRed by sohoa either)."""
    import pypdfium2 as pdfium

    from digitize.intake import inspect

    pages = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pdf"}:
            continue
        source = inspect(path)
        if source.kind == "pdf":
            if source.text_layer:
                continue
            pdf = pdfium.PdfDocument(str(path))
            for i in range(len(pdf)):
                target = out / f"{path.stem}-{i}.png"
                pdf[i].render(scale=300 / 72).to_pil().save(target)
                pages.append(target)
            continue
        with Image.open(path) as img:
            for i in range(getattr(img, "n_frames", 1)):
                img.seek(i)
                target = out / f"{path.stem}-{i}.png"
                img.convert("RGB").save(target)
                pages.append(target)
    return pages


def scanned_inputs(folder: Path) -> list[Path]:
    from digitize.intake import inspect

    keep = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pdf"} and not inspect(path).text_layer:
            keep.append(path)
    return keep


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "samples"
    env = {**os.environ, "OMP_THREAD_LIMIT": "1", "SOHOA_DEV_KEYS": "auto"}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        pages = page_images(folder, tmp_path)
        started = time.perf_counter()
        for page in pages:
            subprocess.run(["tesseract", str(page), "-", "-l", "vie"], env=env, check=True, capture_output=True)
        bare = (time.perf_counter() - started) / len(pages)
        inputs = scanned_inputs(folder)
        results = {}
        for workers in (1, 2):
            data = tmp_path / f"data-{workers}"
            started = time.perf_counter()
            subprocess.run([str(SOHOA), "process", *map(str, inputs), "--json", "--workers", str(workers)],
                           env={**env, "SOHOA_DATA_DIR": str(data)}, check=True, capture_output=True)
            results[workers] = (time.perf_counter() - started) / len(pages)
    print(f"pages: {len(pages)} (from {len(inputs)} scanned files)")
    print(f"bare tesseract -l vie, 1 process:   {bare:.2f} s/page")
    print(f"sohoa process, 1 worker:            {results[1]:.2f} s/page  ({results[1] / bare:.2f}x bare)")
    print(f"sohoa process, 2 workers:           {results[2]:.2f} s/page  ({results[2] / bare:.2f}x bare, "
          f"throughput {results[1] / results[2]:.2f}x of 1 worker)")


if __name__ == "__main__":
    main()
