"""Initial index: sequences, results, inputs, preservation events.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "sequences",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )
    op.create_table(
        "results",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False, index=True),
        sa.Column("doc_type", sa.String(8), nullable=False, index=True),
        sa.Column("doc_type_name", sa.String(200), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("level", sa.String(16), nullable=True, index=True),
        sa.Column("agency", sa.String(40), nullable=False, index=True),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("archive_key", sa.String(512), nullable=False),
        sa.Column("retention", sa.String(16), nullable=False, server_default="permanent"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "inputs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("code", sa.String(64), nullable=True, index=True),
        sa.Column("doc_type", sa.String(8), nullable=True),
        sa.Column("review", sa.JSON, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("source_sha256", "source", name="uq_input_source"),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(64), nullable=True, index=True),
        sa.Column("event_type", sa.String(32), nullable=False, index=True),
        sa.Column("agent", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=True),
    )


def downgrade() -> None:
    for table in ("events", "inputs", "results", "sequences"):
        op.drop_table(table)
