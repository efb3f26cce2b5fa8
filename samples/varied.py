"""A second, independent document generator: other layouts, wordings, fonts and hands than ``make_samples``.

sohoa's rules and thresholds are tuned on ``samples.synth`` (generator A).  This generator (B) exists so
that what is tuned there is measured on material it never saw, with what real documents do and A does not:

- number and day left blank in print and filled in by hand (handwriting-like digits, several fonts, jitter,
  blue or black ink) or by a number stamp, as the văn thư does on paper;
- holders after other labels ("Ông/Bà:", "(Bà)", "Họ và tên:", "Tên hộ kinh doanh:", "Tên doanh nghiệp:"),
  fields in two columns and in ruled tables, companies and household businesses as holders;
- old documents (1990s, "UB" symbols, older header wording), multi-page documents;
- scan, phone-photo and photocopy profiles at 200-300 dpi, as PNG, JPEG, TIFF or PDF;
- born-digital PDFs whose number and day exist only in annotation appearances (a form widget and a
  free-text annotation over the blanks), as issuers' signing software writes them.

It shares no vocabulary and no drawing code with generator A; only the catalogue's type codes and the
scanner's PDF container (``make_samples.scanned_pdf``).
"""

from __future__ import annotations

import io
import random
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from samples.make_samples import scanned_pdf

FONT_FILES = {
    "serif": "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "serif-bold": "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
    "serif-italic": "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Italic.ttf",
    "sans": "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
    "sans-bold": "/usr/share/fonts/truetype/freefont/FreeSansBold.ttf",
    "condensed": "/usr/share/fonts/truetype/dejavu/DejaVuSerifCondensed.ttf",
    "condensed-bold": "/usr/share/fonts/truetype/dejavu/DejaVuSerifCondensed-Bold.ttf",
}
# Faces that imitate a hand or a number stamp filling a blank.
HAND_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Oblique.ttf",
              "/usr/share/fonts/truetype/freefont/FreeSansOblique.ttf",
              "/usr/share/fonts/truetype/freefont/FreeMonoOblique.ttf",
              "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Oblique.ttf")
STAMP_FONT = "/usr/share/fonts/truetype/freefont/FreeMonoBold.ttf"

FAMILY = ["Trịnh", "Đinh", "Lương", "Cao", "Tạ", "Mai", "Quách", "Kiều", "Lâm", "Triệu", "Hà", "Nguyễn", "Trần"]
MIDDLE = ["Văn", "Thị", "Công", "Bảo", "Diệu", "Hoài", "Khắc", "Trọng", "Như", "Phúc", "Xuân"]
GIVEN = ["Ước", "Tâm", "Lộc", "Nhung", "Hiếu", "Thắm", "Khoa", "Duyên", "Tùng", "Vinh", "Hạnh", "Oanh", "Cường"]
PROVINCES = ["BẮC GIANG", "HÀ TĨNH", "QUẢNG BÌNH", "ĐỒNG THÁP", "KIÊN GIANG", "PHÚ THỌ", "YÊN BÁI", "BẾN TRE"]
DISTRICTS = ["LỤC NGẠN", "HƯƠNG SƠN", "BỐ TRẠCH", "CAO LÃNH", "TÂN HIỆP", "THANH SƠN", "VĂN CHẤN", "CHỢ LÁCH"]
COMMUNES = ["PHƯỢNG SƠN", "SƠN KIM", "HOÀN TRẠCH", "MỸ HỘI", "THẠNH ĐÔNG", "TINH NHUỆ", "NGHĨA TÂM", "HÒA NGHĨA"]
OLD_PROVINCES = ["HẢI HƯNG", "HÀ SƠN BÌNH", "NGHỆ TĨNH", "BÌNH TRỊ THIÊN", "HÀ BẮC"]
TRADES = ["TẠP HÓA", "PHÚC LỘC", "MINH TÂM", "HOA SEN", "TRƯỜNG THỊNH", "ĐẠI NAM"]
SENTENCES = ["Xét đề nghị của Trưởng phòng Nội vụ tại Tờ trình ngày 12 tháng 12 năm 2019;",
             "Cuộc họp ngày 15 tháng 3 năm 2021 đã thống nhất các nội dung sau đây.",
             "Giao Văn phòng theo dõi, đôn đốc việc thực hiện và báo cáo định kỳ.",
             "Người được cấp giấy có trách nhiệm xuất trình khi cơ quan có thẩm quyền yêu cầu.",
             "Các tổ chức, cá nhân có liên quan căn cứ nội dung trên để thực hiện.",
             "Thời hạn thực hiện trước ngày 30 tháng 6 hằng năm.",
             "Trong quá trình thực hiện nếu có vướng mắc, phản ánh về cơ quan thường trực để tổng hợp."]
