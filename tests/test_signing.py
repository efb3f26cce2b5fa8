"""Signing room: PAdES levels with a local TSA, stamp, multi-signature inputs, failures with reasons, keys."""

from __future__ import annotations

import io
import json
import shutil
import stat
import subprocess

import cv2
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from signing import KeyMaterial, Signer, SigningOptions, init_dev_keys, verify_pdf
from signing.keys import TSA_FILE
from signing.stamp import place_stamp
from signing.tsa import DevTsaServer
from tests.conftest import SAMPLES, json_lines, run_cli
from tests.pki import PASSPHRASE, make_ca
from tests.servers import softhsm_token

CODE = "000.00.00.H26-TB-261124-0001"
PDF = SAMPLES / "06-thong-bao.pdf"


@pytest.fixture(scope="module")
def dev_keys(tmp_path_factory):
    return init_dev_keys(tmp_path_factory.mktemp("keys"), "000.00.00.H26")


@pytest.fixture(scope="module")
def tsa_url(dev_keys):
    """The development TSA over real HTTP (RFC 3161), as an agency's TSA would be reached."""
    with DevTsaServer(dev_keys.dev_tsa_path, dev_keys.passphrase) as server:
        yield server.url


def issuer_signer(ca, name: str, expired: bool = False) -> Signer:
    """A signer of the test CA ``ca`` (an issuing body, not sohoa), without a stamp."""
    p12, _, _ = ca.signer(name, expired=expired)
    return Signer(KeyMaterial(p12, PASSPHRASE.encode(), (ca.root_path,), development=False),
                  SigningOptions(stamp="off"))


def pdfsig(pdf: bytes, tmp_path, name: str = "signed.pdf") -> str:
    path = tmp_path / name
    path.write_bytes(pdf)
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False).stdout


def signature_blocks(pdfsig_out: str) -> list[str]:
    return [b for b in pdfsig_out.split("Signature #")[1:]]


@pytest.mark.parametrize("level", ["B-B", "B-T", "B-LT", "B-LTA"])
def test_every_level_signs_and_verifies(level, dev_keys, tsa_url, tmp_path):
    signer = Signer(dev_keys, SigningOptions(level=level, tsa_url=None if level == "B-B" else tsa_url))
    original = PDF.read_bytes()
    signed = signer.sign(original, reason="Bản số hóa từ bản chính", location="000.00.00.H26", code=CODE)
    assert signed.startswith(original)  # incremental: the earlier bytes are kept
    report = verify_pdf(signed, dev_keys.trust_roots, crls=dev_keys.crls)
    assert report.valid, report.problems
    ours = report.signatures[0]
    assert ours.level == level and ours.development_ca
    assert (ours.timestamp is not None) == (level != "B-B")
    assert (ours.revocation_info is not None) == (level in ("B-LT", "B-LTA"))
    kinds = [s.kind for s in report.signatures]
    assert kinds == (["signature", "document timestamp"] if level == "B-LTA" else ["signature"])
    out = pdfsig(signed, tmp_path)
    first = signature_blocks(out)[0]
    assert "Signature is Valid" in first and "ETSI.CAdES.detached" in first and "SHA-256" in first, out
    if level == "B-LTA":
        assert "ETSI.RFC3161" in out or "Signature #2" in out


def test_b_t_is_the_default_with_a_tsa_and_b_b_without(dev_keys, tsa_url):
    assert Signer(dev_keys, SigningOptions(tsa_url=tsa_url)).level == "B-T"
    assert Signer(dev_keys, SigningOptions()).level == "B-B"
    with pytest.raises(Exception, match="timestamping authority"):
        Signer(dev_keys, SigningOptions(level="B-LT"))


def test_stamp_text_is_vietnamese_and_extractable_and_qr_holds_the_code(dev_keys, tmp_path):
    signer = Signer(dev_keys, SigningOptions(public_url="https://sohoa.example.gov.vn"))
    signed = signer.sign(PDF.read_bytes(), "r", "000.00.00.H26", code=CODE, agency_name="Ủy ban nhân dân tỉnh Hà Nam")
    path = tmp_path / "stamped.pdf"
    path.write_bytes(signed)
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Bản số hóa từ bản chính — ký số bởi" in text
    assert "Cơ quan số hóa: Ủy ban nhân dân tỉnh Hà Nam" in text
    assert f"Mã kết quả: {CODE}" in text
    assert "KHÓA PHÁT TRIỂN" in text  # a development key never passes for a real one
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")], check=True)
    image = cv2.imread(str(next(tmp_path.glob("p*.png"))))
    found, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert found == f"https://sohoa.example.gov.vn/v1/results/{CODE}/verification"
    assert verify_pdf(signed, dev_keys.trust_roots).valid


