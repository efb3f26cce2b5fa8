import unicodedata
from datetime import date

import pytest

from digitize.text import fold, mask_personal_ids, modern_tone_marks, nfc, parse_vietnamese_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hà Nội, ngày 08 tháng 4 năm 2020", date(2020, 4, 8)),
        ("An Khánh, ngày 19 tháng 11 năm 2021", date(2021, 11, 19)),
        ("ngay 5 thang 12 nam 2023", date(2023, 12, 5)),  # accents lost by OCR
        ("Hà Nội, ngày O8 tháng 4 năm 2O20", date(2020, 4, 8)),  # letter O read for digit 0
        ("ngày 19 tháng I1 năm 2021", date(2021, 11, 19)),  # I read for 1
        ("ngày 27. tháng 12, năm 2023", date(2023, 12, 27)),  # stray punctuation
        ("Ngày, tháng, năm sinh: 02/04/2020", date(2020, 4, 2)),
    ],
)
def test_parse_vietnamese_dates(text, expected):
    assert parse_vietnamese_date(text) == expected


@pytest.mark.parametrize("text", ["ngày 31 tháng 2 năm 2020", "không có ngày tháng", "ngày 40 tháng 1 năm 2020"])
def test_invalid_or_missing_dates_give_none(text):
    assert parse_vietnamese_date(text) is None


def test_decomposed_input_is_parsed_and_normalized_to_nfc():
    decomposed = unicodedata.normalize("NFD", "Hà Nội, ngày 08 tháng 4 năm 2020")
    assert decomposed != nfc(decomposed)
    assert parse_vietnamese_date(decomposed) == date(2020, 4, 8)
    assert unicodedata.is_normalized("NFC", nfc(decomposed))


def test_fold_and_old_tone_marks():
    assert fold("Ủy ban  nhân dân ĐỨC") == "UY BAN NHAN DAN DUC"
    assert modern_tone_marks("Uỷ ban nhân dân, hoà bình, THUỶ") == "Ủy ban nhân dân, hòa bình, THỦY"
    assert modern_tone_marks("HUYỆN HOÀI ĐỨC") == "HUYỆN HOÀI ĐỨC"  # not word-final: untouched


def test_personal_ids_are_masked():
    assert mask_personal_ids("ID 001320012345 ok") == "ID 001******345 ok"
    assert mask_personal_ids("mã 0109876543") == "mã 0109876543"  # 10-digit enterprise code is not personal