# Per type: title variants (as real offices print them) and holder labels this generator writes.
TITLES = {
    "KS": ["GIẤY KHAI SINH", "GIẤY KHAI SINH (BẢN CHÍNH)"],
    "TLKS": ["TRÍCH LỤC KHAI SINH", "TRÍCH LỤC KHAI SINH (BẢN SAO)"],
    "KH": ["GIẤY CHỨNG NHẬN KẾT HÔN"], "XNHN": ["GIẤY XÁC NHẬN TÌNH TRẠNG HÔN NHÂN"],
    "TLKT": ["TRÍCH LỤC KHAI TỬ"], "XNCT": ["XÁC NHẬN THÔNG TIN VỀ CƯ TRÚ", "GIẤY XÁC NHẬN CƯ TRÚ"],
    "HKD": ["GIẤY CHỨNG NHẬN ĐĂNG KÝ HỘ KINH DOANH"], "GPXD": ["GIẤY PHÉP XÂY DỰNG"],
    "QSDD": ["GIẤY CHỨNG NHẬN QUYỀN SỬ DỤNG ĐẤT"], "DKDN": ["GIẤY CHỨNG NHẬN ĐĂNG KÝ DOANH NGHIỆP"],
    "LLTP": ["PHIẾU LÝ LỊCH TƯ PHÁP SỐ 1", "PHIẾU LÝ LỊCH TƯ PHÁP"],
    "ATTP": ["GIẤY CHỨNG NHẬN CƠ SỞ ĐỦ ĐIỀU KIỆN AN TOÀN THỰC PHẨM"], "GPLX": ["GIẤY PHÉP LÁI XE"],
    "CCHN": ["CHỨNG CHỈ HÀNH NGHỀ"], "NQ": ["NGHỊ QUYẾT"], "QD": ["QUYẾT ĐỊNH"], "CT": ["CHỈ THỊ"],
    "QC": ["QUY CHẾ"], "QYD": ["QUY ĐỊNH"], "TB": ["THÔNG BÁO"], "HD": ["HƯỚNG DẪN"], "KHO": ["KẾ HOẠCH"],
    "BC": ["BÁO CÁO"], "BB": ["BIÊN BẢN"], "TTR": ["TỜ TRÌNH"], "GM": ["GIẤY MỜI"], "GGT": ["GIẤY GIỚI THIỆU"],
}
PERSON_LABELS = ["Họ và tên", "Ông/Bà", "Họ, chữ đệm, tên"]
HOLDER_LABELS = {"HKD": ["Tên hộ kinh doanh"], "DKDN": ["Tên doanh nghiệp", "Tên công ty viết bằng tiếng Việt"],
                 "ATTP": ["Tên cơ sở"], "GPXD": ["Cấp cho", "Chủ đầu tư"], "QSDD": ["Người sử dụng đất"]}
NUMBER_LABELS = {"HKD": "Mã số hộ kinh doanh", "DKDN": "Mã số doanh nghiệp"}
ABBREVIATIONS = {"NQ": "NQ", "QD": "QĐ", "CT": "CT", "QC": "QC", "QYD": "QyĐ", "TB": "TB", "HD": "HD", "KHO": "KH",
                 "BC": "BC", "BB": "BB", "TTR": "TTr", "GM": "GM", "GGT": "GGT"}
