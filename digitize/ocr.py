"""OCR with Tesseract (``vie``): one call per page gives both the text and the word boxes."""

from __future__ import annotations

import functools
import os
import tempfile
from typing import TYPE_CHECKING

import pytesseract

from digitize.model import Word
from digitize.text import nfc

if TYPE_CHECKING:
    import numpy as np

# Vietnamese alone: with the clean-up (scale, denoise) it reads 0.66 % CER against 1.23 % for vie+eng,
# whose English model drops diacritics on capitalized names.  Italic date digits it misreads ("0]")
# are parsed as look-alikes and sent to review, never archived as guessed (bench/ocr_quality.py,
# bench/understanding.py).
LANG = os.environ.get("SOHOA_OCR_LANG", "vie")
# Tesseract's own threading is slower than one process per page on this hardware.
os.environ["OMP_THREAD_LIMIT"] = "1"


@functools.cache
def tesseract_version() -> str:
    """Tesseract's version, asked once per process (pytesseract starts `tesseract --version` every time)."""
    return str(pytesseract.get_tesseract_version())


PAGE_TIMEOUT_SECONDS = float(os.environ.get("SOHOA_PAGE_TIMEOUT", "180"))


class PageTimeout(Exception):
    """Tesseract did not finish a page in time (the process was stopped)."""


def read_words(gray: np.ndarray, dpi: float) -> list[Word]:
    """Run Tesseract once on ``gray`` and return its words with confidences and boxes (NFC text)."""
    import cv2  # here, not at the top: the main process asks this module only for the version and language

    # Uncompressed PGM: 13 ms to write against 85 ms for OpenCV's fastest PNG (pytesseract's PIL PNG is
    # slower still), and Tesseract reads the same pixels, so its output is identical.
    with tempfile.NamedTemporaryFile(prefix="sohoa-page-", suffix=".pgm") as image_file:
        cv2.imwrite(image_file.name, gray)
        return _tesseract_words(image_file.name, dpi)


def _tesseract_words(image_path: str, dpi: float) -> list[Word]:
    try:
        data = pytesseract.image_to_data(
            image_path, lang=LANG, config=f"--psm 3 --dpi {int(round(dpi))}", output_type=pytesseract.Output.DICT,
            timeout=PAGE_TIMEOUT_SECONDS,
        )
    except RuntimeError as exc:  # pytesseract kills Tesseract and raises this on timeout
        if "timeout" in str(exc).lower():
            raise PageTimeout(f"OCR of a page took longer than {PAGE_TIMEOUT_SECONDS:.0f} s") from None
        raise
    words = []
    for i, raw in enumerate(data["text"]):
        # Tesseract sometimes gives the Icelandic Ð/ð, identical to the eye, for Vietnamese Đ/đ.
        text = nfc(raw.strip()).replace("Ð", "Đ").replace("ð", "đ")
        conf = float(data["conf"][i])
        if not text or conf < 0:
            continue
        words.append(Word(text, conf, int(data["left"][i]), int(data["top"][i]),
                          int(data["width"][i]), int(data["height"][i])))
    return words
