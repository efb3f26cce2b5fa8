"""The archive layout, owned here alone: where each object of a result version lives.

``{code}/v{n}/document.pdf`` (the signed PDF), ``original.{ext}`` (the input as received), ``text.txt``,
``metadata.json`` (``storage.metadata.ResultMetadata``), and ``manifest-sha256.txt`` last, the commit marker
in ``sha256sum`` format.  No other module builds or parses these keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DOCUMENT = "document.pdf"
METADATA = "metadata.json"
MANIFEST = "manifest-sha256.txt"
TEXT = "text.txt"
_VERSION_KEY = re.compile(r"^(?P<code>.+)/v(?P<version>\d+)/(?P<name>[^/]+)$")


def version_prefix(code: str, version: int) -> str:
    """The folder of one version of a result: ``{code}/v{version}``."""
    return f"{code}/v{version}"


def object_key(code: str, version: int, name: str) -> str:
    """The key of one object of a result version."""
    return f"{version_prefix(code, version)}/{name}"


def original_name(suffix: str) -> str:
    """The name the input file is kept under: ``original`` with its own extension (``.pdf``, ``.jpg``…)."""
    return f"original{suffix.lower()}"


def result_prefix(code: str) -> str:
    """Every version of a result lives under this prefix."""
    return f"{code}/"


@dataclass(frozen=True)
class ObjectKey:
    """A key of the layout taken apart."""

    code: str
    version: int
    name: str

    @classmethod
    def parse(cls, key: str) -> ObjectKey | None:
        """The parts of ``key``, or None when it is not an object of a result version."""
        match = _VERSION_KEY.match(key)
        return cls(match["code"], int(match["version"]), match["name"]) if match else None