TYPES = (*TITLES, "CV")  # Công văn has no title: its subject line says what it is about
RESULTS = ("KS", "TLKS", "KH", "XNHN", "TLKT", "XNCT", "HKD", "GPXD", "QSDD", "DKDN", "LLTP", "ATTP", "GPLX", "CCHN")
LEVELS = {"KS": "commune", "TLKS": "commune", "KH": "commune", "XNHN": "commune", "TLKT": "commune",
          "XNCT": "commune", "HKD": "district", "GPXD": "district", "QSDD": "district", "DKDN": "province",
          "LLTP": "province", "ATTP": "province", "GPLX": "province", "CCHN": "province"}


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@dataclass
class VariedDoc:
    """Ground truth of one generated document and the choices made in drawing it."""

    doc_type: str
    number: str | None  # the value sohoa should read (None: the type has no number)
    issued_on: tuple[int, int, int]  # year, month, day
    holder: str | None
    level: str
    issuer_lines: list[str]
    place: str
    title: str | None
    number_line: tuple[str, str, str]  # printed before the blank, in the blank, after it
    day_fill: str  # "print" | "hand" | "stamp" | "widget"
    number_fill: str
    holder_line: str | None  # as printed, label included
    fields_style: str  # "lines" | "columns" | "table"
    body: list[str]
    subject: str | None = None
    pages: int = 1
    old: bool = False
    seed: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def issued_iso(self) -> str:
        y, m, d = self.issued_on
        return f"{y:04d}-{m:02d}-{d:02d}"


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def varied_document(doc_type: str, rng: random.Random, seed: int = 0, born_digital: bool = False) -> VariedDoc:
    """A random document of catalogue type ``doc_type`` as generator B words and lays it out."""
    result = doc_type in RESULTS
    old = not result and not born_digital and rng.random() < 0.15
    level = LEVELS.get(doc_type) or rng.choice(["province", "district", "commune"])
    year = rng.randint(1991, 1999) if old else rng.randint(2008, 2026)
    issued = (year, rng.randint(1, 12), rng.randint(1, 28))
    province = rng.choice(OLD_PROVINCES if old else PROVINCES)
    if level == "commune":
        unit = f"{rng.choice(['XÃ', 'PHƯỜNG', 'THỊ TRẤN'])} {rng.choice(COMMUNES)}"
    elif level == "district":
        unit = f"{rng.choice(['HUYỆN', 'THỊ XÃ'])} {rng.choice(DISTRICTS)}"
    else:
        unit = f"TỈNH {province}"
    issuer_lines = ["ỦY BAN NHÂN DÂN", unit] if not old else ["UỶ BAN NHÂN DÂN", unit]
    if result and level == "province" and rng.random() < 0.5:
        issuer_lines = [f"UBND TỈNH {province}", rng.choice(["SỞ TƯ PHÁP", "SỞ Y TẾ", "SỞ GIAO THÔNG VẬN TẢI",
                                                              "SỞ KẾ HOẠCH VÀ ĐẦU TƯ"])]
    name = unit
    for prefix in ("THỊ TRẤN ", "THỊ XÃ ", "XÃ ", "PHƯỜNG ", "HUYỆN ", "TỈNH "):
        name = name.removeprefix(prefix)
    place = " ".join(w.capitalize() for w in name.split())
    n = rng.randint(1, 999)
    holder = holder_line = None
    body = rng.sample(SENTENCES, rng.randint(2, 4))
    subject = None
    if result:
        symbol = rng.choice([f"{n}/{year}", f"{n:02d}", f"{n}/TP-HT", f"{n}/{year}/{doc_type}"])
        number = symbol
        if doc_type in NUMBER_LABELS:
            number = f"{rng.randint(10, 99)}{rng.choice('ABCDEFGH')}{rng.randint(10**7, 10**8 - 1)}" \
                if doc_type == "HKD" else f"{rng.randint(10**9, 10**10 - 1)}"
        if doc_type in ("HKD", "DKDN", "ATTP"):
            holder = (f"HỘ KINH DOANH {rng.choice(TRADES)}" if doc_type == "HKD"
                      else f"CÔNG TY {rng.choice(['TNHH', 'CỔ PHẦN'])} {rng.choice(TRADES)}")
        else:
            holder = _person(rng).upper() if rng.random() < 0.7 else _person(rng)
        label = rng.choice(HOLDER_LABELS.get(doc_type, PERSON_LABELS))
        if label == "Ông/Bà" and rng.random() < 0.5:
            holder_line = f"Cấp cho: ({rng.choice(['Ông', 'Bà'])}) {holder}"
        else:
            holder_line = f"{label}: {holder}"
        number_line = ("Số:", symbol, "")
    else:
        abbreviation = ABBREVIATIONS.get(doc_type)
        office = "UB" if old else rng.choice(["UBND", "UBND", "VP"])
        tail = f"/{abbreviation}-{office}" if abbreviation else f"/{office}-{rng.choice(['VX', 'TH', 'KT'])}"
        number = f"{n}{tail}"
        number_line = ("Số:", str(n), tail)
        if not abbreviation:
            subject = f"V/v {rng.choice(['đôn đốc thực hiện', 'góp ý dự thảo', 'rà soát'])} " \
                      f"{rng.choice(['kế hoạch năm', 'hồ sơ tồn đọng', 'thủ tục hành chính'])}"
    fills = ["print", "print", "hand", "stamp"] if not born_digital else ["widget"]
    number_fill = rng.choice(fills) if doc_type not in NUMBER_LABELS else "print"
    day_fill = rng.choice(fills) if not born_digital else "widget"
    return VariedDoc(doc_type=doc_type, number=number, issued_on=issued, holder=holder, level=level,
                     issuer_lines=issuer_lines, place=place, title=rng.choice(TITLES[doc_type]) if doc_type in TITLES
                     else None, number_line=number_line, day_fill=day_fill, number_fill=number_fill,
                     holder_line=holder_line, fields_style=rng.choice(["lines", "lines", "columns", "table"]),
                     body=body, subject=subject, pages=2 if rng.random() < 0.15 else 1, old=old, seed=seed)


