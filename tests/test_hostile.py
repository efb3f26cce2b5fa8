"""A hostile corpus made here: disguised, oversized and scripted files, odd names, concurrent runs, paths into
sohoa's own records, and values a clerk should not be able to store.  Every file ends archived or rejected
with a reason, the batch always completes, no code is burnt, and sohoa never writes over its own records."""

from __future__ import annotations

import io
import json
import os
import re
import resource
import shutil
import subprocess
import time
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image
from pypdf import PdfWriter

from tests.conftest import SAMPLES, SOHOA, json_lines, run_cli
from tests.schemas import assert_valid

BORN_DIGITAL = SAMPLES / "06-thong-bao.pdf"


def born_digital_variant(target: Path, tag: str, change=None) -> Path:
    """The born-digital sample with distinct bytes (a metadata entry), optionally changed further."""
    with pikepdf.open(BORN_DIGITAL) as pdf:
        pdf.docinfo["/Subject"] = f"variant {tag}"
        if change:
            change(pdf)
        pdf.save(target)
    return target


def javascript(pdf: pikepdf.Pdf, code: str = "app.alert('x')") -> pikepdf.Dictionary:
    return pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String(code)))


def open_action_js(pdf):
    pdf.Root.OpenAction = javascript(pdf)


def open_action_chain(pdf):  # a harmless first action whose /Next runs a script
    pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.GoTo, D=pikepdf.Array([pdf.pages[0].obj,
                                                                                     pikepdf.Name.Fit]),
                                             Next=javascript(pdf))


def launch(pdf):
    pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe"))


def names_javascript(pdf):
    tree = pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("init"), javascript(pdf)]))
    pdf.Root.Names = pikepdf.Dictionary(JavaScript=tree)


def embedded_file(pdf):
    pdf.attachments["payload.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ\x90\x00 not a document")


def page_action(pdf):
    pdf.pages[0].obj.AA = pikepdf.Dictionary(O=javascript(pdf))


def annotation_action(pdf):
    link = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link,
                              Rect=pikepdf.Array([0, 0, 50, 50]), A=javascript(pdf))
    pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(link)]))


def submit_form(pdf):
    widget = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget,
                                Rect=pikepdf.Array([0, 0, 50, 50]),
                                A=pikepdf.Dictionary(S=pikepdf.Name.SubmitForm, F=pikepdf.String("http://x/")))
    pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(widget)]))


def file_attachment_annotation(pdf):
    spec = pikepdf.AttachedFileSpec(pdf, b"hidden", filename="a.txt")
    note = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.FileAttachment,
                              Rect=pikepdf.Array([0, 0, 20, 20]), FS=spec.obj)
    pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(note)]))


def xfa(pdf):
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array(), XFA=pikepdf.Stream(pdf, b"<xdp/>"))


def flate_bomb(pdf):  # 100 MB of spaces in a content stream that takes 100 kB in the file
    bomb = pikepdf.Stream(pdf, zlib.compress(b" " * (100 << 20), 9))
    bomb.Filter = pikepdf.Name.FlateDecode
    pdf.pages[0].obj.Contents = pdf.make_indirect(pikepdf.Array([pdf.pages[0].obj.Contents, bomb]))


def image_bomb(pdf):  # an image that says it is 100,000 pixels square
    image = pikepdf.Stream(pdf, zlib.compress(b"\x00" * 1000))
    image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    image.Width, image.Height, image.BitsPerComponent = 100_000, 100_000, 8
    image.ColorSpace, image.Filter = pikepdf.Name.DeviceGray, pikepdf.Name.FlateDecode
    pdf.pages[0].obj.Resources.XObject = pikepdf.Dictionary(Im9=pdf.make_indirect(image))


ACTIVE = {"js-open-action": open_action_js, "js-after-goto": open_action_chain, "launch": launch,
          "js-name-tree": names_javascript, "embedded-file": embedded_file, "page-action": page_action,
          "annotation-js": annotation_action, "submit-form": submit_form,
          "attachment-annot": file_attachment_annotation, "xfa-form": xfa}


def blank_pdf(target: Path, width: float, height: float) -> Path:
    writer = PdfWriter()
    writer.add_blank_page(width, height)
    with target.open("wb") as fh:
        writer.write(fh)
    return target


