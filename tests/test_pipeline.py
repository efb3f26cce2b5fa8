"""End to end on the committed samples: real Tesseract, real pyHanko, real files."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from samples.make_samples import SAMPLES
from signing import verify_pdf
from storage import ArchiveError

SPECS = {s.file_name: s for s in SAMPLES}


def rescan_of(sample: str, target: Path) -> Path:
    """Another scan of a committed sample: the same page in new bytes, so not a duplicate of the archived one."""
    from PIL import Image

    from tests.conftest import SAMPLES as SAMPLE_DIR

    with Image.open(SAMPLE_DIR / sample) as img:
        img = img.convert("RGB")
        img.putpixel((0, 0), (250, 250, 250))
        img.save(target)
    return target


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_sample_gets_its_type_date_and_level(processed, name):
    outcome, spec = processed[name], SPECS[name]
    assert outcome.status in {"archived", "needs_review"}, outcome.error
    assert outcome.doc_type.code == spec.doc_type
    assert outcome.fields["issued_on"] == spec.issued_iso
    assert outcome.level == spec.level
    assert unicodedata.is_normalized("NFC", outcome.text)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("08-dang-ky-doanh-nghiep.png", "png"),
        ("09-ly-lich-tu-phap.jpg", "jpeg"),
        ("05-giay-phep-xay-dung.pdf", "scanned pdf"),
        ("06-thong-bao.pdf", "born-digital pdf"),
    ],
)
def test_each_input_kind_is_archived_signed_and_fetchable(processed, rooms, name, kind):
    outcome, spec = processed[name], SPECS[name]
    assert outcome.status == "archived", (kind, outcome.review_reasons, outcome.error)
    assert outcome.code.startswith(f"{rooms.settings.agency}-{spec.doc_type}-")
    assert outcome.fields["number"] == spec.number
    record = rooms.index.results.get(outcome.code)
    pdf = rooms.archive.get(record.archive_key)
    assert hashlib.sha256(pdf).hexdigest() == record.sha256 == outcome.sha256
    report = verify_pdf(pdf, rooms.trust_roots)
    assert report.valid, report.problems
    assert report.signatures[-1].development_ca


def test_multipage_tiff_keeps_every_page(processed, rooms):
    outcome = processed["04-quyet-dinh.tiff"]
    assert outcome.pages == 2
    assert "Điều 3" in outcome.text  # from page 2


def test_holder_and_personal_id_extracted(processed):
    assert processed["09-ly-lich-tu-phap.jpg"].fields["holder"] == "LÊ THỊ HOA"
    assert processed["09-ly-lich-tu-phap.jpg"].fields["holder_id"] == "040190006789"
    assert processed["08-dang-ky-doanh-nghiep.png"].fields["holder"] == "CÔNG TY TNHH MỘT THÀNH VIÊN SỐ HÓA AN KHÁNH"


def test_the_minimum_data_of_circular_01_is_read_and_archived(processed, rooms):
    """Summary (trích yếu) and validity where the paper states them, on generated results of several types."""
    fields = {name: outcome.fields for name, outcome in processed.items()}
    assert fields["04-quyet-dinh.tiff"]["summary"].startswith("Về việc phê duyệt Kế hoạch số hóa hồ sơ")
    assert fields["06-thong-bao.pdf"]["summary"] == "Về việc tiếp nhận hồ sơ trực tuyến toàn trình"
    assert fields["07-cong-van.jpg"]["summary"].startswith("V/v đẩy mạnh số hóa hồ sơ")
    assert fields["01-giay-khai-sinh.png"]["summary"] is None  # a certificate has none
    # "có hiệu lực … trong thời hạn 12 tháng kể từ ngày cấp": counted from the issue date
    permit = fields["05-giay-phep-xay-dung.pdf"]
    issued = permit["issued_on"]
    assert permit["valid_until"] == f"{int(issued[:4]) + 1}{issued[4:]}"
    assert fields["04-quyet-dinh.tiff"]["valid_until"] is None  # "có hiệu lực kể từ ngày ký": from, not until
    outcome = processed["05-giay-phep-xay-dung.pdf"]
    minimum = rooms.store.metadata(outcome.code, 1).minimum_data
    assert minimum["valid_until"] == permit["valid_until"] and minimum["paper_name"] == outcome.doc_type.name
    assert set(minimum) == {"paper_type_code", "holder_id", "paper_name", "number", "issued_on", "issuer",
                            "summary", "valid_until", "validity_scope", "procedure_code", "dossier_code",
                            "digitized_by", "digitized_at"}


def test_scanned_pdf_text_layer_is_searchable(processed, rooms, tmp_path):
    outcome = processed["05-giay-phep-xay-dung.pdf"]
    pdf_path = tmp_path / "gpxd.pdf"
    pdf_path.write_bytes(rooms.archive.get(outcome.archive_key))
    text = subprocess.run(["pdftotext", str(pdf_path), "-"], capture_output=True, text=True, check=True).stdout
    assert "GIẤY PHÉP XÂY DỰNG" in unicodedata.normalize("NFC", text)
    assert "NGUYỄN VĂN BÌNH" in unicodedata.normalize("NFC", text)


def test_born_digital_pdf_is_kept_byte_for_byte_and_signed_incrementally(processed, rooms):
    from samples.make_samples import SAMPLES  # noqa: F401  (the file is committed)
    from tests.conftest import SAMPLES as SAMPLE_DIR

    outcome = processed["06-thong-bao.pdf"]
    original = (SAMPLE_DIR / "06-thong-bao.pdf").read_bytes()
    signed = rooms.archive.get(outcome.archive_key)
    assert signed.startswith(original)
    meta = json.loads(rooms.archive.get(outcome.archive_key.replace("document.pdf", "metadata.json")))
    assert meta["ocr"] == {"engine": "pdf text layer"}


def test_signature_verifies_with_pdfsig(processed, rooms, tmp_path):
    outcome = processed["09-ly-lich-tu-phap.jpg"]
    pdf_path = tmp_path / "kh.pdf"
    pdf_path.write_bytes(rooms.archive.get(outcome.archive_key))
    result = subprocess.run(["pdfsig", str(pdf_path)], capture_output=True, text=True)
    assert "Signature is Valid" in result.stdout, result.stdout + result.stderr
    assert "ETSI.CAdES.detached" in result.stdout


def test_a_flipped_byte_fails_verification(processed, rooms):
    outcome = processed["09-ly-lich-tu-phap.jpg"]
    pdf = bytearray(rooms.archive.get(outcome.archive_key))
    pdf[len(pdf) // 3] ^= 0x01
    assert not verify_pdf(bytes(pdf), rooms.trust_roots).valid


def test_unknown_trust_root_fails_verification(processed, rooms, tmp_path):
    outcome = processed["09-ly-lich-tu-phap.jpg"]
    report = verify_pdf(rooms.archive.get(outcome.archive_key), trust_roots=())
    assert not report.valid
    assert any("trusted root" in p for p in report.problems)


def test_uncertain_reading_waits_for_review_and_is_not_archived(processed, rooms):
    waiting = [o for o in processed.values() if o.status == "needs_review"]
    for outcome in waiting:
        assert outcome.code is None and outcome.archive_key is None
        assert outcome.review_reasons
        folder = rooms.settings.review_dir / outcome.source_sha256
        assert (folder / "proposal.json").exists()
        assert any(p.name.startswith("original") for p in folder.iterdir())


def test_a_document_going_to_review_is_not_joined_into_a_pdf(rooms, tmp_path, monkeypatch):
    """The clerk reviews the original file: the main process spends no PDF/A join on an unsplit document
    that waits for review (it joins only what it signs, or a part of a split stack, which keeps its pages)."""
    from dataclasses import replace

    import workflow.publish as publish_module
    from workflow.ingest import Ingest, IngestOptions

    rescan = rescan_of("03-ho-kinh-doanh.jpg", tmp_path / "hkd-rescan.png")
    joined = []
    real_assemble = publish_module.assemble
    monkeypatch.setattr(publish_module, "assemble",
                        lambda pages, out, meta: joined.append(out) or real_assemble(pages, out, meta))
    strict = replace(rooms, settings=replace(rooms.settings, review_threshold=1.01))  # every type uncertain
    [outcome] = Ingest(strict, IngestOptions(workers=1)).run([rescan])
    assert outcome.status == "needs_review" and outcome.doc_type.code == "HKD"
    assert joined == []
    assert (rooms.settings.review_dir / outcome.source_sha256 / "original.png").exists()


def test_same_input_twice_is_not_archived_twice(processed, rooms):
    from tests.conftest import SAMPLES as SAMPLE_DIR
    from workflow.ingest import Ingest, IngestOptions

    before = len(rooms.index.results.all())
    first = processed["09-ly-lich-tu-phap.jpg"]
    again = next(Ingest(rooms, IngestOptions(workers=1)).run([SAMPLE_DIR / "09-ly-lich-tu-phap.jpg"]))
    assert again.status == "archived" and again.code == first.code and again.sha256 == first.sha256
    assert len(rooms.index.results.all()) == before


def test_pages_submitted_early_are_used_or_dropped(processed, rooms, tmp_path):
    """`sohoa process` hands the first pages to the workers before the index is open: a new input uses
    that work (no second submission); a duplicate drops it, leaving no record and no work folder."""

    from digitize.workers import prefetch
    from tests.conftest import SAMPLES as SAMPLE_DIR
    from workflow.ingest import Ingest, IngestOptions
    from workflow.workers import start_page_workers

    fresh = rescan_of("08-dang-ky-doanh-nghiep.png", tmp_path / "dkdn-rescan.png")
    duplicate = SAMPLE_DIR / "09-ly-lich-tu-phap.jpg"
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    tmp_root = tmp_path / "work"
    before = len(rooms.index.results.all())
    with start_page_workers(rooms.settings, 1) as pool:
        submitted = []
        submit = pool.submit
        pool.submit = lambda fn, *args: submitted.append(args) or submit(fn, *args)
        early = prefetch([broken, fresh, duplicate, SAMPLE_DIR / "06-thong-bao.pdf"], pool, tmp_root, max_pages=4)
        assert list(early) == [fresh, duplicate]  # the broken file and the born-digital PDF are left to the pipeline
        assert len(submitted) == 2
        outcomes = list(Ingest(rooms, IngestOptions(workers=1), pool).run([broken, fresh, duplicate], prefetched=early))
    assert len(submitted) == 2  # nothing was OCRed twice
    assert [o.status for o in outcomes] == ["rejected", "archived", "archived"]
    assert outcomes[1].fields["number"] == "0109876543"
    assert outcomes[2].code == processed["09-ly-lich-tu-phap.jpg"].code  # not a second record
    assert len(rooms.index.results.all()) == before + 1
    assert early == {} and list(tmp_root.iterdir()) == []


def test_the_workers_are_fed_while_a_long_page_holds_the_head_of_the_queue(rooms, tmp_path, monkeypatch):
    """Documents finish in input order, but a long page first must not leave the other worker idle: while
    it is read, the quick pages behind it keep being handed out beyond the look-ahead of 2 × workers."""
    from PIL import Image

    from workflow.ingest import Ingest, IngestOptions, _Batch
    from workflow.workers import start_page_workers

    long_page = rescan_of("09-ly-lich-tu-phap.jpg", tmp_path / "qd-rescan.png")
    blanks = []
    for i in range(12):
        blank = Image.new("L", (2480, 3508), 255)
        blank.putpixel((i, 0), 254)
        blanks.append(tmp_path / f"blank-{i}.png")
        blank.save(blanks[-1], dpi=(300, 300))
    submitted_when_head_done = []
    finish = _Batch._finish
    monkeypatch.setattr(_Batch, "_finish",
                        lambda batch, item: submitted_when_head_done.append(len(submitted)) or finish(batch, item))
    with start_page_workers(rooms.settings, 2) as pool:
        submitted = []
        submit = pool.submit
        pool.submit = lambda fn, *args: submitted.append(args) or submit(fn, *args)
        outcomes = list(Ingest(rooms, IngestOptions(workers=2), pool).run([long_page, *blanks]))
    assert outcomes[0].status in {"archived", "needs_review"} and outcomes[0].doc_type.code == "LLTP"
    assert all(o.status == "rejected" for o in outcomes[1:])
    # The look-ahead alone stops at 4 pages (the long one and 3 blanks) until the long page is done.
    assert submitted_when_head_done[0] >= 6, submitted_when_head_done


def _blas_threads(pools: list[dict]) -> set[int]:
    return {pool["num_threads"] for pool in pools if pool["user_api"] == "blas"}


def test_page_workers_are_single_threaded(monkeypatch, settings):
    """Pages are spread over processes: neither Tesseract, OpenCV nor numpy's BLAS may start threads of
    their own in a worker (on 2 cores, 2 workers with a thread per core each would compete for the same
    cores)."""
    import cv2
    from threadpoolctl import threadpool_info

    from workflow.workers import start_page_workers

    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.delenv("OMP_THREAD_LIMIT", raising=False)
    assert cv2.getNumThreads() > 1 or os.cpu_count() == 1  # OpenCV's default, which the workers must not keep
    assert max(_blas_threads(threadpool_info())) > 1 or os.cpu_count() == 1  # and OpenBLAS's
    with start_page_workers(settings, 2) as pool:
        answers = [(pool.submit(cv2.getNumThreads), pool.submit(os.getenv, "OMP_THREAD_LIMIT")) for _ in range(4)]
        assert {(threads.result(), limit.result()) for threads, limit in answers} == {(1, "1")}
        assert _blas_threads(pool.submit(threadpool_info).result()) == {1}


def test_a_worker_that_reached_its_page_limit_is_always_replaced():
    """Workers leave after SOHOA_PAGES_PER_WORKER pages and must be replaced while pages are queued.

    Python 3.11 to 3.13 may not replace them (CPython gh-115634: a stale idle-worker token), and then the
    run waits forever.  Run in a child process with a timeout, so that a regression fails, not hangs."""
    script = ("import os, sys\n"
              "from workflow.settings import load_settings\n"
              "from workflow.workers import start_page_workers\n"
              "if __name__ == '__main__':\n"
              "    pool = start_page_workers(load_settings(), 1)\n"
              "    pids = [f.result(timeout=60) for f in [pool.submit(os.getpid) for _ in range(10)]]\n"
              "    print(len(set(pids)))\n"
              "    pool.shutdown()\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            cwd=Path(__file__).resolve().parents[1],
                            env={**os.environ, "SOHOA_PAGES_PER_WORKER": "2"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout) >= 5  # 11 tasks, counting start_pool's own, at 2 per worker: 6 workers in turn


def test_a_batch_longer_than_a_worker_lifetime_is_processed_whole(tmp_path):
    """`sohoa process` with one worker replaced every 2 pages: every input is archived (no hang, no loss)."""
    from tests.conftest import SAMPLES as SAMPLE_DIR
    from tests.conftest import json_lines, run_cli

    inputs = [SAMPLE_DIR / name for name in ("01-giay-khai-sinh.png", "04-quyet-dinh.tiff", "09-ly-lich-tu-phap.jpg")]
    result = run_cli("process", *map(str, inputs), "--json", "--workers", "1", data_dir=tmp_path / "data",
                     env_extra={"SOHOA_PAGES_PER_WORKER": "2"}, timeout=180)
    outcomes = {Path(o["source"]).name: o for o in json_lines(result.stdout)}
    assert set(outcomes) == {p.name for p in inputs}
    assert all(o["status"] in {"archived", "needs_review"} and o["doc_type"] for o in outcomes.values()), outcomes
    assert outcomes["04-quyet-dinh.tiff"]["pages"] == 2


def test_a_bad_pages_per_worker_setting_is_refused_before_any_work(tmp_path):
    from tests.conftest import SAMPLES as SAMPLE_DIR
    from tests.conftest import run_cli

    result = run_cli("process", str(SAMPLE_DIR / "01-giay-khai-sinh.png"), data_dir=tmp_path / "data", check=False,
                     env_extra={"SOHOA_PAGES_PER_WORKER": "0"})
    assert result.returncode == 2
    message = "SOHOA_PAGES_PER_WORKER must be a whole number of pages, at least 1, not '0'"
    assert message in " ".join(result.stderr.split())


def test_the_main_process_does_not_load_the_imaging_libraries():
    """The process that classifies, signs and archives shares the cores with the page workers: it must not
    spend CPU importing what only the workers use (OpenCV, reportlab, img2pdf, pypdf: 0.25 s a run)."""
    script = ("import sys, cli, workflow.ingest, workflow.review, workflow.maintenance, web.api; "
              "print(sorted(m for m in ('cv2', 'reportlab', 'img2pdf', 'pypdf') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[1]).stdout.strip()
    assert loaded == "[]"


def test_what_the_cli_loads_is_kept_out_of_garbage_collection(tmp_path):
    """The main process's cyclic GC must not rescan the ~200 000 objects of the loaded libraries and rooms
    at every collection (9 % of its CPU on a 27-page run), and runs less often on the young objects."""
    script = ("import gc, cli; cli._rooms(); "
              "print(gc.get_freeze_count(), gc.get_threshold()[0], gc.isenabled())")
    frozen, threshold, enabled = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True,
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "SOHOA_DATA_DIR": str(tmp_path / "data")}).stdout.split()
    assert int(frozen) > 100_000 and int(threshold) >= 10_000 and enabled == "True"


def test_a_second_record_only_when_asked(processed, rooms):
    from tests.conftest import SAMPLES as SAMPLE_DIR
    from workflow.ingest import Ingest, IngestOptions

    first = processed["06-thong-bao.pdf"]
    again = next(Ingest(rooms, IngestOptions(workers=1, allow_duplicate=True)).run([SAMPLE_DIR / "06-thong-bao.pdf"]))
    assert again.status == "archived" and again.code != first.code
    assert rooms.index.results.get(first.code) is not None  # the first record stays


def test_archived_objects_cannot_be_overwritten(processed, rooms):
    outcome = processed["09-ly-lich-tu-phap.jpg"]
    with pytest.raises(ArchiveError, match="cannot be overwritten"):
        rooms.archive.put(outcome.archive_key, b"%PDF-1.7 forged")
    assert verify_pdf(rooms.archive.get(outcome.archive_key), rooms.trust_roots).valid


def test_codes_are_unique(processed):
    codes = [o.code for o in processed.values() if o.code]
    assert len(codes) == len(set(codes)) >= 5


def test_the_library_engine_reads_every_sample_as_the_command_does(tmp_path):
    """SOHOA_OCR_ENGINE=tesserocr: libtesseract in the workers, the model loaded once per worker; every
    sample still gets its type, date and level, and the record says which Tesseract read it."""
    import tesserocr

    from tests.conftest import SAMPLES as SAMPLE_DIR
    from tests.conftest import json_lines, run_cli

    # A `tesseract` command that fails, first on PATH: the pages must not need the command at all.
    shims = tmp_path / "bin"
    shims.mkdir()
    (shims / "tesseract").write_text("#!/bin/sh\necho 'the command was called' >&2\nexit 1\n")
    (shims / "tesseract").chmod(0o755)
    data = tmp_path / "data"
    result = run_cli("process", str(SAMPLE_DIR), "--json", "--workers", "2", data_dir=data,
                     env_extra={"SOHOA_OCR_ENGINE": "tesserocr", "PATH": f"{shims}:{os.environ['PATH']}"})
    outcomes = {Path(o["source"]).name: o for o in json_lines(result.stdout)}
    assert set(outcomes) == set(SPECS)
    for name, spec in SPECS.items():
        outcome = outcomes[name]
        assert outcome["status"] in {"archived", "needs_review"}, (name, outcome["error"])
        assert (outcome["doc_type"]["code"], outcome["fields"]["issued_on"], outcome["level"]) == \
            (spec.doc_type, spec.issued_iso, spec.level), name
    scanned = next(o for o in outcomes.values() if o["status"] == "archived" and o["source"].endswith(".jpg"))
    meta = json.loads(run_cli("fetch", scanned["code"], "--meta", data_dir=data).stdout)
    assert meta["ocr"]["binding"] == "tesserocr"
    assert meta["ocr"]["version"] == tesserocr.tesseract_version().split()[1]


def test_an_unknown_ocr_engine_is_refused_before_any_work(tmp_path):
    from tests.conftest import SAMPLES as SAMPLE_DIR
    from tests.conftest import run_cli

    result = run_cli("process", str(SAMPLE_DIR / "01-giay-khai-sinh.png"), data_dir=tmp_path / "data", check=False,
                     env_extra={"SOHOA_OCR_ENGINE": "abbyy"})
    assert result.returncode == 2
    assert "SOHOA_OCR_ENGINE must be one of tesseract, tesserocr, not 'abbyy'" in " ".join(result.stderr.split())
    assert not (tmp_path / "data" / "archive").exists() or not any((tmp_path / "data" / "archive").iterdir())


@pytest.mark.parametrize("engine", ["tesseract", "tesserocr"])
def test_a_page_that_takes_too_long_is_rejected_and_the_batch_goes_on(tmp_path, engine):
    """SOHOA_PAGE_TIMEOUT stops Tesseract on a page (the command is killed, the library cancelled); the
    document is rejected with the reason and the next input is still read."""
    from tests.conftest import SAMPLES as SAMPLE_DIR
    from tests.conftest import json_lines, run_cli

    slow = SAMPLE_DIR / "01-giay-khai-sinh.png"
    born_digital = SAMPLE_DIR / "06-thong-bao.pdf"  # no OCR: not subject to the timeout
    result = run_cli("process", str(slow), str(born_digital), "--json", "--workers", "1", data_dir=tmp_path / "data",
                     env_extra={"SOHOA_OCR_ENGINE": engine, "SOHOA_PAGE_TIMEOUT": "0.05"})
    outcomes = {Path(o["source"]).name: o for o in json_lines(result.stdout)}
    assert outcomes[slow.name]["status"] == "rejected"
    assert "0.05 s" in outcomes[slow.name]["error"] and "page 1" in outcomes[slow.name]["error"]
    assert outcomes[born_digital.name]["status"] == "archived"
