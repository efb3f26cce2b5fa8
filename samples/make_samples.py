"""Render realistic Vietnamese administrative results (Decree 30/2020 layout) and "scan" them.

Run ``python samples/make_samples.py [OUTDIR]`` to (re)make the committed sample files.  Tests and
benchmarks import ``render_pages``, ``scan`` and ``SAMPLES`` to make their own pages with ground truth.

Layout is built once as drawing operations in millimetres, then drawn either on a raster page (PIL,
for scans) or straight into a PDF (reportlab, for born-digital files), so both carry the same text.
"""

from __future__ import annotations

import io
import math
import random
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from digitize.training import SynthDocument

FONT_DIR = Path("/usr/share/fonts/truetype/freefont")
# FreeSerif carries every Vietnamese letter (Liberation Serif 1.x and Nimbus print empty boxes).
FONTS = {
    "regular": FONT_DIR / "FreeSerif.ttf",
    "bold": FONT_DIR / "FreeSerifBold.ttf",
    "italic": FONT_DIR / "FreeSerifItalic.ttf",
    "bolditalic": FONT_DIR / "FreeSerifBoldItalic.ttf",
}
PAGE_W, PAGE_H = 210.0, 297.0  # A4, mm
LEFT, RIGHT, TOP = 30.0, 190.0, 18.0
PT = 25.4 / 72  # one point in mm
SEAL_RED = (205, 32, 45)
INK_BLUE = (30, 50, 160)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@dataclass
class Text:
    x: float
    y: float  # baseline, mm from top
    text: str
    size: float = 13.0
    style: str = "regular"
    align: str = "left"  # left | center | right
    underline: bool = False


@dataclass
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    width: float = 0.3


@dataclass
class Seal:
    cx: float
    cy: float
    radius: float
    ring_text: str
    center_text: str


@dataclass
class Signature:
    x: float
    y: float
    seed: int


@dataclass
class Handwritten:
    """Digits written into a printed blank by the văn thư: a slanted hand in blue ink."""

    x: float  # left end of the writing, mm
    y: float  # baseline, mm
    text: str
    seed: int


Op = Text | Line | Seal | Signature | Handwritten


@dataclass
class DocSpec(SynthDocument):
    """What a document says (``digitize.training.SynthDocument``) and how to render it."""

    file_name: str = "document.jpg"
    page_break_after: int | None = None  # body line index where page 2 starts
    fmt: str = "jpg"  # png | jpg | tiff | pdf-scan | pdf-text
    skew: float = 0.8
    fill: str = "print"  # print | hand: the number's digits and the day written by hand into printed blanks

    @property
    def issued_iso(self) -> str:
        d, m, y = self.issued_on
        return f"{y:04d}-{m:02d}-{d:02d}"


_font_cache: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}


def font(style: str, px: int) -> ImageFont.FreeTypeFont:
    key = (style, px)
    if key not in _font_cache:
        _font_cache[key] = ImageFont.truetype(str(FONTS[style]), px)
    return _font_cache[key]


def text_width_mm(text: str, size: float, style: str) -> float:
    return font(style, 100).getlength(text) / 100 * size * PT


