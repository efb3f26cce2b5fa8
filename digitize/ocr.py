"""OCR with Tesseract (``vie``): one call per page gives both the text and the word boxes.

Two ways to run the same Tesseract models (``OcrConfig.engine``, set by ``SOHOA_OCR_ENGINE``):

- ``tesseract`` (default): the ``tesseract`` command through pytesseract, one process per page.  Each
  start loads the language model again (about 0.15 s of a page's 1.0-1.3 s).
- ``tesserocr``: libtesseract inside the page worker through tesserocr (optional extra ``tesserocr``),
  which loads the model once per worker.  Its wheel brings its own Tesseract build (5.5 here, against
  Debian's 5.3); on ``bench/ocr_quality.py 32`` it reads the same (CER 0.57 % against 0.55 %), and the
  whole pipeline takes a quarter to a third less time (README, Performance).
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytesseract

from digitize.model import Word
from digitize.text import nfc

if TYPE_CHECKING:
    import numpy as np

ENGINES = ("tesseract", "tesserocr")
TESSDATA_DIRS = (Path("/usr/share/tesseract-ocr/5/tessdata"), Path("/usr/share/tesseract-ocr/4.00/tessdata"),
                 Path("/usr/share/tessdata"), Path("/usr/local/share/tessdata"))


@dataclass(frozen=True)
class OcrConfig:
    """How pages are read: small and picklable, it travels to the page workers inside each page job.

    ``lang``: Vietnamese alone by default; with the clean-up (scale, denoise) it reads 0.66 % CER against
    1.23 % for vie+eng, whose English model drops diacritics on capitalized names.  Italic date digits it
    misreads ("0]") are parsed as look-alikes and sent to review, never archived as guessed.
    """

    lang: str = "vie"
    engine: str = "tesseract"
    page_timeout: float = 180.0  # seconds
    tessdata_dir: Path | None = None  # where the models are (the library engine); default: Debian's folder
    # (field, label) of lines worth a second reading when unsure ("holder", "Họ và tên"), from the catalogue.
    field_labels: tuple[tuple[str, str], ...] = ()
    second_reader: str = "auto"  # who reads unsure lines again: auto | trueocr | tesseract (digitize.reread)

    def check(self) -> None:
        """Raise ValueError for an engine that is unknown or not installed, before any page is read."""
        if self.engine not in ENGINES:
            raise ValueError(f"SOHOA_OCR_ENGINE must be one of {', '.join(ENGINES)}, not {self.engine!r}")
        if self.engine == "tesserocr" and not _installed("tesserocr"):
            raise ValueError("SOHOA_OCR_ENGINE=tesserocr needs the tesserocr package: pip install -e '.[tesserocr]'")

    @property
    def binding(self) -> str:
        return "tesserocr" if self.engine == "tesserocr" else "pytesseract"

    def tesseract_version(self) -> str:
        """The version of the Tesseract that reads the pages (the command's, or tesserocr's own build)."""
        return _version(self.engine)

    def description(self) -> str:
        """What read the pages, for the provenance events: e.g. ``tesseract 5.3.0 (vie)``."""
        via = " via tesserocr" if self.engine == "tesserocr" else ""
        return f"tesseract {self.tesseract_version()}{via} ({self.lang})"


DEFAULT_OCR = OcrConfig()


class PageTimeout(Exception):
    """Tesseract did not finish a page in time (the command was stopped, or the library call cancelled)."""


@functools.cache
def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


@functools.cache
def _version(name: str) -> str:
    # Asked once per process: pytesseract starts `tesseract --version` at every call.
    if name == "tesserocr":
        import tesserocr

        return tesserocr.tesseract_version().split()[1]
    return str(pytesseract.get_tesseract_version())


def read_words(gray: np.ndarray, dpi: float, config: OcrConfig = DEFAULT_OCR) -> list[Word]:
    """Run Tesseract once on ``gray`` and return its words with confidences and boxes (NFC text)."""
    if config.engine == "tesserocr":
        return _library_words(gray, dpi, config)
    import cv2  # here, not at the top: the main process asks this module only for the version and language

    # Uncompressed PGM: 13 ms to write against 85 ms for OpenCV's fastest PNG (pytesseract's PIL PNG is
    # slower still), and Tesseract reads the same pixels, so its output is identical.
    with tempfile.NamedTemporaryFile(prefix="sohoa-page-", suffix=".pgm") as image_file:
        cv2.imwrite(image_file.name, gray)
        return _tesseract_words(image_file.name, dpi, config)


def read_lines(images: list[np.ndarray], dpi: float, config: OcrConfig = DEFAULT_OCR,
               whitelist: str | None = None) -> list[list[Word]]:
    """Read each image as one line of text (``--psm 7``), all in one Tesseract run: the command is given the list
    of images and loads its model once; libtesseract reads them one by one.  [the words of each image]."""
    if not images:
        return []
    if config.engine == "tesserocr":
        return [_library_words(image, dpi, config, 7, whitelist) for image in images]
    import cv2

    with tempfile.TemporaryDirectory(prefix="sohoa-lines-") as folder:
        paths = []
        for k, image in enumerate(images):
            paths.append(f"{folder}/line-{k:03d}.pgm")
            cv2.imwrite(paths[-1], image)
        listing = Path(folder) / "lines.txt"
        listing.write_text("\n".join(paths) + "\n")
        options = f"--psm 7 --dpi {int(round(dpi))}" + (f" -c tessedit_char_whitelist={whitelist}" if whitelist else "")
        try:
            data = pytesseract.image_to_data(str(listing), lang=config.lang, config=options,
                                             output_type=pytesseract.Output.DICT, timeout=config.page_timeout)
        except RuntimeError as exc:
            if "timeout" in str(exc).lower():
                raise PageTimeout(f"OCR of {len(images)} lines took longer than {config.page_timeout:g} s") from None
            raise
    lines: list[list[Word]] = [[] for _ in images]
    for page, *row in zip(data["page_num"], data["text"], data["conf"], data["left"], data["top"], data["width"],
                          data["height"], strict=True):
        if 1 <= int(page) <= len(images):
            lines[int(page) - 1] += _words([row])
    return lines


def _tesseract_words(image_path: str, dpi: float, config: OcrConfig) -> list[Word]:
    # The command runs single-threaded: OMP_THREAD_LIMIT=1 is in the workers' environment (settings).
    try:
        data = pytesseract.image_to_data(
            image_path, lang=config.lang, config=f"--psm 3 --dpi {int(round(dpi))}",
            output_type=pytesseract.Output.DICT, timeout=config.page_timeout,
        )
    except RuntimeError as exc:  # pytesseract kills Tesseract and raises this on timeout
        if "timeout" in str(exc).lower():
            raise PageTimeout(f"OCR of a page took longer than {config.page_timeout:g} s") from None
        raise
    return _words(zip(data["text"], data["conf"], data["left"], data["top"], data["width"], data["height"],
                      strict=True))


_library = None  # this worker's libtesseract instance: the language model stays loaded between pages
_library_key: tuple[str, Path] | None = None


def _library_words(gray: np.ndarray, dpi: float, config: OcrConfig, psm: int = 3,
                   whitelist: str | None = None) -> list[Word]:
    """The same analysis as the ``tesseract`` command with ``--psm``, by libtesseract in-process."""
    global _library, _library_key
    key = (config.lang, _tessdata_dir(config))
    if _library is None or _library_key != key:
        import tesserocr

        try:
            _library = tesserocr.PyTessBaseAPI(path=str(key[1]), lang=config.lang, psm=tesserocr.PSM.AUTO)
        except RuntimeError as exc:
            raise pytesseract.TesseractError(1, f"libtesseract could not load {config.lang!r}: {exc}") from None
        _library_key = key
    height, width = gray.shape
    _library.SetPageSegMode(psm)
    _library.SetVariable("tessedit_char_whitelist", whitelist or "")
    try:
        _library.SetImageBytes(gray.tobytes(), width, height, 1, width)
        _library.SetSourceResolution(int(round(dpi)))
        if not _library.Recognize(timeout=int(config.page_timeout * 1000)):
            raise PageTimeout(f"OCR of a page did not finish in {config.page_timeout:g} s")
        # The TSV rows are those of `tesseract … tsv`: level … left top width height conf text.
        rows = (line.split("\t") for line in _library.GetTSVText(0).splitlines())
        return _words((row[11], row[10], row[6], row[7], row[8], row[9]) for row in rows if len(row) >= 12)
    finally:
        _library.Clear()
        _library.SetPageSegMode(3)
        _library.SetVariable("tessedit_char_whitelist", "")


@functools.cache
def _tessdata_dir(config: OcrConfig) -> Path:
    """Where the language models are: the configured folder (``TESSDATA_PREFIX``), else Debian's folder."""
    wanted = [f"{lang}.traineddata" for lang in config.lang.split("+")]
    candidates = [config.tessdata_dir] if config.tessdata_dir else list(TESSDATA_DIRS)
    for folder in candidates:
        if all((folder / name).is_file() for name in wanted):
            return folder
    raise pytesseract.TesseractError(1, f"no tessdata folder with {', '.join(wanted)} "
                                        "(install tesseract-ocr-vie or set TESSDATA_PREFIX)")


def _words(rows: Iterable[tuple]) -> list[Word]:
    """Words from Tesseract's (text, conf, left, top, width, height) rows: NFC, without empty or non-word rows."""
    words = []
    for raw, conf, left, top, width, height in rows:
        # Tesseract sometimes gives the Icelandic Ð/ð, identical to the eye, for Vietnamese Đ/đ.
        text = nfc(str(raw).strip()).replace("Ð", "Đ").replace("ð", "đ")
        if not text or float(conf) < 0:
            continue
        words.append(Word(text, float(conf), int(left), int(top), int(width), int(height)))
    return words
