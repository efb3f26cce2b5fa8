"""Digitizing officers and their personal keys (Circular 01/2023): who signs a digitized copy top left.

An officer is named as a workspace user is (``lan.nguyen``), so that the officer who is signed in to the
workspace signs what they digitize; their key is a PKCS#12 kept passphrase-encrypted in the key folder.
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from pathlib import Path

from signing import (
    Pkcs11Key,
    Signer,
    SigningKeyError,
    SigningOptions,
    import_officer_pkcs12,
    init_dev_officer,
    officer_key_material,
    officer_key_path,
    read_passphrase,
)
from workflow.rooms import Rooms
from workflow.settings import Settings
from workflow.users import NAME_RE


class OfficerError(Exception):
    """An officer command cannot be carried out; the message says why."""


@dataclass(frozen=True)
class ListedOfficer:
    name: str
    full_name: str
    subject: str
    development: bool
    active: bool

    def to_dict(self) -> dict:
        return {"name": self.name, "full_name": self.full_name, "subject": self.subject,
                "development": self.development, "active": self.active}


def _checked(name: str, full_name: str) -> tuple[str, str]:
    if not NAME_RE.fullmatch(name):
        raise OfficerError("an officer is named as a workspace user: 2-63 lower-case letters without marks, digits, "
                           ". _ - (e.g. lan.nguyen)")
    full_name = " ".join(full_name.split())
    if not full_name or len(full_name) > 200 or any(not (ch.isalpha() or ch in " .-'") for ch in full_name):
        raise OfficerError("the full name is the officer's name as it is shown on the stamp (letters and spaces)")
    return name, full_name


def add_dev_officer(settings: Settings, rooms: Rooms, name: str, full_name: str | None = None) -> ListedOfficer:
    """A development certificate for ``name`` under the development CA (marked DEVELOPMENT)."""
    name, full_name = _checked(name, full_name or name)
    path = init_dev_officer(settings.key_dir, full_name, name, settings.agency, settings.key_passphrase)
    signer = _open(rooms, path)
    rooms.index.officers.put(name, full_name, str(path), signer.subject, True)
    return ListedOfficer(name, full_name, signer.subject, True, True)


def add_officer(rooms: Rooms, name: str, full_name: str, pkcs12: Path, passphrase: bytes | None) -> ListedOfficer:
    """An officer with their own PKCS#12 (re-encrypted with the installation's key passphrase)."""
    name, full_name = _checked(name, full_name)
    settings = rooms.settings
    try:
        path, subject = import_officer_pkcs12(settings.key_dir, name, pkcs12, passphrase, settings.key_passphrase)
        _open(rooms, path)
    except SigningKeyError as exc:
        raise OfficerError(str(exc)) from None
    rooms.index.officers.put(name, full_name, str(path), subject, False)
    rooms.officer_signers.pop(name, None)
    return ListedOfficer(name, full_name, subject, False, True)


TOKEN_PREFIX = "pkcs11:"


def add_token_officer(rooms: Rooms, name: str, full_name: str, key_label: str,
                      cert: Path | None = None) -> ListedOfficer:
    """An officer whose key is on the configured PKCS#11 token (the USB token officials use), under
    ``key_label``; ``cert``: their certificate, when the token does not hold it (kept in the key folder)."""
    name, full_name = _checked(name, full_name)
    settings = rooms.settings
    if not (settings.pkcs11_module and settings.pkcs11_token and settings.pkcs11_pin):
        raise OfficerError("a key on a token needs SOHOA_PKCS11_MODULE, SOHOA_PKCS11_TOKEN and SOHOA_PKCS11_PIN "
                           "(or SOHOA_PKCS11_PIN_FILE)")
    if not key_label or len(key_label) > 100 or any(not ch.isprintable() for ch in key_label):
        raise OfficerError("the key label is the label of the officer's key on the token")
    kept = None
    if cert is not None:
        kept = officer_key_path(settings.key_dir, name).with_suffix(".pem")
        kept.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
        shutil.copyfile(cert, kept)
    try:
        subject = _open(rooms, TOKEN_PREFIX + key_label, kept).subject  # the token is asked now, not at signing
    except Exception as exc:  # noqa: BLE001 - the PKCS#11 layer raises its own error types
        raise OfficerError(f"the token has no usable key {key_label!r}: {exc}") from None
    rooms.index.officers.put(name, full_name, TOKEN_PREFIX + key_label, subject, False)
    rooms.officer_signers.pop(name, None)
    return ListedOfficer(name, full_name, subject, False, True)


def list_officers(rooms: Rooms) -> list[ListedOfficer]:
    return [ListedOfficer(o.name, o.full_name, o.subject, o.development, o.active) for o in rooms.index.officers.all()]


def disable_officer(rooms: Rooms, name: str) -> None:
    if not rooms.index.officers.disable(name):
        raise OfficerError(f"no officer named {name}")
    rooms.officer_signers.pop(name, None)


def _open(rooms: Rooms, key: Path | str, token_cert: Path | None = None) -> Signer:
    """The officer's signer: a PKCS#12 kept in the key folder, or ``pkcs11:LABEL`` on the configured token."""
    settings, agency = rooms.settings, rooms.signer
    session = None
    if str(key).startswith(TOKEN_PREFIX):
        material = dataclasses.replace(agency.keys, pkcs12_path=None, passphrase=None, pkcs11=Pkcs11Key(
            settings.pkcs11_module, settings.pkcs11_token, str(key)[len(TOKEN_PREFIX):], settings.pkcs11_pin,
            token_cert), development=False)
        session = agency.token_session  # the agency's key on the same token: one login for both
    else:
        material = officer_key_material(agency.keys, Path(key), read_passphrase(settings.key_dir,
                                                                                settings.key_passphrase))
    return Signer(material, SigningOptions(level=agency.level, tsa_url=agency.options.tsa_url, stamp="top-left",
                                           public_url=agency.options.public_url), token_session=session)


@dataclass(frozen=True)
class OfficerKey:
    """An active officer's signer, and the name the stamp shows."""

    name: str
    full_name: str
    signer: Signer


def officer_key(rooms: Rooms, name: str | None) -> OfficerKey | None:
    """The signer of an active officer with a key, opened once per process; None for no such officer."""
    if not name:
        return None
    record = rooms.index.officers.get(name)
    on_token = record is not None and record.key_path.startswith(TOKEN_PREFIX)
    if record is None or not record.active or not (on_token or Path(record.key_path).exists()):
        return None
    if name not in rooms.officer_signers:
        cert = officer_key_path(rooms.settings.key_dir, name).with_suffix(".pem")
        rooms.officer_signers[name] = _open(rooms, record.key_path if on_token else Path(record.key_path),
                                            cert if on_token and cert.exists() else None)
    return OfficerKey(record.name, record.full_name, rooms.officer_signers[name])
