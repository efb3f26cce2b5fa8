"""Signing keys: PKCS#12 files and PKCS#11 tokens, trust roots, and the development PKI of `keys init-dev`.

Private keys never sit in clear on disk: PKCS#12 files are passphrase-encrypted and the passphrase comes
from an environment variable or a file (mode 0600), never from the command line.  The development PKI
(a CA, a signer and a timestamping authority) lets the demo and the tests run offline; every one of its
certificates says DEVELOPMENT in its name, and its CA is trusted only inside the data directory whose
``keys/`` folder it was made in (the ``DEVELOPMENT`` marker file says so).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SIGNER_FILE = "signer.p12"
CA_FILE = "dev-ca.pem"
CA_KEY_FILE = "dev-ca.p12"
CRL_FILE = "dev-ca.crl"
TSA_FILE = "tsa.p12"
PASSPHRASE_FILE = "passphrase"
MARKER_FILE = "DEVELOPMENT"
DEV_MARKER = "DEVELOPMENT"
# Where national roots go (Vietnam National Root CA, the Government specialized CA): see its README.
SHIPPED_TRUST_DIR = Path(__file__).resolve().parent / "trust"
CRL_DAYS = 30


class SigningKeyError(RuntimeError):
    """A signing key that cannot be found or opened; the message says what to configure."""


@dataclass(frozen=True)
class Pkcs11Key:
    """A key on a PKCS#11 token (USB token, HSM): module library, token label, key label, PIN."""

    module: Path
    token_label: str
    key_label: str
    pin: str
    cert_path: Path | None = None  # the signer's certificate, when the token does not hold it


@dataclass(frozen=True)
class KeyMaterial:
    """Where the signing key lives, what it is trusted by, and where revocation data and a TSA come from."""

    pkcs12_path: Path | None
    passphrase: bytes | None
    trust_roots: tuple[Path, ...]
    development: bool
    pkcs11: Pkcs11Key | None = None
    crls: tuple[Path, ...] = ()
    dev_tsa_path: Path | None = None  # the development TSA's PKCS#12 (same passphrase)


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _write_public(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _key_usage(sign: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=sign, content_commitment=sign, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                         encipher_only=False, decipher_only=False)


def issue_certificate(subject: x509.Name, public_key, issuer_name: x509.Name, issuer_key,
                      not_before: dt.datetime, not_after: dt.datetime, *, ca: bool = False,
                      usage: x509.ObjectIdentifier | None = ExtendedKeyUsageOID.EMAIL_PROTECTION) -> x509.Certificate:
    """An X.509 certificate for ``public_key`` signed by ``issuer_key`` (a CA, a signer or a TSA)."""
    builder = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name).public_key(public_key)
        .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(_key_usage(sign=not ca, ca=ca), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    )
    if usage is not None and not ca:
        # A TSA certificate must carry timeStamping as its only, critical, extended key usage (RFC 3161).
        critical = usage == ExtendedKeyUsageOID.TIME_STAMPING
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=critical)
    return builder.sign(issuer_key, hashes.SHA256())


def make_crl(ca_cert: x509.Certificate, ca_key, revoked_serials: tuple[int, ...] = (),
             days: int = CRL_DAYS) -> x509.CertificateRevocationList:
    """A CRL of the development CA, valid ``days`` from now."""
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca_cert.subject)
               .last_update(now).next_update(now + dt.timedelta(days=days))
               .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                              critical=False))
    for serial in revoked_serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now).build())
    return builder.sign(ca_key, hashes.SHA256())


def read_passphrase(key_dir: Path, passphrase: str | None) -> bytes:
    if passphrase is not None:
        return passphrase.encode()
    pass_path = key_dir / PASSPHRASE_FILE
    if not pass_path.exists():
        _write_private(pass_path, secrets.token_urlsafe(24).encode())
    return pass_path.read_bytes().strip()


def has_dev_keys(key_dir: Path) -> bool:
    return all((key_dir / name).exists() for name in (MARKER_FILE, SIGNER_FILE, CA_FILE, TSA_FILE, CA_KEY_FILE))


