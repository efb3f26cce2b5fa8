"""Active content in a PDF: what would run, launch or hide something when the archived result is opened.

Looked for at intake, before any work: actions that run scripts, launch programs, submit or import data
(on open, on the document's, a page's or an annotation's events, chained by ``/Next``); the document's
``/JavaScript`` name tree; embedded files (the ``/EmbeddedFiles`` name tree, file-attachment annotations);
XFA forms and rich media; and bytes appended after the last ``%%EOF`` (a payload a PDF reader ignores).
An issuer's signed PDF cannot be cleaned without breaking its signatures, so sohoa does not clean: it
rejects, or (``SOHOA_ACTIVE_CONTENT=flag``) archives with what was found listed.
"""

from __future__ import annotations

import io
import zlib
from pathlib import Path

ACTIVE_ACTIONS = {"/JavaScript": "a script", "/Launch": "a program launch", "/SubmitForm": "a form submission",
                  "/ImportData": "a data import", "/GoToE": "a jump into an embedded file",
                  "/RichMediaExecute": "a rich-media command", "/Rendition": "a media rendition",
                  "/Sound": "a sound", "/Movie": "a movie"}
ACTIVE_ANNOTATIONS = {"/FileAttachment": "an attached file", "/RichMedia": "rich media", "/Screen": "a media screen",
                      "/Movie": "a movie", "/Sound": "a sound", "/3D": "a 3D model"}
TAIL_BYTES = 1 << 16
MAX_ACTION_CHAIN = 50
MAX_INFLATED_BYTES = 64 << 20  # a content stream, font or form larger than this unpacked is a bomb, not a page


def appended_bytes(source: Path | bytes) -> int:
    """How many bytes other than whitespace follow the last ``%%EOF`` of the PDF."""
    if isinstance(source, bytes):
        tail = source[-TAIL_BYTES:]
    else:
        with source.open("rb") as fh:
            fh.seek(max(0, source.stat().st_size - TAIL_BYTES))
            tail = fh.read()
    end = tail.rfind(b"%%EOF")
    if end < 0:
        return 0  # no end marker in the tail: a damaged file, refused by the parser if it cannot be read
    return len(tail[end + 5:].strip(b" \t\r\n\x00"))


def _actions(action, where: str) -> list[str]:
    """What an action (and the actions chained after it) would do, for the active kinds."""
    import pikepdf

    found, seen = [], 0
    queue = [action]
    while queue and seen < MAX_ACTION_CHAIN:
        current = queue.pop(0)
        seen += 1
        if isinstance(current, pikepdf.Array):
            queue.extend(current)
            continue
        if not isinstance(current, pikepdf.Dictionary):
            continue
        kind = str(current.get("/S", ""))
        if kind in ACTIVE_ACTIONS:
            found.append(f"{ACTIVE_ACTIONS[kind]} ({kind[1:]}) {where}")
        if "/Next" in current:
            queue.append(current["/Next"])
    return found


def _event_actions(holder, where: str) -> list[str]:
    found = []
    if "/A" in holder:
        found += _actions(holder["/A"], where)
    if "/AA" in holder and hasattr(holder["/AA"], "items"):
        for _event, action in holder["/AA"].items():
            found += _actions(action, where)
    return found


def active_content(source: Path | bytes) -> tuple[str, ...]:
    """Every kind of active content found in a PDF (a file or its bytes), each as a phrase; empty if none."""
    return scan(source, look_for_bombs=False)[1]


def scan(source: Path | bytes, look_for_bombs: bool = True) -> tuple[str | None, tuple[str, ...]]:
    """The PDF opened once: why it is a decompression bomb (or None), and the active content it carries."""
    import pikepdf

    found: list[str] = []
    extra = appended_bytes(source)
    if extra:
        found.append(f"{extra} bytes appended after the end of the PDF (%%EOF)")
    # A file is handed over open: qpdf takes no path that is not valid UTF-8 (a name from another system).
    with (io.BytesIO(source) if isinstance(source, bytes) else source.open("rb")) as stream, \
            pikepdf.open(stream) as pdf:
        bomb = oversized_streams(pdf) if look_for_bombs else None
        root = pdf.Root
        if "/OpenAction" in root:
            found += _actions(root["/OpenAction"], "when the document opens")
        if "/AA" in root and hasattr(root["/AA"], "items"):
            for _event, action in root["/AA"].items():
                found += _actions(action, "on a document event")
        names = root.get("/Names")
        if isinstance(names, pikepdf.Dictionary):
            if "/JavaScript" in names:
                found.append("document-level scripts (the /JavaScript name tree)")
            if "/EmbeddedFiles" in names:
                found.append("embedded files (the /EmbeddedFiles name tree)")
        form = root.get("/AcroForm")
        if isinstance(form, pikepdf.Dictionary) and "/XFA" in form:
            found.append("an XFA form (scriptable)")
        for number, page in enumerate(pdf.pages, start=1):
            found += _event_actions(page.obj, f"on page {number}")
            for annotation in page.obj.get("/Annots", []) or []:
                if not isinstance(annotation, pikepdf.Dictionary):
                    continue
                subtype = str(annotation.get("/Subtype", ""))
                if subtype in ACTIVE_ANNOTATIONS:
                    found.append(f"{ACTIVE_ANNOTATIONS[subtype]} on page {number}")
                found += _event_actions(annotation, f"in an annotation on page {number}")
    return bomb, tuple(dict.fromkeys(found))  # each finding once, in the order found


def inflated_size(raw: bytes, limit: int) -> int:
    """How many bytes a Flate stream unpacks to, counted a megabyte at a time and stopped past ``limit``."""
    inflater = zlib.decompressobj()
    total, pending = 0, raw
    try:
        while pending and total <= limit:
            total += len(inflater.decompress(pending, 1 << 20))
            pending = inflater.unconsumed_tail
    except zlib.error:
        return total  # damaged data: the parsers that read it say so
    return total


def oversized_streams(pdf) -> str | None:
    """Why an open PDF (pikepdf) would take far more memory unpacked than any document does, or None.

    Images are judged by their declared size (never unpacked here); other Flate streams are unpacked in
    pieces, only as far as the limit.
    """
    import pikepdf

    from digitize.intake import MAX_PAGE_PIXELS

    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Stream):
            continue
        if obj.get("/Subtype") == pikepdf.Name.Image:
            width, height = int(obj.get("/Width", 0)), int(obj.get("/Height", 0))
            if width * height > MAX_PAGE_PIXELS:
                return f"an image of {width}x{height} pixels: too large for a page (decompression bomb?)"
            continue
        filters = obj.get("/Filter")
        flate = filters == pikepdf.Name.FlateDecode or (isinstance(filters, pikepdf.Array) and len(filters) == 1
                                                        and filters[0] == pikepdf.Name.FlateDecode)
        if flate and inflated_size(obj.read_raw_bytes(), MAX_INFLATED_BYTES) > MAX_INFLATED_BYTES:
            return (f"a stream that unpacks to more than {MAX_INFLATED_BYTES >> 20} MB: "
                    "a decompression bomb, not a document")
    return None
