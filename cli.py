"""sohoa command line: digitize scans, fetch and verify archived results."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from codes import InvalidCode, parse_code
from settings import load_settings

app = typer.Typer(
    help="sohoa (số hóa): turn scanned administrative results into coded, signed, archived records.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold personal data
)
err = Console(stderr=True)
STATUS_MARK = {"archived": "[green]archived[/]", "needs_review": "[yellow]needs review[/]",
               "rejected": "[red]rejected[/]"}


def _rooms():
    from digitize.pipeline import open_rooms

    return open_rooms(load_settings())


def _valid_code(code: str) -> str:
    try:
        parse_code(code)
    except InvalidCode as exc:
        err.print(f"[red]invalid code[/]: {exc}")
        raise typer.Exit(2) from None
    return code


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each step to stderr.")] = False):
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(message)s")


@app.command()
def process(
    paths: Annotated[list[Path], typer.Argument(help="Scans (PNG, JPEG, TIFF, PDF) or folders of them.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per document on stdout.")] = False,
    workers: Annotated[int, typer.Option("--workers", "-w", help="Pages OCRed in parallel (default: cores).")]
    = 0,
    allow_duplicate: Annotated[bool, typer.Option(
        "--allow-duplicate", help="Archive again even if the same file (same SHA-256) is already archived.")] = False,
):
    """Digitize documents: OCR, classify, code, sign and archive each one.

    Each document ends archived, waiting for review (a clerk must check it), or rejected with the reason.
    """
    from digitize.pipeline import Pipeline

    rooms = _rooms()
    pipeline = Pipeline(rooms, workers or os.cpu_count() or 1, allow_duplicate=allow_duplicate)
    counts: dict[str, int] = {}
    for outcome in pipeline.process(paths):
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
        if as_json:
            sys.stdout.write(outcome.to_json() + "\n")
            sys.stdout.flush()
            continue
        name = (outcome.doc_type or {}).get("name") or "-"
        detail = outcome.error or "; ".join(outcome.review_reasons)
        print(f"{outcome.status:<12} {outcome.code or '-':<30} {name:<40} {outcome.source}"
              + (f"  ({detail})" if detail else ""))
    summary = ", ".join(f"{n} {STATUS_MARK.get(s, s)}" for s, n in sorted(counts.items()))
    err.print(f"done: {summary or 'no documents found'}")


@app.command()
def fetch(
    code: Annotated[str, typer.Argument(help="Result code, e.g. 000.00.00.H26-KS-230515-0001.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Where to write the PDF.")] = None,
    meta: Annotated[bool, typer.Option("--meta", help="Print the metadata record (JSON) instead.")] = False,
):
    """Fetch an archived, signed result by its code."""
    _valid_code(code)
    rooms = _rooms()
    record = rooms.index.get_result(code)
    if record is None:
        err.print(f"[red]no result with code {code}[/]")
        raise typer.Exit(1)
    if meta:
        key = record.archive_key.rsplit("/", 1)[0] + "/metadata.json"
        sys.stdout.write(rooms.archive.get(key).decode("utf-8") + "\n")
        return
    data = rooms.archive.get(record.archive_key)
    if hashlib.sha256(data).hexdigest() != record.sha256:
        err.print(f"[red]fixity failure[/]: the archived PDF of {code} does not match its SHA-256")
        raise typer.Exit(1)
    target = output or Path(f"{code}.pdf")
    target.write_bytes(data)
    err.print(f"wrote {target} ({len(data)} bytes, sha256 {record.sha256})")


@app.command()
def verify(
    target: Annotated[str, typer.Argument(help="A signed PDF file, or a result code.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
):
    """Check signatures (and, for a code, the archived checksum). Exit 0 only if everything is valid."""
    from signing import verify_pdf

    rooms = _rooms()
    problems: list[str] = []
    path = Path(target)
    if path.is_file():
        data = path.read_bytes()
        subject = str(path)
    else:
        _valid_code(target)
        record = rooms.index.get_result(target)
        if record is None:
            err.print(f"[red]no result with code {target}[/]")
            raise typer.Exit(1)
        data = rooms.archive.get(record.archive_key)
        if hashlib.sha256(data).hexdigest() != record.sha256:
            problems.append("fixity: the archived PDF does not match the SHA-256 recorded at ingest")
        subject = target
    report = verify_pdf(data, rooms.trust_roots)
    valid = report.valid and not problems
    if as_json:
        print(json.dumps({"subject": subject, "valid": valid, "fixity_problems": problems,
                          **report.to_dict()}, ensure_ascii=False))
    else:
        print(f"{subject}: {'VALID' if valid else 'NOT VALID'}")
        for sig in report.signatures:
            print(f"  signature {sig.field}: {sig.signer}")
            print(f"    intact={sig.intact} trusted={sig.trusted} whole document={sig.covers_whole_document}"
                  f" signed at {sig.signed_at}")
            if sig.development_ca:
                print("    NOTE: development key and CA made by `sohoa` itself - not a real agency certificate")
        for problem in problems + report.problems:
            print(f"  problem: {problem}")
    raise typer.Exit(0 if valid else 1)


@app.command()
def audit(
    sample: Annotated[int | None, typer.Option("--sample", help="Check only N random results.")] = None,
    repair: Annotated[bool, typer.Option("--repair", help="Finish what interrupted runs left half done.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
):
    """Fixity audit: re-read every archived result, recompute SHA-256, re-verify signatures.

    Also finds what an interrupted run left behind; --repair indexes complete versions the index lacks and
    records abandoned ingests (their objects stay, their codes are never reused). Exit 1 if any problem remains.
    """
    from digitize.pipeline import audit_archive

    report = audit_archive(_rooms(), sample=sample, repair=repair)
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        print(f"checked {report.checked} results: {'OK' if report.ok else 'PROBLEMS FOUND'}")
        for finding in report.findings:
            state = "repaired" if finding.repaired else "PROBLEM"
            print(f"  {state:<8} {finding.code} v{finding.version}: {finding.problem}")
    raise typer.Exit(0 if report.ok else 1)


clients_app = typer.Typer(help="Systems allowed to use the HTTP API, each with its own token.",
                          no_args_is_help=True)
app.add_typer(clients_app, name="clients")
SCOPE_KEYS = {"level": "levels", "type": "types", "agency": "agencies"}


def _parse_scopes(scopes: list[str]) -> dict:
    parsed: dict = {"levels": [], "types": [], "agencies": [], "holder_id": False}
    for item in scopes:
        if item == "holder_id":
            parsed["holder_id"] = True
            continue
        key, _, value = item.partition("=")
        if key not in SCOPE_KEYS or not value:
            err.print(f"[red]invalid scope {item!r}[/]: use level=…, type=…, agency=… or holder_id")
            raise typer.Exit(2)
        parsed[SCOPE_KEYS[key]].append(value)
    return parsed


@clients_app.command("add")
def clients_add(
    name: Annotated[str, typer.Argument(help="Name of the consuming system, e.g. dvcqg.")],
    scope: Annotated[list[str] | None, typer.Option(
        "--scope", help="Limit what it may read: level=commune, type=KS, agency=000.00.00.H26; "
                        "holder_id lets it see ID numbers in full. Repeatable.")] = None,
):
    """Register a system and print its token once (alone on the last line). Only a hash is stored."""
    import secrets

    from api import token_hash

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", name):
        err.print("[red]client name[/]: letters, digits, '.', '_' or '-', at most 100 characters")
        raise typer.Exit(2)
    scopes = _parse_scopes(scope or [])
    token = "sohoa_" + secrets.token_urlsafe(32)
    try:
        _rooms().index.add_client(name, token_hash(token), scopes)
    except ValueError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    print(f"client {name} added; scopes: {json.dumps(scopes)}")
    print("token (shown only now; store it safely):")
    print(token)


@clients_app.command("list")
def clients_list():
    """Registered systems, their scopes, and whether they are revoked."""
    for entry in _rooms().index.clients():
        state = f"revoked {entry.revoked_at:%Y-%m-%d}" if entry.revoked_at else "active"
        print(f"{entry.name:<24} {state:<18} {json.dumps(entry.scopes)}")


@clients_app.command("revoke")
def clients_revoke(name: Annotated[str, typer.Argument(help="The client to cut off.")]):
    """Revoke a client's token at once."""
    if not _rooms().index.revoke_client(name):
        err.print(f"[red]no active client named {name}[/]")
        raise typer.Exit(1)
    print(f"client {name} revoked")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
):
    """Serve the HTTP API (GET /v1/health, /v1/results…) with the same configuration as the CLI."""
    from api import serve as run_server

    run_server(host, port)


@app.command("list")
def list_inputs(as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False):
    """Every processed input once, whatever its status."""
    rooms = _rooms()
    results = {r.code: r for r in rooms.index.results()}
    for row in rooms.index.inputs():
        result = results.get(row.code) if row.code else None
        entry = {
            "code": row.code, "source": row.source, "doc_type": row.doc_type, "status": row.status,
            "error": row.error, "sha256": result.sha256 if result else None, "source_sha256": row.source_sha256,
        }
        if as_json:
            print(json.dumps(entry, ensure_ascii=False))
        else:
            print(f"{row.status:<12} {row.code or '-':<30} {row.doc_type or '-':<5} {row.source}")


if __name__ == "__main__":
    app()
