"""Signatures per second, one process (one core), for each PAdES level on a 1-page and a 20-page result.

The 1-page result is samples/05-giay-phep-xay-dung.pdf (a 1.4 MB scanned page); the 20-page one is
twenty copies of it (28 MB).  Development keys; the TSA is the development TSA over real HTTP on
loopback, so B-T and above include one RFC 3161 round trip per signature (B-LTA: two).
Ratios are measured in the same run; absolute rates depend on the machine.

Usage: .venv/bin/python bench/signing.py [ROUNDS]
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pypdf import PdfReader, PdfWriter  # noqa: E402

from signing import Signer, SigningOptions, init_dev_keys, verify_pdf  # noqa: E402
from signing.tsa import DevTsaServer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CODE = "000.00.00.H26-GPXD-261124-0001"


def twenty_pages(page_pdf: bytes) -> bytes:
    writer = PdfWriter()
    for _ in range(20):
        writer.append(PdfReader(io.BytesIO(page_pdf)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    one = (ROOT / "samples" / "05-giay-phep-xay-dung.pdf").read_bytes()
    documents = {"1 page": one, "20 pages": twenty_pages(one)}
    with tempfile.TemporaryDirectory() as tmp:
        keys = init_dev_keys(Path(tmp) / "keys", "000.00.00.H26")
        with DevTsaServer(keys.dev_tsa_path, keys.passphrase) as tsa:
            configs = [("B-B, no stamp", SigningOptions(level="B-B", stamp="off")),
                       ("B-B", SigningOptions(level="B-B")),
                       ("B-T", SigningOptions(level="B-T", tsa_url=tsa.url)),
                       ("B-LT", SigningOptions(level="B-LT", tsa_url=tsa.url)),
                       ("B-LTA", SigningOptions(level="B-LTA", tsa_url=tsa.url))]
            print(f"{'level':<16}" + "".join(f"{name + ' (' + str(len(d) // 1_000_000) + ' MB)':>22}"
                                            for name, d in documents.items()))
            base: dict[str, float] = {}
            for label, options in configs:
                signer = Signer(keys, options)
                cells = []
                for name, pdf in documents.items():
                    n = rounds if name == "1 page" else max(3, rounds // 4)
                    signed = signer.sign(pdf, "bench", "000.00.00.H26", code=CODE)  # warm-up, and checked below
                    assert verify_pdf(signed, keys.trust_roots, crls=keys.crls).valid
                    start = time.perf_counter()
                    for _ in range(n):
                        signer.sign(pdf, "bench", "000.00.00.H26", code=CODE)
                    rate = n / (time.perf_counter() - start)
                    base.setdefault(name, rate)
                    cells.append(f"{rate:8.1f}/s ({rate / base[name]:4.2f}x)")
                print(f"{label:<16}" + "".join(f"{c:>22}" for c in cells), flush=True)
    print("(x = rate relative to B-B without stamp on the same document, same run)")


if __name__ == "__main__":
    main()