def init_dev_keys(key_dir: Path, agency: str, passphrase: str | None = None) -> KeyMaterial:
    """Make (once) the development CA, signer and TSA in ``key_dir``; refresh the CRL; return the key material.

    Without ``passphrase`` a random one is generated and kept in ``key_dir/passphrase`` (mode 0600).
    Running it again keeps the existing keys: results signed earlier stay verifiable.
    """
    key_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(key_dir, 0o700)
    secret = read_passphrase(key_dir, passphrase)
    if not has_dev_keys(key_dir):
        _create_dev_pki(key_dir, agency, secret)
    refresh_dev_crl(key_dir, secret)
    return dev_key_material(key_dir, secret)


def dev_key_material(key_dir: Path, secret: bytes) -> KeyMaterial:
    return KeyMaterial(key_dir / SIGNER_FILE, secret, (key_dir / CA_FILE,), development=True,
                       crls=(key_dir / CRL_FILE,), dev_tsa_path=key_dir / TSA_FILE)


def _create_dev_pki(key_dir: Path, agency: str, secret: bytes) -> None:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    org = f"sohoa {DEV_MARKER} ({agency})"
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    ca_name = _name(f"sohoa {DEV_MARKER} CA - not a real certificate authority", org)
    ca_cert = issue_certificate(ca_name, ca_key.public_key(), ca_name, ca_key, now, now + dt.timedelta(days=3650),
                                ca=True)
    encryption = serialization.BestAvailableEncryption(secret)
    for file_name, common_name, usage, years in (
        (SIGNER_FILE, f"{agency} - sohoa {DEV_MARKER} signer", ExtendedKeyUsageOID.EMAIL_PROTECTION, 3),
        (TSA_FILE, f"sohoa {DEV_MARKER} timestamping authority", ExtendedKeyUsageOID.TIME_STAMPING, 8),
    ):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert = issue_certificate(_name(common_name, org), key.public_key(), ca_name, ca_key, now,
                                 now + dt.timedelta(days=years * 365), usage=usage)
        _write_private(key_dir / file_name, pkcs12.serialize_key_and_certificates(
            file_name.split(".")[0].encode(), key, cert, [ca_cert], encryption))
    # The CA key is kept (encrypted) only to renew the development CRL that B-LT signatures embed.
    _write_private(key_dir / CA_KEY_FILE, pkcs12.serialize_key_and_certificates(
        b"dev-ca", ca_key, ca_cert, None, encryption))
    _write_public(key_dir / CA_FILE, ca_cert.public_bytes(serialization.Encoding.PEM))
    _write_public(key_dir / MARKER_FILE, (
        b"The keys in this folder were made by `sohoa keys init-dev` for development and tests.\n"
        b"They are not the certificate of any agency and have no legal value.\n"))


def refresh_dev_crl(key_dir: Path, secret: bytes, min_days_left: int = 7) -> Path:
    """Re-issue the development CA's CRL when it expires within ``min_days_left`` days."""
    crl_path = key_dir / CRL_FILE
    if crl_path.exists():
        crl = x509.load_der_x509_crl(crl_path.read_bytes())
        if crl.next_update_utc and crl.next_update_utc - dt.datetime.now(dt.UTC) > dt.timedelta(days=min_days_left):
            return crl_path
    ca_key, ca_cert, _ = pkcs12.load_key_and_certificates((key_dir / CA_KEY_FILE).read_bytes(), secret)
    _write_public(crl_path, make_crl(ca_cert, ca_key).public_bytes(serialization.Encoding.DER))
    return crl_path


def trust_roots_in(folder: Path | None) -> tuple[Path, ...]:
    """Certificate files (PEM or DER: .pem .crt .cer .der) in a trust folder."""
    if folder is None or not folder.is_dir():
        return ()
    return tuple(sorted(p for p in folder.iterdir() if p.suffix.lower() in {".pem", ".crt", ".cer", ".der"}))


