"""How each reader of a filled-in blank does, alone and in the vote, on the blanks of both generators.

Usage: .venv/bin/python bench/blank_readers.py [--heldout-seed N] [--per-type N]

The blanks are found and cropped as ``digitize.reread`` does it (the number between "Số:" and its symbol, the day
between "ngày" and "tháng"), on generator A's handwritten documents (the tuning split of bench/understanding.py)
and on generator B's documents whose number or day was written by hand or stamped (held-out).  Each crop is
read by Tesseract (digits only, one line), TrueOCR and the digit reader (``digitize.digits``); the report
gives each reader's share read right and what the vote does: taken right, taken wrong, left to a clerk.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ["OMP_THREAD_LIMIT"] = "1"

from bench.understanding import heldout_material, tuning_material  # noqa: E402
from digitize import reread  # noqa: E402
from digitize.cleanup import clean  # noqa: E402
from digitize.digits import read_digits  # noqa: E402
from digitize.intake import inspect, load_page_image  # noqa: E402
from digitize.layout import reading_order  # noqa: E402
from digitize.ocr import OcrConfig, read_words  # noqa: E402
from workflow.workers import field_labels  # noqa: E402

READERS = ("tesseract", "trueocr", "digits")


def blanks_of(item: tuple[str, str, str | None, str]) -> list[dict]:
    """Each blank of a document's first page, read by the three readers, with what it should read."""
    path, split, number, day = item
    config = OcrConfig(field_labels=field_labels(None))
    image = load_page_image(Path(path), inspect(Path(path)).kind, 0)
    cleaned = clean(image.pixels)
    height = cleaned.gray.shape[0]
    words = read_words(cleaned.gray, image.dpi * cleaned.scale, config)
    segments = tuple(reading_order(words, cleaned.gray.shape[1]))
    found = []
    for field, seg, _, _ in reread.lines_to_reread(segments, height, config.field_labels):
        blank = reread.blank_of(seg, field) if field in ("number", "issued_on") else None
        if blank is None:
            continue
        start, end, _ = blank
        pad = max(4, seg.height // 3)
        y0, y1 = max(0, seg.y - pad), min(height, seg.bottom + pad)
        box = (int(start + 2), int(y0), int(end - start - 4), int(y1 - y0))
        crop = reread._ink_kept_crop(image.pixels, cleaned.matrix, box)
        second = reread.second_reader(config)
        readings = {"tesseract": reread._tesseract_blanks([crop], config)[0],
                    "trueocr": second.predict([crop])[0] if second else ("", 0.0)}
        text, confidence = read_digits(crop)
        readings["digits"] = (text, confidence) if confidence >= reread.DIGIT_SURE else ("", 0.0)
        truth = number if field == "number" else day
        found.append({"split": split, "field": field, "truth": truth,
                      **{k: _digits(v[0], field) for k, v in readings.items()}})
    return found


def _digits(text: str, field: str) -> str:
    digits = re.sub(r"\D", "", text.translate(reread.DIGIT_LOOKALIKES))
    return digits.lstrip("0") if field == "issued_on" else digits


def vote(blank: dict) -> str | None:
    """What sohoa takes (``digitize.fields.confirm_with_rereads`` on a blank read apart): all readers that read
    something alike, or the digit reader with one other reader when the third differs; else a clerk."""
    said = {r: blank[r] for r in READERS if blank[r]}
    values = set(said.values())
    if len(said) >= 2 and len(values) == 1:
        return values.pop()
    if len(said) == 3 and len(values) == 2 and list(said.values()).count(said["digits"]) == 2:
        return said["digits"]
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--heldout-seed", type=int, default=424_242)
    parser.add_argument("--per-type", type=int, default=7)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sohoa-blanks-"))
    items = []
    # The same documents as bench/understanding.py's splits: A's handwritten third, B's hand or stamped fills.
    tuning, heldout = tuning_material(tmp, 3), heldout_material(tmp, args.per_type, args.heldout_seed)
    for split, truths, kinds in (("A hand", tuning, ("A hand",)), (f"B {args.heldout_seed}", heldout,
                                                                    ("B hand", "B stamp"))):
        for name, truth in truths.items():
            if truth.kind in kinds:
                items.append((str(tmp / name), split, re.match(r"\d*", truth.number or "").group(),
                              str(int(truth.issued_on[8:10]))))
    with ProcessPoolExecutor(2) as pool:
        blanks = [blank for found in pool.map(blanks_of, items) for blank in found]
    print("| blanks | n | " + " | ".join(f"{r} right" for r in READERS) +
          " | two line readers alike: taken / wrong | with the digit reader: taken / wrong / to a clerk |")
    print("|---" * 7 + "|")
    for split in sorted({b["split"] for b in blanks}):
        rows = [b for b in blanks if b["split"] == split]
        right = [sum(b[r] == b["truth"] for b in rows) for r in READERS]
        pair = [b for b in rows if b["tesseract"] and b["tesseract"] == b["trueocr"]]
        voted = [(b, vote(b)) for b in rows]
        taken = [(b, v) for b, v in voted if v]
        print(f"| {split} | {len(rows)} | " + " | ".join(f"{k} ({k / len(rows):.0%})" for k in right) +
              f" | {len(pair)} / {sum(b['tesseract'] != b['truth'] for b in pair)}"
              f" | {len(taken)} / {sum(v != b['truth'] for b, v in taken)} / {len(rows) - len(taken)} |")


if __name__ == "__main__":
    main()
