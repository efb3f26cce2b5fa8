"""Field extraction on hand-built OCR output: noisy readings, and confidence that follows the OCR."""

from __future__ import annotations

from codes import load_catalogue
from digitize.fields import extract_holder, extract_issue_date, extract_number, level_of_issuer
from digitize.model import PageText, Segment, Word


def seg(*words: tuple[str, float], x: int = 100, y: int = 100) -> Segment:
    out, cursor = [], x
    for text, conf in words:
        out.append(Word(text, conf, cursor, y, 20 * len(text), 40))
        cursor += 20 * len(text) + 12
    return Segment(tuple(out))


def page(*segments: Segment) -> PageText:
    return PageText(0, 2480, 3508, segments, "ocr")


def test_symbol_letters_confirmed_by_issuer_do_not_lower_confidence():
    p = page(seg(("ỦY", 95), ("BAN", 95), ("NHÂN", 95), ("DÂN", 95)), seg(("HUYỆN", 95), ("HOÀI", 95), ("ĐỨC", 95)),
             seg(("-", 20), ("Số:", 93), ("507/", 92), ("UBN", 30), ("D-KGVX", 88)))
    number = extract_number([p], None, "ỦY BAN NHÂN DÂN HUYỆN HOÀI ĐỨC")
    assert number.value == "507/UBND-KGVX"
    assert number.confidence >= 0.85


def test_low_confidence_digits_are_never_excused():
    p = page(seg(("Số:", 93), ("25/2020", 2)))
    number = extract_number([p], None, "ỦY BAN NHÂN DÂN XÃ AN KHÁNH")
    assert number.value == "25/2020" and number.confidence < 0.1


def test_number_label_of_the_type_wins_over_header_symbol():
    hkd = load_catalogue().get("HKD")
    p = page(seg(("Số:", 95), ("2345/GCN-TCKH", 95)), seg(("Mã", 95), ("số", 95), ("hộ", 95), ("kinh", 95),
                                                            ("doanh:", 95), ("01H8012345", 93)))
    assert extract_number([p], hkd).value == "01H8012345"


def test_date_with_letters_for_digits_is_uncertain():
    right = seg(("An", 96), ("Khánh,", 96), ("ngày", 96), ("0S", 90), ("tháng", 96), ("4", 96), ("năm", 96),
                ("2020", 96), x=1320)
    found = extract_issue_date([page(seg(("ỦY", 95), ("BAN", 95)), right)])
    assert found.value == "2020-04-05"
    assert found.confidence <= 0.5  # a guess, so a required date sends the document to review


def test_holder_continues_on_the_next_upper_case_line():
    dkdn = load_catalogue().get("DKDN")
    first = seg(("Tên", 95), ("công", 95), ("ty", 95), ("viết", 95), ("bằng", 95), ("tiếng", 95), ("Việt:", 95),
                ("CÔNG", 94), ("TY", 94), ("TNHH", 93), x=473, y=900)
    second = seg(("SỐ", 92), ("HÓA", 92), ("AN", 94), ("KHÁNH", 94), x=473, y=960)
    holder = extract_holder([page(first, second)], dkdn)
    assert holder.value == "CÔNG TY TNHH SỐ HÓA AN KHÁNH" and holder.confidence >= 0.9


def test_levels_from_issuer():
    assert level_of_issuer("ỦY BAN NHÂN DÂN XÃ AN KHÁNH") == "commune"
    assert level_of_issuer("ỦY BAN NHÂN DÂN PHƯỜNG TRÚC BẠCH") == "commune"
    assert level_of_issuer("ỦY BAN NHÂN DÂN THỊ XÃ SƠN TÂY") == "district"
    assert level_of_issuer("ỦY BAN NHÂN DÂN HUYỆN HOÀI ĐỨC PHÒNG TÀI CHÍNH - KẾ HOẠCH") == "district"
    assert level_of_issuer("ỦY BAN NHÂN DÂN THÀNH PHỐ THỦ ĐỨC") == "district"
    assert level_of_issuer("ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI SỞ TƯ PHÁP") == "province"
    assert level_of_issuer("ỦY BAN NHÂN DÂN TỈNH QUẢNG NINH") == "province"
    assert level_of_issuer(None) is None


def test_a_name_read_without_any_diacritic_is_uncertain():
    ks = load_catalogue().get("KS")
    plain = seg(("Họ,", 95), ("chữ", 95), ("đệm,", 95), ("tên:", 95), ("PHAM", 93), ("XUAN", 93), ("HAI", 93))
    accented = seg(("Họ,", 95), ("chữ", 95), ("đệm,", 95), ("tên:", 95), ("PHẠM", 93), ("XUÂN", 93), ("HẢI", 93))
    assert extract_holder([page(plain)], ks).confidence <= 0.4
    assert extract_holder([page(accented)], ks).confidence >= 0.9
