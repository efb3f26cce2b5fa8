"""Signing keys as a face sees them: the development PKI, the configured key, the development TSA."""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
from pathlib import Path
from typing import Any

from signing import SigningKeyError, init_dev_keys
from workflow.rooms import Rooms
from workflow.settings import Settings

__all__ = ["SigningKeyError", "dev_tsa_server", "installation_secret", "key_info", "make_dev_keys"]


@functools.cache
def _secret_at(path: Path) -> bytes:
    return path.read_bytes()


def installation_secret(settings: Settings, name: str) -> bytes:
    """A 32-byte secret of this installation kept as ``name`` in the key folder (made once, readable by sohoa
    only, the same for every server process): the access log's hashing key, the session cookies' key."""
    path: Path = settings.key_dir / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(FileExistsError):  # another server process made it first
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(32))
    return _secret_at(path)


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
