"""Issuing registers: archivists import them, ingest matches scans against them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from digitize.registers import RegisterEntry, RegisterError, read_register
from workflow.rooms import Rooms

__all__ = ["RegisterError", "RegisterImport", "import_register", "register_entries", "registers_summary"]


@dataclass(frozen=True)
class RegisterImport:
    register: str
    added: int
    already_there: int


def import_register(rooms: Rooms, path: Path, name: str | None = None) -> RegisterImport:
    """Read a register file (.csv or .xlsx) and add its entries; entries already imported are kept as they are.
    ``RegisterError`` says what is wrong with the file."""
    register = name or path.stem
    entries = read_register(path, register)
    added, there = rooms.index.registers.add(
        [(e.register, e.number, e.issued_on, e.kind, e.summary, e.signer) for e in entries])
    return RegisterImport(register, added, there)


def register_entries(rooms: Rooms) -> list[RegisterEntry]:
    """Every imported entry, for matching scans whose number or date could not be read surely."""
    return [RegisterEntry(number, issued_on, kind, summary, signer, register)
            for register, number, issued_on, kind, summary, signer in rooms.index.registers.entries()]


def registers_summary(rooms: Rooms) -> list[tuple[str, int, str, str]]:
    """(register, entries, first date, last date) for each imported register."""
    return rooms.index.registers.summary()
