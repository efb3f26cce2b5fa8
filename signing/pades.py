"""PAdES signing (B-B, B-T, B-LT, B-LTA; ETSI.CAdES.detached, SHA-256) and verification, on pyHanko.

Every signature is added as an incremental update: the bytes that were there before (a born-digital
result signed by its issuer, say) are kept exactly, so earlier signatures stay valid.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO

from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.keys import load_cert_from_pemder, load_certs_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.general import get_pyca_cryptography_hash
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.policy_decl import DisallowWeakAlgorithmsPolicy
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.keys import DEV_MARKER, KeyMaterial, SigningKeyError
from signing.stamp import Placement, place_stamp, place_top_left, place_top_right, stamp_style, validate_position
from signing.tsa import timestamper_for

# pyHanko warns on every B-LT signature that fetching is off; for the development PKI that is the point.
logging.getLogger("pyhanko.sign.signers.pdf_signer").addFilter(
    lambda record: "fetching is not allowed" not in record.getMessage())
FIELD_PREFIX = "SohoaDigitization"
LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")


@dataclass(frozen=True)
class SigningOptions:
    """How to sign: PAdES level (default B-T with a TSA, else B-B), TSA, stamp placement, QR link."""

    level: str | None = None
    tsa_url: str | None = None  # http(s)://… or "dev" (the development TSA of `keys init-dev`)
    stamp: str = "bottom-right"  # off, a corner, or x1,y1,x2,y2 in points
    public_url: str | None = None  # base URL of the HTTP API; the QR code then links to the verification
    fetch_revocation: bool = True  # fetch OCSP/CRL over the network for B-LT (real PKI); dev CRL is local

    def resolved_level(self) -> str:
        level = (self.level or ("B-T" if self.tsa_url else "B-B")).upper()
        if level not in LEVELS:
            raise SigningKeyError(f"signature level must be one of {', '.join(LEVELS)}, not {self.level!r}")
        if level != "B-B" and not self.tsa_url:
            raise SigningKeyError(f"PAdES {level} needs a timestamping authority: set SOHOA_TSA_URL")
        return level


def _load_crls(paths: tuple[Path, ...]) -> list[asn1_crl.CertificateList]:
    return [asn1_crl.CertificateList.load(p.read_bytes()) for p in paths if p.exists()]


def _load_roots(paths) -> list:
    return list(load_certs_from_pemder([str(p) for p in paths]))


class _KeptKeySigner(signers.SimpleSigner):
    """A PKCS#12 signer that keeps the private key that cryptography parsed when the file was opened.

    pyHanko's own signer hands the key over as DER and parses it again at every signature (35 ms each);
    parsing it once more at the first one, as before, cost 60 ms a run.
    """

    def __init__(self, pkcs12_path: Path, passphrase: bytes | None):
        try:
            key, cert, others = pkcs12.load_key_and_certificates(pkcs12_path.read_bytes(), passphrase)
        except OSError as exc:
            raise SigningKeyError(f"cannot read the signing key {pkcs12_path}: {exc.strerror}") from None
        except ValueError:
            key = cert = None
        if key is None or cert is None:
            raise SigningKeyError(f"cannot open the signing key {pkcs12_path}: wrong passphrase?")
        self._key = key
        der_key = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        chain = [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in others]
        super().__init__(signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
                         signing_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
                         cert_registry=SimpleCertificateStore.from_certs(chain))

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        if mechanism.signature_algo != "rsassa_pkcs1v15":
            return super().sign_raw(data, digest_algorithm)
        return self._key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))


class SigningInputError(ValueError):
    """A PDF that cannot be signed as it is (malformed structure); the message says why."""


class Signer:
    """Signs PDFs with the digitizing agency's key; one instance opens the key (file or token) once."""

    def __init__(self, keys: KeyMaterial, options: SigningOptions | None = None, token_session=None):
        """``token_session``: an open session of another ``Signer`` on the same token (``token_session``
        property), whose login this one shares: a token takes one login per process."""
        self.keys = keys
        self.options = options or SigningOptions()
        self.level = self.options.resolved_level()
        validate_position(self.options.stamp)
        self._session = None
        self._shared_session = token_session
        if keys.pkcs11 is not None:
            self._signer = self._open_token()
        else:
            self._signer = _KeptKeySigner(Path(keys.pkcs12_path), keys.passphrase)
        self.timestamper = timestamper_for(self.options.tsa_url, keys.dev_tsa_path, keys.passphrase)
        self._roots = _load_roots(keys.trust_roots)
        self._crls = _load_crls(keys.crls)

    def _open_token(self):
        from pyhanko.config.pkcs11 import TokenCriteria
        from pyhanko.sign import pkcs11

        token = self.keys.pkcs11
        if self._shared_session is not None:
            cert = load_cert_from_pemder(str(token.cert_path)) if token.cert_path else None
            try:
                return pkcs11.PKCS11Signer(self._shared_session, key_label=token.key_label, signing_cert=cert,
                                           cert_label=None if cert else token.key_label)
            except Exception as exc:
                raise SigningKeyError(f"no key {token.key_label!r} on token {token.token_label!r}: {exc}") from exc
        try:
            self._session = pkcs11.open_pkcs11_session(
                str(token.module), token_criteria=TokenCriteria(label=token.token_label), user_pin=token.pin)
        except Exception as exc:
            raise SigningKeyError(f"cannot open PKCS#11 token {token.token_label!r} with {token.module}: {exc}") \
                from exc
        cert = load_cert_from_pemder(str(token.cert_path)) if token.cert_path else None
        return pkcs11.PKCS11Signer(self._session, key_label=token.key_label, signing_cert=cert,
                                   cert_label=None if cert else token.key_label)

    @property
    def token_session(self):
        """The open PKCS#11 session of this signer's token (None for a key file)."""
        return self._session or self._shared_session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    @property
    def subject(self) -> str:
        return self._signer.signing_cert.subject.human_friendly

    @property
    def common_name(self) -> str:
        return self._signer.signing_cert.subject.native.get("common_name", self.subject)

    @property
    def development(self) -> bool:
        return self.keys.development or DEV_MARKER in self.subject

    def validation_context(self, for_signing: bool = True) -> ValidationContext:
        """Trust roots, the local CRLs, and (for real PKI) network revocation fetching, for B-LT and B-LTA."""
        fetch = self.options.fetch_revocation and not self.keys.development
        return ValidationContext(trust_roots=self._roots, crls=self._crls, allow_fetching=fetch,
                                 revocation_mode="hard-fail" if for_signing else "soft-fail")

    def sign(self, pdf: bytes, reason: str, location: str, code: str | None = None,
             agency_name: str | None = None) -> bytes:
        """Return ``pdf`` with a PAdES signature of the configured level added as an incremental update."""
        out = io.BytesIO()
        self._sign(io.BytesIO(pdf), out, pdf, reason, location, code, agency_name)
        return out.getvalue()

    def check_signable(self, source: Path) -> None:
        """Raise ``SigningInputError`` if pyHanko cannot take ``source`` for an incremental signature.

        Cheap (the cross-reference and trailer are read): callers check before they give the result a code,
        so a file that cannot be signed burns no code.
        """
        try:
            with source.open("rb") as inp:
                IncrementalPdfFileWriter(inp, strict=False)
        except Exception as exc:  # pyHanko raises several error types on malformed PDFs
            raise SigningInputError(f"the PDF cannot be signed: {' '.join(str(exc).split())[:300]}") from None

    def sign_file(self, source: Path, target: Path, reason: str, location: str, code: str | None = None,
                  agency_name: str | None = None, *, officer: str | None = None, qr: str | None = None,
                  position: str | None = None) -> Placement | None:
        """Write ``source`` with a PAdES signature added to ``target``, streaming: neither is held in memory.

        The original bytes are copied in chunks, then the signature is added as an incremental update.
        ``target`` is not flushed to disk: the caller stores it durably (the archive syncs its own copy).
        ``officer``: this is the digitizing officer's signature (Circular 01/2023): its stamp, with the
        officer's name and the time, goes in the top-left corner, never over text.  ``qr``: what the stamp's
        QR code holds (default: the code, or the verification URL).  ``position``: the stamp's corner, instead
        of the configured one.  Returns where the stamp went (None without a stamp).
        """
        with source.open("rb") as inp, target.open("w+b") as out:  # pyHanko reads the output back to digest it
            return self._sign(inp, out, source, reason, location, code, agency_name, officer, qr, position)

    def _sign(self, inp: BinaryIO, out: BinaryIO, pdf: bytes | Path, reason: str, location: str,
              code: str | None, agency_name: str | None, officer: str | None = None, qr: str | None = None,
              position: str | None = None) -> Placement | None:
        writer = IncrementalPdfFileWriter(inp, strict=False)
        existing = len(writer.prev.embedded_signatures)
        field_name = f"{FIELD_PREFIX}{existing + 1}"
        long_term = self.level in ("B-LT", "B-LTA")
        meta = signers.PdfSignatureMetadata(
            field_name=field_name, subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256",
            reason=reason, location=location,
            embed_validation_info=long_term, use_pades_lta=self.level == "B-LTA",
            validation_context=self.validation_context() if long_term else None,
        )
        stamp, field_spec, params, placement = None, None, None, None
        if (self.options.stamp != "off" or officer) and code:
            if officer:
                placement = place_top_left(pdf)
            elif position == "top-right":
                placement = place_top_right(pdf)
            else:
                placement = place_stamp(pdf, position or self.options.stamp)
            field_spec = fields.SigFieldSpec(field_name, on_page=0, box=placement.box)
            stamp = stamp_style(self.development, officer=officer is not None,
                                qr_above_text=placement.qr_above_text)
            params = {"url": qr or self.qr_content(code), "code": code,
                      "agency": unicodedata.normalize("NFC", agency_name or location)}
            if officer:
                params["officer"] = unicodedata.normalize("NFC", officer)
        pdf_signer = signers.PdfSigner(meta, signer=self._signer,
                                       timestamper=self.timestamper if self.level != "B-B" else None,
                                       stamp_style=stamp, new_field_spec=field_spec)
        # A fixed reservation spares pyHanko a dry-run signature to estimate the size.
        reserved = 16384 if self.level == "B-B" else 32768
        pdf_signer.sign_pdf(writer, output=out, appearance_text_params=params, bytes_reserved=reserved)
        return placement

    def qr_content(self, code: str) -> str:
        """What the stamp's QR code holds: the verification URL when the API is configured, else the code."""
        if self.options.public_url:
            return f"{self.options.public_url.rstrip('/')}/v1/results/{code}/verification"
        return code

    def add_archive_timestamp(self, pdf: bytes) -> bytes:
        """Renew long-term validity: embed validation data for what is in the file and add a document timestamp.

        This is the B-LTA step that ``sohoa resign --lta`` runs before the last timestamp's certificate
        expires; the result is a new revision, the earlier bytes stay as they were.
        """
        if self.timestamper is None:
            raise SigningKeyError("a document timestamp needs a timestamping authority: set SOHOA_TSA_URL")
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        context = self.validation_context()
        has_timestamp = any(s.sig_object_type == "/DocTimeStamp" for s in reader.embedded_signatures)
        ts_signer = signers.PdfTimeStamper(self.timestamper)
        if has_timestamp:
            out = ts_signer.update_archival_timestamp_chain(reader, context, in_place=False)
        else:
            for sig in reader.embedded_signatures:
                from pyhanko.sign.validation import add_validation_info

                pdf = add_validation_info(sig, context, in_place=False).getvalue()
                reader = PdfFileReader(io.BytesIO(pdf), strict=False)
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
            out = ts_signer.timestamp_pdf(writer, "sha256", context)
        return out.getvalue()


