import multiprocessing
from datetime import date

import pytest

from codes import (
    InvalidAgencyId,
    InvalidCode,
    assign_code,
    load_agencies,
    load_catalogue,
    parse_code,
    validate_agency_id,
)
from codes.catalogue import CatalogueError
from storage import Index


def test_catalogue_ships_results_and_decree30_kinds():
    catalogue = load_catalogue()
    assert catalogue.get("KS").name == "Giấy khai sinh"
    assert catalogue.get("KS").levels == ("commune",)
    assert catalogue.get("QD").abbreviation == "QĐ"
    assert catalogue.get("CV").subject_marker == "V/v"
    assert len(catalogue) >= 25


def test_catalogue_extension_is_data_only(tmp_path):
    from codes.catalogue import DEFAULT_CATALOGUE

    extended = tmp_path / "catalogue.toml"
    extended.write_text(DEFAULT_CATALOGUE.read_text("utf-8") + '''
[[type]]
code = "GCNTT"
name = "Giấy chứng nhận thuyết minh viên"
kind = "result"
titles = ["GIẤY CHỨNG NHẬN THUYẾT MINH VIÊN"]
levels = ["province"]
retention = 10
required = ["number", "issued_on", "holder"]
''', "utf-8")
    assert load_catalogue(extended).get("GCNTT").retention == "10"


def test_catalogue_rejects_bad_entries(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[type]]\ncode = "ks"\nname = "x"\nkind = "result"\ntitles = ["X"]\nlevels = ["commune"]\n')
    with pytest.raises(CatalogueError, match="code must be"):
        load_catalogue(bad)


def test_agency_ids_validated():
    registry = load_agencies()
    assert registry.get("000.00.00.H26").level == "province"
    assert registry.get("000.05.31.H26").parent == "000.00.31.H26"
    for good in ("000.00.00.H49", "H26.170", "G15"):
        assert validate_agency_id(good) == good
    for bad in ("", "000.00.00.h26", "00.00.00.H26", "H26..1", "A" * 40, "000.00.00.H26/../x"):
        with pytest.raises(InvalidAgencyId):
            validate_agency_id(bad)


def test_code_round_trip(tmp_path):
    index = Index(f"sqlite:///{tmp_path / 'i.sqlite3'}")
    first = assign_code("000.00.00.H26", "KS", date(2023, 5, 15), index.sequences)
    second = assign_code("000.00.00.H26", "KS", date(2023, 5, 15), index.sequences)
    other_day = assign_code("000.00.00.H26", "KS", date(2023, 5, 16), index.sequences)
    assert str(first) == "000.00.00.H26-KS-230515-0001"
    assert str(second) == "000.00.00.H26-KS-230515-0002"
    assert str(other_day).endswith("-230516-0001")
    assert parse_code(str(second)) == second


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "empty"),
        ("000.00.00.H26-KS-230515", "4 segments"),
        ("000.00.00.h26-KS-230515-0001", "segment 1"),
        ("000.00.00.H26-ks-230515-0001", "segment 2"),
        ("000.00.00.H26-KS-2305-0001", "segment 3 must be a date YYMMDD"),
        ("000.00.00.H26-KS-231345-0001", "not a real date"),
        ("000.00.00.H26-KS-230515-0000", "segment 4"),
        ("000.00.00.H26-KS-230515-01", "segment 4"),
        ("../../etc/passwd-KS-230515-0001", "segment 1"),
        ("000.00.00.H26-KS-230515-0001 ", "ASCII"),
        ("000.00.00.H26-KS-230515-" + "9" * 200, "longer"),
    ],
)
def test_malformed_codes_rejected_with_reason(code, message):
    with pytest.raises(InvalidCode, match=message):
        parse_code(code)


def _allocate(url: str, count: int, queue) -> None:
    index = Index(url)
    queue.put([index.sequences.next_sequence("race") for _ in range(count)])


