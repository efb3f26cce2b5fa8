"""What real documents do and the project's own generator did not, each on a file the test makes with the
second generator (``samples.varied``): the number and day in a born-digital PDF's annotations, a number
written by hand into its blank, holders after labels, a company holder, an issuing register's match and an
ambiguous one, the issuer's abbreviation kept inside the symbol, non-documents rejected."""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

import pytest

from codes import load_catalogue
from digitize.annotations import annotation_words
from digitize.fields import extract_holder, extract_issuer, extract_number
from digitize.intake import text_layer_pages
from digitize.model import FieldValue, PageText, Reread, Segment, Word
from digitize.registers import RegisterEntry, RegisterError, match_register, read_register
from samples.varied import noise_page, save_born_digital, save_varied, varied_document
from tests.conftest import run_cli
from tests.test_understanding import process, rooms_at

CATALOGUE = load_catalogue()


def _page(lines: list[list[tuple[str, int]]], width: int = 2480) -> PageText:
    """A page of OCR-like words: each line a list of (text, x) at 60 px per line from y=200."""
    segments = []
    for row, line in enumerate(lines):
        words = tuple(Word(text, 95.0, x, 200 + 60 * row, 28 * len(text), 40) for text, x in line)
        segments.append(Segment(words))
    return PageText(0, width, 3508, tuple(segments), "ocr")


# ---------------------------------------------------------------- born-digital: number and day in annotations