@dataclass
class SignatureReport:
    field: str
    kind: str  # "signature" or "document timestamp"
    signer: str
    intact: bool
    valid: bool
    trusted: bool
    covers_whole_document: bool
    signed_at: str | None
    development_ca: bool
    level: str | None = None  # PAdES level this signature reaches in this file
    timestamp: str | None = None  # time of the RFC 3161 signature timestamp, if any
    timestamp_authority: str | None = None
    revocation_info: str | None = None  # what the DSS carries
    later_changes: str = "none"
    certificate_valid_until: str | None = None
    problems: list[str] = field(default_factory=list)
    stamp: str | None = None  # where its visible stamp is on its page: "top-left", "top-right", … (None: invisible)
    policy_note: str | None = None  # an algorithm accepted by a legacy policy, and why


@dataclass
class VerificationReport:
    valid: bool
    signatures: list[SignatureReport]
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


_MODIFICATIONS = {
    "NONE": "none",
    "LTA_UPDATES": "validation data and timestamps only (long-term updates)",
    "FORM_FILLING": "later signatures or form filling only",
    "ANNOTATIONS": "annotations added after signing",
    "OTHER": "content changed after signing",
}


def _trust_problem(status, moment: dt.datetime) -> str:
    """A sentence saying why the signer's certificate is not trusted."""
    cert = status.signing_cert
    indic = getattr(status.trust_problem_indic, "name", str(status.trust_problem_indic or ""))
    not_after = cert["tbs_certificate"]["validity"]["not_after"].native
    not_before = cert["tbs_certificate"]["validity"]["not_before"].native
    if status.revocation_details is not None:
        return f"the signer's certificate was revoked on {status.revocation_details.revocation_date:%Y-%m-%d}"
    if "EXPIRED" in indic or "OUT_OF_BOUNDS" in indic or not_after < moment:
        return f"the signer's certificate expired on {not_after:%Y-%m-%d} (checked at {moment:%Y-%m-%d})"
    if not_before > moment:
        return f"the signer's certificate is not valid before {not_before:%Y-%m-%d}"
    if "NO_CERTIFICATE_CHAIN" in indic or "CHAIN_CONSTRAINTS" in indic or not indic:
        issuer = cert.issuer.human_friendly
        return f"the signer's certificate does not chain to a trusted root (issued by: {issuer})"
    return f"the signer's certificate is not trusted ({indic})"


