"""Bad input gets a clear reason, the batch goes on, nothing is archived for it, the original stays."""

from __future__ import annotations

import io
import shutil

import cv2
import numpy as np
import pytest
from PIL import Image, ImageFilter
from pypdf import PdfWriter

from tests.conftest import SAMPLES


@pytest.fixture(scope="module")
def bad_batch(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    (folder / "a-empty.jpg").write_bytes(b"")
    (folder / "b-notes.pdf").write_text("this is not a PDF at all, just text\n")
    jpeg = (SAMPLES / "02-giay-chung-nhan-ket-hon.jpg").read_bytes()
    (folder / "c-truncated.jpg").write_bytes(jpeg[: len(jpeg) // 3])
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.encrypt("secret")
    with (folder / "d-encrypted.pdf").open("wb") as fh:
        writer.write(fh)
    (folder / "e-damaged.pdf").write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 200)
    buf = io.BytesIO()
    Image.new("1", (12000, 12000), 1).save(buf, format="PNG")
    (folder / "f-bomb.png").write_bytes(buf.getvalue())
    Image.new("RGB", (2480, 3508), (250, 250, 250)).save(folder / "g-blank.png")
    shutil.copy(SAMPLES / "09-ly-lich-tu-phap.jpg", folder / "h-good.jpg")
    page = Image.open(SAMPLES / "02-giay-chung-nhan-ket-hon.jpg")
    page.filter(ImageFilter.GaussianBlur(5)).save(folder / "i-blurred.jpg", quality=90)
    page.point(lambda v: int(v * 0.3)).save(folder / "j-dark.jpg", quality=90)
    rng = np.random.default_rng(3)  # a holiday photo, not a document: smooth colours and blobs
    photo = np.zeros((1800, 2400, 3), np.uint8)
    photo[...] = np.linspace(40, 220, 2400, dtype=np.uint8)[None, :, None]
    for _ in range(25):
        x, y, r = rng.integers(0, 2400), rng.integers(0, 1800), rng.integers(40, 300)
        cv2.circle(photo, (int(x), int(y)), int(r), tuple(int(c) for c in rng.integers(0, 255, 3)), -1)
    Image.fromarray(cv2.GaussianBlur(photo, (0, 0), 3)).save(folder / "k-photo.jpg", quality=85)
    return folder


@pytest.fixture(scope="module")
def bad_outcomes(rooms, bad_batch):
    from workflow.ingest import Ingest, IngestOptions

    return {o.source.rsplit("/", 1)[1]: o for o in Ingest(rooms, IngestOptions(workers=2)).run([bad_batch])}


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("a-empty.jpg", "empty"),
        ("b-notes.pdf", "unsupported file type"),
        ("c-truncated.jpg", "truncated"),
        ("d-encrypted.pdf", "encrypted"),
        ("e-damaged.pdf", "damaged"),
        ("f-bomb.png", "decompression bomb"),
        ("g-blank.png", "blank"),
        ("i-blurred.jpg", "trang quá mờ, cần quét lại"),
        ("j-dark.jpg", "trang quá tối"),
        ("k-photo.jpg", "not a document"),
    ],
)
def test_bad_file_rejected_with_reason_and_kept(bad_outcomes, bad_batch, rooms, name, reason):
    outcome = bad_outcomes[name]
    assert outcome.status == "rejected"
    assert reason in outcome.error
    assert outcome.code is None and outcome.archive_key is None
    assert (bad_batch / name).exists()  # the original is never removed
    row = [r for r in rooms.index.inputs.all() if r.source.endswith(name)]
    assert len(row) == 1 and row[0].status == "rejected" and reason in row[0].error


def test_batch_goes_on_after_bad_files(bad_outcomes):
    assert bad_outcomes["h-good.jpg"].status == "archived"
    assert len(bad_outcomes) == 11