def signed_born_digital(tmp_path: Path, doc_type: str = "TB", seed: int = 11) -> tuple[Path, object]:
    """A born-digital notice whose number and day live only in annotations, then signed by its issuer."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    from tests.pki import make_ca

    doc = varied_document(doc_type, random.Random(seed), seed, born_digital=True)
    plain = save_born_digital(doc, tmp_path)
    ca = make_ca(tmp_path / "ca")
    _, cert, key = ca.signer("Văn thư UBND")
    signer = signers.SimpleSigner.load(str(key), str(cert), ca_chain_files=(str(ca.root_path),))
    signed = tmp_path / f"issued-{doc_type.lower()}-{seed}.pdf"
    with plain.open("rb") as src, signed.open("wb") as out:
        writer = IncrementalPdfFileWriter(src)
        fields.append_signature_field(writer, fields.SigFieldSpec("VanThu", on_page=0, box=(380, 60, 560, 110)))
        signers.sign_pdf(writer, signers.PdfSignatureMetadata(field_name="VanThu"), signer=signer, output=out)
    plain.unlink()
    return signed, doc


def test_number_and_day_drawn_by_annotations_are_read_in_place(tmp_path):
    doc = varied_document("TB", random.Random(3), 3, born_digital=True)
    path = save_born_digital(doc, tmp_path)
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        content = " ".join(w["text"] for w in pdf.pages[0].extract_words())
        drawn = [w[0] for w in annotation_words(pdf.pages[0])]
    number_digits = doc.number.split("/")[0]
    assert number_digits not in content.split()  # the page content leaves the blanks empty
    assert number_digits in drawn and f"{doc.issued_on[2]:02d}" in drawn
    text = "\n".join(s.text for s in text_layer_pages(path)[0].segments)
    assert f"Số: {number_digits} {doc.number_line[2]}" in text
    assert f"ngày {doc.issued_on[2]:02d} tháng" in text


@pytest.mark.slow
def test_signed_born_digital_result_is_archived_with_its_number_and_day(tmp_path):
    path, doc = signed_born_digital(tmp_path)
    rooms = rooms_at(tmp_path / "data")
    outcome = process(rooms, [path])[path.name]
    assert outcome.status == "archived", outcome.review_reasons
    assert outcome.fields["number"] == doc.number
    assert outcome.fields["issued_on"] == doc.issued_iso  # not the meeting date of the body
    assert outcome.doc_type.code == "TB"


def test_a_blank_date_line_is_not_replaced_by_a_date_of_the_body():
    from digitize.fields import extract_issue_date

    page = _page([[("ỦY", 300), ("BAN", 400)], [("Nghệ", 1500), ("An,", 1640), ("ngày", 1740), ("tháng", 2050),
                                                ("01", 2230), ("năm", 2300), ("2025", 2400)],
                  [("THÔNG", 1100), ("BÁO", 1300)],
                  [("Cuộc", 300), ("họp", 420), ("ngày", 520), ("12", 640), ("tháng", 700), ("12", 860),
                   ("năm", 920), ("2024", 1030)]])
    found = extract_issue_date([page])
    assert found.value is None and "blank" in found.note


# ---------------------------------------------------------------- handwritten numbers in blanks

@pytest.mark.slow
@pytest.mark.parametrize("reader", ["trueocr", "tesseract"])
def test_a_number_written_by_hand_is_read_or_pointed_at(tmp_path, reader):
    """The văn thư wrote the number into the printed blank in blue ink: sohoa reads it, or says where it is
    so the clerk types only that; it never archives a number it could not read.  With either second reader."""
    import dataclasses

    rooms = rooms_at(tmp_path / "data")
    rooms = dataclasses.replace(rooms, settings=dataclasses.replace(rooms.settings, second_reader=reader))
    docs = []
    for seed in (21, 22, 23):
        doc = varied_document("QD", random.Random(seed), seed)
        doc.number_fill, doc.day_fill = "hand", "print"
        docs.append((save_varied(doc, tmp_path, "jpg", "scan", 300), doc))
    outcomes = process(rooms, [p for p, _ in docs])
    for path, doc in docs:
        outcome = outcomes[path.name]
        if outcome.status == "archived":
            assert outcome.fields["number"] == doc.number
        else:
            assert outcome.status == "needs_review"
            number_reasons = [r for r in outcome.review_reasons if r.startswith("number")]
            if outcome.fields["number"] != doc.number:
                assert number_reasons, outcome.review_reasons
            assert all("page 1, box" in r or "reads" in r or "uncertain" in r for r in number_reasons)


def test_a_filled_in_line_is_told_from_a_printed_one():
    from digitize.reread import filled_in

    def line(*words: tuple[str, int, int, int]) -> Segment:
        return Segment(tuple(Word(t, 95.0, x, y, 28 * len(t), h) for t, x, y, h in words))

    printed = line(("Số:", 300, 200, 44), ("507/UBND-KGVX", 400, 204, 42))
    assert not filled_in(printed)
    blank = line(("Số:", 300, 200, 44), ("07", 420, 202, 42), ("/CT-UBND", 560, 204, 42))
    assert filled_in(blank)  # a gap far wider than a space after the written number
    pen = line(("ngày", 300, 200, 40), ("08", 420, 186, 58), ("tháng", 486, 200, 40), ("01", 640, 202, 38))
    assert filled_in(pen)  # digits taller than the printed words: written in


def test_two_engines_agreeing_on_what_the_page_missed_are_believed_when_it_fits_the_line():
    from digitize.fields import confirm_with_rereads
    from digitize.model import FieldValue, Reread

    line = _page([[("Số:", 300), ("/BC-UBND", 700)]])

    def read_as(text: str) -> PageText:
        return PageText(0, line.width, line.height, line.segments, "ocr", rereads=tuple(
            Reread("number", text, 60.0, (390, 190, 500, 80), f"{engine}, ink kept") for engine in
            ("trueocr", "tesseract")))

    taken = confirm_with_rereads(FieldValue(None, 0.0), [read_as("3129 /BC-UBND")], "number")
    assert taken.value == "3129/BC-UBND" and taken.confidence >= 0.7
    # "1" read as "/" by both: digits and the printed rest do not make this line; a clerk looks.
    odd = confirm_with_rereads(FieldValue(None, 0.0), [read_as("3/29 /BC-UBND")], "number")
    assert odd.confidence < 0.7


def test_an_unreadable_blank_number_says_where_it_is():
    from digitize.fields import confirm_with_rereads
    from digitize.model import FieldValue, Reread

    page = _page([[("Số:", 300), ("/QĐ-UBND", 560)]])
    page = PageText(0, page.width, page.height, page.segments, "ocr",
                    rereads=(Reread("number", "", 0.0, (390, 190, 400, 80), "tesseract, ink kept"),
                             Reread("number", "~~", 10.0, (390, 190, 400, 80), "tesseract, cleaned")))
    found = extract_number([page], CATALOGUE.get("QD"))
    assert found.value is None
    checked = confirm_with_rereads(found, [page], "number")
    assert checked.value is None and "page 1, box x=390 y=190" in checked.note
    agreed = PageText(0, page.width, page.height, page.segments, "ocr",
                      rereads=(Reread("number", "07 /QĐ-UBND", 80.0, (390, 190, 400, 80), "trueocr, ink kept"),
                               Reread("number", "07/QĐ-UBND", 75.0, (390, 190, 400, 80), "trueocr, cleaned")))
    proposed = confirm_with_rereads(FieldValue(None, 0.0), [agreed], "number")
    assert proposed.value == "07/QĐ-UBND" and proposed.confidence < 0.7  # a proposal the clerk confirms
    confirmed = confirm_with_rereads(FieldValue("07/QĐ-UBND", 0.8, "Số: 07 /QĐ-UBND"), [agreed], "number")
    assert confirmed.confidence >= 0.9
    differing = PageText(0, page.width, page.height, page.segments, "ocr",
                         rereads=(Reread("number", "01/QĐ-UBND", 80.0, (390, 190, 400, 80), "trueocr, ink kept"),
                                  Reread("number", "07/QĐ-UBND", 75.0, (390, 190, 400, 80), "trueocr, cleaned")))
    proposal = confirm_with_rereads(FieldValue("07/QĐ-UBND", 0.9, "Số: 07/QĐ-UBND"), [differing], "number")
    assert proposal.confidence < 0.7 and "01/QĐ-UBND" in proposal.note
    # A line read surely is questioned only when another engine's crops agree on something else.
    sure = PageText(0, page.width, page.height, page.segments, "ocr",
                    rereads=(Reread("number", "07/QĐ-UBND", 80.0, (390, 190, 400, 80), "trueocr, ink kept", False),
                             Reread("number", "garbled", 5.0, (390, 190, 400, 80), "trueocr, cleaned", False)))
    kept = confirm_with_rereads(FieldValue("07/QĐ-UBND", 0.9, "Số: 07/QĐ-UBND"), [sure], "number")
    assert kept.confidence == 0.9 and kept.note is None


def test_a_holder_read_with_other_marks_waits_and_one_with_lost_marks_does_not():
    from digitize.fields import confirm_holder
    from digitize.model import FieldValue, Reread

    def with_readings(*texts: str) -> PageText:
        return PageText(0, 2480, 3508, (), "ocr", rereads=tuple(
            Reread("holder", text, 90.0, (900, 700, 600, 100), f"trueocr, {source}", False)
            for text, source in zip(texts, ("ink kept", "cleaned"), strict=True)))

    page_value = FieldValue("TRẦN TRỌNG HIỂU", 0.9, "Họ và tên: …")
    assert confirm_holder(page_value, [with_readings("TRẦN TRỌNG HIẾU", "TRẦN TRỌNG HIẾU")]).confidence < 0.7
    assert confirm_holder(page_value, [with_readings("TRAN TRỌNG HIỂU", "TRAN TRỌNG HIỂU")]).confidence == 0.9
    # The page's LÂM is a surname, the second reader's LẢM is not: its slip, not another name.
    surname = FieldValue("LÂM THỊ OANH", 0.9, "Họ và tên: …")
    assert confirm_holder(surname, [with_readings("LẢM THỊ OANH", "LẢM THỊ OANH")]).confidence == 0.9
    company = FieldValue("CÔNG TY CỔ PHẦN TRƯỜNG THỊNH", 0.9, "Tên doanh nghiệp: …")
    assert confirm_holder(company, [with_readings("CÔNG TY CỔ PHẮN TRƯỜNG THỊNH", "")]).confidence == 0.9
    # TRÌNH and TRỊNH are both surnames: nothing says which, the clerk looks.
    both_known = FieldValue("TRÌNH THỊ OANH", 0.9, "Họ và tên: …")
    assert confirm_holder(both_known, [with_readings("TRỊNH THỊ OANH", "TRỊNH THỊ OANH")]).confidence < 0.7
    proposed = FieldValue("LÊ QUANG HUY", 0.5, "Họ và tên: …", "LỄ read, LÊ proposed")
    confirmed = confirm_holder(proposed, [with_readings("LÊ QUANG HUY", "LÊ QUANG HUY")])
    assert confirmed.confidence >= 0.85 and confirmed.note is None
    # HIỂU is no known name, but HIẾU and HIỆU are: two readers can make the same slip on its mark, and their
    # agreement leaves it to the clerk.
    doubtful = FieldValue("MAI HOÀI HIỂU", 0.5, "Chủ đầu tư: …", "HIỂU is not a known name (maybe HIẾU or HIỆU)")
    assert confirm_holder(doubtful, [with_readings("MAI HOÀI HIỂU", "MAI HOÀI HIỂU")]).confidence < 0.7


def test_a_number_cut_from_its_symbol_is_not_archived():
    page = _page([[("Số:", 300), ("445", 400), ("/TTrVP", 700)]])
    found = extract_number([page], CATALOGUE.get("TTR"))
    assert found.value == "445/TTr-VP"  # joined across the blank, the lost hyphen put back after the kind
    alone = _page([[("Số:", 300), ("445", 400)]])
    assert extract_number([alone], CATALOGUE.get("TTR")).confidence < 0.7  # Decree 30: N/KIND-ISSUER


def test_an_unknown_second_reader_is_refused(tmp_path):
    bad = run_cli("process", str(tmp_path), data_dir=tmp_path / "data", check=False,
                  env_extra={"SOHOA_SECOND_READER": "vietocr"})
    message = " ".join(bad.stderr.split())
    assert bad.returncode == 2 and "SOHOA_SECOND_READER must be one of auto, trueocr, tesseract" in message


# ---------------------------------------------------------------- holders after labels, companies

@pytest.mark.parametrize(("line", "expected"), [
    ("Ông/Bà: TRẦN XUÂN ƯỚC", "TRẦN XUÂN ƯỚC"),
    ("Cấp cho: (Bà) Trần Xuân Ước", "Trần Xuân Ước"),
    ("1. Họ và tên: LÊ THỊ HẠNH Giới tính: Nữ", "LÊ THỊ HẠNH"),
    ("- Họ, chữ đệm, tên: ĐINH CÔNG TÙNG", "ĐINH CÔNG TÙNG"),
])
def test_a_label_is_never_part_of_the_holder(line, expected):
    words = [(w, 300 + 120 * i) for i, w in enumerate(line.split())]
    found = extract_holder([_page([words])], CATALOGUE.get("KS"))
    assert found.value == expected


def test_company_and_household_business_holders():
    hkd = _page([[("Tên", 300), ("hộ", 400), ("kinh", 480), ("doanh:", 580), ("HỘ", 760), ("KINH", 840),
                  ("DOANH", 960), ("PHÚC", 1120), ("LỘC", 1240)]])
    assert extract_holder([hkd], CATALOGUE.get("HKD")).value == "HỘ KINH DOANH PHÚC LỘC"
    company = _page([[("Tên", 300), ("doanh", 400), ("nghiệp:", 560), ("CÔNG", 760), ("TY", 880), ("TNHH", 960),
                      ("ĐẠI", 1120), ("NAM", 1220)]])
    assert extract_holder([company], CATALOGUE.get("DKDN")).value == "CÔNG TY TNHH ĐẠI NAM"


def test_a_holder_in_a_table_row():
    table = _page([[("Họ", 300), ("và", 380), ("tên", 450)], [("Dân", 300), ("tộc", 400)]])
    # The value cell sits on the label's line, right of it, as its own segment.
    label = table.segments[0]
    value = Segment(tuple(Word(t, 95.0, x, label.y, 28 * len(t), 40) for t, x in
                          (("KIỀU", 1000), ("DIỆU", 1140), ("OANH", 1290))))
    page = PageText(0, 2480, 3508, (label, value, table.segments[1]), "ocr")
    assert extract_holder([page], CATALOGUE.get("KH")).value == "KIỀU DIỆU OANH"


# ---------------------------------------------------------------- the symbol bug

def test_the_issuers_abbreviation_stays_inside_a_blank_symbol():
    page = _page([[("ỦY", 300), ("BAN", 380), ("NHÂN", 470), ("DÂN", 590)], [("TỈNH", 320), ("NGHỆ", 440),
                  ("AN", 560)], [("Số:", 300), ("/UBND-KGVX", 560)], [("V/v", 300), ("rà", 380), ("soát", 440)]])
    issuer = extract_issuer([page])
    assert issuer.value == "ỦY BAN NHÂN DÂN TỈNH NGHỆ AN"
    assert "KGVX" not in issuer.value


# ---------------------------------------------------------------- issuing registers

def _register_csv(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["STT", "Số, ký hiệu", "Ngày tháng", "Tên loại", "Trích yếu nội dung", "Người ký"])
        for i, (number, date, kind, summary) in enumerate(rows, start=1):
            writer.writerow([i, number, date, kind, summary, "Trịnh Văn Tâm"])
    return path


def test_register_files_are_read_by_their_column_titles(tmp_path):
    entries = read_register(_register_csv(tmp_path / "so-di-2019.csv", [
        ("125/QĐ-UBND", "08/04/2019", "Quyết định", "Về việc kiện toàn bộ phận một cửa"),
        ("126/TB-UBND", "2019-04-09", "Thông báo", "Kết luận cuộc họp giao ban")]))
    assert [(e.number, e.issued_on, e.kind) for e in entries] == [("125/QĐ-UBND", "2019-04-08", "Quyết định"),
                                                                 ("126/TB-UBND", "2019-04-09", "Thông báo")]
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["SỔ ĐĂNG KÝ VĂN BẢN ĐI NĂM 2019"])
    sheet.append(["Số, ký hiệu", "Ngày tháng", "Tên loại", "Trích yếu"])
    sheet.append(["7/CT-UBND", dt.datetime(2019, 5, 2), "Chỉ thị", "Tăng cường số hóa"])
    book.save(tmp_path / "so-di.xlsx")
    assert read_register(tmp_path / "so-di.xlsx")[0].issued_on == "2019-05-02"
    (tmp_path / "bad.csv").write_text('"Số, ký hiệu",Ngày tháng\n5/QĐ-UBND,hôm qua\n', "utf-8")
    with pytest.raises(RegisterError, match="line 2"):
        read_register(tmp_path / "bad.csv")


def test_register_match_strong_and_ambiguous():
    qd = CATALOGUE.get("QD")
    text = "QUYẾT ĐỊNH Về việc kiện toàn bộ phận tiếp nhận và trả kết quả một cửa của xã"
    entries = [RegisterEntry("125/QĐ-UBND", "2019-04-08", "Quyết định", "Về việc kiện toàn bộ phận một cửa", "", "so"),
               RegisterEntry("126/QĐ-UBND", "2019-04-08", "Quyết định", "Về việc phê duyệt kế hoạch vốn", "", "so"),
               RegisterEntry("127/TB-UBND", "2019-04-08", "Thông báo", "Kiện toàn bộ phận một cửa", "", "so")]
    strong = match_register(entries, qd, text, "Số: /QĐ-UBND", "2019-04-08", None)
    assert strong is not None and strong.entry is not None and strong.entry.number == "125/QĐ-UBND"
    assert "issuing register so" in strong.evidence
    twins = [*entries, RegisterEntry("128/QĐ-UBND", "2019-04-08", "Quyết định",
                                     "Về việc kiện toàn bộ phận một cửa cấp xã", "", "so")]
    ambiguous = match_register(twins, qd, text, "Số: /QĐ-UBND", "2019-04-08", None)
    assert ambiguous is not None and ambiguous.entry is None and len(ambiguous.candidates) == 2


@pytest.mark.slow
def test_a_register_turns_an_unreadable_handwritten_number_into_an_archived_result(tmp_path):
    data = tmp_path / "data"
    doc = varied_document("QD", random.Random(31), 31)
    doc.number_fill, doc.day_fill = "hand", "hand"
    doc.body = ["Về việc kiện toàn Bộ phận tiếp nhận và trả kết quả giải quyết thủ tục hành chính của huyện.",
                *doc.body]
    scan = save_varied(doc, tmp_path, "png", "scan", 300)
    year, month, day = doc.issued_on
    other_day = dt.date(year, month, day) + dt.timedelta(days=1)
    register = _register_csv(tmp_path / "so-di.csv", [
        (doc.number, f"{day:02d}/{month:02d}/{year}", "Quyết định",
         "Về việc kiện toàn Bộ phận tiếp nhận và trả kết quả giải quyết thủ tục hành chính"),
        (f"9{doc.number}", other_day.strftime("%d/%m/%Y"), "Quyết định", "Về việc phê duyệt dự toán ngân sách"),
    ])
    imported = run_cli("registers", "import", str(register), "--name", "so-di-2020", data_dir=data)
    assert "2 entries added" in imported.stdout
    again = run_cli("registers", "import", str(register), "--name", "so-di-2020", data_dir=data)
    assert "0 entries added, 2 already there" in again.stdout
    assert "so-di-2020" in run_cli("registers", "list", data_dir=data).stdout
    outcome = process(rooms_at(data), [scan])[scan.name]
    assert outcome.fields["number"] == doc.number
    assert outcome.fields["issued_on"] == doc.issued_iso
    assert outcome.status == "archived", outcome.review_reasons


# ---------------------------------------------------------------- non-documents

@pytest.mark.slow
def test_noise_and_photos_are_rejected_with_a_reason(tmp_path):
    paths = [noise_page(tmp_path, 1, "noise"), noise_page(tmp_path, 2, "photo"), noise_page(tmp_path, 3, "dark")]
    outcomes = process(rooms_at(tmp_path / "data"), paths)
    for path in paths:
        assert outcomes[path.name].status == "rejected", (path.name, outcomes[path.name].review_reasons)
        assert outcomes[path.name].error


def _readings(*pairs: tuple[str, str]) -> PageText:
    page = _page([[("Số:", 300), ("/QĐ-UBND", 560)]])
    return PageText(0, page.width, page.height, page.segments, "ocr", rereads=tuple(
        Reread("number", text, 80.0, (390, 190, 400, 80), f"{engine}, ink kept") for engine, text in pairs))


def test_the_page_cut_short_takes_the_whole_symbol_only_when_every_engine_reads_it():
    from digitize.fields import confirm_with_rereads

    cut = FieldValue("144/2016/XN", 0.45, "Số: 144/2016/XN#⁄N")
    # Tesseract reads a longer symbol, TrueOCR another: nothing says which, so the clerk looks.
    split = confirm_with_rereads(cut, [_readings(("trueocr", "144/2016ANHN_H"), ("tesseract", "144/2016/XNN Hc"))],
                                 "number")
    assert split.confidence < 0.7
    agreed = confirm_with_rereads(cut, [_readings(("trueocr", "144/2016/XNHN"), ("tesseract", "144/2016/XNHN"))],
                                  "number")
    assert agreed.value == "144/2016/XNHN" and agreed.confidence >= 0.7


def test_symbols_outside_decree_30_form_wait_for_a_clerk():
    from digitize.fields import check_symbol

    commune = "ỦY BAN NHÂN DÂN XÃ HOÀN TRẠCH"
    province = "ỦY BAN NHÂN DÂN TỈNH KIÊN GIANG"
    cases = {
        ("XNHN", "144/2016/XNNHc", commune): "lower-case",  # a speck after the symbol read as a letter
        ("NQ", "513/NGQ-UBND", province): "names the kind NGQ, the title NQ",
        ("QYD", "434/QyĐ-UBNDK", province): "not the issuer's initials (UBND)",
        ("CT", "658/CT-UBND1", province): "not the issuer's initials (UBND)",
        ("CT", "658/CT-VP1", province): "mixes digits and letters",
        ("QD", "752/QĐ-UBND", province): None,
        ("TTR", "216/TTr-UBND", province): None,  # TTr is how Decree 30 writes the kind
        ("BC", "1414/BC-SKHĐT", "ỦY BAN NHÂN DÂN TỈNH BẮC GIANG SỞ KẾ HOẠCH VÀ ĐẦU TƯ"): None,  # "và" left out
        ("XNHN", "144/2016/XNHN", commune): None,
    }
    for (code, symbol, issuer), problem in cases.items():
        checked = check_symbol(FieldValue(symbol, 0.9, f"Số: {symbol}"), CATALOGUE.get(code), issuer)
        if problem is None:
            assert checked.confidence == 0.9 and checked.note is None, symbol
        else:
            assert checked.confidence < 0.7 and problem in checked.note, (symbol, checked.note)
    # A hyphen lost after the kind the title names is put back: "839/CTUBND" of a chỉ thị.
    restored = check_symbol(FieldValue("839/CTUBND", 0.9, "Số: 839/CTUBND"), CATALOGUE.get("CT"), province)
    assert restored.value == "839/CT-UBND" and restored.confidence == 0.9


def test_of_readings_with_the_same_digits_the_one_in_decree_30_form_is_taken():
    from digitize.fields import confirm_with_rereads, symbol_fits

    fits = symbol_fits(CATALOGUE.get("NQ"), "ỦY BAN NHÂN DÂN TỈNH KIÊN GIANG")
    read = FieldValue("513/NGQ-UBND", 0.58, "Số: 513 /NGQ-UBND")
    taken = confirm_with_rereads(read, [_readings(("trueocr", "513/NQ-UBND"), ("tesseract", "513/NGQ-UBND"))],
                                 "number", fits)
    assert taken.value == "513/NQ-UBND" and taken.confidence >= 0.7 and "Decree 30" in taken.evidence
    # Other digits: no form decides between 513 and 573.
    other = confirm_with_rereads(read, [_readings(("trueocr", "573/NQ-UBND"), ("tesseract", "513/NGQ-UBND"))],
                                 "number", fits)
    assert other.confidence < 0.7
    # Two readings in the form (UBND and UB are both the issuer's initials): nothing decides.
    both = confirm_with_rereads(FieldValue("513/NQ-UB", 0.58, "Số: 513/NQ-UB"),
                                [_readings(("trueocr", "513/NQ-UBND"), ("tesseract", "513/NQ-UB"))], "number", fits)
    assert both.confidence < 0.7


def test_the_blank_is_found_between_the_printed_words_around_it():
    from digitize.reread import blank_of

    number, date, printed = _page([
        [("Số:", 300), ("#34", 420), ("/QyĐ-UBND", 620)],
        [("Kiên", 1300), ("Giang,", 1440), ("ngày", 1630), ("LỐ", 1800), ("tháng", 1900), ("02", 2060),
         ("năm", 2130), ("2016", 2230)],
        [("Số:", 300), ("93/TP-HT", 400)],
    ]).segments
    assert blank_of(number, "number") == (300 + 28 * 3, 620, "{} /QyĐ-UBND")
    assert blank_of(date, "issued_on") == (1630 + 28 * 4, 1900, "ngày {} tháng 02 năm 2016")
    assert blank_of(printed, "number") is None  # no printed tail apart: nothing says where a blank would end
    narrow = _page([[("Số:", 300), ("/CT-UBND", 400)]]).segments[0]
    assert blank_of(narrow, "number") is None  # "Số: /CT-UBND" with no room for a number: not a blank


def test_a_blank_reading_stands_in_the_printed_rest_only_when_that_rest_was_read_surely():
    from digitize.reread import _filled, _printed_rest_sure

    assert _filled("{} /QyĐ-UBND", "4 3 4") == "434 /QyĐ-UBND"
    assert _filled("ngày {} tháng 02 năm 2016", "O8") == "ngày 08 tháng 02 năm 2016"  # a pen's 0 read as O
    unsure_tail = Segment((Word("Số:", 95, 300, 200, 80, 40), Word("/GM-UBND", 37, 620, 200, 220, 40)))
    # Both readings of the blank share the tail: a tail read unsurely needs another engine's whole line.
    assert not _printed_rest_sure("number", unsure_tail, "{} /GM-UBND", [])
    assert not _printed_rest_sure("number", unsure_tail, "{} /GM-UBND", ["4725 /GM-UBNĐ1"])
    assert _printed_rest_sure("number", unsure_tail, "{} /GM-UBND", ["4725 /GM-UBND"])
    date_line = Segment((Word("ngày", 95, 1630, 200, 100, 40), Word("tháng", 60, 1900, 200, 120, 40),
                         Word("02", 60, 2060, 200, 50, 40), Word("năm", 95, 2130, 200, 80, 40),
                         Word("2016", 95, 2230, 200, 100, 40)))
    assert not _printed_rest_sure("issued_on", date_line, "ngày {} tháng 02 năm 2016", ["ngày 16 tháng 03 năm 2016"])
    assert _printed_rest_sure("issued_on", date_line, "ngày {} tháng 02 năm 2016", ["ngày l6 tháng 02 nãm 2016"])


@pytest.mark.slow
def test_a_blank_filled_in_by_hand_is_read_apart_and_archived_when_two_engines_agree(tmp_path):
    """Generator A's văn thư writes the number and the day by hand: the blanks are cropped alone and read as
    digits by the engines and by the digit reader; what they read the same is archived, nothing archived wrong."""
    from digitize.training import synth_document
    from samples.make_samples import save_sample
    from samples.synth import to_spec

    rng = random.Random(5150)
    docs = {}
    for seed, code in enumerate(("CT", "QD", "HD", "BC")):
        doc = synth_document(CATALOGUE.get(code), rng, 700 + seed)
        docs[save_sample(to_spec(doc, "jpg", fill="hand"), tmp_path).name] = doc
    outcomes = process(rooms_at(tmp_path / "data"), sorted(tmp_path / name for name in docs))
    archived = 0
    for name, doc in docs.items():
        outcome = outcomes[name]
        d, m, y = doc.issued_on
        if outcome.status == "archived":
            archived += 1
            assert outcome.fields["number"] == doc.number and outcome.fields["issued_on"] == f"{y:04d}-{m:02d}-{d:02d}"
        else:
            assert any(r.startswith(("number", "issued_on")) for r in outcome.review_reasons), outcome.review_reasons
    assert archived >= 2, {name: o.review_reasons for name, o in outcomes.items()}
    # The blanks themselves, read apart as digits by both engines, in the line's printed rest.
    from digitize.intake import inspect
    from digitize.pages import run_page
    from digitize.workers import PageJob

    name, doc = next(iter(docs.items()))
    page = run_page(PageJob(tmp_path / name, inspect(tmp_path / name).kind, 0, tmp_path)).page
    blanks = {r.source: r.text for r in page.rereads if r.source.endswith("blank")}
    d, m, y = doc.issued_on
    assert {"trueocr, blank", "digits, blank"} <= set(blanks), page.rereads
    assert any(text.startswith(f"ngày {d:02d} ") or text.startswith(doc.number.split("/")[0] + " ")
               for text in blanks.values()), blanks


def _minutes_page(rereads: tuple[Reread, ...]) -> PageText:
    """A biên bản (its number not required) whose header number line reads "Số: 222/BB-UBND"."""
    def line(y: int, x: int, *texts: str) -> Segment:
        words, at = [], x
        for text in texts:
            words.append(Word(text, 95.0, at, y, 26 * len(text), 44))
            at += 26 * len(text) + 18
        return Segment(tuple(words))

    segments = (line(160, 300, "ỦY", "BAN", "NHÂN", "DÂN"), line(220, 300, "TỈNH", "ĐỒNG", "THÁP"),
                line(280, 300, "Số:", "222/BB-UBND"),
                line(160, 1450, "CỘNG", "HÒA", "XÃ", "HỘI", "CHỦ", "NGHĨA", "VIỆT", "NAM"),
                line(220, 1500, "Độc", "lập", "-", "Tự", "do", "-", "Hạnh", "phúc"),
                line(280, 1450, "Đồng", "Tháp,", "ngày", "14", "tháng", "3", "năm", "2018"),
                line(420, 1100, "BIÊN", "BẢN"),
                line(500, 300, "Cuộc", "họp", "lúc", "8", "giờ", "đã", "thống", "nhất", "các", "nội", "dung", "sau."),
                line(560, 300, "Biên", "bản", "được", "lập", "thành", "hai", "bản", "có", "giá", "trị", "như", "nhau."))
    return PageText(0, 2480, 3508, segments, "ocr", rereads=rereads)


def test_a_field_the_type_does_without_waits_when_read_unsurely(tmp_path):
    """A biên bản needs no number, but one read is archived: read unsurely (a second reading differs: a pen's
    999 read as 222 on the page), the document waits; read surely, it does not wait for it."""
    from digitize.understand import understand

    rooms = rooms_at(tmp_path / "data")
    box = (454, 270, 600, 70)
    differing = (Reread("number", "999/BB-UBND", 90.0, box, "trueocr, ink kept", True),
                 Reread("number", "9 o9/BB-UBND", 48.0, box, "tesseract, ink kept", True))
    read = understand([_minutes_page(differing)], rooms.catalogue, rooms.text_model, rooms.agencies, 0.8)
    assert read.classification.type_code == "BB" and "number" not in CATALOGUE.get("BB").required
    assert any(r.startswith("number read uncertainly") and "999/BB-UBND" in r for r in read.review_reasons), \
        read.review_reasons
    sure = understand([_minutes_page(())], rooms.catalogue, rooms.text_model, rooms.agencies, 0.8)
    assert not any(r.startswith("number") for r in sure.review_reasons), sure.review_reasons


def _pen_number_line(pen: str, printed_rest: str | None = None):
    """A number line: "So:" printed, ``pen`` in a script hand after it, then ``printed_rest`` ("/QD-UBND")
    printed; (the image, its grey version)."""
    import cv2
    import numpy as np

    image = np.full((600, 1200, 3), 255, np.uint8)
    cv2.putText(image, "So:", (40, 120), cv2.FONT_HERSHEY_DUPLEX, 1.4, (0, 0, 0), 2, cv2.LINE_AA)
    cv2.putText(image, pen, (138, 122), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 1.8, (0, 0, 0), 3, cv2.LINE_AA)
    if printed_rest:
        cv2.putText(image, printed_rest, (262, 120), cv2.FONT_HERSHEY_DUPLEX, 1.4, (0, 0, 0), 2, cv2.LINE_AA)
    return image, cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def test_a_number_the_page_read_surely_is_checked_by_the_digit_reader():
    """A pen's digits in black ink, upright, that the page read surely and wrongly (457 as 427): the digit
    reader reads the blank otherwise, and the line is read again by every reader."""
    import cv2
    import numpy as np

    from digitize.ocr import OcrConfig
    from digitize.reread import reread_blanks

    image = np.full((600, 1200, 3), 255, np.uint8)
    cv2.putText(image, "So:", (40, 120), cv2.FONT_HERSHEY_DUPLEX, 1.4, (0, 0, 0), 2, cv2.LINE_AA)
    cv2.putText(image, "457", (138, 122), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 1.8, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(image, "/QD-UBND", (268, 120), cv2.FONT_HERSHEY_DUPLEX, 1.4, (0, 0, 0), 2, cv2.LINE_AA)
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    # Set as the page reads a line that was not filled in: no gap, no digit taller or off the baseline.
    words = (Word("Số:", 96.0, 40, 88, 80, 34), Word("427", 95.0, 135, 86, 120, 36),
             Word("/QĐ-UBND", 96.0, 265, 88, 230, 34))
    rereads = reread_blanks((Segment(words),), gray, image, np.float64([[1, 0, 0], [0, 1, 0]]), OcrConfig())
    blanks = {r.source: r.text for r in rereads if r.field == "number" and r.source.endswith("blank")}
    assert blanks.get("digits, blank") == "457 /QĐ-UBND", rereads
    assert len(blanks) >= 2  # read again by the other readers too
    # Printed digits the digit reader reads as the page did: no second reading at all.
    printed = np.full((600, 1200, 3), 255, np.uint8)
    for text, x in (("So:", 40), ("427", 138), ("/QD-UBND", 268)):
        cv2.putText(printed, text, (x, 120), cv2.FONT_HERSHEY_DUPLEX, 1.4, (0, 0, 0), 2, cv2.LINE_AA)
    gray = cv2.cvtColor(printed, cv2.COLOR_RGB2GRAY)
    assert reread_blanks((Segment(words),), gray, printed, np.float64([[1, 0, 0], [0, 1, 0]]), OcrConfig()) == ()


def test_a_number_written_against_its_printed_slash_is_checked_up_to_the_slash():
    """"Số: 351/2016": the pen's 351 touches the printed "/2016", and the page reads one word, surely and wrongly
    (357/2016); the digit reader reads up to the slash, and its reading stands against the page's."""
    import numpy as np

    from digitize.ocr import OcrConfig
    from digitize.reread import reread_blanks

    image, gray = _pen_number_line("351", "/2016")
    words = (Word("Số:", 96.0, 40, 88, 80, 34), Word("357/2016", 94.0, 135, 86, 260, 36))
    rereads = reread_blanks((Segment(words),), gray, image, np.float64([[1, 0, 0], [0, 1, 0]]), OcrConfig())
    assert ("digits, blank", "351/2016") in {(r.source, r.text) for r in rereads}, rereads
    page = PageText(0, 1200, 600, (Segment(words),), "ocr", rereads=rereads)
    from digitize.fields import confirm_with_rereads

    checked = confirm_with_rereads(FieldValue("357/2016", 0.9, "Số: 357/2016"), [page], "number")
    by_trueocr = {r.text for r in rereads if r.source.startswith("trueocr")}
    if {t.replace(" ", "") for t in by_trueocr} & {"351/2016"}:  # two readers alike against the page: taken
        assert checked.value == "351/2016", checked
    else:
        assert checked.confidence < 0.7 and "351/2016" in checked.note, checked


