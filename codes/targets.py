"""Digitization targets (Decision 468/QĐ-TTg, Plan 86/KH-UBND) and progress against them.

The denominator is imported per agency and year: how many still-valid results of procedures the agency
has issued, as counted for that year.  The numerator is how many of that agency's results sohoa has
archived by the end of the year (the issuing agency is matched from the printed issuer).
"""

from __future__ import annotations

import csv
import io
import math
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from codes.agencies import AGENCY_LEVELS, AgencyRegistry, InvalidAgencyId, validate_agency_id

DEFAULT_TARGETS = Path(__file__).parent / "data" / "targets.toml"


class InvalidTargets(ValueError):
    """A targets file or a denominators CSV is malformed; the message names the line."""


@dataclass(frozen=True)
class TargetPlan:
    by_year: dict[int, dict[str, float]]
    reference: dict[str, float] = field(default_factory=dict)

    def plan_year(self, year: int) -> int | None:
        """The plan in force in ``year``: the latest plan year not after it (a target stays until replaced)."""
        return max((y for y in self.by_year if y <= year), default=None)

    def target(self, year: int, level: str | None) -> float | None:
        plan = self.plan_year(year)
        return self.by_year[plan].get(level) if level and plan is not None else None


def load_targets(path: Path | str | None = None) -> TargetPlan:
    """Targets as data: ``[YEAR]`` tables of level = fraction (see ``codes/data/targets.toml``)."""
    raw = tomllib.loads(Path(path or DEFAULT_TARGETS).read_text(encoding="utf-8"))
    by_year: dict[int, dict[str, float]] = {}
    for key, table in raw.items():
        if key == "reference":
            continue
        if not key.isdigit() or not 2000 <= int(key) <= 2100:
            raise InvalidTargets(f"[{key}]: a section must be a year")
        for level, value in table.items():
            if level not in AGENCY_LEVELS or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise InvalidTargets(f"[{key}] {level}: levels are {', '.join(AGENCY_LEVELS)}, values 0-1")
        by_year[int(key)] = {lvl: float(v) for lvl, v in table.items()}
    return TargetPlan(by_year, {k: float(v) for k, v in raw.get("reference", {}).items()})


def parse_valid_results_csv(text: str) -> list[tuple[str, int, int]]:
    """(agency, year, count) rows from a CSV with header ``agency,year,count``; strict."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not {"agency", "year", "count"} <= set(reader.fieldnames or ()):
        raise InvalidTargets("the CSV needs the columns agency,year,count")
    rows = []
    for n, row in enumerate(reader, start=2):
        try:
            agency = validate_agency_id((row["agency"] or "").strip())
        except InvalidAgencyId as exc:
            raise InvalidTargets(f"line {n}: {exc}") from None
        try:
            year, count = int(row["year"]), int(row["count"])
        except (TypeError, ValueError):
            raise InvalidTargets(f"line {n}: year and count must be whole numbers") from None
        if not 2000 <= year <= 2100 or count < 0:
            raise InvalidTargets(f"line {n}: year must be 2000-2100 and count not negative")
        rows.append((agency, year, count))
    return rows


@dataclass
class ProgressRow:
    key: str  # agency identifier, or the level
    name: str
    level: str | None
    valid: int | None
    digitized: int
    percent: float | None
    target: float | None
    gap: int | None  # results still to digitize to meet the target
    meets_target: bool | None


@dataclass
class TargetsReport:
    year: int
    levels: list[ProgressRow]
    agencies: list[ProgressRow]
    reference: dict[str, float]
    unknown_agencies: list[str] = field(default_factory=list)
    plan_year: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _row(key: str, name: str, level: str | None, valid: int | None, digitized: int,
         target: float | None) -> ProgressRow:
    percent = round(digitized / valid, 4) if valid else None
    gap = max(0, math.ceil(target * valid - 1e-9) - digitized) if target is not None and valid is not None else None
    meets = None if gap is None else gap == 0
    return ProgressRow(key, name, level, valid, digitized, percent, target, gap, meets)


def compute_targets_report(year: int, valid: dict[str, int], digitized: dict[str, int],
                           registry: AgencyRegistry, plan: TargetPlan) -> TargetsReport:
    """Progress per agency and per level for ``year``; agencies with zero digitized are listed too."""
    agencies, unknown = [], []
    totals: dict[str, list[int]] = {level: [0, 0, 0] for level in AGENCY_LEVELS}  # valid, digitized, known
    for agency_id in sorted(set(valid) | set(digitized)):
        agency = registry.get(agency_id)
        if agency is None:
            unknown.append(agency_id)
        level = agency.level if agency else None
        count = digitized.get(agency_id, 0)
        agencies.append(_row(agency_id, agency.name if agency else "?", level, valid.get(agency_id), count,
                             plan.target(year, level)))
        if level:
            totals[level][1] += count
            if agency_id in valid:
                totals[level][0] += valid[agency_id]
                totals[level][2] += 1
    levels = [_row(level, level, level, v if known else None, d, plan.target(year, level))
              for level, (v, d, known) in totals.items() if known or d]
    return TargetsReport(year, levels, agencies, plan.reference, unknown, plan.plan_year(year))
