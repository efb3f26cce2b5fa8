"""The registries a face can read and feed: codes taken apart, the agency list, the targets' denominators,
and cover sheets for scanned stacks."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from codes import Agency, InvalidCode, load_catalogue, parse_agencies_csv, parse_any, parse_dossier_code
from codes import parse_valid_results_csv as _parse_valid_results_csv
from workflow.rooms import Rooms
from workflow.settings import Settings

__all__ = ["InvalidCode", "RegistryInputError", "code_segments", "import_agencies", "import_valid_results",
           "known_agencies", "write_coversheets_for"]


class RegistryInputError(ValueError):
    """A file handed in to a registry (agencies, counts, cover sheets) is not valid; the message says where."""


def code_segments(code: str) -> dict[str, Any]:
    """The parts of a result code, result alias (…-KQ1) or dossier code; ``InvalidCode`` says what is wrong."""
    parsed = parse_any(code)
    kind = {"ResultCode": "result", "ResultAlias": "result-alias", "DossierCode": "dossier"}[type(parsed).__name__]
    return {"kind": kind, "code": str(parsed), **json.loads(json.dumps(asdict(parsed), default=str))}


def import_agencies(rooms: Rooms, csv_text: str) -> int:
    """Import an official list of agencies (id,name,level[,parent][,successor]); existing ids are updated."""
    try:
        agencies = parse_agencies_csv(csv_text)
    except (InvalidCode, ValueError) as exc:
        raise RegistryInputError(str(exc)) from None
    return rooms.index.agencies.upsert([asdict(a) for a in agencies])


def known_agencies(rooms: Rooms) -> list[Agency]:
    """Every known agency, shipped and imported, by identifier."""
    return sorted(rooms.agencies, key=lambda a: a.id)


def import_valid_results(rooms: Rooms, csv_text: str) -> int:
    """Import how many still-valid results each agency issued per year (agency,year,count)."""
    try:
        rows = _parse_valid_results_csv(csv_text)
    except ValueError as exc:
        raise RegistryInputError(str(exc)) from None
    return rooms.index.agencies.set_valid_results(rows)


def write_coversheets_for(settings: Settings, entries: list[str], output: Path) -> int:
    """Cover sheets (QR code and text) for dossiers, each entry ``CODE`` or ``CODE:TYPE``; written to ``output``."""
    from digitize.coversheet import write_coversheets
    from digitize.model import CoverSheet

    catalogue = load_catalogue(settings.catalogue)
    covers = []
    for entry in entries:
        code, _, doc_type = entry.partition(":")
        try:
            parse_dossier_code(code)
        except InvalidCode as exc:
            raise RegistryInputError(f"{entry}: invalid dossier code: {exc}") from None
        if doc_type and catalogue.get(doc_type) is None:
            raise RegistryInputError(f"{entry}: {doc_type} is not a type of the catalogue")
        covers.append(CoverSheet(code, doc_type or None))
    write_coversheets(covers, output, {t.code: t.name for t in catalogue})
    return len(covers)