def test_a_number_is_read_again_without_the_right_columns_words_on_its_row():
    """The date line's place can start left of the page's middle, on the number's row: the number's crop stops
    before it, or a reader reads its first letter into the symbol ("943/QĐ-VP" as "943/QĐ-VPH")."""
    import cv2
    import numpy as np

    from digitize.ocr import OcrConfig
    from digitize.reread import reread_blanks

    image = np.full((600, 1200, 3), 255, np.uint8)
    cv2.putText(image, "So: 943/QD-VP", (40, 120), cv2.FONT_HERSHEY_DUPLEX, 1.0, (0, 0, 0), 2, cv2.LINE_AA)
    cv2.putText(image, "Hoan Trach, ngay 5 thang 3", (470, 120), cv2.FONT_HERSHEY_DUPLEX, 1.0, (0, 0, 0), 2,
                cv2.LINE_AA)
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    number = Segment((Word("Số:", 96.0, 40, 96, 56, 26), Word("943/QĐ-VP", 40.0, 104, 96, 180, 26)))
    date = Segment(tuple(Word(t, 95.0, x, 96, 20 * len(t), 26)
                         for t, x in (("Hoan", 470), ("Trach,", 560), ("ngay", 690), ("5", 780), ("thang", 810),
                                      ("3", 930))))
    rereads = reread_blanks((number, date), gray, image, np.float64([[1, 0, 0], [0, 1, 0]]), OcrConfig())
    boxes = {r.box for r in rereads if r.field == "number"}
    assert boxes and all(x + w <= 470 for x, _, w, _ in boxes), rereads