def load_key_material(key_dir: Path, *, pkcs12_path: Path | None = None, passphrase: str | None = None,
                      pkcs11: Pkcs11Key | None = None, trust_dir: Path | None = None,
                      create_dev_keys: bool = False, agency: str = "000.00.00.H26") -> KeyMaterial:
    """The configured signing key: a PKCS#11 token, a PKCS#12 file, or the development keys of ``key_dir``.

    Trusted roots are the shipped folder (national roots), ``trust_dir`` if given, and the development
    CA only when the key folder was made by ``keys init-dev``.
    """
    roots = trust_roots_in(SHIPPED_TRUST_DIR) + trust_roots_in(trust_dir)
    dev = has_dev_keys(key_dir)
    if not dev and create_dev_keys and pkcs11 is None and pkcs12_path is None:
        init_dev_keys(key_dir, agency, passphrase)
        dev = True
    dev_material = dev_key_material(key_dir, read_passphrase(key_dir, passphrase)) if dev else None
    if dev_material is not None:
        roots = roots + dev_material.trust_roots
    if pkcs11 is not None:
        return KeyMaterial(None, None, roots, development=False, pkcs11=pkcs11,
                           crls=dev_material.crls if dev_material else (),
                           dev_tsa_path=dev_material.dev_tsa_path if dev_material else None)
    if pkcs12_path is not None:
        if passphrase is None:
            raise SigningKeyError(f"the signing key {pkcs12_path} needs a passphrase: set SOHOA_KEY_PASSPHRASE "
                            "or SOHOA_KEY_PASSPHRASE_FILE")
        return KeyMaterial(pkcs12_path, passphrase.encode(), roots, development=False,
                           crls=dev_material.crls if dev_material else (),
                           dev_tsa_path=dev_material.dev_tsa_path if dev_material else None)
    if dev_material is None:
        raise SigningKeyError("no signing key is configured: set SOHOA_SIGNING_KEY (PKCS#12) or SOHOA_PKCS11_MODULE "
                        "(token), or run `sohoa keys init-dev` for a development key")
    return KeyMaterial(dev_material.pkcs12_path, dev_material.passphrase, roots, development=True,
                       crls=dev_material.crls, dev_tsa_path=dev_material.dev_tsa_path)


OFFICERS_DIR = "officers"


def officer_key_path(key_dir: Path, slug: str) -> Path:
    return key_dir / OFFICERS_DIR / f"{slug}.p12"


def init_dev_officer(key_dir: Path, full_name: str, slug: str, agency: str, passphrase: str | None = None) -> Path:
    """A development certificate for a digitizing officer, issued by the development CA of ``key_dir``
    (made first if missing); kept passphrase-encrypted as ``officers/{slug}.p12``.  Kept if it exists."""
    init_dev_keys(key_dir, agency, passphrase)
    target = officer_key_path(key_dir, slug)
    if target.exists():
        return target
    secret = read_passphrase(key_dir, passphrase)
    ca_key, ca_cert, _ = pkcs12.load_key_and_certificates((key_dir / CA_KEY_FILE).read_bytes(), secret)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = _name(f"{full_name} - sohoa {DEV_MARKER} officer", f"sohoa {DEV_MARKER} ({agency})")
    cert = issue_certificate(name, key.public_key(), ca_cert.subject, ca_key, now, now + dt.timedelta(days=3 * 365))
    target.parent.mkdir(mode=0o700, exist_ok=True)
    _write_private(target, pkcs12.serialize_key_and_certificates(
        slug.encode(), key, cert, [ca_cert], serialization.BestAvailableEncryption(secret)))
    return target


def import_officer_pkcs12(key_dir: Path, slug: str, source: Path, source_passphrase: bytes | None,
                          passphrase: str | None = None) -> tuple[Path, str]:
    """An officer's own PKCS#12, re-encrypted with this installation's key passphrase and kept as
    ``officers/{slug}.p12``; returns the path and the certificate's subject.  ``SigningKeyError`` when the
    file or its passphrase is wrong, or it holds no key with a certificate."""
    try:
        key, cert, chain = pkcs12.load_key_and_certificates(source.read_bytes(), source_passphrase)
    except (ValueError, OSError) as exc:
        raise SigningKeyError(f"{source}: not a PKCS#12 file this passphrase opens ({exc})") from None
    if key is None or cert is None:
        raise SigningKeyError(f"{source}: holds no private key with its certificate")
    secret = read_passphrase(key_dir, passphrase)
    target = officer_key_path(key_dir, slug)
    target.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    _write_private(target, pkcs12.serialize_key_and_certificates(
        slug.encode(), key, cert, chain or None, serialization.BestAvailableEncryption(secret)))
    return target, cert.subject.rfc4514_string()


def officer_key_material(agency_keys: KeyMaterial, key_path: Path, secret: bytes) -> KeyMaterial:
    """An officer's key beside the agency's: the same trust roots, revocation data and TSA."""
    return KeyMaterial(key_path, secret, agency_keys.trust_roots, development=agency_keys.development,
                       crls=agency_keys.crls, dev_tsa_path=agency_keys.dev_tsa_path)