def image_bytes(size: tuple[int, int], mode: str = "1", fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, 1 if mode == "1" else 255).save(buf, format=fmt)
    return buf.getvalue()


def make_corpus(folder: Path) -> dict[str, str | None]:
    """The hostile files, each with the words its rejection must contain (None: it must be archived)."""
    folder.mkdir(parents=True, exist_ok=True)
    pdf = BORN_DIGITAL.read_bytes()
    expected: dict[str, str | None] = {}

    def put(name: str, data: bytes, reason: str | None) -> None:
        (folder / name).write_bytes(data)
        expected[name] = reason

    put("polyglot-html.pdf", b"<html><body><script>alert(1)</script></body></html>\n" + pdf, "disguised")
    put("polyglot-zip.pdf", b"PK\x03\x04\x14\x00\x00\x00" + b"\x00" * 100 + pdf, "disguised")
    put("leading-newline.pdf", b"\r\n" + pdf, "2 bytes of something else")  # pyHanko would refuse to sign it
    put("appended-zip.pdf", pdf + b"PK\x03\x04\x14\x00payload" * 40, "appended after the end")
    put("appended-html.pdf", pdf + b"\n<html><script>x()</script></html>\n", "appended after the end")
    put("tall-strip.png", image_bytes((200, 599_000)), "strip, not the shape of a page")
    put("wide-strip.png", image_bytes((120_000, 400)), "strip")
    put("too-wide.png", image_bytes((33_000, 5_000)), "too large")
    put("tiny.png", image_bytes((100, 100)), "too small")
    put("empty.pdf", b"", "empty")
    put("header-only.pdf", b"%PDF-1.7\n", "damaged")
    put("text-as.jpg", b"just some words, not an image\n" * 10, "unsupported file type")
    put("gif.gif.png", b"GIF89a" + b"\x00" * 100, "unsupported file type")
    put("jpeg-soi-only.jpg", b"\xff\xd8\xff", "cannot")
    put("truncated.tiff", image_bytes((2480, 3508), "L", "TIFF")[:5000], "cannot")
    put("empty.png", b"", "empty")
    put("bitmap.png", b"BM" + b"\x00" * 200, "unsupported file type")
    put("truncated.pdf", pdf[: len(pdf) // 2], "damaged")
    encrypted = PdfWriter()
    encrypted.add_blank_page(595, 842)
    encrypted.encrypt("secret")
    buf = io.BytesIO()
    encrypted.write(buf)
    put("encrypted.pdf", buf.getvalue(), "encrypted")
    noise = io.BytesIO()  # random noise at page size: Tesseract would spend minutes on it
    Image.fromarray(np.random.default_rng(5).integers(0, 256, (3508, 2480), dtype=np.uint8)).save(
        noise, format="JPEG", quality=80, dpi=(300, 300))
    put("noise.jpg", noise.getvalue(), "not a document")
    for name, size in (("huge-mediabox.pdf", (14_400, 14_400)), ("long-mediabox.pdf", (5_000, 3_000)),
                       ("strip-page.pdf", (100, 3_000)), ("stamp-page.pdf", (20, 20))):
        blank_pdf(folder / name, *size)
        expected[name] = "cm:"
    # 106 x 71 cm: taken, rendered below 300 dpi to stay within A2's pixels, then found blank.
    blank_pdf(folder / "poster-page.pdf", 3_000, 2_000)
    expected["poster-page.pdf"] = "blank"
    born_digital_variant(folder / "flate-bomb.pdf", "flate-bomb", flate_bomb)
    expected["flate-bomb.pdf"] = "decompression bomb"
    born_digital_variant(folder / "image-bomb.pdf", "image-bomb", image_bomb)
    expected["image-bomb.pdf"] = "decompression bomb"
    for name, change in ACTIVE.items():
        born_digital_variant(folder / f"active-{name}.pdf", name, change)
        expected[f"active-{name}.pdf"] = "active content"
    # Accepted: a plain copy, and odd names (bytes that are not UTF-8, control characters).
    born_digital_variant(folder / "plain.pdf", "plain")
    expected["plain.pdf"] = None
    odd = os.fsdecode(b"ho-so-\xff\xfe-cu.pdf")
    born_digital_variant(folder / odd, "odd-bytes")
    expected[odd] = None
    born_digital_variant(folder / "bad\x1b[31mname\u202e.pdf", "control")
    expected["bad\x1b[31mname\u202e.pdf"] = None
    return expected


def sequences_are_contiguous(codes: list[str]) -> bool:
    """No code burnt: per agency, type and day, the sequence numbers archived are 1..n."""
    by_key: dict[str, list[int]] = {}
    for code in codes:
        key, number = code.rsplit("-", 1)
        by_key.setdefault(key, []).append(int(number))
    return all(sorted(numbers) == list(range(1, len(numbers) + 1)) for numbers in by_key.values())


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, dict[str, str | None]]:
    folder = tmp_path_factory.mktemp("hostile") / "in"
    return folder, make_corpus(folder)


def by_name(rows: list[dict], folder: Path) -> dict[str, dict]:
    return {row["source"][len(str(folder)) + 1:]: row for row in rows}


@pytest.mark.slow  # runs `sohoa` on whole files
def test_every_hostile_file_is_archived_or_rejected_and_the_batch_completes(corpus, tmp_path):
    folder, expected = corpus
    assert len(expected) >= 40
    data_dir = tmp_path / "data"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = run_cli("process", str(folder), "--json", "--workers", "2", data_dir=data_dir, check=False, timeout=600)
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    rows = json_lines(result.stdout)
    for row in rows:
        assert_valid("outcome", row)
    got = by_name(rows, folder)
    # Names that are not UTF-8 or carry control characters are shown escaped, never raw.
    assert "ho-so-\\xff\\xfe-cu.pdf" in got and "bad\\x1b[31mname\\u202e.pdf" in got
    escaped = {"ho-so-\\xff\\xfe-cu.pdf": os.fsdecode(b"ho-so-\xff\xfe-cu.pdf"),
               "bad\\x1b[31mname\\u202e.pdf": "bad\x1b[31mname\u202e.pdf"}
    got = {escaped.get(name, name): row for name, row in got.items()}
    assert set(got) == set(expected), set(got) ^ set(expected)
    for name, reason in expected.items():
        row = got[name]
        if reason is None:
            assert row["status"] == "archived", (name, row["error"], row["review_reasons"])
        else:
            assert row["status"] == "rejected" and reason in row["error"], (name, row["error"])
            assert row["code"] is None
    codes = [r["code"] for r in rows if r["code"]]
    assert len(codes) == 3 and sequences_are_contiguous(codes)
    audit = json.loads(run_cli("audit", "--json", data_dir=data_dir).stdout)
    assert audit["ok"] and audit["checked"] == 3 and audit["findings"] == []
    assert all((folder / name).exists() for name in expected)  # every original stays
    # The largest process of the run (a worker rendering the 3000 x 5000 pt page, capped at A2 pixels).
    assert max(peak_mib, before / 1024) < 1536, peak_mib


@pytest.mark.slow  # runs `sohoa` on whole files
def test_the_same_corpus_through_backfill_and_again(corpus, tmp_path):
    folder, expected = corpus
    data_dir = tmp_path / "data"
    first = json_lines(run_cli("backfill", str(folder), "--json", "--workers", "2", data_dir=data_dir).stdout)
    summary = first.pop()["summary"]
    assert summary["files"] == len(expected) and not summary["stopped"]
    assert summary["by_status"] == {"archived": 3, "rejected": len(expected) - 3}
    again = json_lines(run_cli("backfill", str(folder), "--json", data_dir=data_dir).stdout)
    assert again.pop()["summary"]["by_status"] == {"skipped": len(expected)}  # nothing read twice


@pytest.mark.slow  # runs `sohoa` on whole files
def test_a_hot_folder_moves_hostile_files_to_failed_with_their_reason(tmp_path):
    inbox = tmp_path / "inbox"
    expected = make_corpus(inbox)
    keep = {"polyglot-html.pdf", "huge-mediabox.pdf", "active-launch.pdf", "tall-strip.png", "plain.pdf"}
    for name in set(expected) - keep:
        (inbox / name).unlink()
    data_dir = tmp_path / "data"
    watcher = subprocess.Popen([str(SOHOA), "watch", str(inbox), "--interval", "0.2", "--settle", "0.3"],
                               env={**os.environ, "SOHOA_DATA_DIR": str(data_dir)},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and any((inbox / name).exists() for name in keep):
            time.sleep(0.3)
    finally:
        watcher.terminate()
        out, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0 and "Traceback" not in err, err[-2000:]
    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["plain.pdf"]
    failed = {p.name for p in (inbox / "failed").iterdir()}
    for name in keep - {"plain.pdf"}:
        assert name in failed and f"{name}.reason.txt" in failed
        assert expected[name] in (inbox / "failed" / f"{name}.reason.txt").read_text("utf-8")


@pytest.mark.slow  # runs `sohoa` on whole files
def test_active_content_is_archived_only_when_flagged_and_then_listed(tmp_path):
    scripted = born_digital_variant(tmp_path / "scripted.pdf", "flag", open_action_js)
    data_dir = tmp_path / "data"
    row = json_lines(run_cli("process", str(scripted), "--json", data_dir=data_dir,
                             env_extra={"SOHOA_ACTIVE_CONTENT": "flag"}).stdout)[0]
    assert row["status"] == "archived"
    meta = json.loads(run_cli("fetch", row["code"], "--meta", data_dir=data_dir).stdout)
    assert_valid("metadata", meta)
    assert meta["active_content"] == ["a script (JavaScript) when the document opens"]
    report = json.loads(run_cli("verify", row["code"], "--json", data_dir=data_dir).stdout)
    assert report["valid"] and report["active_content"] == ["a script (JavaScript) when the document opens"]
    text = run_cli("verify", row["code"], data_dir=data_dir).stdout
    assert "warning: active content: a script (JavaScript) when the document opens" in text
    bad = run_cli("process", str(scripted), data_dir=tmp_path / "other", check=False,
                  env_extra={"SOHOA_ACTIVE_CONTENT": "sometimes"})
    assert bad.returncode == 2 and "SOHOA_ACTIVE_CONTENT must be one of reject, flag" in " ".join(bad.stderr.split())


@pytest.mark.slow  # runs `sohoa` on whole files
def test_two_concurrent_runs_archive_each_input_once(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(10):
        born_digital_variant(folder / f"tb-{i:02d}.pdf", f"race-{i}")
    data_dir = tmp_path / "data"
    run_cli("keys", "init-dev", data_dir=data_dir)
    env = {**os.environ, "SOHOA_DATA_DIR": str(data_dir)}
    runs = [subprocess.Popen([str(SOHOA), "process", str(folder), "--json", "--workers", "1"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err[-1500:] for _out, err in outputs]
    rows = [row for out, _err in outputs for row in json_lines(out)]
    archived = Counter(row["source_sha256"] for row in rows if row["status"] == "archived")
    assert len(archived) == 10
    # Both runs name the same code for an input (one archived it, the other found it archived or in progress).
    codes = {row["code"] for row in rows if row["status"] == "archived"}
    assert len(codes) == 10 and sequences_are_contiguous(sorted(codes))
    assert json.loads(run_cli("audit", "--json", data_dir=data_dir).stdout)["checked"] == 10
    for row in rows:
        assert row["status"] in {"archived", "skipped"}
        if row["status"] == "skipped":
            assert "another run" in row["error"]


@pytest.mark.slow  # runs `sohoa` on whole files
def test_sohoa_never_writes_into_its_own_records(tmp_path):
    data_dir = tmp_path / "data"
    row = json_lines(run_cli("process", str(BORN_DIGITAL), "--json", data_dir=data_dir).stdout)[0]
    archived = data_dir / "archive" / row["archive_key"]
    before = archived.read_bytes()
    for args in (("fetch", row["code"], "-o", str(archived)),
                 ("fetch", row["code"], "-o", str(data_dir / "copy.pdf")),
                 ("coversheet", "000.00.00.H26-230515-0001", "-o", str(archived.parent / "bia.pdf")),
                 ("watch", str(archived.parent)),
                 ("backfill", str(SAMPLES), "--report", str(data_dir / "bao-cao.csv"))):
        result = run_cli(*args, data_dir=data_dir, check=False, timeout=60)
        assert result.returncode == 2 and "inside sohoa's own records" in " ".join(result.stderr.split()), args
    assert archived.read_bytes() == before and not (archived.parent / "bia.pdf").exists()
    assert not (data_dir / "copy.pdf").exists() and not (data_dir / "bao-cao.csv").exists()
    assert run_cli("verify", row["code"], data_dir=data_dir).returncode == 0


@pytest.mark.slow  # runs `sohoa` on whole files
def test_a_missing_archive_object_is_a_sentence_not_a_traceback(tmp_path):
    data_dir = tmp_path / "data"
    row = json_lines(run_cli("process", str(BORN_DIGITAL), "--json", data_dir=data_dir).stdout)[0]
    version = data_dir / "archive" / row["archive_key"].rsplit("/", 1)[0]
    version.chmod(0o755)
    for child in version.iterdir():
        child.chmod(0o644)
    shutil.move(str(version), str(tmp_path / "moved-away"))
    result = run_cli("fetch", row["code"], "-o", str(tmp_path / "out.pdf"), data_dir=data_dir, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert re.search(r"archive:.*", result.stderr)


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("issued_on", "20200101", "YYYY-MM-DD"),
    ("issued_on", "2020-W01-1", "YYYY-MM-DD"),
    ("issued_on", "2020-02-30", "not a day of the calendar"),
    ("issued_on", "9999-12-31", "not between"),
    ("issued_on", "1900-01-01", "not between"),
    ("number", "1" * 500, "at most 40 characters"),
    ("number", "12; DROP TABLE", "letters and digits"),
    ("holder_id", "x" * 304, "9 or 12 digits"),
    ("holder_id", "0012345", "9 or 12 digits"),
    ("holder", "NGUYỄN\u202eVĂN A", "control or direction characters"),
    ("holder", "LÊ\x00VĂN", "control or direction characters"),
    ("issuer", "1234", "with letters"),
    ("holder", "A" * 201, "longer than 200"),
])
def test_a_clerk_cannot_store_a_value_the_pipeline_would_not(field, value, reason):
    from codes import load_catalogue
    from workflow.contracts import ReviewDecision
    from workflow.review import ReviewError, check_decision

    with pytest.raises(ReviewError, match=re.escape(reason)):
        check_decision(ReviewDecision(None, {field: value}), load_catalogue())


def test_clean_values_are_normalized_and_a_result_needs_a_level():
    import unicodedata

    from codes import load_agencies, load_catalogue
    from digitize.model import Classification, FieldValue, Understanding
    from workflow.contracts import ReviewDecision
    from workflow.review import ReviewError, apply_decision, check_decision

    decomposed = unicodedata.normalize("NFD", "NGUYỄN  VĂN   AN")
    checked = check_decision(ReviewDecision("KS", {"holder": decomposed, "number": "125/2020",
                                                   "issued_on": "2020-04-08", "holder_id": "001234567890"}),
                             load_catalogue())
    assert checked.fields["holder"] == unicodedata.normalize("NFC", "NGUYỄN VĂN AN")
    understanding = Understanding(Classification("KS", "Giấy khai sinh", 0.5, ()), FieldValue("1/2020", 0.9),
                                  FieldValue("2020-04-08", 0.9), FieldValue("ỦY BAN NHÂN DÂN", 0.9),
                                  FieldValue("AN", 0.9), None, ("issuing level unknown",))
    with pytest.raises(ReviewError, match="issuing level cannot be told"):
        apply_decision(understanding, ReviewDecision(), load_catalogue(), load_agencies())
    fixed = apply_decision(understanding, ReviewDecision(fields={"issuer": "UBND XÃ AN KHÁNH, HUYỆN HOÀI ĐỨC"}),
                           load_catalogue(), load_agencies())
    assert fixed.level == "commune" and fixed.review_reasons == ()


@pytest.mark.slow  # runs `sohoa` on whole files
def test_personal_data_on_disk_is_for_sohoa_only(tmp_path):
    import stat

    from tests.conftest import unnumbered_birth_certificate

    data_dir = tmp_path / "data"
    run_cli("process", str(BORN_DIGITAL), str(unnumbered_birth_certificate(tmp_path)), data_dir=data_dir)
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / "index.sqlite3").stat().st_mode) == 0o600
    archived = [p for p in (data_dir / "archive").rglob("*") if p.is_file() and not p.name.startswith(".")]
    assert archived and {stat.S_IMODE(p.stat().st_mode) for p in archived} == {0o440}
    waiting = [p for p in (data_dir / "review").rglob("*") if p.is_file()]
    assert waiting and all(stat.S_IMODE(p.stat().st_mode) & 0o077 == 0 for p in waiting)


def writable(path: Path) -> Path:
    path.parent.chmod(0o700)
    path.chmod(0o600)
    return path


@pytest.mark.slow  # runs `sohoa` on whole files
def test_a_changed_archive_object_is_never_handed_out_as_intact(tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from web.api import create_app
    from workflow.results import FixityError, add_client
    from workflow.rooms import open_rooms
    from workflow.settings import load_settings

    data_dir = tmp_path / "data"
    row = json_lines(run_cli("process", str(BORN_DIGITAL), "--json", data_dir=data_dir).stdout)[0]
    document = writable(data_dir / "archive" / row["archive_key"])
    changed = bytearray(document.read_bytes())
    changed[len(changed) // 2] ^= 0x01
    document.write_bytes(bytes(changed))
    metadata = writable(document.with_name("metadata.json"))
    metadata.write_text(metadata.read_text("utf-8").replace('"pages": 1', '"pages": 2'), "utf-8")
    shown = run_cli("fetch", row["code"], "--meta", data_dir=data_dir, check=False)
    warning = " ".join(shown.stderr.split())
    assert shown.returncode == 1 and "metadata.json does not match manifest-sha256.txt" in warning
    monkeypatch.setenv("SOHOA_DATA_DIR", str(data_dir))
    rooms = open_rooms(load_settings())
    token = add_client(rooms, "reader", {"holder_id": True})
    client = TestClient(create_app(rooms))
    # The response is cut before its last piece: the changed document is never handed out whole.
    with pytest.raises(FixityError):
        client.get(f"/v1/results/{row['code']}/document", headers={"Authorization": f"Bearer {token}"})
    assert [e.outcome for e in rooms.index.results.events(row["code"], "fixity_check")] == ["failure"]


@pytest.mark.slow  # runs `sohoa` on whole files
def test_work_files_of_a_killed_run_are_removed_at_the_next_start(tmp_path):
    data_dir = tmp_path / "data"
    tmp = data_dir / "tmp"
    dead = 2 ** 22 + 17  # no process has this pid (Linux's pid_max is at most 2^22)
    leftovers = [tmp / f"doc-{dead}-abc", tmp / f"signed-{dead}-x.pdf"]
    alive = tmp / f"doc-{os.getpid()}-running"  # a run still working: its files stay
    for path in (*leftovers, alive):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir() if not path.suffix else path.write_bytes(b"%PDF")
    run_cli("process", str(BORN_DIGITAL), data_dir=data_dir)
    assert not any(p.exists() for p in leftovers) and alive.exists()


@pytest.mark.slow  # runs `sohoa` on whole files
def test_a_file_that_starts_blank_or_unreadable_is_not_read_to_the_end(tmp_path):
    blank = Image.new("1", (2480, 3508), 1)
    blank.save(tmp_path / "blank-stack.tiff", save_all=True, append_images=[blank] * 39, compression="group4",
               dpi=(300, 300))
    noise = Image.fromarray(np.random.default_rng(7).integers(0, 256, (3508, 2480), dtype=np.uint8)).convert("1")
    noise.save(tmp_path / "noise-first.tiff", save_all=True, append_images=[blank] * 39, compression="group4",
               dpi=(300, 300))
    rows = {Path(r["source"]).name: r for r in json_lines(run_cli(
        "process", str(tmp_path / "blank-stack.tiff"), str(tmp_path / "noise-first.tiff"), "--json", "--workers", "2",
        data_dir=tmp_path / "data").stdout)}
    assert rows["blank-stack.tiff"]["status"] == "rejected"
    assert "the first 5 pages are blank" in rows["blank-stack.tiff"]["error"]
    assert "the other 35 pages were not read" in rows["blank-stack.tiff"]["error"]
    assert rows["noise-first.tiff"]["status"] == "rejected" and "page 1" in rows["noise-first.tiff"]["error"]
