"""Cover sheets that separate dossiers in a scanned stack, and blank-page separators.

A cover sheet carries a QR code ``SOHOA-COVER|1|{dossier code}|{type code or empty}`` and the same in
print.  Pages of a stack are split into documents at each cover sheet (or, when asked, at blank pages);
separator pages are never archived.
"""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np

from digitize.model import COVER_PREFIX, COVER_VERSION, CoverSheet


def read_cover(gray: np.ndarray) -> CoverSheet | None:
    """The cover sheet a page is, if it carries a sohoa QR code; cheap on ordinary pages."""
    detector = cv2.QRCodeDetector()
    quarter = cv2.resize(gray, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    found, points = detector.detect(quarter)
    if not found:
        return None
    # Ordinary pages often give a false detection (seals, table corners).  Decoding where the code was
    # found costs little; detecting again at full size cost 0.15-0.3 s on each such page.  A cover
    # sheet's code is 100 mm wide: a quarter of 150-300 dpi still gives it 4-8 pixels per module.
    text, _ = detector.decode(quarter, points)
    if not text:
        half = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        text, _ = detector.decode(half, points * 2)
    parts = (text or "").split("|")
    if len(parts) != 4 or parts[0] != COVER_PREFIX or parts[1] != COVER_VERSION or not parts[2]:
        return None
    return CoverSheet(parts[2], parts[3] or None)


def is_blank(gray: np.ndarray) -> bool:
    """A page with (almost) no ink: fewer than 0.05 % of pixels clearly darker than the paper."""
    small = cv2.resize(gray, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    paper = float(np.percentile(small, 90))
    return float(np.mean(small < paper - 80)) < 0.0005


def write_coversheets(covers: list[CoverSheet], out: Path, type_names: dict[str, str]) -> None:
    """A PDF with one cover sheet per entry: a large QR code and the same facts in print."""
    import qrcode
    from reportlab.lib.units import mm
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    from digitize.pdf import TEXT_FONT_PATHS

    font = next(p for p in TEXT_FONT_PATHS if p.exists())
    if "SohoaCover" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("SohoaCover", str(font)))
    page = canvas.Canvas(str(out), pagesize=(210 * mm, 297 * mm))
    page.setTitle("sohoa cover sheets")
    for cover in covers:
        image = qrcode.make(cover.payload, box_size=10, border=4).convert("L")
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        page.setFont("SohoaCover", 22)
        page.drawCentredString(105 * mm, 250 * mm, "TỜ BÌA PHÂN TÁCH HỒ SƠ")
        page.drawImage(ImageReader(io.BytesIO(buf.getvalue())), 55 * mm, 120 * mm, 100 * mm, 100 * mm)
        page.setFont("SohoaCover", 16)
        page.drawCentredString(105 * mm, 105 * mm, f"Mã hồ sơ: {cover.dossier_code}")
        if cover.doc_type:
            page.drawCentredString(105 * mm, 95 * mm,
                                   f"Loại giấy tờ: {type_names.get(cover.doc_type, cover.doc_type)} ({cover.doc_type})")
        page.setFont("SohoaCover", 11)
        page.drawCentredString(105 * mm, 60 * mm,
                               "Đặt tờ này trước các trang của hồ sơ khi quét. Tờ bìa không được lưu.")
        page.showPage()
    page.save()