def test_stamp_avoids_text(dev_keys):
    import pdfplumber

    pdf = PDF.read_bytes()
    placement = place_stamp(pdf, "top-left")  # the header sits top-left: the stamp must move elsewhere
    assert placement.corner != "top-left" and not placement.overlaps_text
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        page = doc.pages[0]
        x1, y1, x2, y2 = placement.box
        crop = page.crop((x1, page.height - y2, x2, page.height - y1))
        assert crop.extract_words() == []


def test_an_already_signed_pdf_keeps_every_earlier_signature_valid(dev_keys, tmp_path):
    ca = make_ca(tmp_path / "issuer-ca")
    pdf = PDF.read_bytes()
    for name in ("Chủ tịch UBND", "Văn thư UBND"):  # the issuer signs twice: a real multi-signature input
        pdf = issuer_signer(ca, name).sign(pdf, "Ký ban hành", "Hà Nam")
    issued = pdf
    ours = Signer(dev_keys, SigningOptions()).sign(issued, "Bản số hóa", "000.00.00.H26", code=CODE)
    assert ours.startswith(issued)
    report = verify_pdf(ours, (*dev_keys.trust_roots, ca.root_path))
    assert report.valid, report.problems
    assert len(report.signatures) == 3
    assert [s.trusted and s.intact for s in report.signatures] == [True, True, True]
    assert report.signatures[0].later_changes == "later signatures or form filling only"
    blocks = signature_blocks(pdfsig(ours, tmp_path))
    assert len(blocks) == 3 and all("Signature is Valid" in b for b in blocks)


def test_a_signed_born_digital_result_goes_through_the_pipeline_untouched(tmp_path):
    ca = make_ca(tmp_path / "trust")
    inbox = tmp_path / "in"
    inbox.mkdir()
    signed_by_issuer = issuer_signer(ca, "Chủ tịch UBND").sign(PDF.read_bytes(), "Ký ban hành", "Hà Nam")
    (inbox / "thong-bao-da-ky.pdf").write_bytes(signed_by_issuer)
    trust = tmp_path / "trust-dir"
    trust.mkdir()
    shutil.copy(ca.root_path, trust / "issuer-root.pem")
    data_dir, env = tmp_path / "data", {"SOHOA_TRUST_DIR": str(trust)}
    row = json_lines(run_cli("process", str(inbox), "--json", data_dir=data_dir, env_extra=env).stdout)[0]
    assert row["status"] == "archived", row
    fetched = tmp_path / "fetched.pdf"
    run_cli("fetch", row["code"], "-o", str(fetched), data_dir=data_dir, env_extra=env)
    assert fetched.read_bytes().startswith(signed_by_issuer)  # never rasterized or rewritten
    report = json.loads(run_cli("verify", row["code"], "--json", data_dir=data_dir, env_extra=env).stdout)
    assert report["valid"] and len(report["signatures"]) == 2
    meta = json.loads(run_cli("fetch", row["code"], "--meta", data_dir=data_dir, env_extra=env).stdout)
    assert meta["ocr"] == {"engine": "pdf text layer"}


