"""The clerks' workspace: users, counter uploads, review claims, runs (progress) and full-text search.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    when = sa.DateTime(timezone=True)
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("password_set_at", when, nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", when, nullable=True),
        sa.Column("disabled_at", when, nullable=True),
        sa.Column("created_at", when, nullable=False),
    )
    op.create_table(
        "uploads",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("batch", sa.String(40), nullable=False, index=True),
        sa.Column("officer", sa.String(100), nullable=False),
        sa.Column("file_name", sa.String(300), nullable=False),
        sa.Column("stored_path", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("dossier_code", sa.String(64), nullable=True),
        sa.Column("type_hint", sa.String(8), nullable=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("results", sa.JSON, nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
    )
    op.create_table(
        "review_claims",
        sa.Column("input_id", sa.Integer, primary_key=True),
        sa.Column("officer", sa.String(100), nullable=False),
        sa.Column("claimed_at", when, nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("done", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("failures", sa.JSON, nullable=False),
        sa.Column("started_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.Column("finished_at", when, nullable=True),
    )
    op.create_table(
        "result_search",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE result_fts USING fts5(code UNINDEXED, body, tokenize='unicode61')")
    else:
        op.execute("CREATE INDEX ix_result_search_body ON result_search USING gin (to_tsvector('simple', body))")
    _index_existing_results()


def _index_existing_results() -> None:
    """Results archived before this revision become searchable by their fields."""
    from storage.index.search import index_body, write_search_body

    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT code, doc_type_name, fields, dossier_code, result_alias FROM results"))
    for code, type_name, fields, dossier, alias in rows.fetchall():
        import json

        values = json.loads(fields) if isinstance(fields, str) else fields
        body = index_body(code, type_name, values, dossier, alias, "")
        write_search_body(bind, code, body)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE result_fts")
    op.drop_table("result_search")
    op.drop_table("runs")
    op.drop_table("review_claims")
    op.drop_table("uploads")
    op.drop_table("users")