# ---------------------------------------------------------------- raster drawing

class _Page:
    def __init__(self, dpi: int, rng: random.Random):
        self.dpi, self.rng = dpi, rng
        self.image = Image.new("RGB", (round(8.27 * dpi), round(11.69 * dpi)), "white")
        self.draw = ImageDraw.Draw(self.image)

    def px(self, mm: float) -> int:
        return round(mm / 25.4 * self.dpi)

    def font(self, name: str, pt: float) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(FONT_FILES.get(name, name), max(6, round(pt / 72 * self.dpi)))

    def text(self, x_mm: float, y_mm: float, text: str, pt: float = 13, face: str = "serif",
             align: str = "left", fill: tuple = (0, 0, 0)) -> tuple[int, int]:
        """Draw on a baseline at y; return the right end (px) and the baseline (px)."""
        f = self.font(face, pt)
        text = nfc(text)
        width = f.getlength(text)
        x = self.px(x_mm) - (width / 2 if align == "center" else width if align == "right" else 0)
        self.draw.text((x, self.px(y_mm)), text, font=f, fill=fill, anchor="ls")
        return round(x + width), self.px(y_mm)

    def fill_blank(self, x_px: int, baseline_px: int, text: str, how: str, pt: float) -> None:
        """Write ``text`` into a printed blank by hand (jittered oblique digits) or with a number stamp."""
        rng = self.rng
        if how == "stamp":
            f = ImageFont.truetype(STAMP_FONT, round(pt * 1.05 / 72 * self.dpi))
            colour = rng.choice([(110, 40, 150), (170, 30, 40), (20, 20, 20)])
            layer = Image.new("RGBA", (round(f.getlength(text)) + 20, f.size * 2), (0, 0, 0, 0))
            ImageDraw.Draw(layer).text((10, f.size * 1.4), text, font=f, fill=(*colour, 230), anchor="ls")
            layer = layer.rotate(rng.uniform(-4, 4), expand=True, resample=Image.BICUBIC)
            self.image.paste(layer, (x_px, baseline_px - round(f.size * 1.4)), layer)
            return
        f = ImageFont.truetype(rng.choice(HAND_FONTS), round(pt * rng.uniform(1.0, 1.3) / 72 * self.dpi))
        colour = rng.choice([(25, 45, 150), (30, 30, 90), (15, 15, 15)])
        x = x_px
        for ch in text:
            glyph = Image.new("RGBA", (f.size * 2, f.size * 2), (0, 0, 0, 0))
            ImageDraw.Draw(glyph).text((f.size // 2, round(f.size * 1.4)), ch, font=f, fill=(*colour, 255),
                                       anchor="ls", stroke_width=rng.choice([0, 1]), stroke_fill=(*colour, 255))
            glyph = glyph.rotate(rng.uniform(-9, 9), resample=Image.BICUBIC)
            dy = rng.randint(-f.size // 10, f.size // 10)
            self.image.paste(glyph, (x - f.size // 2, baseline_px - round(f.size * 1.4) + dy), glyph)
            x += round(f.getlength(ch) * rng.uniform(0.9, 1.15))


def _header(page: _Page, doc: VariedDoc, rng: random.Random) -> float:
    """Draw the two-column header; return the y (mm) where the title goes."""
    left_x, right_x = rng.uniform(46, 54), rng.uniform(140, 147)
    face, pt = rng.choice([("serif", 11), ("condensed", 12), ("condensed", 12.5), ("sans", 12)])
    y = rng.uniform(16, 24)
    for i, line in enumerate(doc.issuer_lines):
        page.text(left_x, y + i * 5.5, line, pt, face + ("-bold" if i == len(doc.issuer_lines) - 1 else ""),
                  "center")
    page.text(right_x, y, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", pt - 1, face + "-bold", "center")
    page.text(right_x, y + 5.5, "Độc lập - Tự do - Hạnh phúc", pt, face + "-bold", "center")
    ny = y + 5.5 * len(doc.issuer_lines) + 5
    before, number, after = doc.number_line
    if doc.number_fill == "print":
        page.text(left_x, ny, f"{before} {number}{after}", pt, face, "center")
    else:
        total = f"{before}{' ' * 12}{after}"
        end, base = page.text(left_x, ny, total, pt, face, "center")
        start = end - page.font(face, pt).getlength(nfc(total))
        gap_x = round(start + page.font(face, pt).getlength(before + " ")) + page.px(1)
        page.fill_blank(gap_x, base, number, doc.number_fill, pt)
    if doc.subject:
        page.text(left_x, ny + 6, doc.subject, pt - 1.5, face, "center")
    year, month, day = doc.issued_on
    month_txt = f"{month:02d}" if month < 3 else str(month)
    dy = ny
    if doc.day_fill == "print":
        page.text(right_x, dy, f"{doc.place}, ngày {day:02d} tháng {month_txt} năm {year}", pt, face + "-italic"
                  if face == "serif" else face, "center")
    else:
        prefix = f"{doc.place}, ngày"
        total = f"{prefix}{' ' * 10}tháng {month_txt} năm {year}"
        f = page.font(face, pt)
        end, base = page.text(right_x, dy, total, pt, face, "center")
        start = end - f.getlength(nfc(total))
        page.fill_blank(round(start + f.getlength(nfc(prefix + " "))) + page.px(1), base, f"{day:02d}",
                        doc.day_fill, pt)
    return ny + (16 if doc.subject else 12)


def _fields(page: _Page, doc: VariedDoc, y: float, rng: random.Random) -> float:
    lines: list[tuple[str, str | None]] = []
    if doc.doc_type in NUMBER_LABELS:
        lines.append((f"{NUMBER_LABELS[doc.doc_type]}: {doc.number}", None))
    if doc.holder_line:
        lines.append((doc.holder_line, rng.choice(["Giới tính: Nam", "Giới tính: Nữ", "Dân tộc: Kinh"])))
    lines.append((f"Nơi cư trú: thôn {rng.randint(1, 12)}, {doc.place}", None))
    for main, side in lines:
        if doc.fields_style == "table" and ":" in main:
            label, value = main.split(":", 1)
            # The value's cell starts after the longest label, as a table drawn for it does (text never
            # overlaps text on paper).
            label_end = page.font("serif", 12).getlength(nfc(label)) / page.dpi * 25.4 + 27
            column = max(75.0, label_end + 3)
            page.draw.rectangle((page.px(25), page.px(y - 6), page.px(185), page.px(y + 2.5)), outline="black",
                                width=max(1, page.dpi // 150))
            page.draw.line((page.px(column), page.px(y - 6), page.px(column), page.px(y + 2.5)), fill="black",
                           width=max(1, page.dpi // 150))
            page.text(27, y, label, 12)
            page.text(column + 3, y, value.strip(), 12.5)
        else:
            end, _ = page.text(28, y, main, 13)
            if side and doc.fields_style == "columns":
                page.text(max(128.0, end / page.dpi * 25.4 + 8), y, side, 13)
        y += 8.5
    return y


def draw_pages(doc: VariedDoc, dpi: int = 300) -> list[Image.Image]:
    """The document's pages as clean raster images."""
    rng = random.Random(doc.seed)
    first = _Page(dpi, rng)
    y = _header(first, doc, rng)
    if doc.title:
        first.text(105, y + 6, doc.title, rng.choice([14, 15, 16]), "serif-bold", "center")
        y += 16
    y = _fields(first, doc, y, rng) if doc.holder_line or doc.doc_type in NUMBER_LABELS else y
    pages = [first]
    page = first
    for i, sentence in enumerate(doc.body * (3 if doc.pages > 1 else 1)):
        if doc.pages > 1 and i == len(doc.body) + 1 and page is first:
            page = _Page(dpi, rng)
            pages.append(page)
            y = 25
        page.text(30, y + 6, sentence, 12.5)
        y += 7.5
    page.text(150, y + 14, rng.choice(["CHỦ TỊCH", "KT. CHỦ TỊCH", "GIÁM ĐỐC", "TRƯỞNG PHÒNG"]), 13, "serif-bold",
              "center")
    cx, cy, r = page.px(150 + rng.uniform(-12, 0)), page.px(y + 30), page.px(17)
    page.draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(200, 30, 40), width=max(2, dpi // 60))
    page.text(150, y + 48, _person(rng), 13, "serif-bold", "center")
    return [p.image for p in pages]


# ---------------------------------------------------------------- capture profiles

def capture(image: Image.Image, profile: str, rng: random.Random) -> Image.Image:
    """How the paper reached sohoa: ``scan`` (flatbed), ``photo`` (phone camera) or ``copy`` (photocopy)."""
    import cv2

    arr = np.asarray(image.convert("RGB"), dtype=np.float32)
    h, w = arr.shape[:2]
    nrng = np.random.default_rng(rng.randrange(2**31))
    if profile == "photo":
        shift = 0.025
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        dst = np.float32([[rng.uniform(0, shift) * w, rng.uniform(0, shift) * h],
                          [w - rng.uniform(0, shift) * w, rng.uniform(0, shift) * h],
                          [w - rng.uniform(0, shift) * w, h - rng.uniform(0, shift) * h],
                          [rng.uniform(0, shift) * w, h - rng.uniform(0, shift) * h]])
        arr = cv2.warpPerspective(arr, cv2.getPerspectiveTransform(src, dst), (w, h), borderValue=(90, 85, 80))
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        light = 0.78 + 0.22 * (1 - ((xx / w - rng.random()) ** 2 + (yy / h - rng.random()) ** 2))
        arr = arr * light[..., None] * np.array([1.0, 0.97, 0.9], dtype=np.float32)
        arr = cv2.GaussianBlur(arr, (0, 0), 1.0)
        arr += nrng.normal(0, 5, arr.shape[:2])[..., None]
    elif profile == "copy":
        grey = arr.mean(axis=2)
        grey = np.clip((grey - 60) * 1.35, 0, 255)
        speckle = nrng.random(grey.shape) < 0.0015
        grey[speckle] = 0
        grey = cv2.GaussianBlur(grey, (0, 0), 0.7)
        arr = np.repeat(grey[..., None], 3, axis=2)
        out = Image.fromarray(arr.clip(0, 255).astype("uint8"))
        return out.rotate(rng.uniform(-1.5, 1.5), resample=Image.BICUBIC, fillcolor=(255, 255, 255))
    else:
        arr = arr * (np.array([245, 241, 230], dtype=np.float32) / 255)
        arr += nrng.normal(0, 4, arr.shape[:2])[..., None]
    out = Image.fromarray(arr.clip(0, 255).astype("uint8"))
    out = out.rotate(rng.uniform(-2, 2), resample=Image.BICUBIC, fillcolor=(240, 238, 230))
    return out.filter(ImageFilter.GaussianBlur(0.4))


def save_varied(doc: VariedDoc, out_dir: Path, fmt: str, profile: str, dpi: int) -> Path:
    """Render, capture and write ``doc``; ``fmt`` is png, jpg, tiff or pdf."""

    rng = random.Random(doc.seed * 7 + 1)
    pages = [capture(p, profile, rng) for p in draw_pages(doc, dpi)]
    path = out_dir / f"b-{doc.doc_type.lower()}-{doc.seed}.{fmt}"
    if fmt == "png":
        pages[0].convert("L").save(path, dpi=(dpi, dpi))
    elif fmt == "jpg":
        pages[0].save(path, quality=rng.choice([70, 82, 90]), dpi=(dpi, dpi))
    elif fmt == "tiff":
        frames = [p.convert("L").point(lambda v: 255 if v > 140 else 0).convert("1") for p in pages]
        frames[0].save(path, save_all=True, append_images=frames[1:], compression="group4", dpi=(dpi, dpi))
    elif fmt == "pdf":
        path.write_bytes(scanned_pdf(pages, dpi, quality=85))
    else:
        raise ValueError(f"unknown format {fmt}")
    return path


# ---------------------------------------------------------------- born-digital, number and day in annotations

def save_born_digital(doc: VariedDoc, out_dir: Path) -> Path:
    """A born-digital PDF whose page content leaves the number and the day blank, as the issuer prints it;
    the number is a form widget's appearance and the day a free-text annotation's, placed over the blanks."""
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject, StreamObject, TextStringObject
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    for name in ("serif", "serif-bold"):
        if f"B-{name}" not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(f"B-{name}", FONT_FILES[name]))
    width, height = 210 * mm, 297 * mm
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(width, height))
    left_x, right_x, top = 60 * mm, 140 * mm, height - 20 * mm
    for i, line in enumerate(doc.issuer_lines):
        c.setFont("B-serif-bold" if i else "B-serif", 12)
        c.drawCentredString(left_x, top - i * 15, nfc(line))
    c.setFont("B-serif-bold", 12)
    c.drawCentredString(right_x, top, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    c.drawCentredString(right_x, top - 15, "Độc lập - Tự do - Hạnh phúc")
    line_y = top - 15 * len(doc.issuer_lines) - 14
    c.setFont("B-serif", 12)
    before, number, after = doc.number_line
    number_text = f"{before}{' ' * 14}{after}"
    c.drawCentredString(left_x, line_y, number_text)
    number_x = left_x - pdfmetrics.stringWidth(number_text, "B-serif", 12) / 2 \
        + pdfmetrics.stringWidth(before + " ", "B-serif", 12)
    if doc.subject:
        c.setFont("B-serif", 11)
        c.drawCentredString(left_x, line_y - 16, nfc(doc.subject))
        c.setFont("B-serif", 12)
    year, month, day = doc.issued_on
    month_txt = f"{month:02d}" if month < 3 else str(month)
    prefix = nfc(f"{doc.place}, ngày")
    date_text = f"{prefix}{' ' * 10}tháng {month_txt} năm {year}"
    c.drawCentredString(right_x, line_y, date_text)
    day_x = right_x - pdfmetrics.stringWidth(date_text, "B-serif", 12) / 2 \
        + pdfmetrics.stringWidth(prefix + " ", "B-serif", 12)
    y = line_y - 40
    if doc.title:
        c.setFont("B-serif-bold", 14)
        c.drawCentredString(width / 2, y, nfc(doc.title))
        y -= 24
    c.setFont("B-serif", 12)
    labelled = [f"{NUMBER_LABELS[doc.doc_type]}: {doc.number}"] if doc.doc_type in NUMBER_LABELS else []
    for sentence in labelled + ([doc.holder_line] if doc.holder_line else []) + doc.body:
        c.drawString(30 * mm, y, nfc(sentence))
        y -= 18
    c.acroForm.textfield(name="so_van_ban", value=number, x=number_x, y=line_y - 4, width=len(number) * 7.5 + 6,
                         height=16, borderWidth=0, borderColor=None, fillColor=None, fontName="Helvetica",
                         fontSize=12, fieldFlags="readOnly")
    c.showPage()
    c.save()
    writer = PdfWriter(clone_from=io.BytesIO(buf.getvalue()))
    rect = [day_x, line_y - 4, day_x + 22, line_y + 12]
    appearance = StreamObject()
    appearance.set_data(f"BT /F1 12 Tf 2 4 Td ({day:02d}) Tj ET".encode())
    appearance.update({
        NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Form"),
        NameObject("/BBox"): ArrayObject([FloatObject(0), FloatObject(0), FloatObject(22), FloatObject(16)]),
        NameObject("/Resources"): DictionaryObject({NameObject("/Font"): DictionaryObject({
            NameObject("/F1"): DictionaryObject({NameObject("/Type"): NameObject("/Font"),
                                                 NameObject("/Subtype"): NameObject("/Type1"),
                                                 NameObject("/BaseFont"): NameObject("/Helvetica")})})})})
    writer.add_annotation(0, DictionaryObject({
        NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/FreeText"),
        NameObject("/Rect"): ArrayObject([FloatObject(v) for v in rect]),
        NameObject("/Contents"): TextStringObject(f"{day:02d}"), NameObject("/F"): FloatObject(4),
        NameObject("/DA"): TextStringObject("/Helv 12 Tf 0 g"),
        NameObject("/AP"): DictionaryObject({NameObject("/N"): writer._add_object(appearance)})}))
    path = out_dir / f"b-{doc.doc_type.lower()}-{doc.seed}-signed.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def born_digital_text(doc: VariedDoc) -> str:
    """The text the issuer's PDF shows (page content and annotations together), line by line."""
    year, month, day = doc.issued_on
    month_txt = f"{month:02d}" if month < 3 else str(month)
    before, number, after = doc.number_line
    lines = [*doc.issuer_lines, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
             f"{before} {number}{after}", f"{doc.place}, ngày {day:02d} tháng {month_txt} năm {year}"]
    lines += [doc.subject] if doc.subject else []
    lines += [doc.title] if doc.title else []
    lines += [f"{NUMBER_LABELS[doc.doc_type]}: {doc.number}"] if doc.doc_type in NUMBER_LABELS else []
    lines += [doc.holder_line] if doc.holder_line else []
    return nfc("\n".join(lines + doc.body))


def noise_page(out_dir: Path, seed: int, kind: str = "noise") -> Path:
    """Non-documents a batch may hold: random ``noise``, a ``photo``-like gradient, or a ``dark`` frame."""
    nrng = np.random.default_rng(seed)
    if kind == "noise":
        arr = nrng.integers(0, 256, (1400, 1000), dtype=np.uint8)
    elif kind == "photo":
        yy, xx = np.mgrid[0:1400, 0:1000]
        arr = ((np.sin(xx / 37) + np.cos(yy / 53)) * 60 + 128 + nrng.normal(0, 12, (1400, 1000))).clip(0, 255)
        arr = arr.astype(np.uint8)
    else:
        arr = (nrng.normal(25, 8, (1400, 1000))).clip(0, 255).astype(np.uint8)
    path = out_dir / f"not-a-document-{kind}-{seed}.png"
    Image.fromarray(arr).save(path, dpi=(200, 200))
    return path


def heldout_set(out_dir: Path, per_type: int, seed: int, born_digital_every: int = 6) -> dict[str, VariedDoc]:
    """Write ``per_type`` documents of every type in ``TYPES`` (profiles, formats and dpi drawn at random);
    every ``born_digital_every``-th document is a born-digital PDF.  Returns the truth by file name."""
    rng = random.Random(seed)
    truth: dict[str, VariedDoc] = {}
    k = 0
    for doc_type in TYPES:
        for _ in range(per_type):
            k += 1
            born = k % born_digital_every == 0
            doc = varied_document(doc_type, rng, seed * 1000 + k, born_digital=born)
            if born:
                path = save_born_digital(doc, out_dir)
            else:
                path = save_varied(doc, out_dir, rng.choice(["png", "jpg", "jpg", "tiff", "pdf"]),
                                   rng.choice(["scan", "scan", "photo", "copy"]), rng.choice([200, 250, 300]))
            truth[path.name] = doc
    return truth