def test_a_flipped_byte_fails_with_a_reason(dev_keys):
    signed = bytearray(Signer(dev_keys).sign(PDF.read_bytes(), "r", "l", code=CODE))
    signed[len(signed) // 3] ^= 0x01
    report = verify_pdf(bytes(signed), dev_keys.trust_roots)
    assert not report.valid
    assert any("modified after signing" in p for p in report.problems), report.problems


def test_a_wrong_trust_root_fails_with_a_reason(dev_keys, tmp_path):
    other = make_ca(tmp_path / "other")
    report = verify_pdf(Signer(dev_keys).sign(PDF.read_bytes(), "r", "l", code=CODE), (other.root_path,))
    assert not report.valid
    assert any("does not chain to a trusted root" in p and "DEVELOPMENT CA" in p for p in report.problems)


def test_an_expired_certificate_fails_with_a_reason(tmp_path):
    ca = make_ca(tmp_path / "ca")
    signer = issuer_signer(ca, "Hết hạn", expired=True)
    report = verify_pdf(signer.sign(PDF.read_bytes(), "r", "l"), (ca.root_path,))
    assert not report.valid
    assert any("certificate expired on" in p for p in report.problems), report.problems


def test_pkcs11_token_through_softhsm2(tmp_path, monkeypatch):
    ca = make_ca(tmp_path / "ca", "Cơ quan chứng thực thử nghiệm")
    _, cert_pem, key_pem = ca.signer("Văn thư số hóa")
    module, token_env = softhsm_token(tmp_path / "hsm", "sohoa-test", {"signer": key_pem})
    monkeypatch.setenv("SOFTHSM2_CONF", token_env["SOFTHSM2_CONF"])
    trust = tmp_path / "trust"
    trust.mkdir()
    shutil.copy(ca.root_path, trust / "root.pem")
    pin_file = tmp_path / "pin"
    pin_file.write_text("1234\n")
    env = {**token_env, "SOHOA_PKCS11_MODULE": module, "SOHOA_PKCS11_TOKEN": "sohoa-test",
           "SOHOA_PKCS11_KEY_LABEL": "signer", "SOHOA_PKCS11_CERT": str(cert_pem),
           "SOHOA_PKCS11_PIN_FILE": str(pin_file), "SOHOA_TRUST_DIR": str(trust), "SOHOA_DEV_KEYS": ""}
    inbox = tmp_path / "in"
    inbox.mkdir()
    shutil.copy(PDF, inbox)
    data_dir = tmp_path / "data"
    row = json_lines(run_cli("process", str(inbox), "--json", data_dir=data_dir, env_extra=env).stdout)[0]
    assert row["status"] == "archived", row
    out = run_cli("verify", row["code"], data_dir=data_dir, env_extra=env).stdout
    assert ": VALID" in out and "Văn thư số hóa" in out and "NOTE: development" not in out
    assert not (data_dir / "keys" / "signer.p12").exists()  # no development key was made or used
    fetched = tmp_path / "token.pdf"
    run_cli("fetch", row["code"], "-o", str(fetched), data_dir=data_dir, env_extra=env)
    assert "Signature is Valid" in signature_blocks(pdfsig(fetched.read_bytes(), tmp_path))[0]


def test_resign_lta_adds_a_document_timestamp_as_a_new_version(tmp_path):
    data_dir, env = tmp_path / "data", {"SOHOA_TSA_URL": "dev"}
    run_cli("keys", "init-dev", data_dir=data_dir)
    inbox = tmp_path / "in"
    inbox.mkdir()
    shutil.copy(PDF, inbox)
    row = json_lines(run_cli("process", str(inbox), "--json", data_dir=data_dir, env_extra=env).stdout)[0]
    code = row["code"]
    before = json.loads(run_cli("verify", code, "--json", data_dir=data_dir, env_extra=env).stdout)
    assert before["signatures"][0]["level"] == "B-T"
    out = run_cli("resign", "--lta", data_dir=data_dir, env_extra=env).stdout
    assert f"renewed  {code} v1 -> v2 (no document timestamp yet)" in out
    after = json.loads(run_cli("verify", code, "--json", data_dir=data_dir, env_extra=env).stdout)
    assert after["valid"] and after["signatures"][0]["level"] == "B-LTA"
    assert [s["kind"] for s in after["signatures"]] == ["signature", "document timestamp"]
    v1 = run_cli("fetch", code, "--version", "1", "-o", str(tmp_path / "v1.pdf"), data_dir=data_dir, env_extra=env)
    assert v1.returncode == 0
    import hashlib

    assert hashlib.sha256((tmp_path / "v1.pdf").read_bytes()).hexdigest() == row["sha256"]  # v1 untouched
    meta = json.loads(run_cli("fetch", code, "--meta", data_dir=data_dir, env_extra=env).stdout)
    assert meta["version"] == 2 and meta["supersedes"] == f"{code}/v1"
    assert meta["fields"] == row["fields"] and meta["signature"]["level"] == "B-LTA"
    assert "0 renewed" in run_cli("resign", "--lta", data_dir=data_dir, env_extra=env).stdout  # still fresh
    again = run_cli("resign", "--lta", "--expiring-within", "100000", data_dir=data_dir, env_extra=env).stdout
    assert f"{code} v2 -> v3" in again  # the timestamp chain is extended
    final = json.loads(run_cli("verify", code, "--json", data_dir=data_dir, env_extra=env).stdout)
    assert final["valid"] and [s["kind"] for s in final["signatures"]].count("document timestamp") == 2
    assert run_cli("audit", data_dir=data_dir, env_extra=env).returncode == 0


def test_keys_are_encrypted_at_rest_and_private(dev_keys):
    folder = dev_keys.pkcs12_path.parent
    for name in ("signer.p12", TSA_FILE, "dev-ca.p12", "passphrase"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
    from cryptography.hazmat.primitives.serialization import pkcs12

    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(dev_keys.pkcs12_path.read_bytes(), None)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_without_a_configured_key_sohoa_says_what_to_do(tmp_path):
    result = run_cli("list", data_dir=tmp_path / "data", env_extra={"SOHOA_DEV_KEYS": ""}, check=False)
    assert result.returncode == 2
    assert "sohoa keys init-dev" in result.stderr and "SOHOA_SIGNING_KEY" in result.stderr


def test_a_development_ca_is_trusted_only_in_its_own_data_directory(tmp_path):
    home, other = tmp_path / "home", tmp_path / "other"
    for folder in (home, other):
        run_cli("keys", "init-dev", data_dir=folder)
    inbox = tmp_path / "in"
    inbox.mkdir()
    shutil.copy(PDF, inbox)
    row = json_lines(run_cli("process", str(inbox), "--json", data_dir=home).stdout)[0]
    pdf = tmp_path / "result.pdf"
    run_cli("fetch", row["code"], "-o", str(pdf), data_dir=home)
    mine = run_cli("verify", str(pdf), data_dir=home)
    assert ": VALID" in mine.stdout and "NOTE: development key and CA" in mine.stdout
    theirs = run_cli("verify", str(pdf), data_dir=other, check=False)
    assert theirs.returncode == 1
    assert "does not chain to a trusted root" in theirs.stdout


def test_passphrase_from_a_file_and_wrong_passphrase_refused(tmp_path):
    data_dir = tmp_path / "data"
    secret = tmp_path / "secret"
    secret.write_text("correct horse battery staple\n")
    env = {"SOHOA_KEY_PASSPHRASE_FILE": str(secret)}
    run_cli("keys", "init-dev", data_dir=data_dir, env_extra=env)
    assert not (data_dir / "keys" / "passphrase").exists()
    shown = json.loads(run_cli("keys", "show", "--json", data_dir=data_dir, env_extra=env).stdout)
    assert shown["development"] and shown["level"] == "B-B"
    secret.write_text("wrong\n")
    refused = run_cli("keys", "show", data_dir=data_dir, env_extra=env, check=False)
    assert refused.returncode != 0
    assert "wrong" in refused.stderr and "passphrase" in refused.stderr


def test_a_missing_signing_key_file_is_refused_with_its_reason(tmp_path):
    refused = run_cli("keys", "show", data_dir=tmp_path / "data", check=False,
                      env_extra={"SOHOA_SIGNING_KEY": str(tmp_path / "gone.p12"), "SOHOA_KEY_PASSPHRASE": "x"})
    assert refused.returncode == 2
    assert "cannot read the signing key" in " ".join(refused.stderr.split())


def test_scanned_results_carry_a_stamp_whose_qr_holds_their_code(processed, rooms, tmp_path):
    outcome = processed["09-ly-lich-tu-phap.jpg"]
    pdf = rooms.archive.get(outcome.archive_key)
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    assert reader.embedded_signatures[0].field_name.startswith("SohoaDigitization")
    path = tmp_path / "kh.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")], check=True)
    image = cv2.imread(str(next(tmp_path.glob("p*.png"))))
    x1, _, _, y2 = place_stamp(pdf).box  # the stamp's corner (OpenCV misses small codes on a whole page)
    scale = 200 / 72
    found, _, _ = cv2.QRCodeDetector().detectAndDecode(image[image.shape[0] - int(y2 * scale) - 20:, int(x1 * scale):])
    assert found == outcome.code
    assert not place_stamp(pdf).overlaps_text


