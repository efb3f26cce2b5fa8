"""Understanding on generated, scanned documents (seeds the model never saw): accuracy of the type and
the fields, and how many wrong types would have been archived without review (must be 0).

Usage: .venv/bin/python bench/understanding.py [PER_TYPE] [WORKERS]
Renders PER_TYPE documents of every catalogue type as JPEG scans (skew ±2.5°, noise), runs the whole
pipeline on them in a fresh data directory, and compares with the ground truth.
"""

from __future__ import annotations

import dataclasses
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("SOHOA_DEV_KEYS", "auto")  # development keys in the throw-away data dirs

from codes import load_catalogue  # noqa: E402
from digitize.training import synth_document  # noqa: E402
from samples.make_samples import save_sample  # noqa: E402
from samples.synth import to_spec  # noqa: E402
from workflow.ingest import Ingest, IngestOptions  # noqa: E402
from workflow.rooms import open_rooms  # noqa: E402
from workflow.settings import load_settings  # noqa: E402


def main() -> None:
    per_type = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    catalogue = load_catalogue()
    rng = random.Random(777_001)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        truth = {}
        for doc_type in catalogue:
            for i in range(per_type):
                doc = synth_document(doc_type, rng, 10_000 + i)
                path = save_sample(to_spec(doc, "jpg", skew=rng.uniform(-2.5, 2.5)), tmp)
                truth[path.name] = doc
        settings = dataclasses.replace(load_settings(), data_dir=tmp / "data",
                                       database_url=f"sqlite:///{tmp / 'data' / 'index.sqlite3'}",
                                       archive_url=(tmp / "data" / "archive").as_uri())
        rooms = open_rooms(settings)
        started = time.perf_counter()
        outcomes = list(Ingest(rooms, IngestOptions(workers=workers)).run(sorted(tmp.glob("*.jpg"))))
        seconds = time.perf_counter() - started
    counts: Counter = Counter()
    for outcome in outcomes:
        doc = truth[Path(outcome.source).name]
        d, m, y = doc.issued_on
        got_type = outcome.doc_type_code
        counts["documents"] += 1
        counts["type"] += got_type == doc.doc_type
        counts[outcome.status] += 1
        counts["confident_wrong"] += outcome.status == "archived" and got_type != doc.doc_type
        for name, expected in (("number", doc.number), ("issued_on", f"{y:04d}-{m:02d}-{d:02d}"),
                               ("holder", doc.holder)):
            if expected is None:
                continue
            counts[f"{name}_total"] += 1
            counts[name] += outcome.fields.get(name) == expected
            wrong_archived = outcome.status == "archived" and outcome.fields.get(name) != expected
            counts[f"{name}_wrong_archived"] += wrong_archived
            if outcome.fields.get(name) != expected and "--show" in sys.argv:
                print(f"  {doc.doc_type} {name}: expected {expected!r}, {outcome.status} {outcome.fields.get(name)!r}")
                if name == "issued_on":
                    print("     read:", next((line for line in outcome.text.splitlines() if "năm" in line), "-"))
        counts["issuer_total"] += 1
        issuer_right = bool(outcome.fields.get("issuer")) and all(
            word in (outcome.fields.get("issuer") or "") for word in doc.issuing_body[-1].split())
        counts["issuer"] += issuer_right
        counts["issuer_wrong_archived"] += outcome.status == "archived" and not issuer_right
        counts["level_wrong_archived"] += outcome.status == "archived" and outcome.level != doc.level
        if not issuer_right and "--show" in sys.argv:
            print(f"  {doc.doc_type} issuer: expected {doc.issuing_body!r}, {outcome.status} "
                  f"{outcome.fields.get('issuer')!r}")
        counts["level"] += outcome.level == doc.level
    n = counts["documents"]
    print(f"{n} documents ({per_type} per type × {len(catalogue)} types), {seconds:.0f} s with {workers} workers")
    print(f"type      {counts['type'] / n:7.1%}")
    for name in ("number", "issued_on", "holder", "issuer"):
        total = counts[f"{name}_total"]
        print(f"{name:<9} {counts[name] / total:7.1%}  ({total} with a value)")
    print(f"level     {counts['level'] / n:7.1%}")
    print(f"archived {counts['archived']}, needs review {counts['needs_review']}, rejected {counts['rejected']}")
    print(f"wrong type archived without review: {counts['confident_wrong']}")
    print("wrong field archived without review: "
          + ", ".join(f"{k} {counts[f'{k}_wrong_archived']}"
                      for k in ("number", "issued_on", "holder", "issuer", "level")))


if __name__ == "__main__":
    main()
