"""Seconds per page: full `sohoa process` pipeline against bare `tesseract` and OCRmyPDF on the same pages.

Usage: .venv/bin/python bench/speed.py [FOLDER] [COPIES] [ROUNDS]   (default: samples/, 3 copies, 2 rounds)
Each round makes new copies of the pages (distinct files) that every mode reads (each sohoa mode into its own
data folder, so that none is skipped as already archived); the modes take turns in a rotating order.
Reports ratios of totals measured in the same run, and each round's ratios (the machine is noisy).
It also times the page workers alone (clean-up, OCR and page PDF, no main-process work), to show how far
the page work itself scales with a second worker, and `sohoa process --workers 1` held to one core
(`taskset -c 0`): with one worker, the main process (classification, signature, archive) otherwise runs
on the idle second core for free, which two workers cannot do; 2 workers on 2 cores against 1 worker on 1
core is how the whole pipeline scales with cores.  When tesserocr is installed (`pip install -e '.[tesserocr]'`;
`make test` installs it), it also times `SOHOA_OCR_ENGINE=tesserocr` with 1 and 2 workers.

OCRmyPDF is not a dependency of sohoa: the comparison runs when an `ocrmypdf` command is found (on PATH,
or named by $OCRMYPDF; OCRMYPDF= skips it); `make bench-tools` installs Debian's ocrmypdf and unpaper
(needed by --clean).
It takes its turn in every round like the other modes, on one copy of the pages only (it is about 14
times slower here), given as one PDF (the JPEGs embedded as they are, by img2pdf), and runs
`ocrmypdf -l vie --deskew --clean --rotate-pages --jobs N`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
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


def distinct_copies(pages: list[Path], repeat: int, out: Path, tag: str = "") -> list[Path]:
    """``repeat`` JPEG copies (as a scanner writes them) of every page, the same pixels in distinct files.

    sohoa does not OCR a file it has archived already (same SHA-256), so copies that came out byte for byte
    the same would be timed as duplicates, not digitized.  A one-pixel change is not enough (JPEG
    quantization often erased it); a JPEG comment naming the copy makes every file distinct.
    """
    out.mkdir(parents=True, exist_ok=True)
    copies = []
    for r in range(repeat):
        for page in pages:
            target = out / f"{page.stem}-copy{tag}-{r}.jpg"
            with Image.open(page) as img:
                img.convert("RGB").save(target, quality=92, dpi=(300, 300), comment=target.name.encode())
            copies.append(target)
    return copies


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def timed(run) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child processes) of ``run()``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    run()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def page_workers_alone(workers: int, pages: list[Path]) -> None:
    """What `sohoa process` does in its page workers (clean-up, OCR, page PDF), with no main-process work
    (no classification, signature or archive): shows how far the page work itself scales."""
    from digitize.intake import inspect
    from digitize.workers import submit_pages
    from workflow.settings import load_settings
    from workflow.workers import start_page_workers

    with tempfile.TemporaryDirectory() as work, start_page_workers(load_settings(), workers) as pool:
        futures = [future for page in pages
                   for future in submit_pages(pool, inspect(page), Path(tempfile.mkdtemp(dir=work)))]
        for future in futures:
            future.result()


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["--page-workers-alone"]:
        page_workers_alone(int(args[1]), [Path(arg) for arg in args[2:]])
        return
    folder = Path(args.pop(0)) if args and not args[0].isdigit() else ROOT / "samples"
    repeat = int(args[0]) if args else 3
    rounds = int(args[1]) if len(args) > 1 else 2
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        # Steady state: the text model is trained once (as in any deployment), not inside the timing.
        env = {**os.environ, "OMP_THREAD_LIMIT": "1", "SOHOA_DEV_KEYS": "auto",
               "SOHOA_MODEL_CACHE": str(tmp_path / "models")}
        sample_pages = page_images(folder, tmp_path)
        # Each run's data folder is set up beforehand (keys made, index created, one page archived), as on a
        # counter machine after its first batch: a fresh folder would time making keys, not digitizing.
        library = importlib.util.find_spec("tesserocr") is not None
        # Every sohoa mode has its own data folder: the modes read the same copies in a round.
        for data in ("data-1", "data-2", "data-1core", *(("data-tesserocr-1", "data-tesserocr-2") if library else ())):
            subprocess.run([str(SOHOA), "process", str(sample_pages[0]), "--json"], env={
                **env, "SOHOA_DATA_DIR": str(tmp_path / data)}, check=True, capture_output=True)

        def bare(pages: list[Path], processes: int) -> None:
            def one(page: Path) -> None:
                subprocess.run(["tesseract", str(page), "-", "-l", "vie"], env=env, check=True, capture_output=True)

            with ThreadPoolExecutor(processes) as threads:
                list(threads.map(one, pages))

        def sohoa(pages: list[Path], workers: int, engine: str = "tesseract", one_core: bool = False) -> None:
            data = tmp_path / ("data-1core" if one_core else f"data-{workers}" if engine == "tesseract"
                               else f"data-{engine}-{workers}")
            pinned = ["taskset", "-c", "0"] if one_core else []
            subprocess.run([*pinned, str(SOHOA), "process", *map(str, pages), "--json", "--workers", str(workers)],
                           env={**env, "SOHOA_DATA_DIR": str(data), "SOHOA_OCR_ENGINE": engine}, check=True,
                           capture_output=True)

        ocrmypdf_command = os.environ["OCRMYPDF"] if "OCRMYPDF" in os.environ else shutil.which("ocrmypdf")

        def ocrmypdf(pages: list[Path], jobs: int) -> None:
            import img2pdf

            combined = pages[0].parent / "one-copy.pdf"
            if not combined.exists():
                combined.write_bytes(img2pdf.convert([str(p) for p in pages[:len(sample_pages)]]))
            subprocess.run([ocrmypdf_command, "-l", "vie", "--deskew", "--clean", "--rotate-pages",
                            "--jobs", str(jobs), "--output-type", "pdf", str(combined),
                            str(combined.with_name(f"ocrmypdf-{jobs}.pdf"))], env=env, check=True,
                           capture_output=True)

        def workers_alone(pages: list[Path], workers: int) -> None:
            subprocess.run([sys.executable, __file__, "--page-workers-alone", str(workers), *map(str, pages)],
                           env=env, check=True, capture_output=True)

        modes = {"bare1": lambda pages: bare(pages, 1), "bare2": lambda pages: bare(pages, 2),
                 "sohoa1": lambda pages: sohoa(pages, 1), "sohoa2": lambda pages: sohoa(pages, 2),
                 "sohoa1core": lambda pages: sohoa(pages, 1, one_core=True),
                 "alone1": lambda pages: workers_alone(pages, 1), "alone2": lambda pages: workers_alone(pages, 2)}
        if library:
            modes |= {"lib1": lambda pages: sohoa(pages, 1, "tesserocr"),
                      "lib2": lambda pages: sohoa(pages, 2, "tesserocr")}
        if ocrmypdf_command:
            modes |= {"ocrmypdf1": lambda pages: ocrmypdf(pages, 1), "ocrmypdf2": lambda pages: ocrmypdf(pages, 2)}
        wall = dict.fromkeys(modes, 0.0)
        cpu = dict.fromkeys(modes, 0.0)
        per_round = []
        count = dict.fromkeys(modes, 0)
        made = [sample_pages[0]]  # archived while the data folders were set up
        # The machine's speed drifts by tens of percent within minutes: the modes take turns, round after
        # round, in a rotating order, so that a slow spell does not fall on one mode only.
        for r in range(rounds):
            pages = distinct_copies(sample_pages, repeat, tmp_path / f"pages-{r}", tag=str(r))
            made += pages
            if len({sha256_of(page) for page in made}) != len(made):
                sys.exit("bench: two page copies are the same file; sohoa would skip one as a duplicate")
            names = list(modes)
            names = names[r % len(names):] + names[:r % len(names)]
            this_round = {}
            for name in names:
                seconds, cpu_seconds = timed(lambda name=name, pages=pages: modes[name](pages))
                wall[name] += seconds
                count[name] += len(sample_pages) if name.startswith("ocrmypdf") else len(pages)
                cpu[name] += cpu_seconds
                this_round[name] = seconds
            per_round.append(this_round)
    w = {name: seconds / count[name] for name, seconds in wall.items()}
    c = {name: seconds / count[name] for name, seconds in cpu.items()}
    print(f"pages: {count['bare1']} per mode ({len(sample_pages)} scanned sample pages x {repeat} copies x "
          f"{rounds} rounds, "
          f"each copy a distinct file; one `sohoa process` call per round and mode)")
    print(f"{'':36s} wall s/page   CPU s/page")
    print(f"bare tesseract -l vie, 1 process:   {w['bare1']:8.2f}   {c['bare1']:10.2f}")
    print(f"bare tesseract -l vie, 2 processes: {w['bare2']:8.2f}   {c['bare2']:10.2f}   "
          f"throughput {w['bare1'] / w['bare2']:.2f}x of 1 process")
    print(f"sohoa process, 1 worker:            {w['sohoa1']:8.2f}   {c['sohoa1']:10.2f}   "
          f"{w['sohoa1'] / w['bare1']:.2f}x bare time")
    print(f"sohoa process, 2 workers:           {w['sohoa2']:8.2f}   {c['sohoa2']:10.2f}   "
          f"throughput {w['sohoa1'] / w['sohoa2']:.2f}x of 1 worker, {w['bare1'] / w['sohoa2']:.2f}x of bare")
    print(f"sohoa process, 1 worker, 1 core:    {w['sohoa1core']:8.2f}   {c['sohoa1core']:10.2f}   "
          f"2 workers on 2 cores: throughput {w['sohoa1core'] / w['sohoa2']:.2f}x of it")
    if "lib1" in w:
        print(f"SOHOA_OCR_ENGINE=tesserocr, 1 worker: {w['lib1']:6.2f}   {c['lib1']:10.2f}   "
              f"{w['lib1'] / w['bare1']:.2f}x bare time (libtesseract in the workers, model loaded once)")
        print(f"SOHOA_OCR_ENGINE=tesserocr, 2 workers:{w['lib2']:6.2f}   {c['lib2']:10.2f}   "
              f"throughput {w['lib1'] / w['lib2']:.2f}x of 1 worker")
    print(f"page workers alone, 1 worker:       {w['alone1']:8.2f}   {c['alone1']:10.2f}   "
          f"{w['alone1'] / w['bare1']:.2f}x bare time (no classification, signature, archive)")
    print(f"page workers alone, 2 workers:      {w['alone2']:8.2f}   {c['alone2']:10.2f}   "
          f"throughput {w['alone1'] / w['alone2']:.2f}x of 1 worker")
    print("per round: " + "; ".join(
        f"{r['sohoa1'] / r['bare1']:.2f}x bare, {r['sohoa1'] / r['sohoa2']:.2f}x with 2 workers "
        f"(per core: {r['sohoa1core'] / r['sohoa2']:.2f}x, alone: {r['alone1'] / r['alone2']:.2f}x)"
        + (f"; tesserocr {r['lib1'] / r['bare1']:.2f}x bare, {r['lib1'] / r['lib2']:.2f}x with 2 workers"
           if "lib1" in r else "")
        for r in per_round))
    if "ocrmypdf1" in w:
        print("ocrmypdf --deskew --clean --rotate-pages:")
        print(f"  --jobs 1:                         {w['ocrmypdf1']:8.2f}   {c['ocrmypdf1']:10.2f}   "
              f"{w['ocrmypdf1'] / w['bare1']:.2f}x bare time; sohoa 1 worker is {w['ocrmypdf1'] / w['sohoa1']:.2f}x "
              "as fast")
        print(f"  --jobs 2:                         {w['ocrmypdf2']:8.2f}   {c['ocrmypdf2']:10.2f}   "
              f"throughput {w['ocrmypdf1'] / w['ocrmypdf2']:.2f}x of --jobs 1; sohoa 2 workers is "
              f"{w['ocrmypdf2'] / w['sohoa2']:.2f}x as fast")
    else:
        print("ocrmypdf: not installed here, comparison skipped (`make bench-tools` installs it)")

if __name__ == "__main__":
    main()
