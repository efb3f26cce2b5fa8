"""Agency registry: electronic identifiers of agencies (QCVN 102:2016, Decision 20/2020/QĐ-TTg)."""

from __future__ import annotations

import csv
import io
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

DEFAULT_REGISTRY = Path(__file__).parent / "data" / "agencies.toml"
AGENCY_LEVELS = ("ministry", "province", "district", "commune")

# Legacy 13-character form V1V2V3.Z1Z2.Y1Y2.MX1X2, e.g. 000.00.00.H49.
LEGACY_ID_RE = re.compile(r"^(?P<l4>\d{3})\.(?P<l3>\d{2})\.(?P<l2>\d{2})\.(?P<l1>[A-Z]\d{2})$")
# Decision 20/2020 form: groups grow left to right, parent first (H26.170), at most 35 characters.
NEW_ID_RE = re.compile(r"^[A-Z]\d{2}(?:\.[0-9A-Z]{1,4})*$")


class InvalidAgencyId(ValueError):
    """An agency identifier does not follow QCVN 102:2016 or Decision 20/2020."""


def validate_agency_id(agency_id: str) -> str:
    """Return ``agency_id`` if it is a well-formed electronic identifier, else raise ``InvalidAgencyId``."""
    if not isinstance(agency_id, str) or not agency_id:
        raise InvalidAgencyId("agency identifier is empty")
    if len(agency_id) > 35:
        raise InvalidAgencyId("agency identifier is longer than 35 characters")
    if LEGACY_ID_RE.match(agency_id) or NEW_ID_RE.match(agency_id):
        return agency_id
    raise InvalidAgencyId(
        f"agency identifier {agency_id!r} must look like 000.00.00.H26 (QCVN 102:2016) or H26.170 "
        "(Decision 20/2020): digits, capital letters and dots"
    )


@dataclass(frozen=True)
class Agency:
    id: str
    name: str
    level: str
    parent: str | None = None
    successor: str | None = None


def _tokens(text: str) -> list[str]:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn").upper()
    plain = re.sub(r"\bUBND\b", "UY BAN NHAN DAN", plain)
    return re.findall(r"[A-Z0-9]+", plain)


class AgencyRegistry:
    """Lookup of agencies by identifier, and of the agency an issuer's printed name designates."""

    def __init__(self, agencies: list[Agency]):
        self._by_id = {a.id: a for a in agencies}

    def get(self, agency_id: str) -> Agency | None:
        return self._by_id.get(agency_id)

    def __iter__(self):
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def merged(self, more: list[Agency]) -> AgencyRegistry:
        """A registry with ``more`` added (and replacing entries with the same identifier)."""
        return AgencyRegistry([*self._by_id.values(), *more])

    def depth(self, agency: Agency) -> int:
        depth, seen = 0, {agency.id}
        while agency.parent and (parent := self._by_id.get(agency.parent)) and parent.id not in seen:
            depth, agency = depth + 1, parent
            seen.add(agency.id)
        return depth

    def match_issuer(self, issuer: str | None, min_share: float = 0.85) -> Agency | None:
        """The registered agency whose name the printed issuer contains (accent- and case-blind).

        Where several match (a department under its provincial committee), the most specific wins.
        """
        if not issuer:
            return None
        printed = set(_tokens(issuer))
        best: tuple[int, int, Agency] | None = None
        for agency in self._by_id.values():
            words = _tokens(agency.name)
            if not words:
                continue
            share = sum(1 for w in words if w in printed) / len(words)
            if share >= min_share:
                key = (self.depth(agency), len(words))
                if best is None or key > best[:2]:
                    best = (*key, agency)
        return best[2] if best else None


def _agency(entry: dict, where: str) -> Agency:
    try:
        validate_agency_id(entry["id"])
        for link in ("parent", "successor"):
            if entry.get(link):
                validate_agency_id(entry[link])
    except InvalidAgencyId as exc:
        raise InvalidAgencyId(f"{where}: {exc}") from None
    if entry.get("level") not in AGENCY_LEVELS:
        raise InvalidAgencyId(f"{where}: level must be one of {', '.join(AGENCY_LEVELS)}")
    if not entry.get("name"):
        raise InvalidAgencyId(f"{where}: name is empty")
    return Agency(id=entry["id"], name=unicodedata.normalize("NFC", entry["name"].strip()), level=entry["level"],
                  parent=entry.get("parent") or None, successor=entry.get("successor") or None)


def load_agencies(path: Path | str | None = None) -> AgencyRegistry:
    """Load and validate the agency registry file."""
    raw = tomllib.loads(Path(path or DEFAULT_REGISTRY).read_text(encoding="utf-8"))
    return AgencyRegistry([_agency(e, f"agency {i}") for i, e in enumerate(raw.get("agency", []), start=1)])


def parse_agencies_csv(text: str) -> list[Agency]:
    """Agencies from an official list as CSV (header: id,name,level[,parent][,successor]); strict."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = {"id", "name", "level"} - set(reader.fieldnames or ())
    if missing:
        raise InvalidAgencyId(f"the CSV lacks the column(s) {', '.join(sorted(missing))}")
    return [_agency({k: (v or "").strip() for k, v in row.items() if k}, f"line {n}")
            for n, row in enumerate(reader, start=2)]
