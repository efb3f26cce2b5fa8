"""Archive backfills: killed with SIGKILL or Ctrl-C mid-run, rerun, every file archived exactly once."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from codes import load_catalogue
from digitize.training import synth_document
from samples.make_samples import render_pages, write_text_pdf
from samples.synth import to_spec
from tests.conftest import SAMPLES, SOHOA, json_lines, run_cli

CATALOGUE = load_catalogue()


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """30 files in nested folders: 26 born-digital PDFs, 2 scans, a corrupt file, a duplicate."""
    root = tmp_path_factory.mktemp("old-scans")
    rng = random.Random(31)
    types = [t for t in CATALOGUE]
    for i in range(26):
        doc = synth_document(types[i % len(types)], rng, 3000 + i)
        folder = root / f"{2010 + i % 5}" / ("a" if i % 2 else "b")
        folder.mkdir(parents=True, exist_ok=True)
        write_text_pdf(render_pages(to_spec(doc, "pdf-text")), str(folder / f"doc-{i:02d}.pdf"))
    shutil.copy(SAMPLES / "07-cong-van.jpg", root / "2012" / "a" / "cv.jpg")
    shutil.copy(SAMPLES / "09-ly-lich-tu-phap.jpg", root / "2014" / "b" / "lltp.jpg")
    (root / "2013" / "a" / "doc-99-corrupt.pdf").write_bytes(b"%PDF-1.4\n" + os.urandom(3000))
    shutil.copy(root / "2010" / "b" / "doc-00.pdf", root / "2011" / "copy-of-doc-00.pdf")
    return root


def start(tree, data_dir, *extra):
    env = {**os.environ, "SOHOA_DATA_DIR": str(data_dir)}
    return subprocess.Popen([str(SOHOA), "backfill", str(tree), "--json", "--workers", "2", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def running(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie waiting to be reaped has ended)."""
    try:
        return "\tZ" not in next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                                 if line.startswith("State:"))
    except FileNotFoundError:
        return False


def read_outcomes(proc, count):
    lines = []
    while len(lines) < count:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        lines.append(json.loads(line))
    return lines


def check_exactly_once(data_dir, tree):
    from storage import Index, LocalArchive, ResultStore, audit
    from workflow.settings import load_settings

    os.environ["SOHOA_DATA_DIR"] = str(data_dir)
    try:
        settings = load_settings()
    finally:
        os.environ.pop("SOHOA_DATA_DIR")
    index = Index(settings.database_url)
    store = ResultStore(LocalArchive(settings.data_dir / "archive"), index)
    results = index.results.all()
    per_source = Counter(r.source_sha256 for r in results)
    assert set(per_source.values()) == {1}  # no content archived twice
    assert len(results) == 28  # 26 PDFs + 2 scans; the duplicate and the corrupt file add none
    manifests = [k for k in store.archive.list() if k.endswith("manifest-sha256.txt")]
    assert len(manifests) == len(results)  # no complete version outside the index
    assert audit(store).ok
    rows = json_lines(run_cli("list", "--json", data_dir=data_dir).stdout)
    assert len(rows) == 30 and len({r["source"] for r in rows}) == 30
    statuses = {r["source"].rsplit("/", 1)[1]: r["status"] for r in rows}
    assert statuses["doc-99-corrupt.pdf"] == "rejected"
    assert statuses["copy-of-doc-00.pdf"] == "archived"


def test_killed_with_sigkill_then_rerun_archives_each_exactly_once(tree, tmp_path):
    data_dir = tmp_path / "data"
    proc = start(tree, data_dir)
    first = read_outcomes(proc, 8)
    children = [int(pid) for pid in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
    assert children  # the page workers (and multiprocessing's resource tracker)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert all(o["status"] in {"archived", "rejected", "needs_review"} for o in first)
    # The workers end with the killed run instead of lingering as orphans.
    deadline = time.monotonic() + 20
    while any(map(running, children)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in children if running(pid)]
    rerun = start(tree, data_dir, "--report", str(tmp_path / "report.csv"))
    out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err
    outcomes = json_lines(out)
    summary = outcomes.pop()["summary"]
    assert summary["files"] == 30
    assert summary["by_status"]["skipped"] >= 8  # what the killed run finished is not done again
    check_exactly_once(data_dir, tree)
    # the report: one CSV row and one JSON line per file, then the summary
    report_rows = (tmp_path / "report.csv").read_text("utf-8").splitlines()
    assert report_rows[0] == "source,code,doc_type,status,reason,pages,seconds" and len(report_rows) == 31
    jsonl = json_lines((tmp_path / "report.jsonl").read_text("utf-8"))
    assert jsonl[-1]["summary"] == summary
    assert Counter(r["status"] for r in jsonl[:-1]) == Counter(summary["by_status"])
    corrupt = next(r for r in jsonl if r.get("source", "").endswith("doc-99-corrupt.pdf"))
    assert "failed before" in corrupt["reason"] or "damaged" in corrupt["reason"]


def test_ctrl_c_stops_after_documents_in_flight_and_resumes(tree, tmp_path):
    data_dir = tmp_path / "data"
    proc = start(tree, data_dir)
    read_outcomes(proc, 5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130 and "stopping after the documents in flight" in err
    stopped = json_lines(out)
    summary = stopped.pop()["summary"]
    assert summary["stopped"] is True and 5 <= summary["files"] < 30
    rerun = start(tree, data_dir)
    out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err
    check_exactly_once(data_dir, tree)


def test_failed_files_are_retried_only_when_asked(tree, tmp_path):
    data_dir = tmp_path / "data"
    sub = tmp_path / "few"
    sub.mkdir()
    shutil.copy(tree / "2013" / "a" / "doc-99-corrupt.pdf", sub)
    shutil.copy(tree / "2010" / "b" / "doc-00.pdf", sub)
    first = json_lines(run_cli("backfill", str(sub), "--json", data_dir=data_dir).stdout)
    assert {o["source"].rsplit("/", 1)[1]: o["status"] for o in first[:-1]} == {
        "doc-99-corrupt.pdf": "rejected", "doc-00.pdf": "archived"}
    again = json_lines(run_cli("backfill", str(sub), "--json", data_dir=data_dir).stdout)
    assert {o["status"] for o in again[:-1]} == {"skipped"}
    retried = json_lines(run_cli("backfill", str(sub), "--json", "--retry-failed", data_dir=data_dir).stdout)
    assert {o["source"].rsplit("/", 1)[1]: o["status"] for o in retried[:-1]} == {
        "doc-99-corrupt.pdf": "rejected", "doc-00.pdf": "skipped"}
