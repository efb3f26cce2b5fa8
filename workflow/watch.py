"""Hot folder: process scans that appear in a folder, then move each original to done/ or failed/."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from workflow.contracts import Outcome, Status
from workflow.ingest import Ingest

IGNORED_SUFFIXES = {".part", ".tmp", ".crdownload", ".partial"}


def _unique(target: Path) -> Path:
    if not target.exists():
        return target
    for n in range(1, 10_000):
        candidate = target.with_name(f"{target.stem}-{n}{target.suffix}")
        if not candidate.exists():
            return candidate
    raise RuntimeError(f"too many files named {target.name}")


def watch(folder: Path, ingest: Ingest, stop: threading.Event, interval: float = 1.0, settle: float = 2.0,
          on_outcome: Callable[[Outcome], None] | None = None) -> None:
    """Poll ``folder`` until ``stop`` is set; a file is taken once its size has not changed for ``settle`` s.

    Originals of documents archived or waiting for review go to ``done/``; the others to ``failed/`` with
    ``NAME.reason.txt`` beside them.  A bad file never stops the watch.
    """
    done, failed = folder / "done", folder / "failed"
    done.mkdir(exist_ok=True)
    failed.mkdir(exist_ok=True)
    seen: dict[Path, tuple[int, int, float]] = {}  # path -> (size, mtime_ns, unchanged since)
    while not stop.is_set():
        now = time.monotonic()
        ready = []
        for path in sorted(folder.iterdir()):
            if not path.is_file() or path.name.startswith(".") or path.suffix.lower() in IGNORED_SUFFIXES:
                continue
            stat = path.stat()
            key = (stat.st_size, stat.st_mtime_ns)
            previous = seen.get(path)
            if previous is None or previous[:2] != key:
                seen[path] = (*key, now)  # new or still growing
            elif now - previous[2] >= settle:
                ready.append(path)
        if ready:
            by_file: dict[Path, list[Outcome]] = {p: [] for p in ready}
            for outcome in ingest.run(ready, stop=stop):
                by_file.setdefault(outcome.part.path, []).append(outcome)
                if on_outcome:
                    on_outcome(outcome)
            for path in ready:
                outcomes = by_file.get(path, [])
                if not outcomes or any(o.status == Status.SKIPPED for o in outcomes):
                    continue  # not started before a stop, or another run holds it: stays for the next look
                ok = all(o.status in {Status.ARCHIVED, Status.NEEDS_REVIEW} for o in outcomes)
                target = _unique((done if ok else failed) / path.name)
                shutil.move(str(path), target)
                if not ok:
                    reasons = [f"{o.source}: {o.error or o.status}" for o in outcomes]
                    target.with_name(target.name + ".reason.txt").write_text("\n".join(reasons) + "\n", "utf-8")
                seen.pop(path, None)
        stop.wait(interval)