def wrap(text: str, size: float, style: str, width_mm: float) -> list[str]:
    words, lines, current = text.split(), [], ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if current and text_width_mm(candidate, size, style) > width_mm:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def render_pages(spec: DocSpec) -> list[list[Op]]:
    """Lay out ``spec`` on A4 pages following Decree 30/2020 and return drawing operations per page."""
    left_cx, right_cx = 62.0, 138.0
    ops: list[Op] = []
    y = TOP + 6
    for line in spec.managing_body:
        ops.append(Text(left_cx, y, line, 12.5, "regular", "center"))
        y += 5.6
    for line in spec.issuing_body:
        ops.append(Text(left_cx, y, line, 12.5, "bold", "center"))
        y += 5.6
    ops.append(Line(left_cx - 12, y - 3.6, left_cx + 12, y - 3.6))
    y += 3.5
    if spec.fill == "hand" and spec.fmt != "pdf-text":
        digits, tail = re.match(r"(\d*)(.*)", spec.number).groups()
        blank = "Số:" + " " * (3 * len(digits) + 4) + tail
        start = left_cx - text_width_mm(blank, 13, "regular") / 2
        ops.append(Text(left_cx, y, blank, 13, "regular", "center"))
        ops.append(Handwritten(start + text_width_mm("Số: ", 13, "regular") + 1, y, digits, spec.seed))
    else:
        ops.append(Text(left_cx, y, f"Số: {spec.number}", 13, "regular", "center"))
    left_bottom = y
    if spec.subject:
        for sub in wrap(spec.subject, 12, "regular", 70):
            left_bottom += 5.2
            ops.append(Text(left_cx, left_bottom, sub, 12, "regular", "center"))
    ry = TOP + 6
    ops.append(Text(right_cx, ry, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 12.5, "bold", "center"))
    ry += 5.8
    ops.append(Text(right_cx, ry, "Độc lập - Tự do - Hạnh phúc", 13, "bold", "center", underline=True))
    ry += 10
    if spec.fill == "hand" and spec.fmt != "pdf-text":
        head, day, rest = re.match(r"(.*ngày )(\d+)( .*)", spec.date_line).groups()
        blank = head + " " * 7 + rest.lstrip()
        start = right_cx + 8 - text_width_mm(blank, 13, "italic") / 2
        ops.append(Text(right_cx + 8, ry, blank, 13, "italic", "center"))
        ops.append(Handwritten(start + text_width_mm(head, 13, "italic") + 1, ry, day, spec.seed + 1))
    else:
        ops.append(Text(right_cx + 8, ry, spec.date_line, 13, "italic", "center"))
    y = max(left_bottom, ry) + 16
    if spec.title:
        ops.append(Text(PAGE_W / 2 + 5, y, spec.title, 14, "bold", "center"))
        y += 7
    for sub in spec.subtitle:
        ops.append(Text(PAGE_W / 2 + 5, y, sub, 14, "bold", "center"))
        y += 6.5
    if spec.recipient:
        y += 4
        ops.append(Text(PAGE_W / 2 + 5, y, f"Kính gửi: {spec.recipient}", 14, "regular", "center"))
        y += 6
    y += 6
    pages: list[list[Op]] = [ops]
    for index, para in enumerate(spec.body):
        if spec.page_break_after is not None and index == spec.page_break_after:
            ops = []
            pages.append(ops)
            y = TOP + 10
        for k, line in enumerate(wrap(para, 14, "regular", RIGHT - LEFT - (10 if para[:1] != " " else 0))):
            indent = 10 if k == 0 else 0
            ops.append(Text(LEFT + indent, y, line, 14, "regular"))
            y += 7.2
    y += 8
    sx = 140.0
    for line in spec.signer_block:
        ops.append(Text(sx, y, line, 13, "bold", "center"))
        y += 5.8
    ops.append(Signature(sx - 18, y + 12, spec.seed))
    ring = " ".join(spec.issuing_body).upper()
    ops.append(Seal(sx - 14, y + 11, 18, ring, "★"))
    y += 32
    ops.append(Text(sx, y, spec.signer_name, 13, "bold", "center"))
    ops.append(Text(LEFT, y + 8, "Nơi nhận:", 12, "bolditalic"))
    ops.append(Text(LEFT, y + 13, "- Như trên;", 11, "regular"))
    ops.append(Text(LEFT, y + 17.5, "- Lưu: VT.", 11, "regular"))
    return pages


# ---------------------------------------------------------------- raster backend

def draw_raster(page_ops: list[Op], dpi: int = 300) -> Image.Image:
    """Draw one page's operations on a white RGB page at ``dpi``."""
    s = dpi / 25.4
    img = Image.new("RGB", (round(PAGE_W * s), round(PAGE_H * s)), "white")
    draw = ImageDraw.Draw(img)
    overlays = []
    for op in page_ops:
        if isinstance(op, Text):
            f = font(op.style, round(op.size * PT * s))
            anchor = {"left": "ls", "center": "ms", "right": "rs"}[op.align]
            draw.text((op.x * s, op.y * s), nfc(op.text), font=f, fill="black", anchor=anchor)
            if op.underline:
                w = f.getlength(nfc(op.text))
                x0 = op.x * s - (w / 2 if op.align == "center" else 0)
                draw.line([(x0, op.y * s + 0.8 * s), (x0 + w, op.y * s + 0.8 * s)], fill="black", width=3)
        elif isinstance(op, Line):
            draw.line([(op.x1 * s, op.y1 * s), (op.x2 * s, op.y2 * s)], fill="black",
                      width=max(1, round(op.width * s)))
        else:
            overlays.append(op)
    for op in overlays:
        if isinstance(op, Signature):
            _draw_signature(draw, op, s)
        elif isinstance(op, Handwritten):
            _handwrite(img, op, s)
    for op in overlays:
        if isinstance(op, Seal):
            _stamp_seal(img, op, s)
    return img


