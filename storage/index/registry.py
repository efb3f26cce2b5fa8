"""Registries the index keeps beside the results: code sequences, imported agencies and the counts of
still-valid results (the targets' denominators)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.index.schema import AgencyRow, Database, SequenceRow, ValidResultsRow, utc_now


class Sequences:
    """Numbered sequences of the codes; implements ``codes.SequenceSource``."""

    def __init__(self, db: Database):
        self.engine, self.writer = db.engine, db.writer

    def next_sequence(self, key: str) -> int:
        """Atomically increment and return the sequence ``key`` (first value 1)."""
        for _ in range(20):
            with Session(self.writer) as session, session.begin():
                value = session.execute(
                    update(SequenceRow).where(SequenceRow.key == key)
                    .values(value=SequenceRow.value + 1).returning(SequenceRow.value)
                ).scalar_one_or_none()
                if value is not None:
                    return int(value)
            try:
                with Session(self.writer) as session, session.begin():
                    session.execute(insert(SequenceRow).values(key=key, value=1))
                return 1
            except IntegrityError:
                continue  # another process created it first: increment instead
        raise RuntimeError(f"could not allocate a number in sequence {key}")



class AgencyFigures:
    """Agencies imported from an official list, and how many still-valid results each issued per year."""

    def __init__(self, db: Database):
        self.engine, self.writer = db.engine, db.writer

    def upsert(self, agencies: list[dict[str, Any]]) -> int:
        with Session(self.writer) as session, session.begin():
            for entry in agencies:
                session.merge(AgencyRow(id=entry["id"], name=entry["name"], level=entry["level"],
                                        parent=entry.get("parent"), successor=entry.get("successor"),
                                        imported_at=utc_now()))
        return len(agencies)

    def imported(self) -> list[dict[str, Any]]:
        with Session(self.engine) as session:
            return [{"id": r.id, "name": r.name, "level": r.level, "parent": r.parent, "successor": r.successor}
                    for r in session.scalars(select(AgencyRow).order_by(AgencyRow.id))]

    def set_valid_results(self, rows: list[tuple[str, int, int]]) -> int:
        with Session(self.writer) as session, session.begin():
            for agency, year, count in rows:
                session.merge(ValidResultsRow(agency=agency, year=year, count=count, imported_at=utc_now()))
        return len(rows)

    def valid_results(self, year: int) -> dict[str, int]:
        with Session(self.engine) as session:
            return {r.agency: r.count for r in session.scalars(select(ValidResultsRow)
                                                               .where(ValidResultsRow.year == year))}