def verify_pdf(pdf: bytes, trust_roots: list[str] | tuple = (), require_whole_document: bool = True,
               crls: tuple[Path, ...] = (), legacy_sha1_until: dt.date | None = None) -> VerificationReport:
    """Check every signature and document timestamp in ``pdf``.

    For each: integrity, signature value, chain to ``trust_roots`` (using revocation data embedded in the
    DSS when present), the signature timestamp, and which later changes the file has.  The file is valid
    only when every signature is, and the last revision of sohoa's signature is not followed by anything
    but long-term validation data.
    """
    roots = _load_roots(trust_roots)
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = list(reader.embedded_signatures)
        dss = DocumentSecurityStore.read_dss(reader) if "/DSS" in reader.root else None
    except Exception as exc:  # pyHanko raises various types on broken PDFs
        return VerificationReport(False, [], [f"the file cannot be read as a PDF: {exc}"])
    if not embedded:
        return VerificationReport(False, [], ["the PDF carries no signature"])
    revinfo = None
    if dss is not None:
        revinfo = f"{len(dss.crls)} CRL, {len(dss.ocsps)} OCSP response(s), {len(dss.certs)} certificate(s) in DSS"
    now = dt.datetime.now(dt.UTC)
    local_crls = _load_crls(crls)

    def context(moment: dt.datetime | None = None, sha1: bool = False) -> ValidationContext:
        kwargs = {"trust_roots": roots, "allow_fetching": False, "revocation_mode": "soft-fail",
                  "crls": local_crls}
        if moment is not None:
            kwargs |= {"moment": moment, "retroactive_revinfo": True}
        if sha1:  # the legacy policy: SHA-1 accepted (for a signature timestamped before the cut-off)
            kwargs["algorithm_usage_policy"] = DisallowWeakAlgorithmsPolicy(weak_hash_algos=frozenset({"md2", "md5"}))
        return dss.as_validation_context(kwargs) if dss is not None else ValidationContext(**kwargs)

    reports = [_verify_one(sig, context, now, revinfo, legacy_sha1_until) for sig in embedded]
    for sig, report in zip(embedded, reports, strict=True):
        report.stamp = _stamp_corner(reader, sig)
    has_doc_ts = any(r.kind == "document timestamp" for r in reports)
    last = reports[-1]
    if require_whole_document and not last.covers_whole_document:
        last.problems.append("content was added after the last signature")
    for report in reports:
        if report.kind == "signature" and report.timestamp and report.trusted:
            report.level = "B-LTA" if has_doc_ts and revinfo else "B-LT" if revinfo else "B-T"
        elif report.kind == "signature":
            report.level = "B-B"
    ok = all(not r.problems for r in reports)
    return VerificationReport(ok, reports, [f"{r.field}: {p}" for r in reports for p in r.problems])


