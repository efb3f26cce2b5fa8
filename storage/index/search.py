"""Full-text search over results that ignores Vietnamese diacritics ("nguyen van" finds "Nguyễn Văn").

Words are folded here, on both sides (the stored body and the query): lower case, marks removed, đ → d
(neither FTS5's ``remove_diacritics`` nor PostgreSQL's ``unaccent`` maps đ).  SQLite keeps the bodies in the
FTS5 table ``result_fts``; PostgreSQL in ``result_search`` with a GIN index on ``to_tsvector('simple', body)``.
Every query word matches as a prefix, all of them must match.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

MAX_BODY_CHARS = 20_000  # the fields and the start of the text: enough to find a result, not a copy of it
MAX_QUERY_WORDS = 8
_WORD_RE = re.compile(r"[0-9a-z]+")
_ID_NUMBER_RE = re.compile(r"\d{9}|\d{12}")


def search_words(value: str) -> list[str]:
    """The folded words of ``value``: lower case, no diacritics, đ → d, only letters and digits."""
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D").lower())
    plain = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return _WORD_RE.findall(plain)


def index_body(code: str, type_name: str, fields: dict[str, Any], dossier: str | None, alias: str | None,
               document_text: str) -> str:
    """What a result is found by: its code, alias, dossier, type, every field and the start of its text."""
    parts = [code, alias or "", dossier or "", type_name,
             *(str(v) for k, v in sorted(fields.items()) if v and k != "holder_id"), document_text]
    # ID numbers are found only by the exact holder_id filter, which needs the right to read them.
    words = [w for w in search_words(" ".join(parts)) if not _ID_NUMBER_RE.fullmatch(w)]
    return " ".join(words)[:MAX_BODY_CHARS]


def write_search_body(conn: Connection, code: str, body: str) -> None:
    """Store (or replace, for a new version) the searchable body of result ``code``."""
    conn.execute(text("DELETE FROM result_search WHERE code = :code"), {"code": code})
    conn.execute(text("INSERT INTO result_search (code, body) VALUES (:code, :body)"), {"code": code, "body": body})
    if conn.dialect.name == "sqlite":
        conn.execute(text("DELETE FROM result_fts WHERE code = :code"), {"code": code})
        conn.execute(text("INSERT INTO result_fts (code, body) VALUES (:code, :body)"), {"code": code, "body": body})


def matching_codes_sql(dialect: str, query: str) -> tuple[str, dict[str, str]] | None:
    """A SQL ``SELECT code`` of the results whose body has every word of ``query`` (as a prefix), with its
    parameters; None when the query has no word to look for."""
    words = search_words(query)[:MAX_QUERY_WORDS]
    if not words:
        return None
    if dialect == "sqlite":
        return "SELECT code FROM result_fts WHERE result_fts MATCH :q", {"q": " ".join(f'"{w}"*' for w in words)}
    return ("SELECT code FROM result_search WHERE to_tsvector('simple', body) @@ to_tsquery('simple', :q)",
            {"q": " & ".join(f"{w}:*" for w in words)})
