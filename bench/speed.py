"""Seconds per page: full `sohoa process` pipeline against bare `tesseract` and OCRmyPDF on the same pages.

Usage: .venv/bin/python bench/speed.py [FOLDER] [REPEAT]   (default: samples/, 3 copies of each page)
Reports ratios measured in the same run; absolute seconds vary with the machine's load.

OCRmyPDF is not a dependency of sohoa: the comparison runs when an `ocrmypdf` command is found (on PATH,
or named by $OCRMYPDF), e.g. `python3 -m venv /tmp/omp && /tmp/omp/bin/pip install ocrmypdf` with
Debian's ghostscript and unpaper (needed by --clean).  It gets all pages in one PDF and runs
`ocrmypdf -l vie --deskew --clean --rotate-pages --jobs N`.
"""

from __future__ import annotations

import os
import shutil
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


def distinct_copies(pages: list[Path], repeat: int, out: Path) -> list[Path]:
    """``repeat`` JPEG copies (as a scanner writes them) of every page, each one pixel different."""
    out.mkdir(parents=True, exist_ok=True)
    copies = []
    for r in range(repeat):
        for page in pages:
            target = out / f"{page.stem}-copy{r}.jpg"
            with Image.open(page) as img:
                img = img.convert("RGB")
                img.putpixel((0, 0), (r, r, r))
                img.save(target, quality=92, dpi=(300, 300))
            copies.append(target)
    return copies


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 and not sys.argv[1].isdigit() else ROOT / "samples"
    repeat = int(sys.argv[-1]) if sys.argv[-1].isdigit() else 3
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        # Steady state: the text model is trained once (as in any deployment), not inside the timing.
        env = {**os.environ, "OMP_THREAD_LIMIT": "1", "SOHOA_DEV_KEYS": "auto",
               "SOHOA_MODEL_CACHE": str(tmp_path / "models")}
        sample_pages = page_images(folder, tmp_path)
        pages = distinct_copies(sample_pages, repeat, tmp_path / "pages") if repeat else sample_pages
        # Each run's data folder is set up beforehand (keys made, index created, one page archived), as on a
        # counter machine after its first batch: a fresh folder would time making keys, not digitizing.
        for workers in (1, 2):
            subprocess.run([str(SOHOA), "process", str(sample_pages[0]), "--json"], env={
                **env, "SOHOA_DATA_DIR": str(tmp_path / f"data-{workers}")}, check=True, capture_output=True)
        started = time.perf_counter()
        for page in pages:
            subprocess.run(["tesseract", str(page), "-", "-l", "vie"], env=env, check=True, capture_output=True)
        bare = (time.perf_counter() - started) / len(pages)
        # The machine's own ceiling for two workers: bare Tesseract, two processes at a time.
        from concurrent.futures import ThreadPoolExecutor

        started = time.perf_counter()
        with ThreadPoolExecutor(2) as threads:
            list(threads.map(lambda page: subprocess.run(["tesseract", str(page), "-", "-l", "vie"], env=env,
                                                         check=True, capture_output=True), pages))
        bare2 = (time.perf_counter() - started) / len(pages)
        inputs = pages
        results = {}
        for workers in (1, 2):
            data = tmp_path / f"data-{workers}"
            started = time.perf_counter()
            subprocess.run([str(SOHOA), "process", *map(str, inputs), "--json", "--workers", str(workers)],
                           env={**env, "SOHOA_DATA_DIR": str(data)}, check=True, capture_output=True)
            results[workers] = (time.perf_counter() - started) / len(pages)
        ocrmypdf = os.environ.get("OCRMYPDF") or shutil.which("ocrmypdf")
        others = {}
        if ocrmypdf:
            import img2pdf

            combined = tmp_path / "all-pages.pdf"
            combined.write_bytes(img2pdf.convert([str(p) for p in sample_pages],
                                                 layout_fun=img2pdf.get_fixed_dpi_layout_fun((300, 300))))
            for jobs in (1, 2):
                started = time.perf_counter()
                subprocess.run([ocrmypdf, "-l", "vie", "--deskew", "--clean", "--rotate-pages", "--jobs", str(jobs),
                                "--output-type", "pdf", str(combined), str(tmp_path / f"omp-{jobs}.pdf")],
                               env=env, check=True, capture_output=True)
                others[jobs] = (time.perf_counter() - started) / len(sample_pages)
    print(f"pages: {len(pages)} ({len(sample_pages)} scanned sample pages x {repeat}, each copy a distinct file); "
          f"OCRmyPDF on the {len(sample_pages)} sample pages")
    print(f"bare tesseract -l vie, 1 process:   {bare:.2f} s/page")
    print(f"bare tesseract -l vie, 2 processes: {bare2:.2f} s/page  (throughput {bare / bare2:.2f}x of 1 process)")
    print(f"sohoa process, 1 worker:            {results[1]:.2f} s/page  ({results[1] / bare:.2f}x bare)")
    print(f"sohoa process, 2 workers:           {results[2]:.2f} s/page  ({results[2] / bare:.2f}x bare, "
          f"throughput {results[1] / results[2]:.2f}x of 1 worker)")
    if others:
        print(f"ocrmypdf --deskew --clean --rotate-pages, --jobs 1: {others[1]:.2f} s/page  "
              f"({others[1] / bare:.2f}x bare; sohoa is {others[1] / results[1]:.2f}x as fast)")
        print(f"ocrmypdf ..., --jobs 2:            {others[2]:.2f} s/page  "
              f"({others[2] / bare:.2f}x bare; sohoa with 2 workers is {others[2] / results[2]:.2f}x as fast)")
    else:
        print("ocrmypdf: not installed here, comparison skipped (see the docstring)")


if __name__ == "__main__":
    main()
