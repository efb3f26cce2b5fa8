"""`sohoa worker` whose page reading is replaced by a sleep: for bench/distributed.py's coordination ceiling.

Each page task sleeps BENCH_PAGE_SECONDS (default 1) instead of cleaning and OCRing, then hands on a real page
reading made beforehand (BENCH_PAGE_TEMPLATE: page.json and page.pdf, from one sample page), so that everything
around the page -- the index, the broker, the work store, and the document stage that understands, codes, signs
and archives the document -- runs as in production.  Arguments are `sohoa worker`'s.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def sleepy_run_page(job):
    from digitize.workers import page_outcome_from_dict

    time.sleep(float(os.environ.get("BENCH_PAGE_SECONDS", "1")))
    template = Path(os.environ["BENCH_PAGE_TEMPLATE"])
    data = json.loads((template / "page.json").read_text())
    data["index"] = job.index
    pdf = job.work_dir / f"page-{job.index:05d}.pdf"
    os.link(template / "page.pdf", pdf)  # a real worker writes its page PDF; the copy is not coordination
    return page_outcome_from_dict(data, pdf)


def main() -> None:
    import digitize.pages

    digitize.pages.run_page = sleepy_run_page  # workflow.distributed imports it at each page
    from cli import run

    sys.argv = ["sohoa", "worker", *sys.argv[1:]]
    run()


if __name__ == "__main__":
    main()
