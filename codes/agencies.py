"""Agency registry: electronic identifiers of agencies (QCVN 102:2016, Decision 20/2020/QĐ-TTg)."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

DEFAULT_REGISTRY = Path(__file__).parent / "data" / "agencies.toml"

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


class AgencyRegistry:
    """Lookup of agencies by identifier."""

    def __init__(self, agencies: list[Agency]):
        self._by_id = {a.id: a for a in agencies}

    def get(self, agency_id: str) -> Agency | None:
        return self._by_id.get(agency_id)

    def __iter__(self):
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)


def load_agencies(path: Path | str | None = None) -> AgencyRegistry:
    """Load and validate the agency registry file."""
    raw = tomllib.loads(Path(path or DEFAULT_REGISTRY).read_text(encoding="utf-8"))
    agencies = []
    for entry in raw.get("agency", []):
        validate_agency_id(entry["id"])
        if entry.get("parent"):
            validate_agency_id(entry["parent"])
        agencies.append(
            Agency(
                id=entry["id"],
                name=unicodedata.normalize("NFC", entry["name"]),
                level=entry["level"],
                parent=entry.get("parent"),
            )
        )
    return AgencyRegistry(agencies)