def _stamp_corner(reader, sig) -> str | None:
    """Which part of page 1 a signature's widget covers ("top-left", "bottom-right", "middle"), or None."""
    try:
        field_dict = sig.sig_field
        widget = field_dict if "/Rect" in field_dict else field_dict["/Kids"][0].get_object()
        x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
        if abs(x2 - x1) < 1 or abs(y2 - y1) < 1:
            return None
        page = reader.root["/Pages"]["/Kids"][0].get_object()
        while "/Kids" in page:
            page = page["/Kids"][0].get_object()
        box = page.get("/MediaBox") or reader.root["/Pages"]["/MediaBox"]
        px1, py1, px2, py2 = (float(v) for v in box)
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    cx, cy = ((x1 + x2) / 2 - px1) / (px2 - px1), ((y1 + y2) / 2 - py1) / (py2 - py1)
    vertical = "top" if cy > 2 / 3 else "bottom" if cy < 1 / 3 else "middle"
    horizontal = "left" if cx < 1 / 2 else "right"
    return f"{vertical}-{horizontal}"


def _weak_algorithm(status) -> bool:
    indic = getattr(status.trust_problem_indic, "name", str(status.trust_problem_indic or ""))
    return "CRYPTO_CONSTRAINTS" in indic


def _verify_one(sig, context, now: dt.datetime, revinfo: str | None,
                legacy_sha1_until: dt.date | None = None) -> SignatureReport:
    timestamp_field = sig.sig_object_type == "/DocTimeStamp"
    kind = "document timestamp" if timestamp_field else "signature"
    try:
        status = validate_pdf_timestamp(sig, context()) if timestamp_field else validate_pdf_signature(sig, context())
    except Exception as exc:
        return SignatureReport(sig.field_name, kind, "?", False, False, False, False, None, False,
                               problems=[f"cannot validate: {exc}"])
    moment = now
    ts_status = None if timestamp_field else status.timestamp_validity
    legacy_note = None
    if not timestamp_field and _weak_algorithm(status) and legacy_sha1_until and ts_status is not None \
            and ts_status.timestamp.date() < legacy_sha1_until:
        # SHA-1 is accepted for a signature a trusted timestamp proves older than the cut-off: validated again
        # under the legacy policy, at the time of its timestamp (the timestamp must be trusted too).
        retry = validate_pdf_signature(sig, context(ts_status.timestamp, sha1=True))
        retry_ts = retry.timestamp_validity
        if retry.trusted and retry_ts is not None and retry_ts.trusted:
            status, ts_status, moment = retry, retry_ts, retry_ts.timestamp
            legacy_note = (f"SHA-1 accepted by the legacy policy: timestamped {ts_status.timestamp:%Y-%m-%d}, "
                           f"before SOHOA_LEGACY_SHA1_UNTIL={legacy_sha1_until:%Y-%m-%d}")
    if not status.trusted and not timestamp_field and ts_status is not None and ts_status.trusted:
        # Long-term validation: the timestamp proves the signature existed then; check the chain at that time.
        retry = validate_pdf_signature(sig, context(ts_status.timestamp))
        if retry.trusted:
            status, moment = retry, ts_status.timestamp
    problems: list[str] = []
    if not status.intact:
        problems.append("the signed content was modified after signing")
    if not status.valid:
        problems.append("the signature value does not match the signer's certificate")
    if not status.trusted and _weak_algorithm(status):
        problems.append("SHA-1 (a weak algorithm) is refused by the algorithm policy"
                        + (f": its timestamp is not before SOHOA_LEGACY_SHA1_UNTIL={legacy_sha1_until:%Y-%m-%d}"
                           if legacy_sha1_until else "; SOHOA_LEGACY_SHA1_UNTIL=YYYY-MM-DD accepts it for "
                           "signatures timestamped before that day"))
    elif not status.trusted:
        problems.append(_trust_problem(status, moment))
    if ts_status is not None and not (ts_status.intact and ts_status.valid):
        problems.append("the signature timestamp is damaged")
    elif ts_status is not None and not ts_status.trusted and not _weak_algorithm(status):
        problems.append("the signature timestamp's authority is not trusted")
    modification = getattr(status.modification_level, "name", "NONE") if status.modification_level else "NONE"
    if status.docmdp_ok is False or modification in ("OTHER", "ANNOTATIONS"):
        problems.append(f"the file was changed after this signature in a way it does not allow ({modification})")
    whole = status.coverage.name == "ENTIRE_FILE" or (
        status.coverage.name == "ENTIRE_REVISION" and modification in ("NONE", "LTA_UPDATES"))
    signer_name = status.signing_cert.subject.human_friendly
    root = status.validation_path.trust_anchor if status.validation_path is not None else None
    root_name = getattr(getattr(root, "authority", None), "name", None)
    dev = DEV_MARKER in signer_name or (root_name is not None and DEV_MARKER in root_name.human_friendly)
    signed_at = status.timestamp if timestamp_field else status.signer_reported_dt
    not_after = status.signing_cert["tbs_certificate"]["validity"]["not_after"].native
    return SignatureReport(
        field=sig.field_name, kind=kind, signer=signer_name, intact=status.intact, valid=status.valid,
        trusted=status.trusted, covers_whole_document=whole,
        signed_at=signed_at.isoformat() if signed_at else None, development_ca=dev,
        timestamp=ts_status.timestamp.isoformat() if ts_status is not None else None,
        timestamp_authority=ts_status.signing_cert.subject.human_friendly if ts_status is not None else None,
        revocation_info=revinfo, later_changes=_MODIFICATIONS.get(modification, modification),
        certificate_valid_until=not_after.isoformat(), problems=problems, policy_note=legacy_note,
    )
