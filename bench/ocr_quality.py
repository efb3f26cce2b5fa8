"""Character error rate of sohoa's clean-up + OCR against bare Tesseract, on degraded pages made here.

The generator renders random Decree 30 documents (``digitize.training`` + ``samples.make_samples``) in
three font families and degrades each page one way, cycling through: a good 300 dpi scan, skew up to
±10°, rotation by 90°/180°/270°, heavy noise with strong JPEG compression, blur, a 200 dpi scan, dark
scanner borders, a grey photocopy.  Every page has a red seal over the signer's name and a blue signature.
Ground truth is the text that was drawn.

CER is counted per ground-truth line against its best-aligned stretch of OCR output (so a different but
sensible reading order is not an error; a lost or garbled line is): edits / characters of ground truth.
Both systems read the same image file; bare Tesseract is `tesseract IMAGE - -l vie` with
OMP_THREAD_LIMIT=1, sohoa is `digitize.pages.run_page` (clean-up, one Tesseract call, reading order).

Usage: .venv/bin/python bench/ocr_quality.py [PAGES] [WORKERS]
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ["OMP_THREAD_LIMIT"] = "1"

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw, ImageFilter  # noqa: E402
from rapidfuzz.distance import Levenshtein  # noqa: E402
from rapidfuzz.fuzz import partial_ratio_alignment  # noqa: E402

import samples.make_samples as ms  # noqa: E402
from codes import load_catalogue  # noqa: E402
from samples.synth import synth_spec  # noqa: E402

FONT_FAMILIES = {
    "FreeSerif": {"regular": "freefont/FreeSerif.ttf", "bold": "freefont/FreeSerifBold.ttf",
                  "italic": "freefont/FreeSerifItalic.ttf", "bolditalic": "freefont/FreeSerifBoldItalic.ttf"},
    "DejaVuSerifCondensed": {"regular": "dejavu/DejaVuSerifCondensed.ttf",
                             "bold": "dejavu/DejaVuSerifCondensed-Bold.ttf",
                             "italic": "dejavu/DejaVuSerifCondensed-Italic.ttf",
                             "bolditalic": "dejavu/DejaVuSerifCondensed-BoldItalic.ttf"},
    "FreeSans": {"regular": "freefont/FreeSans.ttf", "bold": "freefont/FreeSansBold.ttf",
                 "italic": "freefont/FreeSansOblique.ttf", "bolditalic": "freefont/FreeSansBoldOblique.ttf"},
}
DEGRADATIONS = ["good scan", "skew", "rotated", "noise+jpeg", "blur", "200 dpi", "dark border", "photocopy"]
FONT_ROOT = Path("/usr/share/fonts/truetype")


@dataclass
class Page:
    path: Path
    truth: list[str]
    degradation: str
    font: str


def _use_fonts(family: str) -> None:
    ms.FONTS.clear()
    ms.FONTS.update({style: FONT_ROOT / rel for style, rel in FONT_FAMILIES[family].items()})
    ms._font_cache.clear()


def make_page(index: int, out_dir: Path, seed: int = 7000) -> Page:
    rng = random.Random(seed + index)
    catalogue = load_catalogue()
    doc_type = rng.choice(list(catalogue))
    family = list(FONT_FAMILIES)[index % len(FONT_FAMILIES)]
    degradation = DEGRADATIONS[index % len(DEGRADATIONS)]
    _use_fonts(family)
    spec = synth_spec(doc_type, rng, seed + index)
    page_ops = ms.render_pages(spec)[0]
    truth = [unicodedata.normalize("NFC", op.text) for op in page_ops if isinstance(op, ms.Text) and op.text.strip()]
    dpi = 200 if degradation == "200 dpi" else 300
    img = ms.draw_raster(page_ops, dpi=dpi)
    skew = rng.uniform(-10, 10) if degradation == "skew" else rng.uniform(-1.5, 1.5)
    noise, blur, quality = 5.0, 0.5, 90
    if degradation == "noise+jpeg":
        noise, quality = 22.0, 35
    elif degradation == "blur":
        blur = 1.3
    img = ms.scan(img, skew=skew, noise=noise, blur=blur, seed=seed + index)
    if degradation == "dark border":
        img = _dark_border(img, rng)
    elif degradation == "photocopy":
        arr = np.asarray(img.convert("L"), dtype=np.float32)
        arr = 60 + arr * 0.62 + np.random.default_rng(index).normal(0, 6, arr.shape)
        img = Image.fromarray(arr.clip(0, 255).astype("uint8")).convert("RGB")
    elif degradation == "rotated":
        img = img.rotate(rng.choice([90, 180, 270]), expand=True)
    path = out_dir / f"page-{index:03d}.jpg"
    img.save(path, quality=quality, dpi=(dpi, dpi))
    return Page(path, truth, degradation, family)


def _dark_border(img: Image.Image, rng: random.Random) -> Image.Image:
    w, h = img.size
    frame = Image.new("RGB", (w + 2 * 90, h + 2 * 70), (25, 25, 28))
    frame.paste(img, (90 + rng.randint(-30, 30), 70 + rng.randint(-30, 30)))
    draw = ImageDraw.Draw(frame)
    draw.rectangle([0, 0, frame.width, 40], fill=(10, 10, 10))
    return frame.filter(ImageFilter.GaussianBlur(0.4))


def cer(truth: list[str], text: str) -> tuple[int, int]:
    """(edits, characters): each truth line against its best-aligned stretch of an OCR line."""
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    edits = chars = 0
    for gt in truth:
        gt = " ".join(gt.split())
        chars += len(gt)
        best = len(gt)
        for line in lines:
            if len(line) > len(gt):
                align = partial_ratio_alignment(gt, line)
                candidate = line[align.dest_start:align.dest_end]
            else:
                candidate = line
            best = min(best, Levenshtein.distance(gt, candidate))
            if best == 0:
                break
        edits += best
    return edits, chars


def bare_tesseract(path: Path) -> tuple[str, float]:
    start = time.perf_counter()
    out = subprocess.run(["tesseract", str(path), "-", "-l", "vie"], capture_output=True, text=True, check=True,
                         env={**os.environ, "OMP_THREAD_LIMIT": "1"}).stdout
    return unicodedata.normalize("NFC", out), time.perf_counter() - start


def sohoa_page(args: tuple[Path, Path]) -> tuple[str, float]:
    from digitize.pages import run_page
    from digitize.workers import PageJob

    path, work = args
    start = time.perf_counter()
    outcome = run_page(PageJob(path, "jpeg", 0, work))
    return outcome.page.text, time.perf_counter() - start


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 24
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        pages = [make_page(i, tmp) for i in range(count)]
        with ProcessPoolExecutor(workers) as pool:
            bare = list(pool.map(bare_tesseract, [p.path for p in pages]))
            ours = list(pool.map(sohoa_page, [(p.path, tmp) for p in pages]))
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for page, (bare_text, _), (our_text, _) in zip(pages, bare, ours, strict=True):
        e_bare, chars = cer(page.truth, bare_text)
        e_ours, _ = cer(page.truth, our_text)
        for key in (page.degradation, "ALL"):
            row = by_kind[key]
            row[0] += e_bare
            row[1] += e_ours
            row[2] += chars
    print(f"{count} pages, {len(FONT_FAMILIES)} font families, one run")
    print(f"{'degradation':<14}{'pages':>6}{'bare tesseract CER':>20}{'sohoa CER':>12}")
    for kind in [*DEGRADATIONS, "ALL"]:
        if kind in by_kind:
            e_bare, e_ours, chars = by_kind[kind]
            n = sum(1 for p in pages if p.degradation == kind) if kind != "ALL" else len(pages)
            print(f"{kind:<14}{n:>6}{100 * e_bare / chars:>19.2f}%{100 * e_ours / chars:>11.2f}%")
    print(f"seconds per page: bare {sum(t for _, t in bare) / count:.2f}, sohoa {sum(t for _, t in ours) / count:.2f}")


if __name__ == "__main__":
    main()
