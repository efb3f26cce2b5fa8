"""Clean-up and OCR on degraded pages: orientation, skew, borders, resolution, seals, searchable output."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import unicodedata

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from digitize.cleanup import clean, find_paper
from digitize.ocr import read_words
from tests.conftest import SAMPLES, json_lines, run_cli

PAGE = SAMPLES / "02-giay-chung-nhan-ket-hon.jpg"  # 300 dpi scan, skewed, red seal, blue signature
FREESERIF_BOLD = "/usr/share/fonts/truetype/freefont/FreeSerifBold.ttf"


@pytest.fixture(scope="module")
def page_rgb() -> np.ndarray:
    return np.asarray(Image.open(PAGE).convert("RGB"))


def ocr_text(rgb: np.ndarray, dpi: float = 300) -> str:
    cleaned = clean(rgb)
    return " ".join(w.text for w in read_words(cleaned.gray, dpi * cleaned.scale))


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_every_orientation_is_turned_upright(page_rgb, turns):
    rotated = np.ascontiguousarray(np.rot90(page_rgb, turns))
    cleaned = clean(rotated)
    assert (cleaned.quarter_turns + turns) % 4 == 0
    assert cleaned.gray.shape[0] > cleaned.gray.shape[1]  # portrait again
    if turns == 2:  # one OCR check is enough to show the turned image is what Tesseract reads
        assert "GIẤY CHỨNG NHẬN KẾT HÔN" in " ".join(w.text for w in read_words(cleaned.gray, 300))


def test_a_multipage_tiff_with_some_pages_turned_is_read_page_by_page(tmp_path):
    upright = Image.open(SAMPLES / "09-ly-lich-tu-phap.jpg")
    pages = [upright, upright.rotate(90, expand=True), upright.rotate(180, expand=True)]
    path = tmp_path / "in" / "mixed.tiff"
    path.parent.mkdir()
    pages[0].save(path, save_all=True, append_images=pages[1:], compression="tiff_lzw", dpi=(300, 300))
    data_dir = tmp_path / "data"
    row = json_lines(run_cli("process", str(path.parent), "--json", data_dir=data_dir).stdout)[0]
    assert row["status"] == "archived", row
    assert row["text"].count("PHIẾU LÝ LỊCH TƯ PHÁP") == 3
    assert json.loads(run_cli("verify", row["code"], "--json", data_dir=data_dir).stdout)["valid"]
    pdf = tmp_path / "out.pdf"
    run_cli("fetch", row["code"], "-o", str(pdf), data_dir=data_dir)
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "3", str(pdf)], capture_output=True, text=True).stdout
    assert [line.split()[-1] for line in info.splitlines() if "rot:" in line] == ["0", "90", "180"]
    # Each turned page shows upright and its invisible text is found and extracted in order.
    for number in (2, 3):
        text = subprocess.run(["pdftotext", "-f", str(number), "-l", str(number), str(pdf), "-"],
                              capture_output=True, text=True, check=True).stdout
        assert "PHIẾU LÝ LỊCH TƯ PHÁP" in text


@pytest.mark.parametrize("angle", [-9.0, 6.5])
def test_skew_up_to_ten_degrees_is_recovered(page_rgb, angle):
    scanned_at = clean(page_rgb).skew_degrees  # the sample itself is scanned slightly off
    img = Image.fromarray(page_rgb).rotate(angle, resample=Image.BICUBIC, fillcolor=(246, 243, 235))
    cleaned = clean(np.asarray(img))
    assert abs(cleaned.skew_degrees - (angle + scanned_at)) < 0.4


def test_dark_scanner_border_is_cropped(page_rgb):
    h, w, _ = page_rgb.shape
    framed = np.full((h + 300, w + 240, 3), 20, np.uint8)
    framed[150:150 + h, 120:120 + w] = page_rgb
    box = find_paper(framed[..., 0])
    assert box is not None
    x0, y0, x1, y1 = box
    assert abs(x0 - 120) < 12 and abs(y0 - 150) < 12 and abs(x1 - (120 + w)) < 12 and abs(y1 - (150 + h)) < 12
    assert find_paper(page_rgb[..., 0]) is None  # a plain scan is left alone
    assert "dark scanner border cropped" in clean(framed).steps


def test_low_resolution_scans_are_upsampled_for_tesseract(page_rgb):
    small = np.asarray(Image.fromarray(page_rgb).resize((page_rgb.shape[1] // 2, page_rgb.shape[0] // 2)))
    cleaned = clean(small)  # a 150 dpi scan
    assert 1.5 < cleaned.scale < 2.5 and any(s.startswith("scaled") for s in cleaned.steps)
    assert "GIẤY CHỨNG NHẬN KẾT HÔN" in " ".join(w.text for w in read_words(cleaned.gray, 150 * cleaned.scale))
    assert clean(page_rgb).scale == 1.0  # a 300 dpi scan is not resampled


def _text_under_seal() -> np.ndarray:
    img = Image.new("RGB", (1400, 700), (246, 243, 235))
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FREESERIF_BOLD, 70)
    draw.text((200, 250), "CHỦ TỊCH", font=font, fill="black")
    draw.text((200, 380), "Nguyễn Văn Hùng", font=font, fill="black")
    seal = Image.new("L", img.size, 0)
    ImageDraw.Draw(seal).ellipse([150, 120, 750, 620], outline=255, width=28)
    ImageDraw.Draw(seal).ellipse([260, 230, 640, 510], fill=255)
    arr = np.asarray(img, np.float32)
    alpha = np.asarray(seal, np.float32)[..., None] / 255 * 0.85
    red = np.array([205, 32, 45], np.float32) / 255
    return (arr * (1 - alpha * (1 - red))).clip(0, 255).astype(np.uint8)  # ink multiplies


def test_text_under_a_red_seal_comes_back():
    rgb = _text_under_seal()
    gray = np.asarray(Image.fromarray(rgb).convert("L"))
    bare = " ".join(w.text for w in read_words(gray, 300))  # what Tesseract sees without the clean-up
    ours = ocr_text(rgb)
    assert "Nguyễn Văn Hùng" in ours and "CHỦ TỊCH" in ours
    assert "Nguyễn Văn Hùng" not in bare or "CHỦ TỊCH" not in bare


def test_output_text_is_nfc_and_searchable_in_the_archived_pdf(processed, rooms, tmp_path):
    outcome = processed["09-ly-lich-tu-phap.jpg"]
    assert outcome.text == unicodedata.normalize("NFC", outcome.text)
    pdf = tmp_path / "kh.pdf"
    pdf.write_bytes(rooms.archive.get(outcome.archive_key))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "PHIẾU LÝ LỊCH TƯ PHÁP" in text and "LÊ THỊ HOA" in text
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert fonts and all(" yes " in line for line in fonts), fonts  # every font embedded (PDF/A)
    xmp = subprocess.run(["pdfinfo", "-meta", str(pdf)], capture_output=True, text=True, check=True).stdout
    # (pyHanko rewrites the XMP when it signs, keeping our entries in attribute form)
    assert re.search(r'pdfaid:part(="2"|>2<)', xmp) and re.search(r'pdfaid:conformance(="B"|>B<)', xmp), xmp
    from pypdf import PdfReader

    intent = PdfReader(str(pdf)).trailer["/Root"]["/OutputIntents"][0]
    assert intent["/S"] == "/GTS_PDFA1" and len(intent["/DestOutputProfile"].get_object().get_data()) > 400


def test_rotated_and_bordered_scan_goes_through_the_pipeline(tmp_path):
    page = np.asarray(Image.open(SAMPLES / "09-ly-lich-tu-phap.jpg").convert("RGB"))
    h, w, _ = page.shape
    framed = np.full((h + 200, w + 200, 3), 15, np.uint8)
    framed[100:100 + h, 100:100 + w] = page
    inbox = tmp_path / "in"
    inbox.mkdir()
    Image.fromarray(np.rot90(framed, 3)).save(inbox / "sideways.jpg", quality=90, dpi=(300, 300))
    shutil.copy(SAMPLES / "07-cong-van.jpg", inbox)
    data_dir = tmp_path / "data"
    rows = {r["source"].rsplit("/", 1)[1]: r for r in json_lines(
        run_cli("process", str(inbox), "--json", data_dir=data_dir).stdout)}
    row = rows["sideways.jpg"]
    assert row["status"] == "archived" and row["doc_type"]["code"] == "LLTP", json.dumps(row, ensure_ascii=False)
    assert row["fields"]["issued_on"] == "2023-12-27" and row["fields"]["holder"] == "LÊ THỊ HOA"
    assert rows["07-cong-van.jpg"]["status"] == "archived"


def test_a_mixed_pdf_is_decided_page_by_page(tmp_path):
    import img2pdf
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(img2pdf.convert(str(SAMPLES / "09-ly-lich-tu-phap.jpg")))))  # a scan
    writer.append(PdfReader(str(SAMPLES / "06-thong-bao.pdf")))  # a page with real text
    inbox = tmp_path / "in"
    inbox.mkdir()
    with (inbox / "mixed.pdf").open("wb") as fh:
        writer.write(fh)
    data_dir = tmp_path / "data"
    row = json_lines(run_cli("process", str(inbox), "--json", data_dir=data_dir).stdout)[0]
    assert row["status"] == "archived" and row["doc_type"]["code"] == "LLTP" and row["pages"] == 2, row
    original_text = subprocess.run(["pdftotext", str(SAMPLES / "06-thong-bao.pdf"), "-"], capture_output=True,
                                   text=True, check=True).stdout
    assert "PHIẾU LÝ LỊCH TƯ PHÁP" in row["text"]  # OCR of page 1
    assert "Về việc tiếp nhận hồ sơ trực tuyến toàn trình" in row["text"]  # page 2: its own text, no OCR
    pdf = tmp_path / "out.pdf"
    run_cli("fetch", row["code"], "-o", str(pdf), data_dir=data_dir)
    page2 = subprocess.run(["pdftotext", "-f", "2", "-l", "2", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout
    assert page2.split() == original_text.split()  # the born-digital page is kept as it was, not rasterized
    fonts = subprocess.run(["pdffonts", "-f", "2", "-l", "2", str(pdf)], capture_output=True, text=True).stdout
    assert "FreeSerifBold" in fonts
