"""Knowing what a document is and says: every catalogue type, công văn vs thông báo, noisy fields,
review for what is uncertain, non-documents, catalogue extension by data, and the review commands."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from codes import load_catalogue
from codes.catalogue import DEFAULT_CATALOGUE
from digitize.training import synth_document
from samples.make_samples import render_pages, save_sample, write_text_pdf
from samples.synth import to_spec
from tests.conftest import json_lines, run_cli

CATALOGUE = load_catalogue()


def rooms_at(data_dir: Path, catalogue: Path | None = None):
    from workflow.rooms import open_rooms
    from workflow.settings import load_settings

    base = load_settings()
    return open_rooms(dataclasses.replace(
        base, data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'index.sqlite3'}",
        archive_url=(data_dir / "archive").as_uri(), catalogue=catalogue))


@pytest.fixture(scope="module")
def understanding_rooms(tmp_path_factory):
    return rooms_at(tmp_path_factory.mktemp("understanding"))


def born_digital(doc, folder: Path) -> Path:
    path = folder / f"{doc.doc_type.lower()}-{doc.seed}.pdf"
    write_text_pdf(render_pages(to_spec(doc, "pdf-text")), str(path))
    return path


def process(rooms, paths: list[Path], workers: int = 2):
    from workflow.ingest import Ingest, IngestOptions

    return {Path(o.source).name: o for o in Ingest(rooms, IngestOptions(workers=workers)).run(paths)}


def test_every_catalogue_type_is_recognized(understanding_rooms, tmp_path):
    rng = random.Random(4242)  # not the training seed
    docs = [synth_document(doc_type, rng, 500 + i) for i, doc_type in enumerate(CATALOGUE)]
    outcomes = process(understanding_rooms, [born_digital(d, tmp_path) for d in docs])
    wrong = {d.doc_type: outcomes[f"{d.doc_type.lower()}-{d.seed}.pdf"].doc_type.code for d in docs
             if outcomes[f"{d.doc_type.lower()}-{d.seed}.pdf"].doc_type.code != d.doc_type}
    assert not wrong
    for doc in docs:
        outcome = outcomes[f"{doc.doc_type.lower()}-{doc.seed}.pdf"]
        assert outcome.status == "archived", (doc.doc_type, outcome.review_reasons)
        assert outcome.fields["number"] == doc.number
        d, m, y = doc.issued_on
        assert outcome.fields["issued_on"] == f"{y:04d}-{m:02d}-{d:02d}"
        assert outcome.level == doc.level
        if doc.holder:
            assert outcome.fields["holder"] == doc.holder


def test_scanned_cong_van_and_thong_bao_told_apart(understanding_rooms, tmp_path):
    rng = random.Random(77)
    cv, tb = (synth_document(CATALOGUE.get(code), rng, 900) for code in ("CV", "TB"))
    paths = [save_sample(to_spec(doc, "jpg", skew=1.0), tmp_path) for doc in (cv, tb)]
    outcomes = process(understanding_rooms, paths)
    assert outcomes["cv-900.jpg"].doc_type.code == "CV"
    assert any("V/v" in e for e in outcomes["cv-900.jpg"].evidence)
    assert outcomes["tb-900.jpg"].doc_type.code == "TB"


def test_title_and_symbol_that_disagree_go_to_review(understanding_rooms, tmp_path):
    doc = synth_document(CATALOGUE.get("QD"), random.Random(5), 901)
    doc.number = doc.number.replace("/QĐ-", "/TB-")  # a Quyết định title with a Thông báo symbol
    outcome = process(understanding_rooms, [born_digital(doc, tmp_path)])["qd-901.pdf"]
    assert outcome.status == "needs_review" and outcome.code is None
    assert any("disagrees" in e for e in outcome.evidence)


def test_unknown_kind_of_text_goes_to_review(understanding_rooms, tmp_path):
    doc = synth_document(CATALOGUE.get("TB"), random.Random(6), 902)
    doc.title, doc.subtitle = "THỰC ĐƠN BỮA TRƯA", ["Món chính: cơm, canh chua, cá kho"]
    doc.body = ["Cơm trắng, canh chua cá lóc, cá kho tộ, rau muống xào tỏi.", "Tráng miệng: chuối, chè đậu xanh."]
    doc.number = "7"
    outcome = process(understanding_rooms, [born_digital(doc, tmp_path)])["tb-902.pdf"]
    assert outcome.status == "needs_review" and outcome.code is None


def test_a_photo_that_is_not_a_document_is_rejected(understanding_rooms, tmp_path):
    rng = np.random.default_rng(3)
    gradient = np.linspace(40, 220, 1600)[None, :, None] * np.ones((1200, 1, 3))
    photo = (gradient + rng.normal(0, 25, (1200, 1600, 3))).clip(0, 255).astype("uint8")
    Image.fromarray(photo).save(tmp_path / "holiday.jpg", quality=85)
    outcome = process(understanding_rooms, [tmp_path / "holiday.jpg"])["holiday.jpg"]
    assert outcome.status in {"rejected", "needs_review"} and outcome.code is None


def test_catalogue_extension_by_data_file_only(tmp_path):
    extended = tmp_path / "catalogue.toml"
    extended.write_text(DEFAULT_CATALOGUE.read_text("utf-8") + '''
[[type]]
code = "GCNHDV"
name = "Giấy chứng nhận hướng dẫn viên du lịch"
kind = "result"
titles = ["GIẤY CHỨNG NHẬN HƯỚNG DẪN VIÊN DU LỊCH"]
levels = ["province"]
retention = 10
required = ["number", "issued_on", "holder"]
holder_labels = ["Họ và tên"]
''', "utf-8")
    rooms = rooms_at(tmp_path / "data", catalogue=extended)
    new_type = rooms.catalogue.get("GCNHDV")
    doc = synth_document(new_type, random.Random(8), 903)
    outcome = process(rooms, [born_digital(doc, tmp_path)])["gcnhdv-903.pdf"]
    assert outcome.status == "archived" and outcome.doc_type.code == "GCNHDV"
    assert outcome.code.split("-")[1] == "GCNHDV"
    assert rooms.text_model.predict("GIẤY CHỨNG NHẬN HƯỚNG DẪN VIÊN DU LỊCH")[0].type_code == "GCNHDV"


@pytest.fixture(scope="module")
def review_data(tmp_path_factory):
    from tests.conftest import SAMPLES, unnumbered_birth_certificate

    data_dir = tmp_path_factory.mktemp("review-data")
    waiting = unnumbered_birth_certificate(tmp_path_factory.mktemp("unnumbered"))
    rows = json_lines(run_cli("process", str(waiting), str(SAMPLES / "07-cong-van.jpg"),
                              "--json", data_dir=data_dir).stdout)
    return data_dir, rows


def test_review_accept_with_corrections(review_data):
    data_dir, rows = review_data
    assert rows[0]["status"] == "needs_review"
    waiting = json_lines(run_cli("review", "list", "--json", data_dir=data_dir).stdout)
    assert [w["source"].rsplit("/", 1)[1] for w in waiting] == ["01-giay-khai-sinh.png"]
    assert any("number" in r for r in waiting[0]["reasons"])
    bad = run_cli("review", "accept", str(waiting[0]["id"]), "--field", "issued_on=2020.04.08", data_dir=data_dir,
                  check=False)  # 2020-04-08 and 08/04/2020 (as people write it) are dates; this is neither
    assert bad.returncode == 1 and "YYYY-MM-DD" in bad.stderr
    bad = run_cli("review", "accept", str(waiting[0]["id"]), "--field", "issued_on=20200101", data_dir=data_dir,
                  check=False)  # ISO 8601's basic form is a date too, but not the contract's
    assert bad.returncode == 1 and "YYYY-MM-DD" in bad.stderr
    accepted = json.loads(run_cli("review", "accept", str(waiting[0]["id"]), "--field", "number=125/2020", "--json",
                                  data_dir=data_dir).stdout)
    assert accepted["status"] == "archived" and accepted["fields"]["number"] == "125/2020"
    assert accepted["source"] == rows[0]["source"]
    meta = json.loads(run_cli("fetch", accepted["code"], "--meta", data_dir=data_dir).stdout)
    assert meta["fields"]["number"] == "125/2020" and "type confirmed by a clerk" in meta["evidence"]
    listed = json_lines(run_cli("list", "--json", data_dir=data_dir).stdout)
    assert [r["status"] for r in listed if r["source"] == rows[0]["source"]] == ["archived"]  # still once
    corrections = (data_dir / "training" / "corrections.jsonl").read_text("utf-8").splitlines()
    assert json.loads(corrections[-1])["doc_type"] == "KS"
    assert run_cli("review", "list", "--json", data_dir=data_dir).stdout.strip() == ""
    assert list((data_dir / "review").iterdir()) == []  # the original is in the archive now
    again = run_cli("review", "accept", str(waiting[0]["id"]), data_dir=data_dir, check=False)
    assert again.returncode == 1 and "waiting for review" in again.stderr


def test_review_reject_keeps_the_original(tmp_path):
    from tests.conftest import unnumbered_birth_certificate

    data_dir = tmp_path / "data"
    run_cli("process", str(unnumbered_birth_certificate(tmp_path)), data_dir=data_dir)
    waiting = json_lines(run_cli("review", "list", "--json", data_dir=data_dir).stdout)
    run_cli("review", "reject", str(waiting[0]["id"]), "--reason", "bản sao không rõ", data_dir=data_dir)
    row = json_lines(run_cli("list", "--json", data_dir=data_dir).stdout)[0]
    assert row["status"] == "rejected" and "bản sao không rõ" in row["error"]
    assert list((data_dir / "review").glob("*/original.png"))


def test_exported_text_model_predicts_as_scikit_learn(tmp_path):
    """Prediction runs on exported weights without scikit-learn; it must give scikit-learn's probabilities."""
    from codes import Catalogue
    from digitize.textmodel import TextModel, _normalize, fit_sklearn
    from digitize.training import document_text, ocr_noise

    small = Catalogue(tuple(t for t in CATALOGUE if t.code in {"KS", "KH", "TB", "CV"}))
    fitted = fit_sklearn(small, [])
    exported = TextModel.from_sklearn(fitted)
    exported.save(tmp_path / "model.npz")
    reloaded = TextModel.load(tmp_path / "model.npz")
    rng = random.Random(31)
    texts = ["", "x", "GIẤY  KHAI\tSINH", "CÔNG VĂN V/v"]
    texts += [ocr_noise(document_text(synth_document(t, rng, 500 + i)), rng) for t in small for i in range(3)]
    for text in texts:
        expected = fitted.predict_proba([_normalize(text)])[0]
        assert np.allclose(reloaded.probabilities(text), expected, atol=1e-9), text[:40]
    assert reloaded.predict(texts[-1])[0].type_code == fitted.predict([_normalize(texts[-1])])[0]
