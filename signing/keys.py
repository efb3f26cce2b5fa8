"""Signing keys: a development PKI made on first run, kept as passphrase-encrypted PKCS#12."""

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
PASSPHRASE_FILE = "passphrase"
DEV_MARKER = "DEVELOPMENT"


@dataclass(frozen=True)
class KeyMaterial:
    """Where the signing key lives and what it is; the passphrase is only read when signing."""

    pkcs12_path: Path
    passphrase: bytes
    trust_roots: tuple[Path, ...]
    development: bool


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def ensure_dev_keys(key_dir: Path, agency: str, passphrase: str | None = None) -> KeyMaterial:
    """Return the development key material in ``key_dir``, creating a CA and a signer on first use.

    The signer's certificate says DEVELOPMENT in its name: it is never mistaken for a real one.
    Without ``passphrase`` a random one is generated and kept in ``key_dir/passphrase`` (mode 0600).
    """
    key_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(key_dir, 0o700)
    signer_path, ca_path, pass_path = key_dir / SIGNER_FILE, key_dir / CA_FILE, key_dir / PASSPHRASE_FILE
    if passphrase is None:
        if not pass_path.exists():
            _write_private(pass_path, secrets.token_urlsafe(24).encode())
        secret = pass_path.read_bytes().strip()
    else:
        secret = passphrase.encode()
    if signer_path.exists() and ca_path.exists():
        return KeyMaterial(signer_path, secret, (ca_path,), development=True)

    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    org = f"sohoa {DEV_MARKER} ({agency})"
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    ca_name = _name(f"sohoa {DEV_MARKER} CA - not a real certificate authority", org)
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder().subject_name(_name(f"{agency} - sohoa {DEV_MARKER} signer", org))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + dt.timedelta(days=3 * 365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    blob = pkcs12.serialize_key_and_certificates(
        b"sohoa-signer", key, cert, [ca_cert], serialization.BestAvailableEncryption(secret)
    )
    _write_private(signer_path, blob)
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    # The CA key is not needed after issuing the signer: it is thrown away, not stored.
    return KeyMaterial(signer_path, secret, (ca_path,), development=True)