def _handwrite(img: Image.Image, op: Handwritten, s: float) -> None:
    """Each digit slanted and shifted a little, as a pen writes them, in blue ink."""
    rnd = random.Random(op.seed)
    size = round(rnd.uniform(4.6, 5.6) * s)
    face = ImageFont.truetype(str(FONT_DIR / rnd.choice(["FreeSerifItalic.ttf", "FreeSansOblique.ttf"])), size)
    x = op.x * s
    for ch in op.text:
        glyph = Image.new("RGBA", (size * 2, size * 2), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((size // 2, round(size * 1.4)), ch, font=face, fill=(*INK_BLUE, 255), anchor="ls",
                                   stroke_width=1, stroke_fill=(*INK_BLUE, 255))
        glyph = glyph.rotate(rnd.uniform(-6, 6), resample=Image.BICUBIC)
        img.paste(glyph, (round(x - size // 2), round(op.y * s - size * 1.4 + rnd.uniform(-0.4, 0.4) * s)), glyph)
        x += face.getlength(ch) * rnd.uniform(0.95, 1.1)


def _signature_points(op: Signature) -> list[tuple[float, float]]:
    rnd = random.Random(op.seed)
    pts = []
    for i in range(40):
        t = i / 39
        pts.append((op.x + 36 * t, op.y + 4 * math.sin(t * 9 + rnd.random()) - 3 * t + rnd.uniform(-1, 1)))
    return pts


def _draw_signature(draw: ImageDraw.ImageDraw, op: Signature, s: float) -> None:
    draw.line([(x * s, y * s) for x, y in _signature_points(op)], fill=INK_BLUE, width=max(2, round(0.5 * s)))


def _stamp_seal(img: Image.Image, op: Seal, s: float) -> None:
    size = round(op.radius * 2 * s) + 8
    seal = Image.new("L", (size, size), 0)
    d = ImageDraw.Draw(seal)
    c = size / 2
    r = op.radius * s
    d.ellipse([c - r, c - r, c + r, c + r], outline=255, width=max(3, round(0.7 * s)))
    r2 = r * 0.68
    d.ellipse([c - r2, c - r2, c + r2, c + r2], outline=255, width=max(2, round(0.4 * s)))
    f = font("bold", round(2.6 * s))
    text = op.ring_text
    step = 2 * math.pi / max(len(text) + 4, 20)
    for i, ch in enumerate(text):
        angle = -math.pi / 2 - (len(text) - 1) * step / 2 + i * step + math.pi
        glyph = Image.new("L", (round(4 * s), round(4 * s)), 0)
        ImageDraw.Draw(glyph).text((glyph.width / 2, glyph.height / 2), ch, font=f, fill=255, anchor="mm")
        glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.BICUBIC)
        gx = c + (r * 0.84) * math.cos(angle) - glyph.width / 2
        gy = c + (r * 0.84) * math.sin(angle) - glyph.height / 2
        seal.paste(255, (round(gx), round(gy)), glyph)
    d.text((c, c), op.center_text, font=font("bold", round(8 * s)), fill=255, anchor="mm")
    # Ink multiplies with what is under it: black text under the seal stays black, paper turns red.
    box = (round(op.cx * s - c), round(op.cy * s - c))
    region = img.crop((*box, box[0] + size, box[1] + size))
    alpha = np.asarray(seal, dtype=np.float32)[..., None] / 255 * 0.85
    tint = 1 - alpha * (1 - np.array(SEAL_RED, dtype=np.float32) / 255)
    img.paste(Image.fromarray((np.asarray(region, dtype=np.float32) * tint).clip(0, 255).astype("uint8")), box)


# ---------------------------------------------------------------- PDF backend

def write_text_pdf(pages: list[list[Op]], out) -> None:
    """Write the pages as a born-digital PDF with real (selectable) text."""
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    for style, path in FONTS.items():
        name = f"FreeSerif-{style}"
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, str(path)))
    c = canvas.Canvas(out, pagesize=(PAGE_W * mm, PAGE_H * mm))
    c.setTitle("sohoa sample")
    for page_ops in pages:
        for op in page_ops:
            if isinstance(op, Text):
                c.setFont(f"FreeSerif-{op.style}", op.size)
                c.setFillColorRGB(0, 0, 0)
                x, y = op.x * mm, (PAGE_H - op.y) * mm
                t = nfc(op.text)
                {"left": c.drawString, "center": c.drawCentredString, "right": c.drawRightString}[op.align](x, y, t)
            elif isinstance(op, Line):
                c.setLineWidth(op.width * mm)
                c.line(op.x1 * mm, (PAGE_H - op.y1) * mm, op.x2 * mm, (PAGE_H - op.y2) * mm)
            elif isinstance(op, Signature):
                c.setStrokeColorRGB(*(v / 255 for v in INK_BLUE))
                pts = _signature_points(op)
                path = c.beginPath()
                path.moveTo(pts[0][0] * mm, (PAGE_H - pts[0][1]) * mm)
                for px, py in pts[1:]:
                    path.lineTo(px * mm, (PAGE_H - py) * mm)
                c.drawPath(path)
                c.setStrokeColorRGB(0, 0, 0)
            elif isinstance(op, Seal):
                c.setStrokeColorRGB(*(v / 255 for v in SEAL_RED))
                c.setLineWidth(0.7 * mm)
                c.circle(op.cx * mm, (PAGE_H - op.cy) * mm, op.radius * mm)
                c.circle(op.cx * mm, (PAGE_H - op.cy) * mm, op.radius * 0.68 * mm)
                c.setStrokeColorRGB(0, 0, 0)
        c.showPage()
    c.save()


# ---------------------------------------------------------------- scanning

def scan(img: Image.Image, skew: float = 0.8, noise: float = 6.0, blur: float = 0.6, seed: int = 0,
         paper: tuple[int, int, int] = (246, 243, 235)) -> Image.Image:
    """Imitate a flatbed scan: tinted paper, slight skew, blur and sensor noise."""
    import numpy as np

    rnd = np.random.default_rng(seed)
    arr = np.asarray(img, dtype=np.float32)
    tint = np.array(paper, dtype=np.float32) / 255.0
    arr = arr * tint
    out = Image.fromarray(arr.clip(0, 255).astype("uint8"))
    out = out.rotate(skew, resample=Image.BICUBIC, expand=False, fillcolor=paper)
    if blur:
        out = out.filter(ImageFilter.GaussianBlur(blur))
    if noise:
        arr = np.asarray(out, dtype=np.float32)
        arr += rnd.normal(0, noise, arr.shape[:2])[..., None]
        out = Image.fromarray(arr.clip(0, 255).astype("uint8"))
    return out


def scanned_pdf(pages: list[Image.Image], dpi: int, quality: int) -> bytes:
    """A scanner's PDF: each page a JPEG, embedded as it is (img2pdf)."""
    import img2pdf

    jpegs = []
    for page in pages:
        buf = io.BytesIO()
        page.save(buf, format="JPEG", quality=quality, dpi=(dpi, dpi))
        jpegs.append(buf.getvalue())
    return img2pdf.convert(jpegs)


def save_sample(spec: DocSpec, out_dir: Path, dpi: int = 300) -> Path:
    """Render ``spec`` and write it in its file format into ``out_dir``; return the path."""

    pages = render_pages(spec)
    path = out_dir / spec.file_name
    if spec.fmt == "pdf-text":
        write_text_pdf(pages, str(path))
        return path
    scans = [scan(draw_raster(p, dpi), skew=spec.skew, seed=spec.seed + i,
                  noise=0 if spec.fmt in {"png", "tiff"} else 6.0) for i, p in enumerate(pages)]
    if spec.fmt == "png":
        img = scans[0].quantize(colors=32, method=Image.Quantize.MEDIANCUT)
        img.save(path, dpi=(dpi, dpi), optimize=True)
    elif spec.fmt == "jpg":
        scans[0].save(path, quality=80, dpi=(dpi, dpi))
    elif spec.fmt == "tiff":
        # Archival bilevel scans: CCITT Group 4, one frame per page.
        bilevel = [im.convert("L").point(lambda v: 255 if v > 150 else 0).convert("1") for im in scans]
        bilevel[0].save(path, save_all=True, append_images=bilevel[1:], compression="group4",
                        dpi=(dpi, dpi))
    elif spec.fmt == "pdf-scan":
        path.write_bytes(scanned_pdf(scans, dpi, quality=80))
    else:
        raise ValueError(f"unknown sample format {spec.fmt}")
    return path


HOAI_DUC = ["ỦY BAN NHÂN DÂN", "HUYỆN HOÀI ĐỨC"]
HA_NOI = ["ỦY BAN NHÂN DÂN", "THÀNH PHỐ HÀ NỘI"]

SAMPLES: list[DocSpec] = [
    DocSpec(
        file_name="01-giay-khai-sinh.png", doc_type="KS", title="GIẤY KHAI SINH", fmt="png", level="commune",
        managing_body=[], issuing_body=["ỦY BAN NHÂN DÂN", "XÃ AN KHÁNH"], number="125/2020",
        place="An Khánh", issued_on=(8, 4, 2020), holder="NGUYỄN MINH ANH", skew=1.2, seed=11,
        body=[
            "Họ, chữ đệm, tên: NGUYỄN MINH ANH",
            "Ngày, tháng, năm sinh: 02/04/2020, ghi bằng chữ: Ngày hai, tháng tư, năm hai nghìn không trăm hai mươi",
            "Giới tính: Nữ. Dân tộc: Kinh. Quốc tịch: Việt Nam",
            "Nơi sinh: Bệnh viện Phụ sản Hà Nội, thành phố Hà Nội",
            "Quê quán: xã An Khánh, huyện Hoài Đức, thành phố Hà Nội",
            "Số định danh cá nhân: 001320012345",
            "Họ, chữ đệm, tên người mẹ: TRẦN THỊ LAN",
            "Họ, chữ đệm, tên người cha: NGUYỄN VĂN HÙNG",
            "Nơi đăng ký khai sinh: Ủy ban nhân dân xã An Khánh, huyện Hoài Đức",
        ],
        signer_block=["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"], signer_name="Phạm Văn Đức",
    ),
    DocSpec(
        file_name="02-giay-chung-nhan-ket-hon.jpg", doc_type="KH", title="GIẤY CHỨNG NHẬN KẾT HÔN",
        level="commune", managing_body=[], issuing_body=["ỦY BAN NHÂN DÂN", "PHƯỜNG TRÚC BẠCH"],
        number="48/2021", place="Ba Đình", issued_on=(19, 11, 2021), holder="LÊ QUANG HUY", skew=-1.5, seed=12,
        body=[
            "Họ, chữ đệm, tên: LÊ QUANG HUY",
            "Ngày, tháng, năm sinh: 14/07/1994. Dân tộc: Kinh. Quốc tịch: Việt Nam",
            "Nơi cư trú: phường Trúc Bạch, quận Ba Đình, thành phố Hà Nội",
            "Số định danh cá nhân: 001094008812",
            "Họ, chữ đệm, tên người vợ: ĐỖ THU HƯƠNG",
            "Ngày, tháng, năm sinh: 03/02/1996. Dân tộc: Kinh. Quốc tịch: Việt Nam",
            "Đăng ký kết hôn tại Ủy ban nhân dân phường Trúc Bạch, quận Ba Đình.",
        ],
        signer_block=["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"], signer_name="Vũ Thị Ngọc",
    ),
    DocSpec(
        file_name="03-ho-kinh-doanh.jpg", doc_type="HKD", title="GIẤY CHỨNG NHẬN ĐĂNG KÝ HỘ KINH DOANH",
        level="district", managing_body=["UBND HUYỆN HOÀI ĐỨC"], issuing_body=["PHÒNG TÀI CHÍNH - KẾ HOẠCH"],
        number="2345/GCN-TCKH", place="Hoài Đức", issued_on=(15, 3, 2021), holder="TẠP HÓA BÌNH MINH",
        skew=0.7, seed=13,
        body=[
            "Mã số hộ kinh doanh: 01H8012345",
            "Đăng ký lần đầu: ngày 15 tháng 3 năm 2021",
            "Tên hộ kinh doanh: TẠP HÓA BÌNH MINH",
            "Địa điểm kinh doanh: thôn Yên Lũng, xã An Khánh, huyện Hoài Đức, thành phố Hà Nội",
            "Ngành, nghề kinh doanh: Bán lẻ lương thực, thực phẩm, đồ uống trong cửa hàng",
            "Vốn kinh doanh: 200.000.000 đồng (Hai trăm triệu đồng)",
            "Chủ hộ kinh doanh: Hoàng Văn Bình. Số định danh cá nhân: 001085004321",
        ],
        signer_block=["TRƯỞNG PHÒNG"], signer_name="Đặng Minh Tuấn",
    ),
    DocSpec(
        file_name="04-quyet-dinh.tiff", doc_type="QD", title="QUYẾT ĐỊNH", fmt="tiff", level="province",
        subtitle=["Về việc phê duyệt Kế hoạch số hóa hồ sơ, kết quả", "giải quyết thủ tục hành chính năm 2023"],
        managing_body=[], issuing_body=HA_NOI, number="1234/QĐ-UBND", place="Hà Nội", issued_on=(5, 4, 2023),
        holder=None, skew=-0.6, seed=14, page_break_after=5,
        body=[
            "CHỦ TỊCH ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI",
            "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
            "Căn cứ Nghị định số 61/2018/NĐ-CP ngày 23 tháng 4 năm 2018 của Chính phủ về thực hiện cơ chế "
            "một cửa, một cửa liên thông trong giải quyết thủ tục hành chính;",
            "Căn cứ Quyết định số 468/QĐ-TTg ngày 27 tháng 3 năm 2021 của Thủ tướng Chính phủ;",
            "Theo đề nghị của Chánh Văn phòng Ủy ban nhân dân Thành phố.",
            "Điều 1. Phê duyệt Kế hoạch số hóa hồ sơ, kết quả giải quyết thủ tục hành chính năm 2023 "
            "của thành phố Hà Nội kèm theo Quyết định này.",
            "Điều 2. Quyết định này có hiệu lực kể từ ngày ký.",
            "Điều 3. Chánh Văn phòng Ủy ban nhân dân Thành phố, Giám đốc các Sở, Chủ tịch Ủy ban nhân dân "
            "các quận, huyện, thị xã chịu trách nhiệm thi hành Quyết định này.",
        ],
        signer_block=["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"], signer_name="Nguyễn Trọng Đông",
    ),
    DocSpec(
        file_name="05-giay-phep-xay-dung.pdf", doc_type="GPXD", title="GIẤY PHÉP XÂY DỰNG", fmt="pdf-scan",
        level="district", managing_body=[], issuing_body=HOAI_DUC, number="215/GPXD", place="Hoài Đức",
        issued_on=(22, 9, 2022), holder="NGUYỄN VĂN BÌNH", skew=1.8, seed=15,
        subtitle=["Sử dụng cho nhà ở riêng lẻ"],
        body=[
            "Cấp cho: NGUYỄN VĂN BÌNH",
            "Địa chỉ: số 12 thôn Lai Xá, xã Kim Chung, huyện Hoài Đức, thành phố Hà Nội",
            "Được phép xây dựng công trình: Nhà ở riêng lẻ",
            "Theo thiết kế: do Công ty Cổ phần Tư vấn Xây dựng Hoài Đức lập",
            "Gồm các nội dung sau: vị trí xây dựng thửa đất số 125, tờ bản đồ số 7; cốt nền xây dựng "
            "+0,45 m; mật độ xây dựng 80%; chiều cao công trình 14,5 m; số tầng: 4 tầng",
            "Giấy phép này có hiệu lực khởi công xây dựng trong thời hạn 12 tháng kể từ ngày cấp.",
        ],
        signer_block=["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"], signer_name="Lê Văn Thành",
    ),
    DocSpec(
        file_name="06-thong-bao.pdf", doc_type="TB", title="THÔNG BÁO", fmt="pdf-text", level="province",
        subtitle=["Về việc tiếp nhận hồ sơ trực tuyến toàn trình"],
        managing_body=["UBND THÀNH PHỐ HÀ NỘI"], issuing_body=["SỞ TƯ PHÁP"], number="89/TB-STP",
        place="Hà Nội", issued_on=(12, 6, 2024), holder=None, seed=16,
        body=[
            "Thực hiện Quyết định số 468/QĐ-TTg ngày 27 tháng 3 năm 2021 của Thủ tướng Chính phủ, Sở Tư "
            "pháp thông báo tiếp nhận hồ sơ trực tuyến toàn trình đối với thủ tục cấp Phiếu lý lịch tư pháp.",
            "Tổ chức, cá nhân nộp hồ sơ qua Cổng Dịch vụ công quốc gia; kết quả được số hóa và ký số.",
            "Sở Tư pháp thông báo để các tổ chức, cá nhân biết và thực hiện.",
        ],
        signer_block=["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"], signer_name="Trần Thị Mai",
    ),
    DocSpec(
        file_name="07-cong-van.jpg", doc_type="CV", title=None, level="district", managing_body=[],
        issuing_body=HOAI_DUC, number="507/UBND-KGVX", place="Hoài Đức", issued_on=(3, 8, 2022),
        subject="V/v đẩy mạnh số hóa hồ sơ, kết quả giải quyết thủ tục hành chính",
        recipient="Ủy ban nhân dân các xã, thị trấn", holder=None, skew=-1.0, seed=17,
        body=[
            "Thực hiện Kế hoạch số 86/KH-UBND ngày 28 tháng 7 năm 2021 của Ủy ban nhân dân Thành phố, Ủy "
            "ban nhân dân huyện đề nghị Ủy ban nhân dân các xã, thị trấn đẩy mạnh số hóa kết quả giải quyết "
            "thủ tục hành chính còn hiệu lực.",
            "Tỷ lệ số hóa kết quả giải quyết thủ tục hành chính cấp xã phải đạt tối thiểu 15%.",
            "Đề nghị các đơn vị báo cáo kết quả thực hiện trước ngày 30 tháng 9 năm 2022.",
        ],
        signer_block=["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"], signer_name="Nguyễn Hữu Phước",
    ),
    DocSpec(
        file_name="08-dang-ky-doanh-nghiep.png", doc_type="DKDN", title="GIẤY CHỨNG NHẬN ĐĂNG KÝ DOANH NGHIỆP",
        fmt="png", level="province", subtitle=["CÔNG TY TRÁCH NHIỆM HỮU HẠN MỘT THÀNH VIÊN"],
        managing_body=["SỞ KẾ HOẠCH VÀ ĐẦU TƯ", "THÀNH PHỐ HÀ NỘI"], issuing_body=["PHÒNG ĐĂNG KÝ KINH DOANH"],
        number="0109876543", place="Hà Nội", issued_on=(2, 10, 2019),
        holder="CÔNG TY TNHH MỘT THÀNH VIÊN SỐ HÓA AN KHÁNH", skew=0.4, seed=18,
        body=[
            "Mã số doanh nghiệp: 0109876543",
            "Đăng ký lần đầu: ngày 02 tháng 10 năm 2019",
            "Tên công ty viết bằng tiếng Việt: CÔNG TY TNHH MỘT THÀNH VIÊN SỐ HÓA AN KHÁNH",
            "Địa chỉ trụ sở chính: thôn Yên Lũng, xã An Khánh, huyện Hoài Đức, thành phố Hà Nội",
            "Vốn điều lệ: 1.500.000.000 đồng",
            "Người đại diện theo pháp luật: Phan Quốc Việt. Chức danh: Giám đốc",
        ],
        signer_block=["TRƯỞNG PHÒNG"], signer_name="Bùi Thanh Sơn",
    ),
    DocSpec(
        file_name="09-ly-lich-tu-phap.jpg", doc_type="LLTP", title="PHIẾU LÝ LỊCH TƯ PHÁP SỐ 1",
        level="province", managing_body=["UBND THÀNH PHỐ HÀ NỘI"], issuing_body=["SỞ TƯ PHÁP"],
        number="1520/STP-LLTP", place="Hà Nội", issued_on=(27, 12, 2023), holder="LÊ THỊ HOA", skew=2.0,
        seed=19,
        body=[
            "Họ và tên: LÊ THỊ HOA. Giới tính: Nữ",
            "Ngày, tháng, năm sinh: 21/05/1990. Nơi sinh: Nghệ An",
            "Quốc tịch: Việt Nam. Số định danh cá nhân: 040190006789",
            "Nơi cư trú: số 5 phố Hàng Bài, phường Hàng Bài, quận Hoàn Kiếm, thành phố Hà Nội",
            "Án tích: Không có án tích.",
            "Thông tin về việc cấm đảm nhiệm chức vụ, thành lập, quản lý doanh nghiệp: Không bị cấm.",
        ],
        signer_block=["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"], signer_name="Trần Thị Mai",
    ),
]


def main(out_dir: str | None = None) -> None:
    target = Path(out_dir) if out_dir else Path(__file__).parent
    target.mkdir(parents=True, exist_ok=True)
    for spec in SAMPLES:
        path = save_sample(spec, target)
        print(f"{path}  {path.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