def test_of_a_results_readings_with_the_same_digits_the_one_with_known_letters_is_taken():
    """A result's symbol ("217/TP-HT"): its printed letters read as "H7" by one reader are a misreading; the
    reading whose letter parts are all known (Tư pháp – Hộ tịch, the type's code, the issuer's initials) is
    taken when every reading shares its digits, and never where two readings are both in form."""
    from digitize.fields import confirm_with_rereads, symbol_fits

    fits = symbol_fits(CATALOGUE.get("KS"), "ỦY BAN NHÂN DÂN XÃ HÒA NGHĨA")
    read = FieldValue("217/TP-HT", 0.6, "Số: 217/TP-HT")
    taken = confirm_with_rereads(read, [_readings(("trueocr", "217/TP-H7"), ("tesseract", "217/TP-HT"))],
                                 "number", fits)
    assert taken.value == "217/TP-HT" and taken.confidence >= 0.7, taken
    # A reading in form that another reading goes on past may be cut short: "616/TP" (TrueOCR's "616/TP-#T",
    # read up to its mark) against the page's "616/TP-T" of a 616/TP-HT.
    cut = confirm_with_rereads(FieldValue("616/TP-T", 0.45, "Số: 616/TP-T"),
                               [_readings(("trueocr", "616/TP-#T"), ("tesseract", "616/TP-T"))], "number", fits)
    assert cut.confidence < 0.7, cut
    # Letters nobody knows ("TP-NT") against known ones are no choice when both are clean: a clerk looks.
    unknown = confirm_with_rereads(read, [_readings(("trueocr", "217/TP-NT"), ("tesseract", "217/TP-HT"))],
                                   "number", fits)
    assert unknown.value == "217/TP-HT"  # TP-NT is not in form, so the known one stands
    both = confirm_with_rereads(FieldValue("217/KS", 0.6, "Số: 217/KS"),
                                [_readings(("trueocr", "217/HT"), ("tesseract", "217/KS"))], "number", fits)
    assert both.confidence < 0.7, both
    # Other digits: no form decides.
    other = confirm_with_rereads(read, [_readings(("trueocr", "211/TP-HT"), ("tesseract", "217/TP-HT"))],
                                 "number", fits)
    assert other.confidence < 0.7
    # The page read nothing (a stamp over the line): the engines' readings alone, the same way.
    unread = FieldValue(None, 0.0, "Số: ……", "the number is blank or unreadable")
    stamped = confirm_with_rereads(unread, [_readings(("trueocr", "812/TP-RT"), ("tesseract", "812/TP-HT"))],
                                   "number", fits)
    assert stamped.value == "812/TP-HT" and stamped.confidence >= 0.7, stamped
    apart = confirm_with_rereads(unread, [_readings(("trueocr", "812/TP-HT"), ("tesseract", "817/TP-HT"))],
                                 "number", fits)
    assert apart.confidence < 0.7, apart


