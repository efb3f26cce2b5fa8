"""Issuing registers imported by archivists: entries kept as plain rows, handed out as tuples."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.index.schema import Database, RegisterEntryRow

# (register, number, issued_on ISO, kind, summary, signer)
RegisterRow = tuple[str, str, str, str, str, str]


class IssuingRegisters:
    """Entries of the issuing registers, by register name."""

    def __init__(self, db: Database):
        self.engine, self.writer = db.engine, db.writer

    def add(self, rows: list[RegisterRow]) -> tuple[int, int]:
        """Add entries; one already there (same register, number and date) is left as it is.
        Returns (added, already there)."""
        registers = {row[0] for row in rows}
        with Session(self.writer) as session, session.begin():
            there = {tuple(row) for row in session.execute(
                select(RegisterEntryRow.register, RegisterEntryRow.number, RegisterEntryRow.issued_on)
                .where(RegisterEntryRow.register.in_(registers)))} if registers else set()
            new = {}
            for register, number, issued_on, kind, summary, signer in rows:
                if (register, number, issued_on) not in there:
                    new.setdefault((register, number, issued_on), RegisterEntryRow(
                        register=register, number=number, issued_on=issued_on, kind=kind, summary=summary,
                        signer=signer))
            session.add_all(new.values())
        return len(new), len(rows) - len(new)

    def entries(self, years: set[int] | None = None) -> list[RegisterRow]:
        """All entries, or those of the given years."""
        with Session(self.engine) as session:
            query = select(RegisterEntryRow).order_by(RegisterEntryRow.id)
            if years:
                query = query.where(func.substr(RegisterEntryRow.issued_on, 1, 4).in_([str(y) for y in years]))
            return [(r.register, r.number, r.issued_on, r.kind, r.summary, r.signer) for r in session.scalars(query)]

    def summary(self) -> list[tuple[str, int, str, str]]:
        """(register, entries, first date, last date) for each register."""
        with Session(self.engine) as session:
            rows = session.execute(select(RegisterEntryRow.register, func.count(), func.min(RegisterEntryRow.issued_on),
                                          func.max(RegisterEntryRow.issued_on))
                                   .group_by(RegisterEntryRow.register).order_by(RegisterEntryRow.register))
            return [(r[0], int(r[1]), r[2], r[3]) for r in rows]
