"""Digitization targets: data, arithmetic on a known fixture, the report in three forms."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from codes import (
    Agency,
    AgencyRegistry,
    InvalidTargets,
    compute_targets_report,
    load_targets,
    parse_valid_results_csv,
)
from tests.conftest import SAMPLES, json_lines, run_cli

REGISTRY = AgencyRegistry([
    Agency("000.00.00.H26", "Ủy ban nhân dân thành phố Hà Nội", "province"),
    Agency("000.00.15.H26", "Sở Tư pháp thành phố Hà Nội", "province", "000.00.00.H26"),
    Agency("000.00.31.H26", "Ủy ban nhân dân huyện Hoài Đức", "district", "000.00.00.H26"),
    Agency("000.05.31.H26", "Ủy ban nhân dân xã An Khánh", "commune", "000.00.31.H26"),
    Agency("000.06.31.H26", "Ủy ban nhân dân xã Kim Chung", "commune", "000.00.31.H26"),
])


def test_shipped_targets_are_plan_86():
    plan = load_targets()
    assert plan.target(2021, "province") == 0.30
    assert plan.target(2021, "district") == 0.20
    assert plan.target(2021, "commune") == 0.15
    assert plan.target(2020, "province") is None  # before the first plan
    assert plan.target(2024, "commune") == 0.15 and plan.plan_year(2024) == 2021  # in force until replaced
    assert plan.reference["decision_766_full_score"] == 0.80


def test_report_arithmetic_on_a_known_fixture():
    valid = {"000.00.15.H26": 200, "000.00.31.H26": 100, "000.05.31.H26": 40, "000.06.31.H26": 60}
    digitized = {"000.00.15.H26": 61, "000.05.31.H26": 5, "000.00.99.H26": 3}
    report = compute_targets_report(2021, valid, digitized, REGISTRY, load_targets())
    rows = {r.key: r for r in report.agencies}
    assert (rows["000.00.15.H26"].percent, rows["000.00.15.H26"].gap, rows["000.00.15.H26"].meets_target) == (
        0.305, 0, True)
    district = rows["000.00.31.H26"]  # zero digitized is listed, with the whole gap
    assert (district.digitized, district.percent, district.target, district.gap) == (0, 0.0, 0.20, 20)
    assert (rows["000.05.31.H26"].gap, rows["000.06.31.H26"].gap) == (1, 9)  # ceil(0.15*40)=6-5; ceil(9)-0
    unknown = rows["000.00.99.H26"]
    assert unknown.valid is None and unknown.percent is None and report.unknown_agencies == ["000.00.99.H26"]
    levels = {r.level: r for r in report.levels}
    assert (levels["commune"].valid, levels["commune"].digitized, levels["commune"].gap) == (100, 5, 10)
    assert levels["commune"].percent == 0.05
    assert (levels["province"].valid, levels["province"].digitized) == (200, 61)


def test_a_year_with_no_target():
    report = compute_targets_report(2019, {"000.05.31.H26": 10}, {}, REGISTRY, load_targets())
    assert report.plan_year is None
    assert all(r.target is None and r.gap is None and r.meets_target is None for r in report.agencies)


def test_denominator_csv_is_strict():
    assert parse_valid_results_csv("agency,year,count\n000.05.31.H26,2021,40\n") == [("000.05.31.H26", 2021, 40)]
    for bad, message in (("agency,year,count\nxx,2021,4\n", "line 2"), ("agency,year,count\n000.05.31.H26,21,4\n",
                                                                         "2000-2100"),
                         ("agency,year,count\n000.05.31.H26,2021,-1\n", "negative"), ("a,b\n1,2\n", "columns")):
        with pytest.raises(InvalidTargets, match=message):
            parse_valid_results_csv(bad)


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("targets-data")
    inputs = tmp_path_factory.mktemp("targets-in")
    (inputs / "06-thong-bao.pdf").write_bytes((SAMPLES / "06-thong-bao.pdf").read_bytes())
    rows = json_lines(run_cli("process", str(inputs), "--json", "--dossier", "000.00.00.H26-261124-0007",
                              data_dir=data_dir).stdout)
    csv = tmp_path_factory.mktemp("csv") / "valid.csv"
    csv.write_text("agency,year,count\n000.00.15.H26,2026,4\n000.05.31.H26,2026,20\n")
    run_cli("targets", "import", str(csv), data_dir=data_dir)
    return data_dir, rows


def test_report_json_table_and_chart(reported, tmp_path):
    data_dir, rows = reported
    assert rows[0]["fields"]["issuer_agency"] == "000.00.15.H26"
    figures = json.loads(run_cli("report", "--year", "2026", "--json", data_dir=data_dir).stdout)
    by_agency = {r["key"]: r for r in figures["agencies"]}
    assert by_agency["000.00.15.H26"]["digitized"] == 1 and by_agency["000.00.15.H26"]["percent"] == 0.25
    assert by_agency["000.05.31.H26"]["digitized"] == 0 and by_agency["000.05.31.H26"]["gap"] == 3
    chart = tmp_path / "chart.png"
    table = run_cli("report", "--year", "2026", "--chart", str(chart), data_dir=data_dir).stdout
    assert "Sở Tư pháp thành phố Hà Nội" in table and "25.0 %" in table
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(chart) as image:
        assert image.format == "PNG" and image.size[0] > 400


def test_dossier_code_and_alias(reported):
    data_dir, rows = reported
    assert rows[0]["dossier_code"] == "000.00.00.H26-261124-0007"
    assert rows[0]["result_alias"] == "000.00.00.H26-261124-0007-KQ1"
    meta = json.loads(run_cli("fetch", rows[0]["code"], "--meta", data_dir=data_dir).stdout)
    assert meta["result_alias"] == rows[0]["result_alias"]
    by_alias = json.loads(run_cli("fetch", "000.00.00.H26-261124-0007-KQ(1)", "--meta", data_dir=data_dir).stdout)
    assert by_alias["code"] == rows[0]["code"]
    assert json.loads(run_cli("verify", rows[0]["result_alias"], "--json", data_dir=data_dir).stdout)["valid"]
    dossier = run_cli("fetch", "000.00.00.H26-261124-0007", data_dir=data_dir, check=False)
    assert dossier.returncode == 2 and "dossier" in dossier.stderr
    bad = run_cli("process", str(SAMPLES / "06-thong-bao.pdf"), "--dossier", "not-a-dossier", data_dir=data_dir,
                  check=False)
    assert bad.returncode == 2 and "segment" in bad.stderr


def test_codes_cli(tmp_path, reported):
    data_dir, _ = reported
    parsed = json.loads(run_cli("codes", "parse", "000.00.00.H26-KS-230515-0001", data_dir=data_dir).stdout)
    assert parsed == {"kind": "result", "code": "000.00.00.H26-KS-230515-0001", "agency": "000.00.00.H26",
                      "doc_type": "KS", "day": "2023-05-15", "sequence": 1}
    bad = run_cli("codes", "parse", "000.00.00.H26-KS-2305-0001", data_dir=data_dir, check=False)
    assert bad.returncode == 2 and "segment 3 must be a date YYMMDD" in bad.stderr
    listing = tmp_path / "codes.txt"
    listing.write_text("000.00.00.H26-KS-230515-0001\n# a comment\n000.00.00.H26-230515-0001-KQ(2)\nbroken\n")
    result = run_cli("codes", "validate", str(listing), data_dir=data_dir, check=False)
    assert result.returncode == 1 and "line 4: broken" in result.stdout and "2 of 3 codes valid" in result.stdout


def test_agencies_import_cli(tmp_path, reported):
    data_dir, _ = reported
    csv = tmp_path / "agencies.csv"
    csv.write_text("id,name,level,parent\n000.00.40.H26,Ủy ban nhân dân quận Hoàn Kiếm,district,000.00.00.H26\n",
                   "utf-8")
    assert "imported 1" in run_cli("agencies", "import", str(csv), data_dir=data_dir).stdout
    assert "Hoàn Kiếm" in run_cli("agencies", "list", data_dir=data_dir).stdout
    csv.write_text("id,name,level\nbad id,X,district\n")
    assert run_cli("agencies", "import", str(csv), data_dir=data_dir, check=False).returncode == 2
