"""Signing digitized results with the digitizing agency's key (PAdES, pyHanko) and verifying them."""

from signing.keys import KeyMaterial, Pkcs11Key, SigningKeyError, init_dev_keys, load_key_material
from signing.pades import (
    LEVELS,
    SignatureReport,
    Signer,
    SigningInputError,
    SigningOptions,
    VerificationReport,
    verify_pdf,
)

__all__ = [
    "LEVELS",
    "KeyMaterial",
    "Pkcs11Key",
    "SignatureReport",
    "Signer",
    "SigningInputError",
    "SigningKeyError",
    "SigningOptions",
    "VerificationReport",
    "init_dev_keys",
    "load_key_material",
    "verify_pdf",
]
