"""Training data for the statistical classifier: documents of every catalogue type, as text.

Deterministic for a seed, so the model is reproducible from the catalogue alone; clerks' corrections
(``sohoa review accept``) are added to it.  ``samples/synth.py`` renders the same documents as images.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field

from codes import DocumentType


@dataclass
class SynthDocument:
    """What a generated document says (ground truth), before any layout."""

    doc_type: str
    title: str | None
    managing_body: list[str]
    issuing_body: list[str]
    number: str
    place: str
    issued_on: tuple[int, int, int]  # day, month, year
    level: str
    holder: str | None
    subtitle: list[str] = field(default_factory=list)
    subject: str | None = None
    recipient: str | None = None
    body: list[str] = field(default_factory=list)
    signer_block: list[str] = field(default_factory=list)
    signer_name: str = ""
    seed: int = 0

    @property
    def date_line(self) -> str:
        d, m, y = self.issued_on
        day = f"{d:02d}" if d < 10 else str(d)  # Decree 30: leading zero for days < 10 and months < 3
        month = f"{m:02d}" if m < 3 else str(m)
        return f"{self.place}, ngày {day} tháng {month} năm {y}"


SURNAMES = ["NGUYỄN", "TRẦN", "LÊ", "PHẠM", "HOÀNG", "HUỲNH", "PHAN", "VŨ", "VÕ", "ĐẶNG", "BÙI", "ĐỖ", "HỒ", "NGÔ",
            "DƯƠNG", "LÝ"]
MIDDLE = ["VĂN", "THỊ", "MINH", "ĐỨC", "THU", "QUANG", "NGỌC", "HỮU", "THANH", "XUÂN", "KIM", "GIA"]
GIVEN = ["AN", "BÌNH", "CHI", "DŨNG", "GIANG", "HÀ", "HẢI", "HOA", "HÙNG", "KHÁNH", "LAN", "LINH", "MAI", "NAM",
         "PHƯƠNG", "QUÂN", "SƠN", "THẢO", "TRANG", "TUẤN", "VIỆT", "YẾN"]
PROVINCES = ["HÀ NỘI", "QUẢNG NINH", "NGHỆ AN", "THANH HÓA", "THÁI BÌNH", "LÀO CAI", "CAO BẰNG", "THÁI NGUYÊN"]
DISTRICTS = ["HOÀI ĐỨC", "ĐÔNG ANH", "GIA LÂM", "SÓC SƠN", "THANH TRÌ", "QUỲNH LƯU", "TIÊN DU", "VĂN LÂM"]
COMMUNES = ["AN KHÁNH", "KIM CHUNG", "VÂN CANH", "ĐỨC GIANG", "SƠN ĐỒNG", "DƯƠNG LIỄU", "MINH KHAI", "TÂN LẬP"]
DEPARTMENTS = ["SỞ TƯ PHÁP", "SỞ KẾ HOẠCH VÀ ĐẦU TƯ", "SỞ Y TẾ", "SỞ XÂY DỰNG", "SỞ NỘI VỤ"]
OFFICES = ["PHÒNG TÀI CHÍNH - KẾ HOẠCH", "PHÒNG TƯ PHÁP", "PHÒNG QUẢN LÝ ĐÔ THỊ", "PHÒNG NỘI VỤ"]
SUBJECTS = ["tăng cường số hóa hồ sơ, kết quả giải quyết thủ tục hành chính",
            "triển khai dịch vụ công trực tuyến toàn trình", "kiện toàn bộ phận một cửa các cấp",
            "thực hiện Quyết định số 468/QĐ-TTg của Thủ tướng Chính phủ",
            "báo cáo kết quả cải cách hành chính quý III"]
BODY = ["Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
        "Căn cứ Nghị định số 61/2018/NĐ-CP của Chính phủ về thực hiện cơ chế một cửa, một cửa liên thông;",
        "Các cơ quan, đơn vị có liên quan chịu trách nhiệm thi hành văn bản này.",
        "Kết quả giải quyết thủ tục hành chính còn hiệu lực được số hóa và lưu trữ theo quy định.",
        "Đề nghị các đơn vị triển khai thực hiện nghiêm túc, báo cáo kết quả đúng thời hạn.",
        "Văn bản này có hiệu lực kể từ ngày ký."]
ENTERPRISE_WORDS = ["AN PHÁT", "THÀNH CÔNG", "BÌNH MINH", "HƯNG THỊNH", "SAO VIỆT", "HỒNG HÀ", "TÂN TIẾN"]


def _person(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _personal_id(rng: random.Random) -> str:
    return f"{rng.choice(['001', '022', '040', '038', '034'])}{rng.choice('0123')}{rng.randint(50, 99):02d}" \
           f"{rng.randint(0, 999999):06d}"


def _issuer(level: str, rng: random.Random) -> tuple[list[str], list[str], str]:
    """(managing body lines, issuing body lines, place) for a body of ``level``."""
    province, district, commune = rng.choice(PROVINCES), rng.choice(DISTRICTS), rng.choice(COMMUNES)
    title_case = lambda s: " ".join(w.capitalize() for w in s.lower().split())  # noqa: E731
    if level == "commune":
        unit = rng.choice(["XÃ", "PHƯỜNG", "THỊ TRẤN"])
        return [], ["ỦY BAN NHÂN DÂN", f"{unit} {commune}"], title_case(commune)
    if level == "district":
        if rng.random() < 0.5:
            return [f"UBND HUYỆN {district}"], [rng.choice(OFFICES)], title_case(district)
        return [], ["ỦY BAN NHÂN DÂN", f"HUYỆN {district}"], title_case(district)
    prefix = "THÀNH PHỐ" if province == "HÀ NỘI" else "TỈNH"
    if rng.random() < 0.5:
        return [f"UBND {prefix} {province}"], [rng.choice(DEPARTMENTS)], title_case(province)
    return [], ["ỦY BAN NHÂN DÂN", f"{prefix} {province}"], title_case(province)


def synth_document(doc_type: DocumentType, rng: random.Random, seed: int = 0) -> SynthDocument:
    """A document of catalogue type ``doc_type`` with random but realistic contents."""
    level = rng.choice(doc_type.levels)
    managing, issuing, place = _issuer(level, rng)
    year = rng.randint(2005, 2025)
    issued = (rng.randint(1, 28), rng.randint(1, 12), year)
    n = rng.randint(1, 4999)
    abbreviation = doc_type.abbreviation
    issuer_abbr = "UBND" if issuing[0].startswith("ỦY BAN") else rng.choice(["STP", "SKHĐT", "TCKH", "SYT"])
    holder = None
    body: list[str] = []
    subject = recipient = None
    subtitle: list[str] = []
    if doc_type.kind == "result":
        number = f"{n}/{year}" if rng.random() < 0.5 else f"{n}/{doc_type.code}"
        if doc_type.number_labels:
            number = f"{rng.randint(10**9, 10**10 - 1)}"
            body.append(f"{doc_type.number_labels[0]}: {number}")
        if doc_type.holder_labels:
            if doc_type.code in {"DKDN", "ATTP"}:
                holder = f"CÔNG TY TNHH {rng.choice(ENTERPRISE_WORDS)}"
            elif doc_type.code == "HKD":
                holder = f"HỘ KINH DOANH {rng.choice(ENTERPRISE_WORDS)}"
            else:
                holder = _person(rng)
            body.append(f"{doc_type.holder_labels[0]}: {holder}")
            body.append(f"Số định danh cá nhân: {_personal_id(rng)}")
        body.append(f"Nơi cư trú: xã {rng.choice(COMMUNES).title()}, huyện {rng.choice(DISTRICTS).title()}")
        body += rng.sample(BODY[2:], 2)
        title = doc_type.titles[0]
    else:
        number = f"{n}/{issuer_abbr}-{rng.choice(['KGVX', 'VP', 'NC', 'KT'])}" if doc_type.subject_marker \
            else f"{n}/{abbreviation}-{issuer_abbr}"
        if doc_type.subject_marker:
            title = None
            subject = f"{doc_type.subject_marker} {rng.choice(SUBJECTS)}"
            recipient = rng.choice(["Ủy ban nhân dân các xã, thị trấn", "Các sở, ban, ngành", "Các phòng chuyên môn"])
        else:
            title = doc_type.titles[0]
            subtitle = [f"Về việc {rng.choice(SUBJECTS)}"]
        body += rng.sample(BODY, 3)
    return SynthDocument(
        doc_type=doc_type.code, title=title, managing_body=managing,
        issuing_body=issuing, number=number, place=place, issued_on=issued, level=level, holder=holder,
        subtitle=subtitle, subject=subject, recipient=recipient, body=body,
        signer_block=["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"] if issuing[0].startswith("ỦY BAN") else ["GIÁM ĐỐC"],
        signer_name=_person(rng).title(), seed=seed,
    )



def document_text(doc: SynthDocument) -> str:
    """The document's text in the reading order sohoa produces: header left, header right, the rest."""
    left = [*doc.managing_body, *doc.issuing_body, f"Số: {doc.number}"]
    if doc.subject:
        left.append(doc.subject)
    right = ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", doc.date_line]
    rest = ([doc.title] if doc.title else []) + doc.subtitle
    rest += [f"Kính gửi: {doc.recipient}"] if doc.recipient else []
    rest += doc.body + doc.signer_block + [doc.signer_name, "Nơi nhận:"]
    return unicodedata.normalize("NFC", "\n".join(left + right + rest))


_LOOKALIKE = {"0": "O", "1": "l", "5": "S", "8": "B", "Đ": "D", "đ": "d", "ơ": "o", "ư": "u", "ă": "a"}


def ocr_noise(text: str, rng: random.Random, rate: float = 0.04) -> str:
    """Imitate OCR errors: lost diacritics, look-alike characters, dropped characters."""
    out = []
    for ch in text:
        roll = rng.random()
        if roll < rate / 2 and ch.isalpha():
            base = unicodedata.normalize("NFD", ch)[0]
            out.append(base)
        elif roll < rate * 0.8 and ch in _LOOKALIKE:
            out.append(_LOOKALIKE[ch])
        elif roll < rate:
            continue
        else:
            out.append(ch)
    return "".join(out)
