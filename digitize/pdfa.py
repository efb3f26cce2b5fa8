"""The archived document: single-page PDFs joined into one PDF/A-2b file with its metadata.

Runs in the main process, once per document; the page PDFs themselves are made by the page workers
(``digitize.pdf``), so this module stays free of the imaging libraries.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path


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
