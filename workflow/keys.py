"""Signing keys as a face sees them: the development PKI, the configured key, the development TSA."""

from __future__ import annotations

from typing import Any

from signing import SigningKeyError, init_dev_keys
from workflow.rooms import Rooms
from workflow.settings import Settings

__all__ = ["SigningKeyError", "dev_tsa_server", "key_info", "make_dev_keys"]


def make_dev_keys(settings: Settings) -> None:
    """A development CA, signer and TSA in the data directory (kept if they exist)."""
    init_dev_keys(settings.key_dir, settings.agency, settings.key_passphrase)


def key_info(rooms: Rooms) -> dict[str, Any]:
    """The configured signing key, its level, TSA, trusted roots and stamp."""
    signer = rooms.signer
    return {"signer": signer.subject, "development": signer.development, "level": signer.level,
            "source": "pkcs11" if signer.keys.pkcs11 else "pkcs12", "tsa": rooms.settings.tsa_url,
            "trust_roots": [str(p) for p in signer.keys.trust_roots], "stamp": rooms.settings.stamp}


def dev_tsa_server(settings: Settings, host: str, port: int):
    """The development TSA of ``keys init-dev`` as an HTTP server (not started); ``SigningKeyError`` without keys."""
    from signing.keys import TSA_FILE, has_dev_keys, read_passphrase
    from signing.tsa import DevTsaServer

    if not has_dev_keys(settings.key_dir):
        raise SigningKeyError("no development keys here: run `sohoa keys init-dev` first")
    return DevTsaServer(settings.key_dir / TSA_FILE, read_passphrase(settings.key_dir, settings.key_passphrase),
                        host, port)
