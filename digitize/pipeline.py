"""The pipeline: the one place that composes the rooms.

intake → clean-up → OCR (per page, in a process pool) → classification and fields → code (codes/) →
searchable PDF → PAdES signature (signing/) → archive and index (storage/).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytesseract import TesseractError

from codes import (
    CODE_FORMAT_VERSION,
    Agency,
    AgencyRegistry,
    Catalogue,
    DocumentType,
    InvalidCode,
    TargetsReport,
    assign_code,
    compute_targets_report,
    load_agencies,
    load_catalogue,
    load_targets,
    parse_dossier_code,
)
from digitize import ocr
from digitize.classify import classify, combine
from digitize.fields import (
    cross_check_issuer,
    date_line_place,
    extract_holder,
    extract_issue_date,
    extract_issuer,
    extract_number,
    extract_personal_id,
    level_of_issuer,
)
from digitize.intake import RejectedInput, SourceFile, expand_inputs, file_sha256, inspect, text_layer_pages
from digitize.model import CoverSheet, PageText, Understanding
from digitize.pdfa import assemble
from digitize.text import mask_personal_ids, nfc
from digitize.workers import PageOutcome, Prefetched, start_pool, submit_pages
from settings import Settings
from signing import Pkcs11Key, Signer, SigningOptions, VerificationReport, load_key_material, verify_pdf
from storage import Archive, AuditReport, Event, Index, ResultRecord, ResultStore, Retention, audit, open_archive
from storage.results import version_prefix

PIPELINE_VERSION = "0.1.0"
MIN_OCR_CONFIDENCE = 55.0
MIN_FIELD_CONFIDENCE = 0.70  # Tesseract word confidence of a required field; bench/understanding.py: 0 silent errors
log = logging.getLogger("sohoa.pipeline")


@dataclass
class Rooms:
    """The rooms the pipeline composes, opened from the settings."""

    settings: Settings
    catalogue: Catalogue
    index: Index
    archive: Archive
    signer: Signer
    agencies: AgencyRegistry = field(default_factory=lambda: AgencyRegistry([]))
    _text_model: object | None = field(default=None, repr=False)

    @property
    def corrections_path(self) -> Path:
        return self.settings.data_dir / "training" / "corrections.jsonl"

    @property
    def text_model(self):
        """The statistical type model, trained on first use and cached under the data directory."""
        if self._text_model is None:
            from digitize.textmodel import load_or_train

            cache = self.settings.model_cache or self.settings.data_dir / "models"
            self._text_model = load_or_train(self.settings.catalogue, cache, self.corrections_path)
        return self._text_model

    @property
    def trust_roots(self) -> tuple[Path, ...]:
        return self.signer.keys.trust_roots

    def verify(self, pdf: bytes) -> VerificationReport:
        """Every signature of ``pdf`` checked against the configured trust roots and local revocation data."""
        return verify_pdf(pdf, self.trust_roots, crls=self.signer.keys.crls)

    @property
    def store(self) -> ResultStore:
        return ResultStore(self.archive, self.index)


def open_rooms(settings: Settings) -> Rooms:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    signer = open_signer(settings)
    archive = open_archive(
        settings.archive_url, s3_endpoint=settings.s3_endpoint, s3_access_key=settings.s3_access_key,
        s3_secret_key=settings.s3_secret_key, s3_secure=settings.s3_secure, lock_mode=settings.s3_lock_mode,
        permanent_years=settings.permanent_retention_years,
    )
    index = Index(settings.database_url)
    agencies = load_agencies().merged([Agency(**a) for a in index.imported_agencies()])
    return Rooms(settings, load_catalogue(settings.catalogue), index, archive, signer, agencies)


def open_signer(settings: Settings) -> Signer:
    """The signing room as configured: a PKCS#11 token, a PKCS#12 file or the development keys."""
    token = None
    if settings.pkcs11_module:
        if not (settings.pkcs11_token and settings.pkcs11_key_label and settings.pkcs11_pin):
            raise RuntimeError("SOHOA_PKCS11_MODULE needs SOHOA_PKCS11_TOKEN, SOHOA_PKCS11_KEY_LABEL and "
                               "SOHOA_PKCS11_PIN (or SOHOA_PKCS11_PIN_FILE)")
        token = Pkcs11Key(settings.pkcs11_module, settings.pkcs11_token, settings.pkcs11_key_label,
                          settings.pkcs11_pin, settings.pkcs11_cert)
    keys = load_key_material(settings.key_dir, pkcs12_path=settings.signing_key, passphrase=settings.key_passphrase,
                             pkcs11=token, trust_dir=settings.trust_dir,
                             create_dev_keys=settings.dev_keys_on_first_use, agency=settings.agency)
    return Signer(keys, SigningOptions(level=settings.signature_level, tsa_url=settings.tsa_url,
                                       stamp=settings.stamp, public_url=settings.public_url))


