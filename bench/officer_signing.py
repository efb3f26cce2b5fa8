"""The cost of Circular 01/2023's two signatures: the officer's (top left, with the QR code) then the agency's,
against the agency's alone, on a 1-page scanned result; one process, development keys, PAdES B-B.

Usage: .venv/bin/python bench/officer_signing.py [ROUNDS]
Rounds alternate between the two ways so that the machine's noise falls on both; the ratio is what to read.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from signing import Signer, SigningOptions, init_dev_keys  # noqa: E402
from signing.keys import init_dev_officer, officer_key_material, read_passphrase  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CODE = "000.00.00.H26-GPXD-261207-0001"


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    source = ROOT / "samples" / "05-giay-phep-xay-dung.pdf"
    with tempfile.TemporaryDirectory() as tmp:
        keys = Path(tmp) / "keys"
        agency_keys = init_dev_keys(keys, "000.00.00.H26")
        officer_path = init_dev_officer(keys, "Nguyễn Thị Lan", "lan.nguyen", "000.00.00.H26")
        agency = Signer(agency_keys, SigningOptions())
        officer = Signer(officer_key_material(agency_keys, officer_path, read_passphrase(keys, None)),
                         SigningOptions(stamp="top-left"))
        first, out = Path(tmp) / "first.pdf", Path(tmp) / "out.pdf"
        alone, both = [], []
        for _ in range(rounds):
            started = time.perf_counter()
            agency.sign_file(source, out, "r", "000.00.00.H26", code=CODE, agency_name="UBND")
            alone.append(time.perf_counter() - started)
            started = time.perf_counter()
            officer.sign_file(source, first, "r", "000.00.00.H26", code=CODE, agency_name="UBND",
                              officer="Nguyễn Thị Lan", qr="SOHOA-QR/1\nma=" + CODE)
            agency.sign_file(first, out, "r", "000.00.00.H26", code=CODE, agency_name="UBND", position="top-right")
            both.append(time.perf_counter() - started)
    a, b = statistics.median(alone), statistics.median(both)
    print(f"agency alone: median {a * 1000:.0f} ms; officer + agency: median {b * 1000:.0f} ms; "
          f"ratio {b / a:.2f}x ({rounds} rounds, alternating)")


if __name__ == "__main__":
    main()
