"""A long document is streamed, not held: the main process's peak memory does not grow with the file."""

from __future__ import annotations

from bench.memory import long_pdf, peak_mib


def test_a_long_pdf_is_archived_without_holding_it_in_memory(tmp_path):
    runs = {}
    for pages in (8, 32):
        document = tmp_path / f"long-{pages}.pdf"
        long_pdf(document, pages=pages, mb_per_page=5)  # incompressible page images, as colour scans are
        peak, outcome = peak_mib(document, tmp_path / f"data-{pages}")
        assert outcome["status"] == "archived" and outcome["pages"] == pages
        runs[pages] = (document.stat().st_size / 2**20, peak)
    added_mib = runs[32][0] - runs[8][0]  # ~115 MiB more document
    grown_mib = runs[32][1] - runs[8][1]
    # Held whole even once, the peak would grow by at least the added size; reading, signing and archiving
    # it in memory cost 7.4x here.  Streamed, what grows is the allocator's fragmentation (~0.5x at these
    # sizes, ~0.06x between 40 and 80 pages of 8 MB: bench/memory.py).
    assert grown_mib < 1.0 * added_mib, runs