def targets_report(rooms: Rooms, year: int) -> TargetsReport:
    """Progress against the digitization targets of ``year``: denominators and counts from the index."""
    end_of_year = dt.datetime(year + 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    return compute_targets_report(year, rooms.index.valid_results(year), rooms.index.digitized_by_issuer(end_of_year),
                                  rooms.agencies, load_targets())


@dataclass
class Renewal:
    code: str
    old_version: int
    new_version: int | None
    reason: str


def renew_timestamps(rooms: Rooms, codes: list[str] | None = None, within_days: int = 365) -> list[Renewal]:
    """Add a fresh document timestamp (PAdES B-LTA) to archived results, each as a new version.

    A result is renewed when it has no document timestamp yet, or when the certificate of its newest one
    expires within ``within_days``.  The earlier version stays untouched (write-once archive).
    """
    now = dt.datetime.now(dt.UTC)
    renewals = []
    records = [rooms.index.get_result(c) for c in codes] if codes else rooms.index.results()
    for record in records:
        if record is None:
            continue
        pdf = rooms.archive.get(record.archive_key)
        report = rooms.verify(pdf)
        if not report.valid:
            renewals.append(Renewal(record.code, record.version, None,
                                    "not renewed: the signatures do not verify: " + "; ".join(report.problems)))
            continue
        stamps = [s for s in report.signatures if s.kind == "document timestamp"]
        if stamps and stamps[-1].certificate_valid_until:
            expires = dt.datetime.fromisoformat(stamps[-1].certificate_valid_until)
            if expires - now > dt.timedelta(days=within_days):
                continue
            reason = f"document timestamp certificate expires on {expires:%Y-%m-%d}"
        else:
            reason = "no document timestamp yet"
        renewed = rooms.signer.add_archive_timestamp(pdf)
        renewals.append(Renewal(record.code, record.version, _store_renewal(rooms, record, renewed, reason), reason))
    return renewals


def _store_renewal(rooms: Rooms, record: ResultRecord, pdf: bytes, reason: str) -> int:
    store = rooms.store
    old = store.metadata(record.code, record.version)
    prefix = version_prefix(record.code, record.version)
    files = {name: rooms.archive.get(f"{prefix}/{name}") for name in old["files"] if name != "document.pdf"}
    files["document.pdf"] = pdf
    keep = {k: v for k, v in old.items() if k not in {"code", "version", "supersedes", "retention", "files", "events"}}
    keep["signature"] = {**old.get("signature", {}), "renewed_at": dt.datetime.now(dt.UTC).replace(microsecond=0)
                         .isoformat(), "level": "B-LTA", "renewal_reason": reason}
    doc_type = rooms.catalogue.get(record.doc_type)
    retention = Retention.from_catalogue(doc_type.retention if doc_type else record.retention)
    event = Event("timestamp_renewal", f"pyHanko {_pyhanko_version()}", "success",
                  f"validation data and a document timestamp added to v{record.version} ({reason})", code=record.code)
    return store.write(record.code, files, keep, retention, [event]).version


def audit_archive(rooms: Rooms, sample: int | None = None, repair: bool = False) -> AuditReport:
    """Fixity audit: storage re-reads and re-hashes, signing re-verifies each signed PDF."""
    def check_document(pdf: bytes) -> list[str]:
        return rooms.verify(pdf).problems

    return audit(rooms.store, check_document, sample=sample, repair=repair, agent=f"sohoa {PIPELINE_VERSION} audit")


@dataclass
class Outcome:
    """What happened to one input document: the ``sohoa process --json`` contract."""

    source: str
    status: str  # archived | needs_review | rejected
    error: str | None = None
    code: str | None = None
    doc_type: dict[str, Any] | None = None
    fields: dict[str, Any] = field(default_factory=lambda: dict.fromkeys(
        ("number", "issued_on", "issuer", "holder")))
    level: str | None = None
    pages: int = 0
    text: str = ""
    sha256: str | None = None
    archive_key: str | None = None
    source_sha256: str | None = None
    evidence: list[str] = field(default_factory=list)
    review_reasons: list[str] = field(default_factory=list)
    dossier_code: str | None = None
    result_alias: str | None = None
    review_decision: bool = False  # archived on a clerk's decision
    seconds: float = 0.0

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False)


