"""sohoa command line: digitize scans, fetch and verify archived results."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import logging
import os
import re
import sys
import threading
import unicodedata
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from workflow.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from workflow.rooms import Rooms
    from workflow.sharing import ResultRecord
    from workflow.workers import Prefetched

app = typer.Typer(
    help="sohoa (số hóa): turn scanned administrative results into coded, signed, archived records.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold personal data
)
err = Console(stderr=True)
# pyHanko imports DSA support that cryptography calls deprecated: a note for developers, not for users.
warnings.filterwarnings("ignore", message="DSA is deprecated")
STATUS_MARK = {"archived": "[green]archived[/]", "needs_review": "[yellow]needs review[/]",
               "rejected": "[red]rejected[/]"}


_opened_rooms: list = []  # closed by `run` before it exits


@contextlib.contextmanager
def _exit_on(errors: type[Exception] | tuple[type[Exception], ...], code: int, label: str = ""):
    """Turn ``errors`` raised inside into their message on stderr (after ``label``) and exit ``code``."""
    try:
        yield
    except errors as exc:
        err.print(f"[red]{label}[/] {exc}" if label else f"[red]{exc}[/]")
        raise typer.Exit(code) from None


def _settings() -> Settings:
    """The settings, or exit 2 with the setting that is wrong."""
    with _exit_on(SettingsError, 2, "setting:"):
        return load_settings()


def _outside_data(settings: Settings, path: Path, what: str) -> None:
    """Exit 2 if ``path`` lies in sohoa's data folder or archive: sohoa never writes over its own records."""
    from workflow.results import UnsafePath, check_outside_data

    with _exit_on(UnsafePath, 2):
        check_outside_data(settings, path, what)


def _rooms() -> Rooms:
    """Import the pipeline and open its rooms (index, archive, keys, catalogue); exit 2 on a bad setting.

    Loading creates objects that live as long as the process, and pyHanko and asn1crypto then allocate
    a great many short-lived ones per signature: Python's cyclic garbage collector scanned both again and
    again (9 % of the main process's CPU on a 27-page `sohoa process`).  So nothing is collected while
    loading, what was loaded is kept out of later collections, and the young generation is collected
    less often.
    """
    gc.disable()
    try:
        return _open_rooms()
    finally:
        gc.freeze()
        gc.set_threshold(20_000, 50, 100)
        gc.enable()


def _open_rooms() -> Rooms:
    from workflow.keys import SigningKeyError
    from workflow.rooms import open_rooms

    settings = _settings()
    with _exit_on(ValueError, 2, "OCR engine:"), _exit_on(SigningKeyError, 2, "signing key:"):
        rooms = open_rooms(settings)
        rooms.ocr.check()
    _opened_rooms.append(rooms)
    return rooms


def run() -> None:
    """The `sohoa` console script: the Typer app, then an exit that skips the interpreter's teardown.

    Freeing the modules of pyHanko, SQLAlchemy, OpenCV and the rest one by one takes 0.3-0.4 s after the
    work is done (measured on `sohoa process`).  Nothing is lost by skipping it: files are closed by their
    ``with`` blocks, the index connections are closed here, output and log handlers are flushed.
    """
    from workflow.results import ArchiveError

    # What sohoa writes (originals, the index, review proposals, corrections) holds personal data: for
    # sohoa's own user only.
    os.umask(0o077)
    try:
        app()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    except ArchiveError as exc:  # the archive refused or lost something: a sentence, not a traceback
        err.print(f"[red]archive:[/] {exc}")
        code = 1
    for rooms in _opened_rooms:
        rooms.close()
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    with contextlib.suppress(OSError):  # e.g. `sohoa list | head` closed the pipe early
        sys.stdout.flush()
        sys.stderr.flush()
    logging.shutdown()
    os._exit(code or 0)


def _result_for(rooms: Rooms, code: str) -> ResultRecord:
    """The record a code or a -KQ{n} result alias names; exit 2 if malformed, 1 if unknown."""
    from workflow.results import BadCode, UnknownResult, find_result

    with _exit_on(BadCode, 2), _exit_on(UnknownResult, 1):
        return find_result(rooms, code)


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each step to stderr.")] = False):
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(message)s")
    if not verbose:
        # What the signing libraries log (a traceback for every untrusted path of a real document's chain) is
        # said in sohoa's own report, one line a signature; -v shows their logs.
        for name in ("pyhanko", "pyhanko_certvalidator", "fontTools"):
            logging.getLogger(name).setLevel(logging.CRITICAL)



@app.command()
def process(
    paths: Annotated[list[Path], typer.Argument(help="Scans (PNG, JPEG, TIFF, PDF) or folders of them.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per document on stdout.")] = False,
    workers: Annotated[int, typer.Option("--workers", "-w", help="Pages OCRed in parallel (default: cores).")]
    = 0,
    allow_duplicate: Annotated[bool, typer.Option(
        "--allow-duplicate", help="Archive again even if the same file (same SHA-256) is already archived.")] = False,
    dossier: Annotated[str | None, typer.Option(
        "--dossier", help="Dossier code (mã hồ sơ) these results belong to, e.g. 000.00.00.H26-230515-0001.")]
    = None,
    split: Annotated[str | None, typer.Option(
        "--split", help="'blank': blank pages also separate documents (cover sheets always do).")] = None,
    officer: Annotated[str | None, typer.Option(
        "--officer", help="The digitizing officer (sohoa officers list), who signs each copy top left "
                          "(default: SOHOA_OFFICER).")] = None,
):
    """Digitize documents: OCR, classify, code, sign and archive each one.

    Each document ends archived, waiting for review (a clerk must check it), or rejected with the reason.
    """
    if split not in (None, "blank"):
        err.print("[red]--split[/]: the only choice is 'blank' (cover sheets always split)")
        raise typer.Exit(2)
    if dossier:
        from workflow.ingest import IngestOptions

        with _exit_on(ValueError, 2, "invalid dossier code:"):
            IngestOptions(dossier=dossier)
    from workflow.workers import prefetch_pages, start_page_workers

    settings = _settings()
    # The page workers start first and get the first pages at once; they read them while this process
    # loads the rest of the pipeline and opens the archive, the index and the keys.
    workers = workers or os.cpu_count() or 1
    with _exit_on(ValueError, 2, "OCR engine:"):
        pool = start_page_workers(settings, workers)
    with pool:
        early = prefetch_pages(settings, pool, paths, max_pages=2 * workers, split_blank=split == "blank")
        try:
            _process(paths, pool, workers, as_json, allow_duplicate, dossier, split, early, officer)
        finally:
            for leftover in early.values():  # e.g. the keys could not be opened: no page work is kept
                leftover.discard()


