"""Signing digitized results with the digitizing agency's key (PAdES, pyHanko) and verifying them."""

from signing.keys import KeyMaterial, ensure_dev_keys
from signing.pades import SignatureReport, Signer, VerificationReport, verify_pdf

__all__ = [
    "KeyMaterial",
    "SignatureReport",
    "Signer",
    "VerificationReport",
    "ensure_dev_keys",
    "verify_pdf",
]
