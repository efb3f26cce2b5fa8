"""Signing digitized results with the digitizing agency's key (PAdES, pyHanko) and verifying them."""

from signing.keys import (
    KeyMaterial,
    Pkcs11Key,
    SigningKeyError,
    import_officer_pkcs12,
    init_dev_keys,
    init_dev_officer,
    load_key_material,
    officer_key_material,
    officer_key_path,
    read_passphrase,
)
from signing.pades import (
    LEVELS,
    SignatureReport,
    Signer,
    SigningInputError,
    SigningOptions,
    VerificationReport,
    verify_pdf,
)
from signing.stamp import Placement

__all__ = [
    "LEVELS",
    "Placement",
    "KeyMaterial",
    "Pkcs11Key",
    "SignatureReport",
    "Signer",
    "SigningInputError",
    "SigningKeyError",
    "SigningOptions",
    "VerificationReport",
    "import_officer_pkcs12",
    "init_dev_keys",
    "init_dev_officer",
    "load_key_material",
    "officer_key_material",
    "officer_key_path",
    "read_passphrase",
    "verify_pdf",
]
