"""Digitized copies as Circular 01/2023 wants them: the digitizing officer's signature with name and time and
the QR code of the minimum data in the top-left corner, the agency's signature top right, both valid, never
over text; the copy's page count equal to the original's."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, json_lines, run_cli
from tests.pki import PASSPHRASE, make_ca
from tests.servers import softhsm_token

DOSSIER = "000.00.00.H26-261207-0099"


def qr_in_top_left(pdf: Path, folder: Path) -> str:
    """The QR code OpenCV reads in the top-left quarter of page 1 rendered at 150 dpi (by poppler here, by
    pdfium in sohoa's own check)."""
    import cv2

    from digitize.preview import read_qr_top_left

    subprocess.run(["pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-png", str(pdf), str(folder / "page")],
                   check=True)
    image = cv2.imread(str(next(folder.glob("page*.png"))))
    height, width = image.shape[:2]
    corner = image[: height // 4, : width // 2]
    seen = cv2.QRCodeDetectorAruco().detectAndDecode(corner)[0] or cv2.QRCodeDetector().detectAndDecode(corner)[0]
    return seen or read_qr_top_left(pdf.read_bytes()) or ""


@pytest.fixture(scope="module")
def digitized(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("c01-data")
    inputs = tmp_path_factory.mktemp("c01-in")
    for name in ("01-giay-khai-sinh.png", "06-thong-bao.pdf"):
        shutil.copy(SAMPLES / name, inputs / name)
    made = run_cli("keys", "init-dev", "--officer", "lan.nguyen", "--full-name", "Nguyễn Thị Lan", data_dir=data_dir)
    assert "DEVELOPMENT officer" in made.stdout
    outcomes = json_lines(run_cli("process", str(inputs), "--json", "--officer", "lan.nguyen", "--dossier", DOSSIER,
                                  data_dir=data_dir).stdout)
    assert {o["status"] for o in outcomes} == {"archived"}, outcomes
    return data_dir, {Path(o["source"]).name: o for o in outcomes}


@pytest.mark.parametrize("name", ["01-giay-khai-sinh.png", "06-thong-bao.pdf"])
def test_the_officer_signs_top_left_with_the_qr_code_then_the_agency_top_right(digitized, name, tmp_path):
    from codes.qrpayload import parse_qr_payload

    data_dir, outcomes = digitized
    code = outcomes[name]["code"]
    pdf = tmp_path / "copy.pdf"
    run_cli("fetch", code, "-o", str(pdf), data_dir=data_dir)
    checked = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True).stdout
    signers = [line.split(":", 1)[1].strip() for line in checked.splitlines()
               if "Signer Certificate Common Name" in line]
    assert signers == ["Nguyễn Thị Lan - sohoa DEVELOPMENT officer", "000.00.00.H26 - sohoa DEVELOPMENT signer"]
    assert checked.count("Signature is Valid") == 2  # the agency's signature does not invalidate the officer's
    report = json.loads(run_cli("verify", str(pdf), "--json", data_dir=data_dir, check=False).stdout)
    assert report["valid"] and [s["intact"] and s["valid"] for s in report["signatures"]] == [True, True]
    meta = json.loads(run_cli("fetch", code, "--meta", data_dir=data_dir).stdout)
    digitization = meta["digitization"]
    assert digitization["officer"] == "lan.nguyen" and digitization["officer_signature"] is True
    assert digitization["officer_stamp"]["corner"].startswith("top-left")
    assert digitization["officer_stamp"]["over_text"] is False
    assert digitization["agency_stamp"].startswith("top-right") and digitization["pages"] == meta["pages"]
    assert digitization["qr"]["version"] <= 10 and digitization["qr"]["omitted"] == []
    assert outcomes[name]["minimum_data"] == meta["minimum_data"]  # the --json output says the same
    assert meta["minimum_data"]["digitized_by"] == "lan.nguyen" and meta["minimum_data"]["dossier_code"] == DOSSIER
    payload = parse_qr_payload(qr_in_top_left(pdf, tmp_path))  # readable by OpenCV at 150 dpi
    assert payload["code"] == code and payload["dossier_code"] == DOSSIER
    assert payload["paper_name"] == meta["doc_type"]["name"] and payload["system"] == "sohoa 000.00.00.H26"
    assert payload.get("holder_id") == meta["fields"].get("holder_id")
    assert digitization["digitized_at"].startswith(payload["time"][:16])  # the QR code says it to the minute
    # The conformance report says the same, checked on the archived copy itself.
    rules = json.loads(run_cli("verify", code, "--json", data_dir=data_dir).stdout)["circular_01_2023"]
    assert rules["conforms"], rules
    by_rule = {rule["rule"]: rule for rule in rules["rules"]}
    assert {"code", "dossier_code", "paper_name", "system", "time"} <= set(by_rule["qr_top_left"]["fields"])
    assert "procedure_code" in by_rule["qr_top_left"]["absent"]  # not known here: said, not invented
    stated = set(by_rule["minimum_data"]["stated"])
    assert {"paper_name", "number", "issued_on", "digitized_by", "digitized_at"} <= stated
    events = json.loads(run_cli("fetch", code, "--meta", data_dir=data_dir).stdout)["events"]
    assert any(e["event_type"] == "signing" and e["agent"].startswith("officer lan.nguyen") for e in events)


def test_without_an_officer_the_metadata_says_the_copy_lacks_the_officers_signature(tmp_path):
    data_dir, inputs = tmp_path / "data", tmp_path / "in"
    inputs.mkdir()
    shutil.copy(SAMPLES / "06-thong-bao.pdf", inputs / "06-thong-bao.pdf")
    run_cli("keys", "init-dev", data_dir=data_dir)
    code = json_lines(run_cli("process", str(inputs), "--json", data_dir=data_dir).stdout)[0]["code"]
    meta = json.loads(run_cli("fetch", code, "--meta", data_dir=data_dir).stdout)
    assert meta["digitization"]["officer_signature"] is False and "lacks" in meta["digitization"]["missing"]
    rules = json.loads(run_cli("verify", code, "--json", data_dir=data_dir).stdout)["circular_01_2023"]
    unmet = {rule["rule"] for rule in rules["rules"] if not rule["met"]}
    assert not rules["conforms"] and unmet == {"officer_signature_top_left", "qr_top_left"}, rules
    refused = run_cli("process", str(inputs), "--officer", "nobody", data_dir=data_dir, check=False)
    assert refused.returncode == 2 and "no active officer named nobody" in refused.stderr


def test_an_officers_own_pkcs12_is_kept_re_encrypted_and_can_be_disabled(tmp_path):
    data_dir, inputs = tmp_path / "data", tmp_path / "in"
    inputs.mkdir()
    shutil.copy(SAMPLES / "06-thong-bao.pdf", inputs / "06-thong-bao.pdf")
    ca = make_ca(tmp_path / "pki")
    p12, _cert, _key = ca.signer("Trần Văn Minh")
    secret = tmp_path / "p12-passphrase"
    secret.write_text(PASSPHRASE + "\n")
    run_cli("keys", "init-dev", data_dir=data_dir)
    wrong = tmp_path / "wrong"
    wrong.write_text("not it\n")
    refused = run_cli("officers", "add", "minh.tran", "--full-name", "Trần Văn Minh", "--pkcs12", str(p12),
                      "--passphrase-file", str(wrong), data_dir=data_dir, check=False)
    assert refused.returncode == 2 and "passphrase" in refused.stderr
    run_cli("officers", "add", "minh.tran", "--full-name", "Trần Văn Minh", "--pkcs12", str(p12),
            "--passphrase-file", str(secret), data_dir=data_dir)
    kept = data_dir / "keys" / "officers" / "minh.tran.p12"
    assert kept.exists() and kept.read_bytes() != p12.read_bytes() and oct(kept.stat().st_mode)[-3:] == "600"
    listed = json_lines(run_cli("officers", "list", "--json", data_dir=data_dir).stdout)
    assert [(o["name"], o["full_name"], o["active"]) for o in listed] == [("minh.tran", "Trần Văn Minh", True)]
    code = json_lines(run_cli("process", str(inputs), "--json", "--officer", "minh.tran",
                              data_dir=data_dir).stdout)[0]["code"]
    pdf = tmp_path / "copy.pdf"
    run_cli("fetch", code, "-o", str(pdf), data_dir=data_dir)
    checked = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True).stdout
    assert "Trần Văn Minh" in checked and checked.count("Signature is Valid") == 2
    run_cli("officers", "disable", "minh.tran", data_dir=data_dir)
    assert run_cli("process", str(inputs), "--officer", "minh.tran", data_dir=data_dir,
                   check=False).returncode == 2


def _pdf_with_text_at_the_top_left(path: Path, top_gap: float) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    page = canvas.Canvas(str(path), pagesize=A4)
    page.setFont("Helvetica", 12)
    for row in range(6):  # a block of text from the left edge, top_gap points under the top
        page.drawString(20, A4[1] - top_gap - 14 * row, "UBND TINH THU NGHIEM " * 3)
    page.save()
    return path


def test_with_text_in_the_top_left_corner_the_officers_stamp_goes_in_the_margin_above_it(tmp_path):
    from signing.stamp import _covered, _first_page_text, place_top_left

    pdf = _pdf_with_text_at_the_top_left(tmp_path / "margin.pdf", top_gap=70)
    placed = place_top_left(pdf)
    _width, _height, words = _first_page_text(pdf)
    assert placed.corner == "top-left margin" and not placed.overlaps_text
    assert _covered(tuple(float(v) for v in placed.box), words) == 0
    assert placed.box[3] - placed.box[1] >= 40  # tall enough for a name and a time
    crowded = place_top_left(_pdf_with_text_at_the_top_left(tmp_path / "crowded.pdf", top_gap=12))
    assert crowded.overlaps_text  # no room anywhere in the corner: said, never hidden


def test_the_qr_payload_stays_within_version_10_and_says_what_it_left_out():
    from codes.qrpayload import build_qr_payload, parse_qr_payload

    values = {"code": "000.00.00.H26-KS-261207-0001", "dossier_code": DOSSIER, "procedure_code": "1.001193",
              "holder_id": "001320012345", "paper_name": "Giấy chứng nhận đăng ký hộ kinh doanh",
              "system": "sohoa 000.00.00.H26", "time": "2026-12-07T15:00:00+07:00", "valid_until": "2031-12-07",
              "verification_url": "https://sohoa.example.gov.vn/v1/results/000.00.00.H26-KS-261207-0001/verification"}
    small = build_qr_payload({k: v for k, v in values.items() if k != "verification_url"})
    assert small.omitted == () and small.version <= 10
    assert parse_qr_payload(small.text) == {k: v for k, v in values.items() if k != "verification_url"}
    crowded = build_qr_payload({**values, "paper_name": "Giấy chứng nhận " + "đăng ký kinh doanh " * 8})
    assert crowded.version <= 10 and crowded.omitted[0] == "verification_url"
    assert {"code", "holder_id", "time"} <= set(crowded.included)
    with pytest.raises(ValueError):
        parse_qr_payload("https://example.org")


def test_a_copy_that_lost_a_page_is_never_signed_or_archived(settings, tmp_path):
    import dataclasses

    from digitize.intake import inspect
    from storage import DocTypeRef
    from workflow.publish import PageCountMismatch, Reading, publish
    from workflow.rooms import open_rooms

    # Rooms of its own: what it archives must not be found by the session's other tests.
    rooms = open_rooms(dataclasses.replace(settings, data_dir=tmp_path / "data",
                                           database_url=f"sqlite:///{tmp_path / 'index.sqlite3'}",
                                           archive_url=(tmp_path / "archive").as_uri()))

    source = inspect(SAMPLES / "06-thong-bao.pdf")
    reading = Reading(source, DocTypeRef("TB", "Thông báo", 1.0), {"number": "89/TB-STP"}, "province", 2, "text",
                      [], ocr_used=False)
    before = len(rooms.index.results.all())
    with pytest.raises(PageCountMismatch, match="the copy has 1 pages, the original 2"):
        publish(rooms, reading, rooms.catalogue.get("TB"), SAMPLES / "06-thong-bao.pdf")
    assert len(rooms.index.results.all()) == before
    # The same reading with the page count the copy has is archived: the check refuses only the loss.
    published = publish(rooms, dataclasses.replace(reading, pages=1), rooms.catalogue.get("TB"),
                        SAMPLES / "06-thong-bao.pdf")
    assert len(rooms.index.results.all()) == before + 1 and published.record.pages == 1


def _sha1_signed(data_dir: Path, target: Path) -> Path:
    """A PDF signed with SHA-1 (as some Government specialized CA documents still are), timestamped by the
    development TSA: the case the legacy algorithm policy is for."""
    import io

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    from signing.keys import SIGNER_FILE, TSA_FILE, read_passphrase
    from signing.tsa import timestamper_for

    keys = data_dir / "keys"
    secret = read_passphrase(keys, None)
    signer = signers.SimpleSigner.load_pkcs12(str(keys / SIGNER_FILE), passphrase=secret)
    with (SAMPLES / "06-thong-bao.pdf").open("rb") as source:
        writer = IncrementalPdfFileWriter(source)
        meta = signers.PdfSignatureMetadata(field_name="Sig1", md_algorithm="sha1", subfilter=SigSeedSubFilter.PADES)
        out = io.BytesIO()
        signers.PdfSigner(meta, signer=signer, timestamper=timestamper_for("dev", keys / TSA_FILE, secret)) \
            .sign_pdf(writer, output=out)
    target.write_bytes(out.getvalue())
    return target


def test_real_signatures_are_verified_cleanly_and_sha1_by_a_dated_policy(tmp_path):
    data_dir = tmp_path / "data"
    run_cli("keys", "init-dev", data_dir=data_dir)
    pdf = _sha1_signed(data_dir, tmp_path / "sha1.pdf")
    strict = run_cli("verify", str(pdf), data_dir=data_dir, check=False)
    assert strict.returncode == 1 and strict.stderr == ""  # no library traceback without -v
    assert "SHA-1 (a weak algorithm) is refused by the algorithm policy" in strict.stdout
    before = run_cli("verify", str(pdf), "--json", data_dir=data_dir, check=False,
                     env_extra={"SOHOA_LEGACY_SHA1_UNTIL": "2020-01-01"})
    assert json.loads(before.stdout)["valid"] is False and "not before SOHOA_LEGACY_SHA1_UNTIL" in before.stdout
    legacy = run_cli("verify", str(pdf), "--json", data_dir=data_dir, check=False,
                     env_extra={"SOHOA_LEGACY_SHA1_UNTIL": "2099-01-01"})
    report = json.loads(legacy.stdout)
    assert legacy.returncode == 0 and report["valid"] and "legacy policy" in report["signatures"][0]["policy_note"]
    # A signer whose root is not configured: one line says so; the libraries' logs only with -v.
    ca = make_ca(tmp_path / "pki", "Máy chủ thử nghiệm CA")
    p12, _cert, _key = ca.signer("Sở Tư pháp")
    from signing import KeyMaterial, Signer, SigningOptions

    Signer(KeyMaterial(p12, PASSPHRASE.encode(), (), development=False), SigningOptions(stamp="off")).sign_file(
        SAMPLES / "06-thong-bao.pdf", tmp_path / "other.pdf", "r", "l")
    other = run_cli("verify", str(tmp_path / "other.pdf"), data_dir=data_dir, check=False)
    assert other.returncode == 1 and other.stderr == "" and "Traceback" not in other.stdout
    assert "why not valid: the signer's certificate does not chain to a trusted root" in other.stdout
    verbose = run_cli("-v", "verify", str(tmp_path / "other.pdf"), data_dir=data_dir, check=False)
    assert "pyhanko" in verbose.stderr


def test_an_officers_key_on_a_token_signs_beside_the_agencys(tmp_path):
    """Both keys on a PKCS#11 token (SoftHSM2 standing in for the officials' USB tokens)."""
    ca = make_ca(tmp_path / "ca", "Cơ quan chứng thực thử nghiệm")
    certs, keys = {}, {}
    for label, common_name in (("agency", "Sở Tư pháp thử nghiệm"), ("officer", "Phạm Thu Hà")):
        _p12, certs[label], keys[label] = ca.signer(common_name)
    module, env_token = softhsm_token(tmp_path / "hsm", "sohoa-c01", keys)  # the keys exist only inside it
    trust = tmp_path / "trust"
    trust.mkdir()
    shutil.copy(ca.root_path, trust / "root.pem")
    pin_file = tmp_path / "pin"
    pin_file.write_text("1234\n")
    env = {**env_token, "SOHOA_PKCS11_MODULE": module, "SOHOA_PKCS11_TOKEN": "sohoa-c01",
           "SOHOA_PKCS11_KEY_LABEL": "agency", "SOHOA_PKCS11_CERT": str(certs["agency"]),
           "SOHOA_PKCS11_PIN_FILE": str(pin_file), "SOHOA_TRUST_DIR": str(trust), "SOHOA_DEV_KEYS": ""}
    data_dir, inputs = tmp_path / "data", tmp_path / "in"
    inputs.mkdir()
    shutil.copy(SAMPLES / "06-thong-bao.pdf", inputs / "06-thong-bao.pdf")
    run_cli("officers", "add", "ha.pham", "--full-name", "Phạm Thu Hà", "--pkcs11-key", "officer",
            "--pkcs11-cert", str(certs["officer"]), data_dir=data_dir, env_extra=env)
    missing = run_cli("officers", "add", "x.y", "--full-name", "X Y", "--pkcs11-key", "nothing-here",
                      data_dir=data_dir, env_extra=env, check=False)
    assert missing.returncode == 2 and "no usable key" in missing.stderr
    row = json_lines(run_cli("process", str(inputs), "--json", "--officer", "ha.pham", data_dir=data_dir,
                             env_extra=env).stdout)[0]
    assert row["status"] == "archived", row
    report = json.loads(run_cli("verify", row["code"], "--json", data_dir=data_dir, env_extra=env).stdout)
    assert report["valid"] and [s["signer"].split(",")[0] for s in report["signatures"]] == [
        "Common Name: Phạm Thu Hà", "Common Name: Sở Tư pháp thử nghiệm"]
    assert report["circular_01_2023"]["conforms"], report["circular_01_2023"]
    assert not (data_dir / "keys" / "officers" / "ha.pham.p12").exists()  # the officer's key never left the token


def test_a_province_that_requires_the_national_paper_type_code_gets_a_question_not_a_guess(tmp_path):
    data_dir, inputs = tmp_path / "data", tmp_path / "in"
    inputs.mkdir()
    shutil.copy(SAMPLES / "06-thong-bao.pdf", inputs / "06-thong-bao.pdf")
    run_cli("keys", "init-dev", data_dir=data_dir)
    env = {"SOHOA_REQUIRE_PAPER_TYPE_CODE": "1"}
    row = json_lines(run_cli("process", str(inputs), "--json", data_dir=data_dir, env_extra=env,
                             check=False).stdout)[0]
    assert row["status"] == "needs_review"
    assert any("paper-type code of the National Database unknown for Thông báo" in r for r in row["review_reasons"])
    waiting = json_lines(run_cli("review", "list", "--json", data_dir=data_dir, env_extra=env).stdout)[0]
    accepted = json.loads(run_cli("review", "accept", str(waiting["id"]), "--json", data_dir=data_dir,
                                  env_extra=env).stdout)
    assert accepted["status"] == "archived"  # the clerk decides without the code
    meta = json.loads(run_cli("fetch", accepted["code"], "--meta", data_dir=data_dir).stdout)
    assert meta["minimum_data"]["paper_type_code"] is None
