"""Understanding, measured on a tuning split and on a held-out split, with a risk–coverage table.

Usage: .venv/bin/python bench/understanding.py [--split tuning|heldout|both] [--per-type N] [--workers N] [--show]
                                              [--register] [--heldout-seed N]

- tuning:   generator A (``samples.synth``), seeds 777_001…, every third document with its number and day
            written by hand into the blanks; rules and thresholds are tuned on this split only.
- heldout:  generator B (``samples.varied``: other layouts, wordings, fonts, hands, blanks filled by hand or
            stamp, born-digital PDFs with the number and day in annotations, scan/photo/photocopy profiles,
            200-300 dpi), seeds 424_242… (``--heldout-seed`` for a set never looked at), plus non-documents that
            must be rejected.  Never tuned on.

Every split runs the whole pipeline once in a fresh data directory.  The risk–coverage table then replays the
archive decision for other thresholds (type confidence × field confidence) from the confidences each outcome
carries: coverage is the share archived without review, risk the share of archived documents with any field,
the type or the level wrong.  The operating point is the most covering setting without risk on tuning; it is
reported, unchanged, on the held-out split.  With ``--register`` the held-out run first imports the issuing
register an archivist would hold (an entry per document and two others of the same kind and month each).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import os
import random
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("SOHOA_DEV_KEYS", "auto")  # development keys in the throw-away data dirs

from codes import load_catalogue  # noqa: E402
from digitize.training import synth_document  # noqa: E402
from digitize.understand import MIN_FIELD_CONFIDENCE  # noqa: E402
from samples.make_samples import save_sample  # noqa: E402
from samples.synth import to_spec  # noqa: E402
from samples.varied import SENTENCES, born_digital_text, heldout_set, noise_page  # noqa: E402
from workflow.contracts import Outcome  # noqa: E402
from workflow.ingest import Ingest, IngestOptions  # noqa: E402
from workflow.registers import import_register  # noqa: E402
from workflow.rooms import open_rooms  # noqa: E402
from workflow.settings import load_settings  # noqa: E402

TYPE_THRESHOLDS = (0.6, 0.7, 0.8, 0.9)
FIELD_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


@dataclasses.dataclass
class Truth:
    doc_type: str | None  # None: not a document, must be rejected
    number: str | None = None
    issued_on: str | None = None
    holder: str | None = None
    level: str | None = None
    issuer_words: tuple[str, ...] = ()
    kind: str = ""


def tuning_material(tmp: Path, per_type: int) -> dict[str, Truth]:
    rng = random.Random(777_001)
    truth = {}
    for doc_type in load_catalogue():
        for i in range(per_type):
            doc = synth_document(doc_type, rng, 10_000 + i)
            fill = "hand" if i % 3 == 2 and not doc_type.number_labels else "print"
            path = save_sample(to_spec(doc, "jpg", skew=rng.uniform(-2.5, 2.5), fill=fill), tmp)
            d, m, y = doc.issued_on
            truth[path.name] = Truth(doc.doc_type, doc.number, f"{y:04d}-{m:02d}-{d:02d}", doc.holder, doc.level,
                                     tuple(doc.issuing_body[-1].split()), f"A {fill}")
    return truth


def heldout_material(tmp: Path, per_type: int, seed: int = 424_242) -> dict[str, Truth]:
    truth = {}
    heldout_docs.update(heldout_set(tmp, per_type, seed=seed))
    for name, doc in heldout_docs.items():
        fills = (doc.number_fill, doc.day_fill)
        kind = "born-digital" if name.endswith("-signed.pdf") else \
            f"B {'hand' if 'hand' in fills else 'stamp' if 'stamp' in fills else 'print'}"
        truth[name] = Truth(doc.doc_type, doc.number, doc.issued_iso, doc.holder, doc.level,
                            tuple(doc.issuer_lines[-1].split()), kind)
    for seed, kind in enumerate(("noise", "photo", "dark")):
        truth[noise_page(tmp, 90 + seed, kind).name] = Truth(None, kind="non-document")
    return truth


def write_register(tmp: Path, truth: dict[str, Truth], seed: int) -> Path:
    """The issuing register an archivist would hold for the held-out documents: one entry for each, with
    the kind, date and a summary (the document's first sentence), and two entries of the same kind in the
    same month for other documents (other numbers, days and summaries), as a real register has."""
    catalogue = load_catalogue()
    rng = random.Random(seed)
    rows = []
    for name, t in truth.items():
        if t.doc_type is None or t.number is None:
            continue
        doc = heldout_docs[name]
        kind = catalogue.get(t.doc_type).name
        y, m, d = doc.issued_on
        rows.append((t.number, f"{d:02d}/{m:02d}/{y}", kind, doc.subject or doc.body[0]))
        for _ in range(2):
            other = f"{rng.randint(1, 999)}{t.number[t.number.index('/'):] if '/' in t.number else ''}"
            rows.append((other, f"{rng.randint(1, 28):02d}/{m:02d}/{y}", kind, rng.choice(SENTENCES)))
    path = tmp / "so-dang-ky.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Số, ký hiệu", "Ngày tháng", "Tên loại", "Trích yếu nội dung", "Người ký"])
        writer.writerows((*row, "") for row in rows)
    return path


heldout_docs: dict = {}


def run(files: list[Path], tmp: Path, workers: int, register: Path | None = None) -> tuple[list[Outcome], float]:
    settings = dataclasses.replace(load_settings(), data_dir=tmp / "data",
                                   database_url=f"sqlite:///{tmp / 'data' / 'index.sqlite3'}",
                                   archive_url=(tmp / "data" / "archive").as_uri())
    rooms = open_rooms(settings)
    if register is not None:
        print(import_register(rooms, register))
    started = time.perf_counter()
    outcomes = list(Ingest(rooms, IngestOptions(workers=workers)).run(files))
    return outcomes, time.perf_counter() - started


def wrong_fields(outcome: Outcome, truth: Truth) -> list[str]:
    wrong = []
    if outcome.doc_type_code != truth.doc_type:
        wrong.append("type")
    for name in ("number", "issued_on", "holder"):
        expected = getattr(truth, name)
        if expected is not None and outcome.fields.get(name) != expected:
            wrong.append(name)
    issuer = outcome.fields.get("issuer") or ""
    if not issuer or not all(word in issuer for word in truth.issuer_words):
        wrong.append("issuer")
    if outcome.level != truth.level:
        wrong.append("level")
    return wrong


def _lines(text: str) -> str:
    return "\n".join(sorted("".join(line.split()) for line in text.splitlines() if line.strip()))


def _got(outcome: Outcome, field: str) -> str | None:
    return {"type": outcome.doc_type_code, "level": outcome.level}.get(field, outcome.fields.get(field))


def _expected(truth: Truth, field: str) -> str | None:
    if field == "issuer":
        return " ".join(truth.issuer_words)
    return truth.doc_type if field == "type" else getattr(truth, field)


_GOVERNED = re.compile(r"^(document type uncertain \(|(number|issued_on|holder) read uncertainly \()")


def archived_at(outcome: Outcome, type_threshold: float, field_threshold: float, required: dict) -> bool:
    """Whether the document would be archived with these thresholds (other reasons unchanged)."""
    if outcome.status == "rejected" or outcome.doc_type_code is None:
        return False
    if any(not _GOVERNED.match(reason) for reason in outcome.review_reasons):
        return False
    if outcome.doc_type and outcome.doc_type.confidence < type_threshold:
        return False
    return all(outcome.confidence.get(name, 0.0) >= field_threshold for name in required[outcome.doc_type_code])


def report(name: str, outcomes: list[Outcome], truth: dict[str, Truth], seconds: float, workers: int,
           show: bool, operating: tuple[float, float] | None, waiting: bool = False) -> tuple[float, float]:
    catalogue = load_catalogue()
    required = {t.code: t.required for t in catalogue}
    docs = [(o, truth[Path(o.source.split("#")[0]).name]) for o in outcomes]
    documents = [(o, t) for o, t in docs if t.doc_type is not None]
    others = [(o, t) for o, t in docs if t.doc_type is None]
    counts: Counter = Counter()
    by_kind: dict[str, Counter] = {}
    for outcome, t in documents:
        wrong = wrong_fields(outcome, t)
        counts[outcome.status] += 1
        kind = by_kind.setdefault(t.kind, Counter())
        kind["n"] += 1
        kind[outcome.status] += 1
        for field in ("type", "number", "issued_on", "holder", "issuer", "level"):
            if field != "type" and field in ("number", "issued_on", "holder") and getattr(t, field) is None:
                continue
            counts[f"{field}_total"] += 1
            counts[field] += field not in wrong
            kind[f"{field}_total"] += 1
            kind[field] += field not in wrong
            if outcome.status == "archived" and field in wrong:
                counts[f"{field}_wrong_archived"] += 1
        if waiting and outcome.status == "needs_review" and not wrong:
            print(f"  waits {Path(outcome.source).name} [{t.kind}]: {outcome.reason[:300]}")
        if show and wrong:
            print(f"  {Path(outcome.source).name} [{t.kind}] {outcome.status}: "
                  + ", ".join(f"{f} {_got(outcome, f)!r} ≠ {_expected(t, f)!r}" for f in wrong)
                  + (f" | {outcome.reason[:160]}" if outcome.reason else ""))
    n = len(documents)
    print(f"\n== {name}: {n} documents + {len(others)} non-documents, {seconds:.0f} s with {workers} workers")
    for field in ("type", "number", "issued_on", "holder", "issuer", "level"):
        total = counts[f"{field}_total"]
        print(f"{field:<9} {counts[field] / max(total, 1):7.1%}  ({total} with a value)")
    print(f"archived {counts['archived']} ({counts['archived'] / n:.0%}), needs review {counts['needs_review']} "
          f"({counts['needs_review'] / n:.0%}), rejected {counts['rejected']}")
    print("wrong archived without review: " + ", ".join(
        f"{k} {counts[f'{k}_wrong_archived']}" for k in ("type", "number", "issued_on", "holder", "issuer", "level")))
    if others:
        rejected = sum(o.status == "rejected" for o, _ in others)
        print(f"non-documents rejected with a reason: {rejected}/{len(others)} "
              + "; ".join(f"{Path(o.source).name}: {o.status} {o.reason[:60]!r}" for o, _ in others))
    why: Counter = Counter()
    for outcome, _ in documents:
        if outcome.status == "needs_review":
            why.update({re.split(r" \(|:", reason, maxsplit=1)[0] for reason in outcome.review_reasons})
    print("why documents wait: " + "; ".join(f"{reason} {n}" for reason, n in why.most_common()))
    born = [(o, t) for o, t in documents if t.kind == "born-digital"]
    if born:
        from rapidfuzz.distance import Levenshtein

        errors = chars = 0
        for outcome, _ in born:
            expected = _lines(born_digital_text(heldout_docs[Path(outcome.source).name]))
            got = _lines(outcome.text)
            errors += Levenshtein.distance(got, expected)
            chars += len(expected)
        print(f"born-digital text against the issuer's own: CER {errors / chars:.2%} ({chars} characters; "
              "lines compared in sorted order, spaces ignored)")
    print("by kind: " + "; ".join(
        f"{kind} n={c['n']} archived {c['archived']} number {c['number']}/{c['number_total']} "
        f"date {c['issued_on']}/{c['issued_on_total']} holder {c['holder']}/{c['holder_total']}"
        for kind, c in sorted(by_kind.items())))
    print(f"\nrisk–coverage (coverage = archived without review / documents; risk = archived with anything wrong /"
          f" archived); field threshold in use {MIN_FIELD_CONFIDENCE}")
    print("type≥  field≥  coverage   risk  wrong")
    best: tuple[float, float, float] | None = None
    for tt in TYPE_THRESHOLDS:
        for ft in FIELD_THRESHOLDS:
            archived = [(o, t) for o, t in documents if archived_at(o, tt, ft, required)]
            bad = sum(bool(wrong_fields(o, t)) for o, t in archived)
            coverage = len(archived) / n
            risk = bad / len(archived) if archived else 0.0
            mark = " ← operating point" if operating == (tt, ft) else ""
            print(f"{tt:5.2f}  {ft:6.2f}  {coverage:7.1%}  {risk:6.1%}  {bad:4d}{mark}")
            # The most covering setting without risk; of equal ones the strictest (the most margin).
            if bad == 0 and (best is None or coverage >= best[0]):
                best = (coverage, tt, ft)
    return (best[1], best[2]) if best else (0.9, 0.9)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", choices=("tuning", "heldout", "both"), default="both")
    parser.add_argument("--per-type", type=int, default=0, help="documents per type (default 3 tuning, 7 held-out)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--show", action="store_true", help="print every document with a wrong field")
    parser.add_argument("--waiting", action="store_true", help="print why each document read right waits")
    parser.add_argument("--heldout-seed", type=int, default=424_242,
                        help="seed of the held-out documents (another seed: documents never looked at)")
    parser.add_argument("--register", action="store_true",
                        help="held-out: import an issuing register of the documents (with distractors) first")
    args = parser.parse_args()
    operating = None
    for split in (("tuning", "heldout") if args.split == "both" else (args.split,)):
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            per_type = args.per_type or (3 if split == "tuning" else 7)
            truth = tuning_material(tmp, per_type) if split == "tuning" else \
                heldout_material(tmp, per_type, args.heldout_seed)
            register = write_register(tmp, truth, 31) if args.register and split == "heldout" else None
            outcomes, seconds = run(sorted(tmp / name for name in truth), tmp, args.workers, register)
        chosen = report(split, outcomes, truth, seconds, args.workers, args.show, operating, args.waiting)
        if split == "tuning":
            operating = chosen
            print(f"operating point chosen on tuning: type ≥ {chosen[0]}, field ≥ {chosen[1]}")


if __name__ == "__main__":
    main()
