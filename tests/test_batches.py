"""Counter batches: stacks split by QR cover sheets and by blank pages, and the hot folder."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import img2pdf
import pypdfium2 as pdfium
import pytest
from PIL import Image

from tests.conftest import SAMPLES, SOHOA, json_lines, run_cli


def jpeg(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="JPEG", quality=85, dpi=(300, 300))
    return buf.getvalue()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A scanned stack: cover(KS) + birth certificate, cover(no type) + criminal record, blank, công văn."""
    folder = tmp_path_factory.mktemp("stack")
    data_dir = folder / "data"
    out = run_cli("coversheet", "000.00.00.H26-261124-0101:KS", "000.00.00.H26-261124-0102",
                  "-o", str(folder / "covers.pdf"), data_dir=data_dir).stdout
    assert "2 cover sheets" in out
    pdf = pdfium.PdfDocument(str(folder / "covers.pdf"))
    covers = [pdf[i].render(scale=200 / 72).to_pil().resize((2480, 3508)) for i in range(len(pdf))]
    blank = Image.new("RGB", (2480, 3508), (246, 243, 235))
    ks, lltp, cv = (Image.open(SAMPLES / name) for name in
                    ("01-giay-khai-sinh.png", "09-ly-lich-tu-phap.jpg", "07-cong-van.jpg"))
    pages = [covers[0], ks, covers[1], lltp, blank, cv]
    (folder / "stack.pdf").write_bytes(img2pdf.convert([jpeg(p) for p in pages]))
    return folder, data_dir


def test_stack_split_at_cover_sheets_and_blank_pages(stack):
    folder, data_dir = stack
    rows = json_lines(run_cli("process", str(folder / "stack.pdf"), "--split", "blank", "--json",
                              data_dir=data_dir).stdout)
    assert [r["source"].rsplit("/", 1)[1] for r in rows] == ["stack.pdf#1", "stack.pdf#2", "stack.pdf#3"]
    assert [r["doc_type"]["code"] for r in rows] == ["KS", "LLTP", "CV"]
    assert [r["pages"] for r in rows] == [1, 1, 1]  # cover sheets and the blank page are not archived
    assert [r["dossier_code"] for r in rows] == ["000.00.00.H26-261124-0101", "000.00.00.H26-261124-0102",
                                                 "000.00.00.H26-261124-0102"]
    # Results of one dossier are numbered in the order they are archived: …-KQ1, …-KQ2 (one that waits for
    # review gets its number when a clerk accepts it).
    second = [r["result_alias"] for r in rows[1:] if r["status"] == "archived"]
    assert second and second == [f"000.00.00.H26-261124-0102-KQ{n}" for n in range(1, len(second) + 1)], \
        [(r["status"], r["review_reasons"]) for r in rows]
    assert any("cover sheet: Giấy khai sinh" in e for e in rows[0]["evidence"])
    archived = next(r for r in rows if r["status"] == "archived")
    meta = json.loads(run_cli("fetch", archived["code"], "--meta", data_dir=data_dir).stdout)
    assert meta["pages"] == 1 and len(meta["source_pages"]) == 1
    # the same stack again: every document reported as already archived, none twice
    again = json_lines(run_cli("process", str(folder / "stack.pdf"), "--split", "blank", "--json",
                               data_dir=data_dir).stdout)
    assert [r["code"] for r in again if r["code"]] == [r["code"] for r in rows if r["code"]]


def test_without_split_blank_a_blank_page_stays_inside_the_document(stack, tmp_path):
    folder, _ = stack
    rows = json_lines(run_cli("process", str(folder / "stack.pdf"), "--json", data_dir=tmp_path / "data").stdout)
    assert len(rows) == 2 and rows[1]["pages"] == 3  # criminal record + blank + công văn, one document


def test_invalid_cover_sheet_request_is_refused(tmp_path):
    result = run_cli("coversheet", "not-a-dossier", "-o", str(tmp_path / "c.pdf"), data_dir=tmp_path / "d",
                     check=False)
    assert result.returncode == 2 and "invalid dossier code" in result.stderr
    result = run_cli("coversheet", "000.00.00.H26-261124-0101:NOPE", "-o", str(tmp_path / "c.pdf"),
                     data_dir=tmp_path / "d", check=False)
    assert result.returncode == 2 and "not a type" in result.stderr


def test_hot_folder(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    env = {**os.environ, "SOHOA_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen([str(SOHOA), "watch", str(inbox), "--interval", "0.2", "--settle", "1.5", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        shutil.copy(SAMPLES / "06-thong-bao.pdf", inbox / "06-thong-bao.pdf")
        (inbox / "garbage.pdf").write_bytes(b"not a pdf at all")
        # a file still being written must wait until it stops growing
        data = (SAMPLES / "09-ly-lich-tu-phap.jpg").read_bytes()
        with (inbox / "slow.jpg").open("wb") as fh:
            fh.write(data[: len(data) // 2])
            fh.flush()
            time.sleep(1.0)
            fh.write(data[len(data) // 2:])
        deadline = time.monotonic() + 180
        wanted = [inbox / "done" / "06-thong-bao.pdf", inbox / "done" / "slow.jpg", inbox / "failed" / "garbage.pdf",
                  inbox / "failed" / "garbage.pdf.reason.txt"]
        while time.monotonic() < deadline and not all(p.exists() for p in wanted):
            time.sleep(0.3)
        assert all(p.exists() for p in wanted), [str(p) for p in wanted if not p.exists()]
        assert "unsupported file type" in (inbox / "failed" / "garbage.pdf.reason.txt").read_text()
        assert not [p for p in inbox.iterdir() if p.is_file()]  # nothing left behind
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    outcomes = {Path(o["source"]).name: o for o in json_lines(out)}
    assert outcomes["slow.jpg"]["status"] == "archived"  # processed whole, once
    assert outcomes["garbage.pdf"]["status"] == "rejected"


@pytest.mark.parametrize("dpi", [150, 300])
def test_cover_sheet_read_at_scanner_resolutions(tmp_path, dpi):
    """The QR code is decoded where the quick search found it, at 150 and 300 dpi, after JPEG; a page that
    only looks like it has a code (the birth certificate's seal gives a false detection) is no cover."""
    import cv2
    import numpy as np

    from digitize.cleanup import clean
    from digitize.coversheet import read_cover, write_coversheets
    from digitize.intake import load_page_image
    from digitize.model import CoverSheet

    write_coversheets([CoverSheet("000.00.00.H26-261124-0101", "KS")], tmp_path / "cover.pdf", {"KS": "Khai sinh"})
    rendered = pdfium.PdfDocument(str(tmp_path / "cover.pdf"))[0].render(scale=dpi / 72).to_pil()
    scan = Image.open(io.BytesIO(jpeg(rendered.rotate(1.5, fillcolor="white", expand=True)))).convert("RGB")
    cover = read_cover(clean(np.asarray(scan)).gray)
    assert cover == CoverSheet("000.00.00.H26-261124-0101", "KS")
    with Image.open(SAMPLES / "01-giay-khai-sinh.png") as sample:
        sample.convert("RGB").save(tmp_path / "ks.jpg", quality=92, dpi=(300, 300))
    page = clean(load_page_image(tmp_path / "ks.jpg", "jpeg", 0).pixels).gray
    quarter = cv2.resize(page, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    assert cv2.QRCodeDetector().detect(quarter)[0]  # a false detection on an ordinary page
    assert read_cover(page) is None