def _process(paths: list[Path], pool, workers: int, as_json: bool, allow_duplicate: bool, dossier: str | None,
             split: str | None, early: dict[Path, Prefetched], officer: str | None = None) -> None:
    rooms = _rooms()
    from workflow.ingest import Ingest, IngestOptions  # loaded by _rooms()
    from workflow.officers import officer_key

    officer = officer or rooms.settings.officer
    if officer and officer_key(rooms, officer) is None:
        err.print(f"[red]officer:[/] no active officer named {officer} with a key (sohoa officers list; "
                  "sohoa officers add, or sohoa keys init-dev --officer NAME)")
        raise typer.Exit(2)
    options = IngestOptions(workers, allow_duplicate=allow_duplicate, dossier=dossier, split_blank=split == "blank",
                            officer=officer)
    counts: dict[str, int] = {}
    table_rows = []
    for outcome in Ingest(rooms, options, pool).run(paths, prefetched=early):
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
        if as_json:
            sys.stdout.write(outcome.to_json() + "\n")
            sys.stdout.flush()
            continue
        name = (outcome.doc_type.name if outcome.doc_type else None) or "-"
        detail = outcome.reason
        print(f"{outcome.status:<12} {outcome.code or '-':<30} {name:<40} {outcome.source}"
              + (f"  ({detail})" if detail else ""))
        table_rows.append(outcome)
    if table_rows and not as_json:
        _final_table(table_rows)
    summary = ", ".join(f"{n} {STATUS_MARK.get(s, s)}" for s, n in sorted(counts.items()))
    err.print(f"done: {summary or 'no documents found'}")


def _final_table(outcomes) -> None:
    from rich.table import Table

    table = Table(title="sohoa: kết quả số hóa")
    for column in ("code", "type", "status", "reason"):
        table.add_column(column, overflow="fold")
    colours = {"archived": "green", "needs_review": "yellow", "rejected": "red"}
    for outcome in outcomes:
        reason = outcome.reason
        table.add_row(outcome.code or "-", (outcome.doc_type.name if outcome.doc_type else None) or "-",
                      f"[{colours.get(outcome.status, 'white')}]{outcome.status}[/]", reason or "")
    err.print(table)