@dataclass(frozen=True)
class ReviewDecision:
    """A clerk's answer to a document waiting for review: the type and any corrected fields."""

    doc_type: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


class ReviewError(Exception):
    """A review command cannot be carried out; the message says why."""


@dataclass
class _Pending:
    path: Path
    started: float
    source: SourceFile | None = None
    outcomes: list[Outcome] = field(default_factory=list)  # decided before any page work (rejected, duplicate)
    futures: list[Future] = field(default_factory=list)
    work_dir: Path | None = None


class Pipeline:
    """Processes documents one after another while their pages are OCRed in parallel."""

    def __init__(self, rooms: Rooms, workers: int = 1, allow_duplicate: bool = False, dossier: str | None = None,
                 split_blank: bool = False, pool: ProcessPoolExecutor | None = None):
        self.rooms = rooms
        self.pool = pool  # page workers started by the caller (``digitize.workers.start_pool``), else our own
        self.split_blank = split_blank
        self.workers = max(1, workers)
        self.allow_duplicate = allow_duplicate
        # A dossier code from outside is validated before any work starts (raises codes.InvalidCode), and
        # so is the OCR engine (ValueError).
        self.dossier = str(parse_dossier_code(dossier)) if dossier else None
        ocr.engine()
        self._decision: ReviewDecision | None = None
        self._source_label: str | None = None
        self.stop_requested = False  # set (e.g. on Ctrl-C): finish the documents in flight, start no more
        self.skip: Callable[[Path], str | None] | None = None  # a reason to skip an input, or None
        self._prefetched: dict[Path, Prefetched] = {}

    def accept_review(self, input_id: int, decision: ReviewDecision) -> Outcome:
        """Archive a document that waited for review, with the clerk's type and fields.

        The correction is kept as training data for the text model.
        """
        row = self.rooms.index.get_input(input_id)
        if row is None or row.status != "needs_review":
            raise ReviewError(f"no document with id {input_id} is waiting for review")
        if decision.doc_type and self.rooms.catalogue.get(decision.doc_type) is None:
            raise ReviewError(f"{decision.doc_type} is not a type of the catalogue")
        unknown = set(decision.fields) - {"number", "issued_on", "issuer", "holder", "holder_id"}
        if unknown:
            raise ReviewError(f"unknown field(s): {', '.join(sorted(unknown))}")
        if decision.fields.get("issued_on"):
            try:
                dt.date.fromisoformat(decision.fields["issued_on"])
            except ValueError:
                raise ReviewError("issued_on must be a date YYYY-MM-DD") from None
        folder = Path((row.review or {}).get("folder", ""))
        originals = sorted(folder.glob("original.*")) if folder.is_dir() else []
        if not originals:
            raise ReviewError(f"the original of document {input_id} is missing from {folder}")
        proposal_path = folder / "proposal.json"
        proposal = json.loads(proposal_path.read_text("utf-8")) if proposal_path.exists() else {}
        # The dossier the document was scanned for stays with it through review.
        self._decision, self._source_label = decision, row.source
        dossier, self.dossier = self.dossier, self.dossier or proposal.get("dossier_code")
        try:
            outcome = next(self.process([originals[0]]))
        finally:
            self._decision = self._source_label = None
            self.dossier = dossier
        if outcome.status == "archived":
            self._keep_correction(outcome)
        return outcome

    def reject_review(self, input_id: int, reason: str) -> None:
        """Refuse a document at review; its original stays in the review folder."""
        row = self.rooms.index.get_input(input_id)
        if row is None or row.status != "needs_review":
            raise ReviewError(f"no document with id {input_id} is waiting for review")
        if not reason.strip():
            raise ReviewError("say why the document is rejected")
        self.rooms.index.record_input(row.source, row.source_sha256, "rejected",
                                      error=f"rejected at review: {reason.strip()}", doc_type=row.doc_type,
                                      review=row.review)

    def _keep_correction(self, outcome: Outcome) -> None:
        path = self.rooms.corrections_path
        path.parent.mkdir(parents=True, exist_ok=True)
        entry = {"doc_type": outcome.doc_type["code"], "fields": outcome.fields, "text": outcome.text,
                 "code": outcome.code, "at": dt.datetime.now(dt.UTC).isoformat()}
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def process(self, paths: Iterable[Path], prefetched: dict[Path, Prefetched] | None = None) -> Iterator[Outcome]:
        """Yield one ``Outcome`` per document, in input order (a stack split by cover sheets gives several).

        ``prefetched``: pages of the first inputs already submitted to ``self.pool`` (``workers.prefetch``);
        each entry is taken out when its input comes up, and used if the input passes the checks.
        """
        tmp_root = self.rooms.settings.data_dir / "tmp"
        tmp_root.mkdir(parents=True, exist_ok=True)
        window = 2 * self.workers
        self._prefetched = prefetched if prefetched is not None else {}
        with contextlib.nullcontext(self.pool) if self.pool else start_pool(self.workers) as pool, \
                contextlib.ExitStack() as cleanup:
            cleanup.callback(self._discard_prefetched)
            pending: deque[_Pending] = deque()
            inputs = iter(expand_inputs(paths))
            exhausted = False

            def top_up() -> None:
                """Look ahead by at most `window` pages in flight and 2 × window documents queued."""
                nonlocal exhausted
                in_flight = sum(1 for p in pending for f in p.futures if not f.done())
                while (not exhausted and in_flight < window and len(pending) < 2 * window
                       and not self.stop_requested):
                    path = next(inputs, None)
                    if path is None:
                        exhausted = True
                        break
                    item = self._prepare(path, pool, tmp_root)
                    pending.append(item)
                    in_flight += len(item.futures)

            while True:
                top_up()
                if not pending:
                    return
                # Documents finish in input order, but the workers are fed as soon as any page is done: a
                # long page at the head of the queue must not leave the other workers without pages.
                head = pending[0]
                while not self.stop_requested and not all(f.done() for f in head.futures):
                    wait([f for p in pending for f in p.futures if not f.done()], return_when=FIRST_COMPLETED)
                    top_up()
                item = pending.popleft()
                if self.stop_requested and not any(f.running() or f.done() for f in item.futures):
                    self._discard(item)  # not started: a rerun will do it
                    continue
                yield from self._finish(item)

    def _prepare(self, path: Path, pool: ProcessPoolExecutor, tmp_root: Path) -> _Pending:
        item = _Pending(path, time.perf_counter())
        early = self._prefetched.pop(path, None)
        reason = self.skip(path) if self.skip else None
        if reason:
            if early:
                early.discard()
            item.outcomes = [Outcome(str(path), "skipped", error=reason)]
            return item
        try:
            sha = early.source.sha256 if early else file_sha256(path) if path.is_file() else None
            if sha and not self.allow_duplicate:
                existing = self.rooms.index.results_for_source(sha)
                if existing:
                    if early:
                        early.discard()  # OCRed before the index was open: the work is dropped, not archived
                    item.outcomes = self._already_archived(path, existing)
                    return item
            item.source = early.source if early else inspect(path, sha)
        except RejectedInput as exc:
            item.outcomes = [Outcome(str(path), "rejected", error=str(exc))]
            return item
        if early:
            item.work_dir, item.futures = early.work_dir, early.futures
            return item
        if item.source.kind == "pdf" and item.source.text_layer:
            return item  # born-digital: read in _finish, no OCR
        item.work_dir = Path(tempfile.mkdtemp(prefix="doc-", dir=tmp_root))
        item.futures = submit_pages(pool, item.source, item.work_dir, self.split_blank)
        return item

    def _discard_prefetched(self) -> None:
        """Pages submitted early for inputs never reached (a stop was requested, or an error ended the run)."""
        for early in self._prefetched.values():
            early.discard()
        self._prefetched.clear()

    def _discard(self, item: _Pending) -> None:
        for future in item.futures:
            future.cancel()
        if item.work_dir:
            shutil.rmtree(item.work_dir, ignore_errors=True)

    def _already_archived(self, path: Path, existing: list[ResultRecord]) -> list[Outcome]:
        outcomes = []
        metas = {r.code: json.loads(self.rooms.archive.get(_key(r.code, r.version, "metadata.json"))) for r in existing}
        existing = sorted(existing, key=lambda r: metas[r.code].get("source_pages", [0])[0])  # order in the stack
        for number, record in enumerate(existing, start=1):
            meta = metas[record.code]
            text = self.rooms.archive.get(_key(record.code, record.version, "text.txt")).decode()
            first_label = self.rooms.index.input_source_for_code(record.code) or ""
            part = first_label.rsplit("#", 1)[1] if "#" in first_label else str(number)
            label = str(path) if len(existing) == 1 and "#" not in first_label else f"{path}#{part}"
            self.rooms.index.record_input(label, record.source_sha256, "archived", code=record.code,
                                          doc_type=record.doc_type)
            outcomes.append(Outcome(
                label, "archived", code=record.code, doc_type=meta["doc_type"], fields=meta["fields"],
                level=record.level, pages=record.pages, text=text, sha256=record.sha256,
                archive_key=record.archive_key, source_sha256=record.source_sha256,
                dossier_code=record.dossier_code, result_alias=record.result_alias,
                evidence=[f"already archived as {record.code}: not archived twice"],
            ))
        return outcomes

    def _rejected(self, label: str, item: _Pending, error: str) -> Outcome:
        sha = item.source.sha256 if item.source else (file_sha256(item.path) if item.path.is_file() else "-")
        self.rooms.index.record_input(label, sha, "rejected", error=error)
        return Outcome(label, "rejected", error=error, source_sha256=sha)

    def _finish(self, item: _Pending) -> list[Outcome]:
        try:
            if item.outcomes:
                outcomes = item.outcomes
                if outcomes[0].status == "rejected":
                    outcomes = [self._rejected(outcomes[0].source, item, outcomes[0].error)]
            else:
                outcomes = self._documents(item)
        except RejectedInput as exc:
            outcomes = [self._rejected(self._source_label or str(item.path), item, str(exc))]
        except TesseractError as exc:
            outcomes = [self._rejected(str(item.path), item, f"OCR failed on this file: {exc.message}")]
        finally:
            for future in item.futures:
                future.cancel()
            if item.work_dir:
                shutil.rmtree(item.work_dir, ignore_errors=True)
        for outcome in outcomes:
            outcome.seconds = round((time.perf_counter() - item.started) / len(outcomes), 3)
            log.info("%s %s %s", outcome.status, outcome.code or "-", mask_personal_ids(outcome.error or ""))
        return outcomes

    def _documents(self, item: _Pending) -> list[Outcome]:
        """The documents of one input: the whole file, or the parts between separator pages."""
        if not item.futures:  # born-digital PDF: one document, no OCR
            return [self._store_document(item, self._source_label or str(item.path), [],
                                         text_layer_pages(item.source.path), None)]
        results: list[PageOutcome] = [f.result() for f in item.futures]
        groups: list[tuple[CoverSheet | None, list[PageOutcome]]] = [(None, [])]
        for result in results:
            if result.cover is not None:
                groups.append((result.cover, []))
            elif result.blank_separator:  # the next result of the same dossier: dossier kept, type not
                current = groups[-1][0]
                groups.append((CoverSheet(current.dossier_code) if current else None, []))
            else:
                groups[-1][1].append(result)
        groups = [(cover, pages) for cover, pages in groups if pages]
        if not groups:
            raise RejectedInput("only separator pages (cover sheets or blank pages): no document to archive")
        split = len(results) != sum(len(pages) for _cover, pages in groups)
        outcomes = []
        for number, (cover, group) in enumerate(groups, start=1):
            label = f"{item.path}#{number}" if split else (self._source_label or str(item.path))
            try:
                outcomes.append(self._store_document(item, label, group, [r.page for r in group], cover,
                                                     split=split))
            except RejectedInput as exc:
                outcomes.append(self._rejected(label, item, str(exc)))
        return outcomes

    def _store_document(self, item: _Pending, label: str, results: list[PageOutcome], pages: list[PageText],
                        cover: CoverSheet | None, split: bool = False) -> Outcome:
        source = item.source
        text = nfc("\n\n".join(p.text for p in pages))
        if not text.strip():
            raise RejectedInput("no readable text: the page is blank or not a document")
        understanding = self.understand(pages)
        if self._decision is not None:
            understanding = self._apply_decision(understanding, self._decision)
        if cover is not None:
            understanding = self._apply_cover(understanding, cover)
        dossier = cover.dossier_code if cover else self.dossier
        cls = understanding.classification
        outcome = Outcome(
            label, "archived", pages=len(pages), text=text, source_sha256=source.sha256,
            doc_type={"code": cls.type_code, "name": cls.type_name, "confidence": cls.confidence},
            fields={**understanding.fields_dict(), "holder_id": extract_personal_id(pages).value,
                    "issuer_agency": understanding.issuer_agency},
            review_decision=self._decision is not None,
            level=understanding.level, evidence=list(cls.evidence),
            review_reasons=list(understanding.review_reasons), dossier_code=dossier,
        )
        if self._decision is not None and self._decision.fields.get("holder_id"):
            outcome.fields["holder_id"] = self._decision.fields["holder_id"]
        pdf: Path | None = None
        # A document that goes to review unsplit is kept as its original file: joining its pages would be wasted.
        if results and not source.signed and (split or not understanding.review_reasons):
            pdf_path = item.work_dir / f"document-{label.rsplit('#', 1)[-1] if split else 1}.pdf"
            doc_type = self.rooms.catalogue.get(cls.type_code) if cls.type_code else None
            assemble([r.pdf_path for r in results], pdf_path, {
                "Title": doc_type.name if doc_type else "sohoa", "Producer": f"sohoa {PIPELINE_VERSION}",
                "Creator": f"sohoa (Tesseract {ocr.tesseract_version()})",
            })
            pdf = pdf_path
        if understanding.review_reasons:
            outcome.status = "needs_review"
            # A part of a split stack keeps its own pages (searchable PDF) as the original to review.
            self._keep_for_review(source, outcome, pdf if split else None, label)
            return outcome
        doc_type = self.rooms.catalogue.get(cls.type_code)
        assert doc_type is not None
        if pdf is None:
            # Born-digital or already signed: keep the issuer's bytes, sign incrementally.
            pdf = source.path
        pages_of_source = [r.page.index + 1 for r in results] if split else None
        self._archive(source, doc_type, pdf, outcome, ocr_used=bool(results), dossier=dossier,
                      source_pages=pages_of_source)
        return outcome

    def _apply_cover(self, understanding: Understanding, cover: CoverSheet) -> Understanding:
        """What the clerk's cover sheet says: the dossier, and the type unless the page clearly says otherwise."""
        from dataclasses import replace

        from digitize.model import Classification

        reasons = list(understanding.review_reasons)
        try:
            parse_dossier_code(cover.dossier_code)
        except InvalidCode as exc:
            reasons.append(f"cover sheet dossier code is invalid: {exc}")
        cls = understanding.classification
        if cover.doc_type:
            doc_type = self.rooms.catalogue.get(cover.doc_type)
            if doc_type is None:
                reasons.append(f"cover sheet names an unknown type {cover.doc_type}")
            elif cls.type_code not in (None, doc_type.code) and cls.confidence >= 0.9:
                reasons.append(f"cover sheet says {doc_type.name} but the page looks like {cls.type_name}")
            else:
                reasons = [r for r in reasons if not r.startswith(("document type", "document type uncertain"))]
                cls = Classification(doc_type.code, doc_type.name, max(cls.confidence, 0.95),
                                     (*cls.evidence, f"cover sheet: {doc_type.name}"))
        return replace(understanding, classification=cls, review_reasons=tuple(reasons))

    def _apply_decision(self, understanding: Understanding, decision: ReviewDecision) -> Understanding:
        """The clerk's word replaces what was proposed; what the clerk confirmed needs no more review."""
        from dataclasses import replace

        from digitize.model import Classification, FieldValue

        cls = understanding.classification
        if decision.doc_type:
            doc_type = self.rooms.catalogue.get(decision.doc_type)
            cls = Classification(doc_type.code, doc_type.name, 1.0, (*cls.evidence, "type confirmed by a clerk"))
        elif cls.type_code is None:
            raise ReviewError("the type was not recognized: give it with --type")
        else:
            cls = Classification(cls.type_code, cls.type_name, 1.0, (*cls.evidence, "type confirmed by a clerk"))
        changes = {name: FieldValue(value, 1.0, "entered by a clerk") for name, value in decision.fields.items()
                   if name in {"number", "issued_on", "issuer", "holder"}}
        doc_type = self.rooms.catalogue.get(cls.type_code)
        merged = replace(understanding, classification=cls, review_reasons=(), **changes)
        missing = [name for name in doc_type.required if not getattr(merged, name).value]
        if missing:
            raise ReviewError(f"still missing: {', '.join(missing)}: give them with --field name=value")
        return merged

    def understand(self, pages: list[PageText]) -> Understanding:
        """Classify, extract fields and level, and list what a clerk must check."""
        rules = classify(pages, self.rooms.catalogue)
        text = "\n".join(p.text for p in pages)
        classification = combine(rules, self.rooms.text_model.predict(text), self.rooms.catalogue)
        doc_type = self.rooms.catalogue.get(classification.type_code) if classification.type_code else None
        issuer = cross_check_issuer(extract_issuer(pages), date_line_place(pages))
        number = extract_number(pages, doc_type, issuer.value)
        issued_on = extract_issue_date(pages)
        holder = extract_holder(pages, doc_type)
        issuing_agency = self.rooms.agencies.match_issuer(issuer.value)
        reasons = []
        if doc_type is None:
            reasons.append("document type not recognized: " + "; ".join(classification.evidence))
        elif classification.confidence < self.rooms.settings.review_threshold:
            reasons.append(f"document type uncertain ({classification.confidence:.2f}): "
                           + "; ".join(classification.evidence))
        if doc_type is not None:
            values = {"number": number, "issued_on": issued_on, "issuer": issuer, "holder": holder}
            for name in doc_type.required:
                if not values[name].value:
                    reasons.append(f"{name} not found")
                elif values[name].confidence < MIN_FIELD_CONFIDENCE:
                    note = f" ({values[name].note})" if values[name].note else ""
                    reasons.append(f"{name} read uncertainly ({values[name].confidence:.2f}): check it{note}")
        if issuer.note and (doc_type is None or "issuer" not in doc_type.required):
            # Not a required field, but two readings of it disagree: the level and agency follow from it.
            reasons.append(f"issuer read uncertainly ({issuer.confidence:.2f}): check it ({issuer.note})")
        ocr_pages = [p for p in pages if p.source == "ocr"]
        if ocr_pages:
            mean = sum(p.mean_confidence for p in ocr_pages) / len(ocr_pages)
            if mean < MIN_OCR_CONFIDENCE:
                reasons.append(f"text hard to read (OCR confidence {mean:.0f}/100): check or rescan")
        level = level_of_issuer(issuer.value) or (issuing_agency.level if issuing_agency else None)
        if doc_type is not None and level is None:
            # The level files the result under a target; a header read without its unit is read wrongly.
            reasons.append(f"issuing level unknown: the header reads {issuer.value or 'nothing'!r}, with no province, "
                           "district, commune or ministry: check the issuer")
        return Understanding(classification, number, issued_on, issuer, holder, level, tuple(reasons),
                             issuing_agency.id if issuing_agency else None)

    def _keep_for_review(self, source: SourceFile, outcome: Outcome, own_pages: Path | None = None,
                         label: str | None = None) -> None:
        """Keep the original and the proposal so a clerk can accept or correct it later."""
        suffix = f"-{label.rsplit('#', 1)[1]}" if own_pages is not None and label and "#" in label else ""
        folder = self.rooms.settings.review_dir / f"{source.sha256}{suffix}"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / ("original.pdf" if own_pages is not None else f"original{source.suffix}")
        if not target.exists():
            shutil.copyfile(own_pages or source.path, target)
        proposal = {k: v for k, v in outcome.__dict__.items() if k != "seconds"}
        (folder / "proposal.json").write_text(json.dumps(proposal, ensure_ascii=False, indent=2), "utf-8")
        self.rooms.index.record_input(outcome.source, source.sha256, "needs_review",
                                      doc_type=(outcome.doc_type or {}).get("code"),
                                      review={"reasons": outcome.review_reasons, "folder": str(folder)})

    def _archive(self, source: SourceFile, doc_type: DocumentType, pdf: Path, outcome: Outcome,
                 ocr_used: bool, dossier: str | None = None, source_pages: list[int] | None = None) -> None:
        settings, index = self.rooms.settings, self.rooms.index
        today = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=7))).date()
        code = str(assign_code(settings.agency, doc_type.code, today, index))
        engine = ocr.description() if ocr_used else "pdfplumber (PDF text layer)"
        events = [
            Event("ingestion", f"sohoa {PIPELINE_VERSION}", "success", f"{source.kind}, {outcome.pages} pages, "
                  f"source sha256 {source.sha256}", code=code),
            Event("ocr" if ocr_used else "text_extraction", engine, "success", f"{len(outcome.text)} characters",
                  code=code),
            Event("classification", f"sohoa {PIPELINE_VERSION} rules", "success",
                  f"{doc_type.code} ({outcome.doc_type['confidence']:.2f}): " + "; ".join(outcome.evidence),
                  code=code),
            Event("code_assignment", f"sohoa codes format {CODE_FORMAT_VERSION}", "success", code, code=code),
        ]
        reason = f"Bản số hóa từ bản chính - mã {code}"
        signer = self.rooms.signer
        agency = self.rooms.agencies.get(settings.agency)
        # Signed file to file, then archived from the file: a long document never sits whole in memory.
        (settings.data_dir / "tmp").mkdir(parents=True, exist_ok=True)
        fd, signed_name = tempfile.mkstemp(dir=settings.data_dir / "tmp", prefix="signed-", suffix=".pdf")
        os.close(fd)
        signed = Path(signed_name)
        try:
            signer.sign_file(pdf, signed, reason=reason, location=settings.agency, code=code,
                             agency_name=agency.name if agency else settings.agency)
            self._store_signed(source, doc_type, signed, outcome, code, events, ocr_used, dossier, source_pages)
        finally:
            signed.unlink(missing_ok=True)

    def _store_signed(self, source: SourceFile, doc_type: DocumentType, signed: Path, outcome: Outcome, code: str,
                      events: list[Event], ocr_used: bool, dossier: str | None,
                      source_pages: list[int] | None) -> None:
        settings, index, signer = self.rooms.settings, self.rooms.index, self.rooms.signer
        events.append(Event("signing", f"pyHanko {_pyhanko_version()}", "success",
                            f"PAdES {signer.level} by {signer.subject}", code=code))
        metadata = {
            "agency": settings.agency, "doc_type": outcome.doc_type, "fields": outcome.fields,
            "level": outcome.level, "pages": outcome.pages,
            "source": {"name": source.path.name, "sha256": source.sha256, "kind": source.kind},
            "ocr": {"engine": "tesseract", "version": ocr.tesseract_version(), "lang": ocr.LANG,
                    "binding": "tesserocr" if ocr.engine() == "tesserocr" else "pytesseract"} if ocr_used
            else {"engine": "pdf text layer"},
            "pipeline_version": PIPELINE_VERSION, "signer": signer.subject,
            "signature": {"level": signer.level, "signer": signer.subject, "development_key": signer.development,
                          "timestamp_authority": settings.tsa_url if signer.level != "B-B" else None},
            "evidence": outcome.evidence,
            "created_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        }
        if source.signed:
            metadata["signed_input"] = ("the input was already signed: kept byte for byte with sohoa's signature "
                                        "appended; its text is in text.txt, not in the PDF")
        if source_pages:
            metadata["source_pages"] = source_pages  # this document's pages in the scanned stack
        if dossier:
            metadata["dossier_code"] = dossier
            metadata["result_alias"] = f"{dossier}-KQ{index.count_in_dossier(dossier) + 1}"
            outcome.dossier_code, outcome.result_alias = dossier, metadata["result_alias"]
        files = {"document.pdf": signed, f"original{source.suffix}": source.path,
                 "text.txt": outcome.text.encode("utf-8")}
        record = self.rooms.store.write(code, files, metadata, Retention.from_catalogue(doc_type.retention), events)
        index.record_input(outcome.source, source.sha256, "archived", code=code, doc_type=doc_type.code)
        outcome.code, outcome.sha256, outcome.archive_key = code, record.sha256, record.archive_key


def _pyhanko_version() -> str:
    from importlib.metadata import version

    return version("pyhanko")


def _key(code: str, version: int, name: str) -> str:
    return f"{version_prefix(code, version)}/{name}"
