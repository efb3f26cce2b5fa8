"""Searchable PDF: the original page image (lossless where the input was) under an invisible text layer."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import img2pdf
import numpy as np
from pypdf import PdfReader, PdfWriter
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from digitize.model import Word

# The text layer needs a font that has every Vietnamese letter.
TEXT_FONT_PATHS = (
    Path("/usr/share/fonts/truetype/freefont/FreeSerif.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"),
    Path("/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf"),
)
TEXT_FONT = "SohoaText"


def _register_font() -> None:
    if TEXT_FONT in pdfmetrics.getRegisteredFontNames():
        return
    for path in TEXT_FONT_PATHS:
        if path.exists():
            pdfmetrics.registerFont(TTFont(TEXT_FONT, str(path)))
            return
    raise RuntimeError("no font with Vietnamese letters found: install fonts-freefont-ttf")


def _text_layer(lines: Iterable[Sequence[Word]], width_pt: float, height_pt: float, px_to_pt: float,
                to_original: np.ndarray | None) -> bytes:
    _register_font()
    buf = io.BytesIO()
    # The initial font is ours too: reportlab would otherwise list a non-embedded Helvetica (not PDF/A).
    c = canvas.Canvas(buf, pagesize=(width_pt, height_pt), invariant=1, initialFontName=TEXT_FONT)
    # One text run per line, so that extractors (pdftotext, search) see whole lines in order.
    for line in lines:
        if not line:
            continue
        word = Word(" ".join(w.text for w in line), 0.0, line[0].x, min(w.y for w in line),
                    line[-1].x + line[-1].w - line[0].x, max(w.y + w.h for w in line) - min(w.y for w in line))
        x0, y0 = word.x, word.y + word.h
        x1 = word.x + word.w
        if to_original is not None:
            (x0, y0), (x1, y1) = (to_original @ np.array([[x0, x1], [y0, y0], [1, 1]])).T
        else:
            y1 = y0
        px, py = x0 * px_to_pt, height_pt - y0 * px_to_pt
        angle = math.degrees(math.atan2(-(y1 - y0), x1 - x0))
        size = max(1.0, word.h * px_to_pt)
        natural = pdfmetrics.stringWidth(word.text, TEXT_FONT, size)
        target = math.hypot(x1 - x0, y1 - y0) * px_to_pt
        text = c.beginText()
        text.setTextRenderMode(3)  # invisible, yet searchable and selectable
        text.setFont(TEXT_FONT, size)
        if natural > 0:
            text.setHorizScale(100.0 * target / natural)
        c.saveState()
        c.translate(px, py)
        c.rotate(angle)
        text.setTextOrigin(0, 0)
        text.textOut(word.text)
        c.drawText(text)
        c.restoreState()
    c.showPage()
    c.save()
    return buf.getvalue()


def searchable_page(embed_bytes: bytes, width_px: int, height_px: int, dpi: float,
                    lines: Sequence[Sequence[Word]], to_original: np.ndarray | None = None, rotate: int = 0) -> bytes:
    """One PDF page: the image exactly as embedded bytes allow, with ``lines`` of words as invisible text.

    Words are in the cleaned image's pixels; ``to_original`` maps them back onto the original image.
    ``rotate`` (degrees clockwise) is set as the page's /Rotate, so a page scanned sideways shows upright.
    """
    layout = img2pdf.get_fixed_dpi_layout_fun((dpi, dpi))
    image_pdf = img2pdf.convert(embed_bytes, layout_fun=layout)
    writer = PdfWriter(clone_from=io.BytesIO(image_pdf))
    page = writer.pages[0]
    width_pt, height_pt = float(page.mediabox.width), float(page.mediabox.height)
    overlay = _text_layer(lines, width_pt, height_pt, width_pt / width_px, to_original)
    page.merge_page(PdfReader(io.BytesIO(overlay)).pages[0])
    if rotate:
        page.rotate(rotate)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def assemble(page_files: list[Path], out_path: Path, metadata: dict[str, str]) -> None:
    """Join single-page PDFs into one document with PDF/A-2b identification and document metadata.

    qpdf (pikepdf) copies each page's streams from its file while writing, so a 300-page scan is joined
    without holding its images in memory.
    """
    import pikepdf

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    info = {"Title": metadata.get("Title", ""), "Producer": metadata.get("Producer", ""),
            "Creator": metadata.get("Creator", "")}
    with contextlib.ExitStack() as stack, pikepdf.new() as document:
        for path in page_files:
            document.pages.extend(stack.enter_context(pikepdf.open(path)).pages)
        stamp = now.strftime("D:%Y%m%d%H%M%SZ")
        for key, value in {**info, "CreationDate": stamp, "ModDate": stamp}.items():
            document.docinfo[pikepdf.Name("/" + key)] = pikepdf.String(value)
        xmp = pikepdf.Stream(document, _pdfa_xmp(info, now))
        xmp.Type, xmp.Subtype = pikepdf.Name.Metadata, pikepdf.Name.XML
        document.Root.Metadata = document.make_indirect(xmp)
        document.Root.OutputIntents = pikepdf.Array([_srgb_output_intent(document)])
        document.save(out_path, deterministic_id=False, object_stream_mode=pikepdf.ObjectStreamMode.preserve)


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _pdfa_xmp(info: dict[str, str], when: dt.datetime) -> bytes:
    """XMP metadata declaring PDF/A-2b, with the same title, tools and dates as the document information."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"
    xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
   <pdfaid:part>2</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{_xml(info["Title"])}</rdf:li></rdf:Alt></dc:title>
   <xmp:CreatorTool>{_xml(info["Creator"])}</xmp:CreatorTool>
   <xmp:CreateDate>{stamp}</xmp:CreateDate>
   <xmp:ModifyDate>{stamp}</xmp:ModifyDate>
   <pdf:Producer>{_xml(info["Producer"])}</pdf:Producer>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>""".encode()


def _srgb_output_intent(document):
    """The PDF/A output intent: an embedded sRGB ICC profile (the page images are RGB or gray scans)."""
    import pikepdf
    from PIL import ImageCms

    profile = pikepdf.Stream(document, ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    profile.N = 3
    return document.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.OutputIntent, S=pikepdf.Name.GTS_PDFA1,
        OutputConditionIdentifier=pikepdf.String("sRGB IEC61966-2.1"), Info=pikepdf.String("sRGB IEC61966-2.1"),
        DestOutputProfile=document.make_indirect(profile),
    ))