@app.command()
def fetch(
    code: Annotated[str, typer.Argument(help="Result code (000.00.00.H26-KS-230515-0001) or alias (…-KQ1).")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Where to write the PDF.")] = None,
    meta: Annotated[bool, typer.Option("--meta", help="Print the metadata record (JSON) instead.")] = False,
    version: Annotated[int | None, typer.Option("--version", min=1, help="An earlier version (default: current).")]
    = None,
):
    """Fetch an archived, signed result by its code (the current version, or an earlier one)."""
    from workflow.results import FixityError, UnknownVersion, check_version, fetch_to_file, result_metadata

    rooms = _rooms()
    record = _result_for(rooms, code)
    try:
        number = check_version(rooms, record, version)
    except UnknownVersion as exc:
        err.print(str(exc))
        raise typer.Exit(1) from None
    if meta:
        data, problem = result_metadata(rooms, record, number)
        sys.stdout.write(data.decode("utf-8", "replace") + "\n")
        if problem:
            err.print(f"[red]fixity failure[/]: {problem}")
            raise typer.Exit(1)
        return
    target = output or Path(f"{record.code}.pdf")
    _outside_data(rooms.settings, target, "the output file")
    try:
        fetched = fetch_to_file(rooms, record, number, target)
    except FixityError:
        err.print(f"[red]fixity failure[/]: the archived PDF of {code} does not match its SHA-256")
        raise typer.Exit(1) from None
    err.print(f"wrote {fetched.path} ({fetched.size} bytes, sha256 {fetched.sha256})")


@app.command()
def verify(
    target: Annotated[str, typer.Argument(help="A signed PDF file, or a result code.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
):
    """Check every signature (and, for a code, the archived checksum). Exit 0 only if everything is valid.

    For each signature: integrity, the chain to the trusted roots, the timestamp, embedded revocation data,
    and whether anything but long-term validation data was added after it.
    """
    from workflow.results import conformance, verify_pdf_bytes, verify_result

    rooms = _rooms()
    path = Path(target)
    rules = None
    if path.is_file():
        checked, subject = verify_pdf_bytes(rooms, path.read_bytes()), str(path)
    else:
        record = _result_for(rooms, target)
        checked, subject = verify_result(rooms, record), target
        rules = conformance(rooms, record, checked.report)
    report, problems, warnings, valid = checked.report, checked.fixity_problems, checked.active_content, checked.valid
    if as_json:
        print(json.dumps({"subject": subject, "valid": valid, "fixity_problems": problems,
                          **report.to_dict(), "active_content": warnings, "circular_01_2023": rules},
                         ensure_ascii=False))
    else:
        print(f"{subject}: {'VALID' if valid else 'NOT VALID'}")
        for sig in report.signatures:
            level = f" (PAdES {sig.level})" if sig.level else ""
            print(f"  {sig.kind} {sig.field}{level}: {sig.signer}")
            print(f"    intact: {_yes(sig.intact)}   signature value: {_yes(sig.valid)}   "
                  f"trusted: {_yes(sig.trusted)}   certificate valid until {sig.certificate_valid_until or '?'}")
            print(f"    signed at: {sig.signed_at or 'not stated'}"
                  + (f"   timestamp: {sig.timestamp} by {sig.timestamp_authority}" if sig.timestamp else ""))
            print(f"    changes after it: {sig.later_changes}   whole document covered: "
                  f"{_yes(sig.covers_whole_document)}")
            if sig.revocation_info:
                print(f"    revocation data: {sig.revocation_info}")
            if sig.development_ca:
                print("    NOTE: development key and CA made by `sohoa keys init-dev` - not a real agency certificate")
            if sig.policy_note:
                print(f"    NOTE: {sig.policy_note}")
            for problem in sig.problems:
                print(f"    why not valid: {problem}")
        said = {f"{sig.field}: {p}" for sig in report.signatures for p in sig.problems}  # each under its signature
        for problem in problems + [p for p in report.problems if p not in said]:
            print(f"  problem: {problem}")
        for warning in warnings:
            print(f"  warning: active content: {warning}")
        if rules is not None:
            print(f"  Circular 01/2023: {'conforms' if rules['conforms'] else 'does NOT conform'}")
            for rule in rules["rules"]:
                said = rule.get("detail") or ", ".join(rule.get("stated", []))
                print(f"    {'yes' if rule['met'] else 'NO ':<3} {rule['rule']}: {said}")
    raise typer.Exit(0 if valid else 1)


def _yes(value: bool) -> str:
    return "yes" if value else "NO"


@app.command()
def resign(
    lta: Annotated[bool, typer.Option("--lta", help="Add validation data and a fresh document timestamp.")] = False,
    codes: Annotated[list[str] | None, typer.Argument(help="Result codes (default: every archived result).")] = None,
    within_days: Annotated[int, typer.Option("--expiring-within", help="Renew when the newest timestamp's "
                                             "certificate expires within this many days.")] = 365,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per result.")] = False,
):
    """Keep archived signatures verifiable for years (PAdES B-LTA): each renewal is a new version, never an overwrite.

    Run it regularly (e.g. monthly); results whose timestamps are still fresh are left alone.
    """
    from workflow.maintenance import renew_timestamps
    from workflow.results import can_timestamp

    if not lta:
        err.print("say --lta: the only renewal sohoa does is a document timestamp (PAdES B-LTA)")
        raise typer.Exit(2)
    rooms = _rooms()
    if not can_timestamp(rooms):
        err.print("[red]a document timestamp needs a timestamping authority:[/] set SOHOA_TSA_URL")
        raise typer.Exit(2)
    renewals = renew_timestamps(rooms, [_result_for(rooms, c).code for c in codes] if codes else None, within_days)
    for r in renewals:
        if as_json:
            print(json.dumps(r.to_dict(), ensure_ascii=False))
        elif r.new_version:
            print(f"renewed  {r.code} v{r.old_version} -> v{r.new_version} ({r.reason})")
        else:
            print(f"FAILED   {r.code} v{r.old_version}: {r.reason}")
    if not as_json:
        print(f"{sum(1 for r in renewals if r.new_version)} renewed, {sum(1 for r in renewals if not r.new_version)} "
              "failed; the others are still fresh")
    raise typer.Exit(1 if any(not r.new_version for r in renewals) else 0)


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
    from workflow.maintenance import audit_archive

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
    parsed: dict = {"levels": [], "types": [], "agencies": [], "holder_id": False, "submit": False}
    for item in scopes:
        if item in ("holder_id", "submit"):
            parsed[item] = True
            continue
        key, _, value = item.partition("=")
        if key not in SCOPE_KEYS or not value:
            err.print(f"[red]invalid scope {item!r}[/]: use level=…, type=…, agency=…, holder_id or submit")
            raise typer.Exit(2)
        parsed[SCOPE_KEYS[key]].append(value)
    return parsed


@clients_app.command("add")
def clients_add(
    name: Annotated[str, typer.Argument(help="Name of the consuming system, e.g. dvcqg.")],
    scope: Annotated[list[str] | None, typer.Option(
        "--scope", help="Limit what it may read: level=commune, type=KS, agency=000.00.00.H26; "
                        "holder_id lets it see ID numbers in full; submit lets it hand in scans "
                        "(POST /v1/documents). Repeatable.")] = None,
):
    """Register a system and print its token once (alone on the last line). Only a hash is stored."""
    from workflow.results import add_client

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", name):
        err.print("[red]client name[/]: letters, digits, '.', '_' or '-', at most 100 characters")
        raise typer.Exit(2)
    scopes = _parse_scopes(scope or [])
    with _exit_on(ValueError, 1):
        token = add_client(_rooms(), name, scopes)
    print(f"client {name} added; scopes: {json.dumps(scopes)}")
    print("token (shown only now; store it safely):")
    print(token)


@clients_app.command("list")
def clients_list():
    """Registered systems, their scopes, and whether they are revoked."""
    from workflow.results import list_clients

    for entry in list_clients(_rooms()):
        state = f"revoked {entry.revoked_at:%Y-%m-%d}" if entry.revoked_at else "active"
        print(f"{entry.name:<24} {state:<18} {json.dumps(entry.scopes)}")


@clients_app.command("revoke")
def clients_revoke(name: Annotated[str, typer.Argument(help="The client to cut off.")]):
    """Revoke a client's token at once."""
    from workflow.results import revoke_client

    if not revoke_client(_rooms(), name):
        err.print(f"[red]no active client named {name}[/]")
        raise typer.Exit(1)
    print(f"client {name} revoked")


officers_app = typer.Typer(help="Digitizing officers and their personal keys: they sign each copy top left "
                                "(Circular 01/2023).", no_args_is_help=True)
app.add_typer(officers_app, name="officers")


@officers_app.command("add")
def officers_add(
    name: Annotated[str, typer.Argument(help="The officer, named as their workspace user (e.g. lan.nguyen).")],
    full_name: Annotated[str, typer.Option("--full-name", help="The name the stamp shows, e.g. 'Nguyễn Thị Lan'.")],
    pkcs12: Annotated[Path | None, typer.Option("--pkcs12", exists=True, dir_okay=False,
                                                help="The officer's PKCS#12 (.p12/.pfx) with key and certificate.")]
    = None,
    pkcs11_key: Annotated[str | None, typer.Option(
        "--pkcs11-key", help="Or: the label of the officer's key on the configured token (SOHOA_PKCS11_*).")] = None,
    pkcs11_cert: Annotated[Path | None, typer.Option(
        "--pkcs11-cert", exists=True, dir_okay=False, help="The officer's certificate, if the token lacks it.")]
    = None,
    passphrase_file: Annotated[Path | None, typer.Option(
        "--passphrase-file", exists=True, dir_okay=False,
        help="The PKCS#12's passphrase (first line); else typed, or read from stdin.")] = None,
):
    """Register an officer's personal key: a PKCS#12 (kept re-encrypted with the installation's key passphrase)
    or a key on the token."""
    from workflow.officers import OfficerError, add_officer, add_token_officer

    if (pkcs12 is None) == (pkcs11_key is None):
        err.print("[red]officers add[/]: give either --pkcs12 FILE or --pkcs11-key LABEL")
        raise typer.Exit(2)
    with _exit_on(OfficerError, 2):
        if pkcs11_key:
            made = add_token_officer(_rooms(), name, full_name, pkcs11_key, pkcs11_cert)
        else:
            secret = _read_password(passphrase_file, confirm=False)
            made = add_officer(_rooms(), name, full_name, pkcs12, secret.encode() if secret else None)
    print(f"officer {made.name} ({made.full_name}) added: {made.subject}")


@officers_app.command("list")
def officers_list(as_json: Annotated[bool, typer.Option("--json", help="One JSON object per officer.")] = False):
    """Officers, their certificate, and whether they are active."""
    from workflow.officers import list_officers

    for officer in list_officers(_rooms()):
        if as_json:
            print(json.dumps(officer.to_dict(), ensure_ascii=False))
        else:
            state = "active" if officer.active else "disabled"
            print(f"{officer.name:<20} {officer.full_name:<28} {state:<9} {officer.subject}")


@officers_app.command("disable")
def officers_disable(name: Annotated[str, typer.Argument(help="The officer who no longer signs copies.")]):
    """Stop using an officer's key (copies signed earlier stay valid)."""
    from workflow.officers import OfficerError, disable_officer

    with _exit_on(OfficerError, 1):
        disable_officer(_rooms(), name)
    print(f"officer {name} disabled")


users_app = typer.Typer(help="Officers who sign in to the workspace (sohoa serve): clerk, reviewer or admin.",
                        no_args_is_help=True)
app.add_typer(users_app, name="users")


def _read_password(password_file: Path | None, confirm: bool = True) -> str:
    """The password from a file (its first line) or typed at the terminal, never from the command line."""
    if password_file is not None:
        lines = password_file.read_text("utf-8").splitlines()
        return lines[0] if lines else ""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("password", hide_input=True, confirmation_prompt=confirm)


PasswordFile = Annotated[Path | None, typer.Option(
    "--password-file", exists=True, dir_okay=False,
    help="Read the password from the first line of this file (else it is typed, or read from stdin).")]


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name: lower-case letters, digits, . _ - (e.g. lan.nguyen).")],
    role: Annotated[str, typer.Option("--role", help="clerk, reviewer (also reads ID numbers) or admin.")],
    password_file: PasswordFile = None,
):
    """Add an officer; the password is typed (twice), or read from --password-file or stdin."""
    from workflow.users import UserError, add_user

    with _exit_on(UserError, 2):
        add_user(_rooms(), name, role, _read_password(password_file))
    print(f"user {name} added ({role})")


@users_app.command("list")
def users_list(as_json: Annotated[bool, typer.Option("--json", help="One JSON object per user.")] = False):
    """Officers, their role, and whether they are active or locked out."""
    from workflow.users import list_users

    for user in list_users(_rooms()):
        if as_json:
            print(json.dumps(user.to_dict(), ensure_ascii=False))
            continue
        state = "active" if user.active else "disabled"
        if user.active and user.locked_until and user.locked_until > dt.datetime.now(dt.UTC):
            state = f"locked until {user.locked_until:%H:%M} UTC"
        print(f"{user.name:<24} {user.role:<10} {state}")


@users_app.command("disable")
def users_disable(name: Annotated[str, typer.Argument(help="The officer who may no longer sign in.")]):
    """Disable an officer at once: their open sessions end at their next request."""
    from workflow.users import UserError, disable_user

    with _exit_on(UserError, 1):
        disable_user(_rooms(), name)
    print(f"user {name} disabled")


@users_app.command("reset-password")
def users_reset_password(name: Annotated[str, typer.Argument(help="The officer.")],
                         password_file: PasswordFile = None):
    """Give an officer a new password (typed twice, or from --password-file or stdin); ends their sessions
    and lifts a lock-out."""
    from workflow.users import UserError, reset_password

    with _exit_on(UserError, 1):
        reset_password(_rooms(), name, _read_password(password_file))
    print(f"password of {name} changed")


webhooks_app = typer.Typer(help="Systems told of each archived result and review decision (Standard Webhooks).",
                           no_args_is_help=True)
app.add_typer(webhooks_app, name="webhooks")
outbox_app = typer.Typer(help="Events waiting to be delivered to webhooks, and their dispatcher.",
                         no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")
receiver_app = typer.Typer(help="A reference receiver of sohoa's webhooks (tests, integration).",
                           no_args_is_help=True)
app.add_typer(receiver_app, name="receiver")


@webhooks_app.command("add")
def webhooks_add(
    url: Annotated[str, typer.Argument(help="Where events are POSTed, e.g. https://motcua.example.gov.vn/hooks.")],
    event: Annotated[list[str] | None, typer.Option(
        "--event", help="Only these event types (result.archived, result.version, review.rejected). Repeatable.")]
    = None,
):
    """Add a subscriber; its signing secret (whsec_…) is printed once, alone on the last line."""
    from workflow.outbox import WebhookError, add_webhook

    with _exit_on(WebhookError, 2):
        webhook_id, secret = add_webhook(_rooms(), url, event)
    print(f"webhook {webhook_id} added for {url}")
    print("signing secret (shown only now; give it to the receiver):")
    print(secret)


@webhooks_app.command("list")
def webhooks_list(as_json: Annotated[bool, typer.Option("--json")] = False):
    """Subscribers, their event types, and whether they are active."""
    from workflow.outbox import list_webhooks

    for hook in list_webhooks(_rooms()):
        if as_json:
            print(json.dumps(hook.to_dict()))
        else:
            state = ("active" if hook.active else "disabled") + (" (rotating secret)" if hook.rotating else "")
            print(f"{hook.id:<4} {state:<28} {','.join(hook.events or ['*']):<40} {hook.url}")


@webhooks_app.command("disable")
def webhooks_disable(webhook_id: Annotated[int, typer.Argument(help="From `sohoa webhooks list`.")]):
    """Stop delivering to a subscriber (its pending deliveries wait)."""
    from workflow.outbox import WebhookError, disable_webhook

    with _exit_on(WebhookError, 1):
        disable_webhook(_rooms(), webhook_id)
    print(f"webhook {webhook_id} disabled")


@webhooks_app.command("rotate")
def webhooks_rotate(webhook_id: Annotated[int, typer.Argument(help="From `sohoa webhooks list`.")]):
    """A new signing secret, printed once on the last line; for a day deliveries carry both signatures."""
    from workflow.outbox import WebhookError, rotate_secret

    with _exit_on(WebhookError, 1):
        secret = rotate_secret(_rooms(), webhook_id)
    print(f"webhook {webhook_id}: new signing secret (the old one also signs for 24 hours):")
    print(secret)


@outbox_app.command("run")
def outbox_run(until_empty: Annotated[bool, typer.Option(
        "--until-empty", help="Stop when nothing is due (for cron and checks).")] = False):
    """Deliver events to the webhooks (also run by `sohoa serve`); several may run at once."""
    import signal

    from workflow.outbox import delivery_counts, run_dispatcher

    rooms = _rooms()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    attempted = run_dispatcher(rooms, stop, until_empty=until_empty)
    counts = delivery_counts(rooms)
    err.print(f"{attempted} deliveries attempted; now: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))


@outbox_app.command("list")
def outbox_list(status: Annotated[str | None, typer.Option(help="pending, delivered or dead")] = None,
                as_json: Annotated[bool, typer.Option("--json")] = False):
    """Deliveries, newest first: event, webhook, status, attempts, next attempt, last error."""
    from workflow.outbox import list_deliveries

    for item in list_deliveries(_rooms(), status):
        if as_json:
            print(json.dumps({"id": item.id, "event_id": item.event_id, "event_type": item.event_type,
                              "webhook": item.webhook, "status": item.status, "attempts": item.attempts,
                              "next_attempt_at": item.next_attempt_at.isoformat(), "last_error": item.last_error}))
        else:
            print(f"{item.id:<6} {item.event_type:<16} webhook {item.webhook:<3} {item.status:<10} "
                  f"{item.attempts} attempts  {item.last_error or ''}")


@outbox_app.command("retry")
def outbox_retry(ids: Annotated[list[int] | None, typer.Argument(help="Deliveries (default: every dead one).")]
                 = None):
    """Make dead (or the given) deliveries due again now."""
    from workflow.outbox import retry_deliveries

    print(f"{retry_deliveries(_rooms(), ids or None)} deliveries due again")


@outbox_app.command("replay")
def outbox_replay(webhook_id: Annotated[int, typer.Argument(help="The subscriber.")],
                  after: Annotated[int, typer.Option(help="Only events after this feed position.")] = 0):
    """Deliver every event (after a position) to a subscriber again: a receiver that lost its data catches up."""
    from workflow.outbox import WebhookError, replay

    with _exit_on(WebhookError, 1):
        count = replay(_rooms(), webhook_id, after)
    print(f"{count} events queued again for webhook {webhook_id}")


national_app = typer.Typer(help="The citizen's electronic store on the National Public Service Portal.",
                           no_args_is_help=True)
app.add_typer(national_app, name="national-store")


@national_app.command("connect")
def national_connect():
    """Push every archived result of a dossier to the configured store (SOHOA_NATIONAL_STORE_*), through the
    outbox: retried, dead-lettered and replayable like a webhook."""
    from workflow.national_store import NationalStoreError, connect

    with _exit_on(NationalStoreError, 2):
        subscriber = connect(_rooms())
    print(f"national store connected as subscriber {subscriber} (sohoa outbox list shows its deliveries)")


@receiver_app.command("serve")
def receiver_serve(
    store: Annotated[Path, typer.Option(help="Folder where received events are kept (received.jsonl).")],
    secret_file: Annotated[Path, typer.Option(exists=True, dir_okay=False,
                                              help="The signing secret(s), one per line (whsec_…).")],
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8090,
    national_password_file: Annotated[Path | None, typer.Option(
        exists=True, dir_okay=False, help="Also play the national store: user and password on two lines.")] = None,
):
    """A reference receiver: verifies Standard Webhooks signatures and stores each event once; with
    --national-password-file it also answers as the national store (/national/token, /national/sync)."""
    from web.receiver import serve_receiver

    secrets = [line.strip() for line in secret_file.read_text("utf-8").splitlines() if line.strip()]
    national = None
    if national_password_file:
        lines = national_password_file.read_text("utf-8").splitlines()
        national = (lines[0].strip(), lines[1].strip())
    serve_receiver(host, port, store, secrets, national)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option(help="Server processes (default: cores).")] = 0,
    counter_workers: Annotated[int, typer.Option(
        help="Pages read in parallel for the counter's uploads (default: cores; 0: do not digitize here).")] = -1,
    outbox: Annotated[bool, typer.Option(help="Run the webhook dispatcher in this process.")] = True,
):
    """Serve the HTTP API (/v1/…) and the clerks' workspace (/login, /counter, /review, /search, /progress)
    with the same configuration as the CLI; the counter's uploads are digitized in this process."""
    from web.api import serve as run_server

    _settings()
    cores = os.cpu_count() or 1
    run_server(host, port, workers or cores, cores if counter_workers < 0 else counter_workers, outbox)


@app.command()
def watch(
    folder: Annotated[Path, typer.Argument(help="Folder the scanner writes into.", exists=True, file_okay=False)],
    workers: Annotated[int, typer.Option("--workers", "-w", help="Pages OCRed in parallel (default: cores).")] = 0,
    interval: Annotated[float, typer.Option(help="Seconds between looks at the folder.")] = 1.0,
    settle: Annotated[float, typer.Option(help="A file is taken once unchanged for this many seconds.")] = 2.0,
    split: Annotated[str | None, typer.Option("--split", help="'blank': blank pages separate documents.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per document on stdout.")] = False,
):
    """Hot folder: digitize every file that appears, then move it to done/ or failed/ (with a reason file).

    Runs until Ctrl-C or SIGTERM; bad files never stop it.
    """
    import signal

    from workflow.ingest import Ingest, IngestOptions
    from workflow.watch import watch as run_watch

    rooms = _rooms()
    _outside_data(rooms.settings, folder, "the watched folder")
    ingest = Ingest(rooms, IngestOptions(workers or os.cpu_count() or 1, split_blank=split == "blank"))
    stop = threading.Event()

    def request_stop(_signum, _frame):
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    err.print(f"watching {folder} (Ctrl-C to stop)")

    def show(outcome) -> None:
        if as_json:
            sys.stdout.write(outcome.to_json() + "\n")
            sys.stdout.flush()
        else:
            print(f"{outcome.status:<12} {outcome.code or '-':<30} {outcome.source}"
                  + (f"  ({outcome.error})" if outcome.error else ""), flush=True)

    run_watch(folder, ingest, stop, interval, settle, show)
    err.print("stopped")


@app.command()
def coversheet(
    entries: Annotated[list[str], typer.Argument(help="Dossier codes, each optionally with a type: CODE or CODE:KS.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="PDF to print.")] = Path("coversheets.pdf"),
):
    """Print cover sheets (QR code + text) to put before each dossier in a scanned stack."""
    from workflow.registry import RegistryInputError, write_coversheets_for

    settings = _settings()
    _outside_data(settings, output, "the output file")
    with _exit_on(RegistryInputError, 2):
        count = write_coversheets_for(settings, entries, output)
    print(f"{count} cover sheets written to {output}")


@app.command()
def backfill(
    folder: Annotated[Path | None, typer.Argument(help="Tree of old scans to digitize.", exists=True,
                                                  file_okay=False)] = None,
    workers: Annotated[int, typer.Option("--workers", "-w", help="Pages OCRed in parallel (default: cores).")] = 0,
    report: Annotated[Path | None, typer.Option(help="Report file: FILE.csv and FILE.jsonl are written.")] = None,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Try again what failed before.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines on stdout instead of a progress bar.")]
    = False,
    distributed: Annotated[bool, typer.Option(
        "--distributed", help="Hand the pages to `sohoa worker`s on any machine, through SOHOA_BROKER_URL.")] = False,
    stage_to_s3: Annotated[bool, typer.Option(
        "--stage-to-s3", help="With --distributed: upload each file to the work store first, for workers that "
                              "cannot see the folder.")] = False,
    status: Annotated[bool, typer.Option("--status", help="Show a distributed run's progress, from any machine.")]
    = False,
    run_id: Annotated[int | None, typer.Option("--run", help="With --status: that run (default: the latest).")]
    = None,
    wait: Annotated[bool, typer.Option(help="With --distributed: follow the run to its end (--no-wait: enqueue "
                                            "and return).")] = True,
):
    """Digitize a whole tree, resumably: rerun it after any interruption and nothing is done twice.

    Ctrl-C stops after the documents in flight (a second Ctrl-C stops at once); rerun to continue.  With
    --distributed, Ctrl-C stops following the run: the workers go on, and `--status` shows them.
    """
    import signal

    if status:
        _backfill_status(run_id, report, as_json)
        return
    if folder is None:
        err.print("[red]give the folder to digitize (or --status)[/]")
        raise typer.Exit(2)
    if distributed:
        _backfill_distributed(folder, report, retry_failed, stage_to_s3, wait, as_json)
        return
    if stage_to_s3:
        err.print("[red]--stage-to-s3 goes with --distributed[/]")
        raise typer.Exit(2)

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from workflow.backfill import backfill as run_backfill
    from workflow.ingest import Ingest, IngestOptions

    rooms = _rooms()
    if report:
        _outside_data(rooms.settings, report, "the report")
    ingest = Ingest(rooms, IngestOptions(workers or os.cpu_count() or 1))
    stop = threading.Event()

    def request_stop(_signum, _frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        err.print("[yellow]stopping after the documents in flight… (Ctrl-C again to stop at once)[/]")

    signal.signal(signal.SIGINT, request_stop)
    progress = Progress(TextColumn("[bold]backfill"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[rate]:.2f} docs/s"), TimeRemainingColumn(), console=err,
                        disable=as_json)
    task = None
    started = [0.0]

    def on_start(total: int) -> None:
        nonlocal task
        import time

        started[0] = time.perf_counter()
        task = progress.add_task("backfill", total=total, rate=0.0)

    def on_outcome(outcome) -> None:
        import time

        if as_json:
            contract = outcome.to_dict()
            sys.stdout.write(json.dumps({k: contract[k] for k in ("source", "status", "error", "code", "pages",
                                                                  "seconds")}, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        done = progress.tasks[0].completed + 1 if progress.tasks else 1
        progress.update(task, advance=1, rate=done / max(time.perf_counter() - started[0], 1e-6))

    with progress:
        summary = run_backfill(ingest, folder.resolve(), report, retry_failed, on_start, on_outcome, stop)
    facts = summary.to_dict()
    if as_json:
        print(json.dumps({"summary": facts}, ensure_ascii=False))
    else:
        err.print(f"files {facts['files']}: " + ", ".join(f"{n} {s}" for s, n in sorted(facts["by_status"].items()))
                  + f"; {facts['pages']} pages in {facts['seconds']} s ({facts['pages_per_second']} pages/s)"
                  + (f"; {facts['recovered']} leftovers of an interrupted run finished" if facts["recovered"] else ""))
        if summary.stopped:
            err.print("[yellow]stopped before the end: run the same command again to continue[/]")
    raise typer.Exit(130 if summary.stopped else 0)


def _backfill_distributed(folder: Path, report: Path | None, retry_failed: bool, stage: bool, wait: bool,
                          as_json: bool) -> None:
    """Enqueue the tree for the workers, then follow the run from the index until it ends."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from workflow.distributed import Dispatch, DistributedError, celery_app, enqueue, run_status, sweep

    rooms = _rooms()
    if report:
        _outside_data(rooms.settings, report, "the report")
    with _exit_on(DistributedError, 2):
        dispatch = Dispatch(celery_app(rooms.settings))
        summary = enqueue(rooms, dispatch, folder.resolve(), stage=stage, retry_failed=retry_failed)
    facts = summary.to_dict()
    if as_json:
        for outcome in summary.decided:
            print(json.dumps({k: outcome.to_dict()[k] for k in ("source", "status", "error")}, ensure_ascii=False))
        print(json.dumps({"enqueued": facts}, ensure_ascii=False), flush=True)
    else:
        err.print(f"run {summary.run_id}: {summary.files} files, {summary.enqueued} handed to the workers, "
                  f"{summary.in_flight} still with them from an earlier run, {len(summary.decided)} decided now "
                  "(skipped or rejected)")
    if not wait:
        err.print(f"follow it with: sohoa backfill --status --run {summary.run_id}")
        return
    progress = Progress(TextColumn("[bold]backfill"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[rate]:.2f} pages/s"), TimeRemainingColumn(), console=err,
                        disable=as_json)
    swept = time.monotonic()
    try:
        with progress:
            task = progress.add_task("backfill", total=summary.files, rate=0.0)
            while True:
                current = run_status(rooms, summary.run_id)
                progress.update(task, completed=current.done,
                                rate=current.pages_read / current.seconds if current.seconds else 0.0)
                if current.finished:
                    break
                if time.monotonic() - swept > 60:
                    sweep(rooms, dispatch)
                    swept = time.monotonic()
                time.sleep(1.0)
    except KeyboardInterrupt:
        err.print(f"[yellow]no longer following run {summary.run_id}: the workers go on "
                  f"(sohoa backfill --status --run {summary.run_id})[/]")
        raise typer.Exit(130) from None
    _backfill_status(summary.run_id, report, as_json, decided=summary.decided)


def _backfill_status(run_id: int | None, report: Path | None, as_json: bool, decided=()) -> None:
    from workflow.backfill import write_report
    from workflow.distributed import run_report, run_status

    rooms = _rooms()
    current = run_status(rooms, run_id, with_statuses=True)
    if current is None:
        err.print("[red]no distributed backfill has run here[/]")
        raise typer.Exit(1)
    if report:
        _outside_data(rooms.settings, report, "the report")
        rows = [*({"source": o.source, "code": None, "doc_type": None, "status": str(o.status), "reason": o.error,
                   "pages": 0, "seconds": 0.0} for o in decided), *run_report(rooms, current.run_id)]
        write_report(report, rows, current.to_dict())
    facts = current.to_dict()
    for outcome in decided:
        facts["by_status"][str(outcome.status)] = facts["by_status"].get(str(outcome.status), 0) + 1
    if as_json:
        print(json.dumps({"summary": facts}, ensure_ascii=False))
        return
    states = ", ".join(f"{n} {s}" for s, n in sorted(facts["by_state"].items()))
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(facts["by_status"].items()))
    err.print(f"run {facts['run']} ({facts['label']}): {facts['done']} of {facts['files']} files done, "
              f"{facts['failed']} failed; pages {facts['pages_read']} of {facts['pages']} read "
              f"({facts['pages_per_second']} pages/s over {facts['seconds']} s)"
              + (f"; jobs: {states}" if states else "") + (f"; outcomes: {statuses}" if statuses else "")
              + ("; finished" if facts["finished"] else "; running"))


@app.command()
def worker(
    queues: Annotated[str, typer.Option(help="Queues to serve: page, document, or both (the document queue "
                                             "needs the signing key).")] = "page,document",
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", help="Tasks at a time (default: cores).")] = 0,
    sweep_every: Annotated[float, typer.Option(help="Seconds between sweeps for lost work (0: none).")] = 60.0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every task.")] = False,
):
    """Work for distributed backfills (`sohoa backfill DIR --distributed`): read pages, finish documents.

    Reaches the broker (SOHOA_BROKER_URL), the index (SOHOA_DATABASE_URL, PostgreSQL), the archive and the
    work store (SOHOA_WORK_URL) as configured.  SIGTERM finishes the tasks in hand; a worker killed
    outright loses nothing: its tasks are handed to another.
    """
    from worker.app import run_worker
    from workflow.distributed import DistributedError, require_shared_index

    settings = _settings()
    with _exit_on((DistributedError, ValueError), 2):
        require_shared_index(settings)
        run_worker(settings, [q.strip() for q in queues.split(",") if q.strip()], concurrency or os.cpu_count() or 1,
                   sweep_every, "INFO" if verbose else "WARNING")


keys_app = typer.Typer(help="Signing keys: the development PKI, and what key is configured.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("init-dev")
def keys_init_dev(
    officer: Annotated[str | None, typer.Option(
        "--officer", help="Also a development certificate for this digitizing officer (a user name, e.g. "
                          "lan.nguyen).")] = None,
    full_name: Annotated[str | None, typer.Option(
        "--full-name", help="The officer's name as the stamp shows it (default: --officer).")] = None,
):
    """Make a development CA, signer and timestamping authority in the data directory (offline demo and tests).

    Their certificates say DEVELOPMENT, the stamp says the key has no legal value, and `verify` trusts
    the development CA only in this data directory.  Running it again keeps existing keys.
    """
    from workflow.keys import make_dev_keys

    settings = _settings()
    make_dev_keys(settings)
    print(f"development keys ready in {settings.key_dir} (CA, signer, TSA; passphrase-encrypted PKCS#12)")
    if officer:
        from workflow.officers import OfficerError, add_dev_officer

        with _exit_on(OfficerError, 2):
            made = add_dev_officer(settings, _rooms(), officer, full_name)
        print(f"development officer {made.name} ({made.full_name}): {made.subject}")


@keys_app.command("show")
def keys_show(as_json: Annotated[bool, typer.Option("--json")] = False):
    """The configured signing key, its certificate, level, TSA and trusted roots."""
    from workflow.keys import key_info

    info = key_info(_rooms())
    if as_json:
        print(json.dumps(info, ensure_ascii=False))
    else:
        for key, value in info.items():
            print(f"{key:12} {value}")


tsa_app = typer.Typer(help="The development timestamping authority (RFC 3161 over HTTP).", no_args_is_help=True)
app.add_typer(tsa_app, name="tsa")


@tsa_app.command("serve")
def tsa_serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 3180,
):
    """Serve the development TSA of `keys init-dev` over HTTP, for other tools or machines to test with."""
    from workflow.keys import SigningKeyError, dev_tsa_server

    try:
        server = dev_tsa_server(_settings(), host, port)
    except SigningKeyError as exc:
        err.print(str(exc))
        raise typer.Exit(2) from None
    print(f"development TSA on {server.url} (Ctrl-C stops it)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


review_app = typer.Typer(help="Documents sohoa was not sure of: check, correct, accept or reject them.",
                         no_args_is_help=True)
app.add_typer(review_app, name="review")


@review_app.command("list")
def review_list(as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False):
    """Documents waiting for a clerk, with what sohoa proposes and why it is unsure."""
    from workflow.review import waiting

    for document in waiting(_rooms()):
        if as_json:
            print(json.dumps(document.to_dict(), ensure_ascii=False))
        else:
            print(f"{document.id:>6}  {document.doc_type or '?':<5} {document.source}")
            for reason in document.reasons:
                print(f"        - {reason}")


@review_app.command("accept")
def review_accept(
    review_id: Annotated[int, typer.Argument(help="Id from `sohoa review list`.")],
    doc_type: Annotated[str | None, typer.Option("--type", help="Catalogue type code, if sohoa's is wrong.")] = None,
    field: Annotated[list[str] | None, typer.Option(
        "--field", help="Corrected field, e.g. --field number=125/2020 --field issued_on=2020-04-08.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
):
    """Accept a document with the clerk's corrections: it is then coded, signed and archived."""
    from workflow.contracts import ReviewDecision
    from workflow.review import ReviewError, accept

    fields = {}
    for item in field or []:
        name, sep, value = item.partition("=")
        if not sep or not value.strip():
            err.print(f"[red]--field {item!r}[/]: write name=value")
            raise typer.Exit(2)
        fields[name.strip()] = unicodedata.normalize("NFC", value.strip())
    with _exit_on(ReviewError, 1, "not accepted:"):
        outcome = accept(_rooms(), review_id, ReviewDecision(doc_type, fields))
    if as_json:
        print(outcome.to_json())
    else:
        print(f"{outcome.status} {outcome.code or '-'} {outcome.doc_type.name if outcome.doc_type else '-'} "
              f"{outcome.source}")
    raise typer.Exit(0 if outcome.status == "archived" else 1)


@review_app.command("reject")
def review_reject(
    review_id: Annotated[int, typer.Argument(help="Id from `sohoa review list`.")],
    reason: Annotated[str, typer.Option("--reason", help="Why, for the record (e.g. 'bản sao không rõ').")],
):
    """Reject a document at review. Its original stays in the review folder."""
    from workflow.review import ReviewError, reject

    with _exit_on(ReviewError, 1, "not rejected:"):
        reject(_rooms(), review_id, reason)
    print(f"document {review_id} rejected")


codes_app = typer.Typer(help="Check codes: result codes, result aliases (…-KQ1) and dossier codes.",
                        no_args_is_help=True)
app.add_typer(codes_app, name="codes")


@codes_app.command("parse")
def codes_parse(code: Annotated[str, typer.Argument(help="A code to take apart.")]):
    """Print the segments of a code as JSON, or say precisely what is wrong (exit 2)."""
    from workflow.registry import InvalidCode, code_segments

    with _exit_on(InvalidCode, 2, "invalid:"):
        print(json.dumps(code_segments(code), ensure_ascii=False))


@codes_app.command("validate")
def codes_validate(file: Annotated[Path, typer.Argument(help="A text file with one code per line.")]):
    """Check every code in a file; list the bad ones with the reason. Exit 1 if any is invalid."""
    from workflow.registry import InvalidCode, code_segments

    bad = total = 0
    for number, line in enumerate(file.read_text("utf-8").splitlines(), start=1):
        code = line.strip()
        if not code or code.startswith("#"):
            continue
        total += 1
        try:
            code_segments(code)
        except InvalidCode as exc:
            bad += 1
            print(f"line {number}: {code[:80]}: {exc}")
    print(f"{total - bad} of {total} codes valid")
    raise typer.Exit(1 if bad else 0)


agencies_app = typer.Typer(help="The agency registry (electronic identifiers of agencies).", no_args_is_help=True)
app.add_typer(agencies_app, name="agencies")


@agencies_app.command("import")
def agencies_import(file: Annotated[Path, typer.Argument(help="CSV with columns id,name,level[,parent][,successor].")]):
    """Import an official list of agencies (validated; existing identifiers are updated)."""
    from workflow.registry import RegistryInputError, import_agencies

    rooms = _rooms()
    with _exit_on(RegistryInputError, 2, "not imported:"):
        count = import_agencies(rooms, file.read_text("utf-8"))
    print(f"imported {count} agencies")


@agencies_app.command("list")
def agencies_list(as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False):
    """Every known agency: shipped and imported."""
    from workflow.registry import known_agencies

    for agency in known_agencies(_rooms()):
        if as_json:
            print(json.dumps(agency.__dict__, ensure_ascii=False))
        else:
            print(f"{agency.id:<16} {agency.level:<9} {agency.name}")


registers_app = typer.Typer(help="Issuing registers (sổ đăng ký văn bản đi): numbers and dates for scans whose "
                            "handwritten number cannot be read.", no_args_is_help=True)
app.add_typer(registers_app, name="registers")


@registers_app.command("import")
def registers_import(
    file: Annotated[Path, typer.Argument(help="The register as .csv (UTF-8) or .xlsx, with a header row: "
                                              "Số, ký hiệu; Ngày tháng; Tên loại; Trích yếu; Người ký.")],
    name: Annotated[str | None, typer.Option("--name", help="The register's name (default: the file name).")] = None,
):
    """Import an issuing register; entries already imported (same number and date) are kept as they are."""
    from workflow.registers import RegisterError, import_register

    rooms = _rooms()
    with _exit_on(RegisterError, 2, "not imported:"):
        done = import_register(rooms, file, name)
    print(f"register {done.register}: {done.added} entries added, {done.already_there} already there")


@registers_app.command("list")
def registers_list():
    """The imported registers: entries and the dates they cover."""
    from workflow.registers import registers_summary

    for register, count, first, last in registers_summary(_rooms()):
        print(f"{register:<30} {count:>6} entries  {first} … {last}")


targets_app = typer.Typer(help="Digitization targets and their denominators.", no_args_is_help=True)
app.add_typer(targets_app, name="targets")


@targets_app.command("import")
def targets_import(file: Annotated[Path, typer.Argument(help="CSV with columns agency,year,count.")]):
    """Import how many still-valid results each agency has issued, per year (the targets' denominators)."""
    from workflow.registry import RegistryInputError, import_valid_results

    rooms = _rooms()
    with _exit_on(RegistryInputError, 2, "not imported:"):
        count = import_valid_results(rooms, file.read_text("utf-8"))
    print(f"imported {count} counts")


@app.command()
def report(
    year: Annotated[int | None, typer.Option(help="Year of the targets (default: this year).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    chart: Annotated[Path | None, typer.Option(help="Also draw a bar chart into this PNG file.")] = None,
):
    """Digitization progress per level and agency against the year's targets (Plan 86/KH-UBND)."""
    import datetime as dt

    from workflow.maintenance import draw_targets_chart, targets_report

    figures = targets_report(_rooms(), year or dt.date.today().year)
    if as_json:
        print(json.dumps(figures.to_dict(), ensure_ascii=False))
    else:
        _print_report(figures)
    if chart:
        with _exit_on(RuntimeError, 2, "chart:"):
            draw_targets_chart(figures, chart)
        err.print(f"chart written to {chart}")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def _print_report(figures) -> None:
    from rich.table import Table

    out = Console(width=max(Console().width, 120))
    figures_cols = ("còn hiệu lực", "đã số hóa", "tỷ lệ", "chỉ tiêu", "còn thiếu")
    for title, rows, first in ((f"Tiến độ số hóa theo cấp — năm {figures.year}", figures.levels, ("cấp",)),
                               (f"Tiến độ số hóa theo cơ quan — năm {figures.year}", figures.agencies,
                                ("mã cơ quan", "cơ quan", "cấp"))):
        table = Table(title=title)
        for column in first:
            table.add_column(column, no_wrap=column == "mã cơ quan")
        for column in figures_cols:
            table.add_column(column, justify="right")
        for row in rows:
            style = None if row.meets_target is None else ("green" if row.meets_target else "red")
            numbers = ("—" if row.valid is None else str(row.valid), str(row.digitized), _pct(row.percent),
                       _pct(row.target), "—" if row.gap is None else str(row.gap))
            names = (row.level or "?",) if len(first) == 1 else (row.key, row.name, row.level or "?")
            table.add_row(*names, *numbers, style=style)
        out.print(table)
    if figures.plan_year is None:
        out.print(f"no target is in force in {figures.year} (codes/data/targets.toml)")
    elif figures.plan_year != figures.year:
        out.print(f"targets: the {figures.plan_year} plan, still in force in {figures.year}")
    if figures.unknown_agencies:
        out.print("agencies not in the registry: " + ", ".join(figures.unknown_agencies))


@app.command("list")
def list_inputs(as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False):
    """Every processed input once, whatever its status."""
    from workflow.results import list_inputs

    for listed in list_inputs(_rooms()):
        row = listed.input
        if as_json:
            print(json.dumps(listed.to_dict(), ensure_ascii=False))
        else:
            print(f"{row.status:<12} {row.code or '-':<30} {row.doc_type or '-':<5} {row.source}")


if __name__ == "__main__":
    app()
