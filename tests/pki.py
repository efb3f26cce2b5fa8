"""A throw-away PKI for tests: a CA of its own and signers (valid, expired) as PKCS#12 and PEM files."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from signing.keys import issue_certificate

PASSPHRASE = "test-passphrase"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sở Tư pháp tỉnh Thử nghiệm"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@dataclass
class TestCA:
    folder: Path
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @property
    def root_path(self) -> Path:
        return self.folder / "root.pem"

    def signer(self, name: str, valid_days: int = 365, expired: bool = False) -> tuple[Path, Path, Path]:
        """A signer's PKCS#12 (passphrase PASSPHRASE), its certificate PEM and its private key PEM (PKCS#8)."""
        now = dt.datetime.now(dt.UTC)
        start, end = ((now - dt.timedelta(days=400), now - dt.timedelta(days=35)) if expired
                      else (now - dt.timedelta(minutes=5), now + dt.timedelta(days=valid_days)))
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert = issue_certificate(_name(name), key.public_key(), self.cert.subject, self.key, start, end)
        p12 = self.folder / f"{name}.p12"
        p12.write_bytes(pkcs12.serialize_key_and_certificates(
            name.encode(), key, cert, [self.cert], serialization.BestAvailableEncryption(PASSPHRASE.encode())))
        cert_pem = self.folder / f"{name}.pem"
        cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_pem = self.folder / f"{name}-key.pem"
        key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
        return p12, cert_pem, key_pem


def make_ca(folder: Path, name: str = "Test issuing CA") -> TestCA:
    folder.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=500)
    cert = issue_certificate(_name(name), key.public_key(), _name(name), key, now, now + dt.timedelta(days=3650),
                             ca=True)
    ca = TestCA(folder, key, cert)
    ca.root_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return ca