def _race(url: str, processes: int = 4, each: int = 25) -> list[int]:
    """Numbers handed out when several processes allocate from one sequence at the same time."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_allocate, args=(url, each, queue)) for _ in range(processes)]
    for proc in procs:
        proc.start()
    numbers = [n for _ in procs for n in queue.get(timeout=120)]
    for proc in procs:
        proc.join(timeout=60)
    return numbers


def test_sequences_unique_across_processes_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'race.sqlite3'}"
    Index(url)  # create tables before the race
    assert sorted(_race(url)) == list(range(1, 101))


def test_sequences_unique_across_processes_postgresql():
    from tests.servers import drop_postgres_schema, postgres_url

    url = postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL server reachable at 127.0.0.1:5432")
    try:
        Index(url)  # migrate before the race
        assert sorted(_race(url)) == list(range(1, 101))
    finally:
        drop_postgres_schema(url)


@pytest.mark.parametrize(
    "text",
    ["000.00.00.H26-230515-0001", "H15.50.05.13-261008-0975", "000.00.00.G15-230515-001234",
     "000.00.00.G15-230515-1234567"],
)
def test_dossier_codes_round_trip(text):
    from codes import parse_dossier_code

    assert str(parse_dossier_code(text)) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("000.00.00.H26-230515", "3 segments"),
        ("000.00.00.H2-230515-0001", "segment 1"),
        ("000.00.00.H26-231515-0001", "not a real date"),
        ("000.00.00.H26-23051-0001", "segment 2"),
        ("000.00.00.H26-230515-001", "segment 3"),
        ("000.00.00.H26-230515-0000", "segment 3"),
    ],
)
def test_malformed_dossier_codes(text, message):
    from codes import parse_dossier_code

    with pytest.raises(InvalidCode, match=message):
        parse_dossier_code(text)


@pytest.mark.parametrize("suffix", ["KQ1", "KQ01", "KQ(1)"])
def test_result_aliases_in_every_written_form(suffix):
    from codes import ResultAlias, parse_any

    alias = parse_any(f"000.00.00.H26-230515-0001-{suffix}")
    assert isinstance(alias, ResultAlias) and str(alias) == "000.00.00.H26-230515-0001-KQ1"


def test_parse_any_tells_the_kinds_apart():
    from codes import DossierCode, ResultCode, parse_any

    assert isinstance(parse_any("000.00.00.H26-KS-230515-0001"), ResultCode)
    assert isinstance(parse_any("000.00.00.H26-230515-0001"), DossierCode)
    with pytest.raises(InvalidCode, match="KQ"):
        parse_any("000.00.00.H26-230515-0001-KQ0")


def test_agency_csv_import_is_strict():
    from codes import parse_agencies_csv

    good = "id,name,level,parent\n000.00.40.H26,Ủy ban nhân dân quận Hoàn Kiếm,district,000.00.00.H26\n"
    assert parse_agencies_csv(good)[0].parent == "000.00.00.H26"
    with pytest.raises(InvalidAgencyId, match="line 2"):
        parse_agencies_csv("id,name,level\n000.00.40.h26,X,district\n")
    with pytest.raises(InvalidAgencyId, match="level"):
        parse_agencies_csv("id,name,level\n000.00.40.H26,X,village\n")
    with pytest.raises(InvalidAgencyId, match="column"):
        parse_agencies_csv("id,name\n000.00.40.H26,X\n")


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        ("ỦY BAN NHÂN DÂN XÃ AN KHÁNH", "000.05.31.H26"),
        ("UBND THÀNH PHỐ HÀ NỘI SỞ TƯ PHÁP", "000.00.15.H26"),  # the department, not the committee above it
        ("UỶ BAN NHÂN DÂN HUYỆN HOÀI ĐỨC PHÒNG TÀI CHÍNH - KẾ HOẠCH", "000.00.31.H26"),
        ("SỞ KẾ HOẠCH VÀ ĐẦU TU THÀNH PHỐ HÀ NỘI", "000.00.12.H26"),  # OCR lost a tone mark
        ("CÔNG TY TNHH ABC", None),
    ],
)
def test_issuer_matched_to_the_registry(printed, expected):
    agency = load_agencies().match_issuer(printed)
    assert (agency.id if agency else None) == expected