def test_a_header_line_that_runs_into_the_motto_in_a_pdf_is_two_lines(tmp_path):
    """A born-digital PDF whose long issuer line touches the motto ("UBND TỈNH ĐỒNG THÁPCỘNG HÒA…"): the text
    layer joins the touching letters into one word, which is split where the motto starts."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    from digitize.fields import extract_issue_date, extract_issuer
    from samples.varied import FONT_FILES

    pdfmetrics.registerFont(TTFont("T-serif", FONT_FILES["serif"]))
    path = tmp_path / "touching.pdf"
    pdf = canvas.Canvas(str(path), pagesize=(595, 842))
    pdf.setFont("T-serif", 12)
    left = "UBND TỈNH ĐỒNG THÁP"
    pdf.drawString(60, 790, left)
    pdf.drawString(60 + pdfmetrics.stringWidth(left, "T-serif", 12), 790, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    pdf.drawString(80, 774, "SỞ Y TẾ")
    pdf.drawString(330, 774, "Độc lập - Tự do - Hạnh phúc")
    pdf.drawString(110, 745, "Số: 65/2018")
    pdf.drawString(300, 745, "Đồng Tháp, ngày 18 tháng 10 năm 2018")
    pdf.drawString(220, 700, "CHỨNG CHỈ HÀNH NGHỀ")
    pdf.drawString(60, 660, "Cuộc họp ngày 15 tháng 3 năm 2021 đã thống nhất các nội dung sau đây.")
    pdf.save()
    pages = text_layer_pages(path)
    texts = [s.text for s in pages[0].segments]
    assert "UBND TỈNH ĐỒNG THÁP" in texts and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in texts, texts
    assert extract_issuer(pages).value == "ỦY BAN NHÂN DÂN TỈNH ĐỒNG THÁP SỞ Y TẾ"
    issued = extract_issue_date(pages)
    assert issued.value == "2018-10-18" and issued.confidence >= 0.7, issued


def _printed_line(texts: list[str], y: int = 120) -> tuple[object, list[tuple[int, int, int, int]]]:
    """An image with ``texts`` printed on one line, and each one's box (x, y, w, h)."""
    import cv2
    import numpy as np

    image = np.full((300, 1400, 3), 255, np.uint8)
    boxes, x = [], 40
    for text in texts:
        (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_DUPLEX, 1.2, 2)
        cv2.putText(image, text, (x, y), cv2.FONT_HERSHEY_DUPLEX, 1.2, (0, 0, 0), 2, cv2.LINE_AA)
        boxes.append((x, y - h, w, h + base // 2))
        x += w + 16
    return image, boxes


def test_a_printed_year_the_page_read_surely_and_wrongly_is_checked_by_the_digit_reader():
    """A printed "năm 1993" the page read as 1995 with 92 % confidence, every other word sure: the digit reader
    reads the printed day, month and year, and where it surely reads other digits the line is read again and
    the page's date is not archived on its own word."""
    import cv2
    import numpy as np

    from digitize.fields import confirm_with_rereads
    from digitize.ocr import OcrConfig
    from digitize.reread import reread_blanks

    printed = ["Ha", "Noi,", "ngay", "08", "thang", "4", "nam", "1993"]
    image, boxes = _printed_line(printed)
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    identity = np.float64([[1, 0, 0], [0, 1, 0]])
    read = ["Hà", "Nội,", "ngày", "08", "tháng", "4", "năm", "1995"]
    words = tuple(Word(text, 92.0 if text == "1995" else 96.0, *box) for text, box in zip(read, boxes, strict=True))
    page_line = Segment(words)
    rereads = reread_blanks((page_line,), gray, image, identity, OcrConfig())
    by_digits = [r.text for r in rereads if r.source == "digits, printed"]
    assert by_digits == ["Hà Nội, ngày 08 tháng 4 năm 1993"], rereads
    page = PageText(0, 1400, 300, (page_line,), "ocr", rereads=rereads)
    checked = confirm_with_rereads(FieldValue("1995-04-08", 0.92, "ngày 08 tháng 4 năm 1995"), [page], "issued_on")
    assert checked.value == "1993-04-08" or (checked.confidence < 0.7 and checked.note), checked
    # The same line read right: the digit reader agrees, and no second reading is made.
    right = tuple(Word(text, 96.0, *box) for text, box in zip([*read[:-1], "1993"], boxes, strict=True))
    assert reread_blanks((Segment(right),), gray, image, identity, OcrConfig()) == ()


def test_printed_digits_the_page_and_trueocr_read_alike_stand_against_the_digit_reader():
    """The digit reader, made for a pen's digits, only raises a doubt on printed ones: where the page and TrueOCR
    read a printed month alike, the page's date stands; where TrueOCR sides with the digit reader, a clerk looks."""
    from digitize.fields import confirm_with_rereads

    line = "Nghĩa Tâm, ngày 24 tháng 01 năm 2019"
    box = (900, 300, 640, 70)
    segment = Segment((Word("ngày", 96.0, 900, 310, 80, 40),))
    page_value = FieldValue("2019-01-24", 0.9, "ngày 24 tháng 01 năm 2019")

    def checked(trueocr: str) -> FieldValue:
        rereads = (Reread("issued_on", trueocr, 90.0, box, "trueocr, ink kept", True),
                   Reread("issued_on", line.replace("01", "07"), 95.0, box, "digits, printed", True))
        page = PageText(0, 2480, 3508, (segment,), "ocr", rereads=rereads)
        return confirm_with_rereads(page_value, [page], "issued_on")

    assert checked("ngày 24 tháng 01 năm 2019") == page_value
    doubted = checked("ngày 24 tháng 07 năm 2019")
    assert doubted.confidence < 0.7 and doubted.note, doubted


def test_a_holder_in_mixed_case_keeps_the_known_name_against_a_slip_on_its_mark():
    """"Đinh Xuân Hạnh" on the page, "Đinh Xuản Hạnh" by a second reader: XUẢN is no name, the page's stands."""
    from digitize.fields import confirm_holder

    segment = Segment((Word("Đinh", 96.0, 400, 900, 80, 40),))
    value = FieldValue("Đinh Xuân Hạnh", 0.8, "Họ và tên: …")
    rereads = (Reread("holder", "Đinh Xuản Hạnh", 90.0, (400, 890, 400, 60), "trueocr, ink kept", True),)
    page = PageText(0, 2480, 3508, (segment,), "ocr", rereads=rereads)
    assert confirm_holder(value, [page]).confidence >= 0.8
    # Both known names (HIẾU, HIỆU): the readers differ on a name, and a clerk looks.
    other = (Reread("holder", "Đinh Xuân Hiệu", 90.0, (400, 890, 400, 60), "trueocr, ink kept", True),)
    hieu = FieldValue("Đinh Xuân Hiếu", 0.8, "Họ và tên: …")
    assert confirm_holder(hieu, [PageText(0, 2480, 3508, (segment,), "ocr", rereads=other)]).confidence <= 0.5


def test_a_holder_typed_by_the_issuer_is_not_doubted_by_the_name_lists():
    """A born-digital result's holder is the issuer's own typing: a rarer name than the lists know stands."""
    from digitize.fields import extract_holder

    words = [("Họ", 200), ("và", 260), ("tên:", 320), ("TRẦN", 420), ("XUÂN", 560), ("ƯỚC", 700)]
    ocr = _page([words])
    text_layer = PageText(0, 2480, 3508, ocr.segments, "text-layer")
    ks = CATALOGUE.get("KS")
    assert extract_holder([text_layer], ks).value == "TRẦN XUÂN ƯỚC"
    assert extract_holder([text_layer], ks).confidence >= 0.7
    assert extract_holder([ocr], ks).confidence <= 0.5


def test_a_number_alone_the_page_read_surely_is_checked_by_the_digit_reader():
    """A result numbered by hand with no symbol ("Số: 457"), read surely and wrongly as one word (427): the digit
    reader reads it otherwise, and the line is read again."""
    import numpy as np

    from digitize.ocr import OcrConfig
    from digitize.reread import reread_blanks

    image, gray = _pen_number_line("457")
    words = (Word("Số:", 96.0, 40, 88, 80, 34), Word("427", 95.0, 135, 86, 120, 36))
    rereads = reread_blanks((Segment(words),), gray, image, np.float64([[1, 0, 0], [0, 1, 0]]), OcrConfig())
    assert ("digits, blank", "457") in {(r.source, r.text) for r in rereads}, rereads
    assert any(r.source.startswith("trueocr") or r.source.startswith("tesseract") for r in rereads)


def test_a_letter_glued_to_a_numbers_digits_makes_it_unsure():
    """"số: 81ổ/2013": a pen's 8 read as "ổ" ends the digits; the number is not "81", and the line is read again."""
    from digitize.reread import lines_to_reread

    line = [("UBND", 200), ("TỈNH", 330), ("ĐỒNG", 450), ("THÁP", 580)], [("số:", 250), ("81ổ/2013", 330)]
    page = _page(list(line))
    number = extract_number([page], CATALOGUE.get("CCHN"))
    assert number.confidence <= 0.4 and "81ổ/2013" in number.note, number
    assert [unsure for field, _, _, unsure in lines_to_reread(page.segments, 3508) if field == "number"] == [True]


def test_a_name_cut_after_its_first_word_is_joined_or_waits():
    """"Họ, chữ đệm, tên: CAO" with "XUÂN ƯỚC" on the next line under the value (a narrow cell): the name is both
    lines; a name of one word alone is never archived as the holder; an underscore before a name is no part of it."""
    ks = CATALOGUE.get("KS")
    cut = _page([[("Họ,", 200), ("chữ", 290), ("đệm,", 380), ("tên:", 490), ("CAO", 600)],
                 [("XUÂN", 600), ("ƯỚC", 740)], [("Nơi", 200), ("cư", 290), ("trú:", 360), ("thôn", 470), ("7", 600)]])
    assert extract_holder([cut], ks).value == "CAO XUÂN ƯỚC"
    alone = _page([[("Họ,", 200), ("chữ", 290), ("đệm,", 380), ("tên:", 490), ("CAO", 600)],
                   [("Nơi", 200), ("cư", 290), ("trú:", 360), ("thôn", 470), ("7", 600)]])
    holder = extract_holder([alone], ks)
    assert holder.value == "CAO" and holder.confidence <= 0.5 and "CAO" in holder.note, holder
    marked = _page([[("Họ", 200), ("và", 260), ("tên:", 320), ("_", 420), ("Mai", 460), ("Phúc", 560), ("Hiếu", 680)]])
    assert extract_holder([marked], ks).value == "Mai Phúc Hiếu"


def test_a_second_reader_that_keeps_marks_elsewhere_and_reads_another_name_is_another_reading():
    """"Triệu Trọng Vĩnh" on the page, "Triệu Trọng Vinh" by two readers that kept the line's other marks: VINH is a
    name too, so a clerk looks; a reader that dropped every mark ("TRIEU TRONG VINH") proves nothing."""
    from digitize.fields import confirm_holder

    segment = Segment((Word("Triệu", 96.0, 400, 900, 80, 40),))
    value = FieldValue("Triệu Trọng Vĩnh", 0.82, "Cấp cho: …")

    def confirmed(*texts: str) -> FieldValue:
        rereads = tuple(Reread("holder", text, 95.0, (400, 890, 400, 60), f"{engine}, ink kept", True)
                        for engine, text in zip(("trueocr", "tesseract"), texts, strict=False))
        return confirm_holder(value, [PageText(0, 2480, 3508, (segment,), "ocr", rereads=rereads)])

    assert confirmed("Triệu Trọng Vinh", "Triệu Trọng Vinh").confidence <= 0.5
    assert confirmed("Trieu Trong Vinh").confidence >= 0.8
    # One reader alone that dropped a small mark ("LÊ THI HOA" of "LÊ THỊ HOA") is that reader's weakness.
    assert confirmed("Triệu Trọng Vinh", "Triệu Trọng Vĩnh").confidence >= 0.8


def test_a_holder_printed_in_mixed_case_is_checked_against_the_name_lists():
    """"Kiểu Công Ước": KIỂU is no surname, KIỀU is; the name waits with the proposal, written as printed, and a
    second reader that reads the page's slip alike does not confirm it."""
    from digitize.fields import confirm_holder

    marked = _page([[("Họ", 200), ("và", 260), ("tên:", 320), ("Kiểu", 420), ("Công", 540), ("Ước", 660)]])
    holder = extract_holder([marked], CATALOGUE.get("KS"))
    assert holder.value == "Kiều Công Ước" and holder.confidence <= 0.5 and "KIỀU" in holder.note, holder
    rereads = tuple(Reread("holder", "Kiểu Công Ước", 95.0, (400, 190, 400, 60), f"{engine}, ink kept", True)
                    for engine in ("trueocr", "tesseract"))
    page = PageText(0, marked.width, marked.height, marked.segments, "ocr", rereads=rereads)
    assert confirm_holder(holder, [page]).confidence <= 0.5


def test_a_letter_among_a_codes_digits_is_read_again():
    """"Mã số hộ kinh doanh: 31F11665552" read surely: a letter among digits is where print is misread (E for F),
    so the code's line is read again by a second reader."""
    from digitize.reread import lines_to_reread

    labels = (("number", "Mã số hộ kinh doanh"),)
    for code, again in (("31F11665552", True), ("3111665552", False)):
        page = _page([[("Mã", 200), ("số", 270), ("hộ", 340), ("kinh", 400), ("doanh:", 500), (code, 680)]])
        found = [unsure for field, _, _, unsure in lines_to_reread(page.segments, 3508, labels, sure_too=True)
                 if field == "number_label"]
        assert found == [again], (code, found)
