"""Officers who sign in to the workspace: their accounts, roles, rights and passwords (argon2id)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from storage.index import UserRecord
from workflow.rooms import Rooms

LOCK_AFTER_FAILURES = 5
LOCK_FOR = dt.timedelta(minutes=15)
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 200
NAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{1,62}")
_hasher = PasswordHasher()  # argon2id with the library's current parameters
# Verified when a name does not exist, so that an unknown name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("sohoa: no such user")


class Role(StrEnum):
    CLERK = "clerk"  # the counter, the review queue, search (ID numbers masked)
    REVIEWER = "reviewer"  # as a clerk, and reads and searches ID numbers
    ADMIN = "admin"  # as a reviewer, and sees every officer's uploads


class Right(StrEnum):
    COUNTER = "counter"
    REVIEW = "review"
    SEARCH = "search"
    PERSONAL_IDS = "personal_ids"  # read ID numbers in clear and search by them
    EVERY_UPLOAD = "every_upload"


RIGHTS: dict[Role, frozenset[Right]] = {
    Role.CLERK: frozenset({Right.COUNTER, Right.REVIEW, Right.SEARCH}),
    Role.REVIEWER: frozenset({Right.COUNTER, Right.REVIEW, Right.SEARCH, Right.PERSONAL_IDS}),
    Role.ADMIN: frozenset(Right),
}


class UserError(Exception):
    """A user command cannot be carried out; the message says why."""


@dataclass(frozen=True)
class Officer:
    """A signed-in user as the faces see them."""

    name: str
    role: Role

    def may(self, right: Right) -> bool:
        return right in RIGHTS[self.role]


@dataclass(frozen=True)
class ListedUser:
    name: str
    role: str
    active: bool
    locked_until: dt.datetime | None
    created_at: dt.datetime

    def to_dict(self) -> dict:
        return {"name": self.name, "role": self.role, "active": self.active,
                "locked_until": self.locked_until.isoformat() if self.locked_until else None,
                "created_at": self.created_at.isoformat()}


def check_name(name: str) -> str:
    if not NAME_RE.fullmatch(name):
        raise UserError("a user name is 2-63 characters: lower-case letters without marks, digits, . _ - "
                        "(e.g. lan.nguyen)")
    return name


def check_password(password: str) -> str:
    password = unicodedata.normalize("NFC", password)
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise UserError(f"a password has {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters")
    return password


def add_user(rooms: Rooms, name: str, role: str, password: str) -> None:
    try:
        role = Role(role)
    except ValueError:
        raise UserError(f"role must be one of {', '.join(r.value for r in Role)}") from None
    if not rooms.index.users.add(check_name(name), role.value, _hasher.hash(check_password(password))):
        raise UserError(f"a user named {name} exists")


def list_users(rooms: Rooms) -> list[ListedUser]:
    return [ListedUser(u.name, u.role, u.active, u.locked_until, u.created_at) for u in rooms.index.users.all()]


def disable_user(rooms: Rooms, name: str) -> None:
    """The user can no longer sign in; open sessions end at their next request."""
    if not rooms.index.users.disable(name):
        raise UserError(f"no user named {name}")


def reset_password(rooms: Rooms, name: str, password: str) -> None:
    """A new password; sessions opened with the old one end; a lock-out is lifted."""
    if not rooms.index.users.set_password(name, _hasher.hash(check_password(password))):
        raise UserError(f"no user named {name}")


class SignInRefused(Exception):
    """Wrong name or password, a disabled user, or a user locked out for a while."""

    def __init__(self, reason: str, until: dt.datetime | None = None):
        super().__init__(reason)
        self.reason, self.until = reason, until


def sign_in(rooms: Rooms, name: str, password: str) -> tuple[Officer, str]:
    """The officer and their session stamp (changes when the password does); ``SignInRefused`` otherwise.

    ``LOCK_AFTER_FAILURES`` wrong passwords in a row lock the user out for ``LOCK_FOR``.
    """
    users = rooms.index.users
    user = users.get(name) if NAME_RE.fullmatch(name) else None
    password = unicodedata.normalize("NFC", password)[:MAX_PASSWORD_CHARS]
    now = dt.datetime.now(dt.UTC)
    if user is not None and user.locked_until and user.locked_until > now:
        raise SignInRefused("locked", user.locked_until)
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        if user is not None:
            users.failed_login(name, LOCK_AFTER_FAILURES, LOCK_FOR)
        raise SignInRefused("wrong") from None
    if user is None:
        raise SignInRefused("wrong")
    if not user.active:
        raise SignInRefused("disabled")
    if _hasher.check_needs_rehash(user.password_hash):
        users.rehash(name, _hasher.hash(password))
    users.signed_in(name)
    return Officer(user.name, Role(user.role)), session_stamp(user)


def session_stamp(user: UserRecord) -> str:
    return user.password_set_at.isoformat()


def officer_for_session(rooms: Rooms, name: str, stamp: str) -> Officer | None:
    """The officer of a session, or None when the user was disabled or their password changed since."""
    user = rooms.index.users.get(name)
    if user is None or not user.active or session_stamp(user) != stamp:
        return None
    return Officer(user.name, Role(user.role))