def test_a_signed_scanned_pdf_is_ocred_for_text_but_never_rewritten(tmp_path):
    ca = make_ca(tmp_path / "ca")
    issuer = issuer_signer(ca, "Chủ tịch UBND")
    inbox = tmp_path / "in"
    inbox.mkdir()
    signed_scan = issuer.sign((SAMPLES / "05-giay-phep-xay-dung.pdf").read_bytes(), "Ký ban hành", "Hà Nam")
    (inbox / "gpxd-da-ky.pdf").write_bytes(signed_scan)
    trust = tmp_path / "trust"
    trust.mkdir()
    shutil.copy(ca.root_path, trust / "issuer.pem")
    data_dir, env = tmp_path / "data", {"SOHOA_TRUST_DIR": str(trust)}
    row = json_lines(run_cli("process", str(inbox), "--json", data_dir=data_dir, env_extra=env).stdout)[0]
    assert row["status"] == "archived" and row["doc_type"]["code"] == "GPXD", row
    assert "GIẤY PHÉP XÂY DỰNG" in row["text"]  # the text comes from OCR of the rendered page
    fetched = tmp_path / "fetched.pdf"
    run_cli("fetch", row["code"], "-o", str(fetched), data_dir=data_dir, env_extra=env)
    assert fetched.read_bytes().startswith(signed_scan)
    report = json.loads(run_cli("verify", row["code"], "--json", data_dir=data_dir, env_extra=env).stdout)
    assert report["valid"] and [s["trusted"] for s in report["signatures"]] == [True, True]
    meta = json.loads(run_cli("fetch", row["code"], "--meta", data_dir=data_dir, env_extra=env).stdout)
    assert "kept byte for byte" in meta["signed_input"] and meta["ocr"]["engine"] == "tesseract"
