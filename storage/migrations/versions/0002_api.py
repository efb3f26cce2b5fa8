"""HTTP API: client credentials, access log, searchable issue date and holder ID on results.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.add_column("results", sa.Column("issued_on", sa.String(10), nullable=True))
    op.add_column("results", sa.Column("holder_id", sa.String(16), nullable=True))
    op.create_index("ix_results_issued_on", "results", ["issued_on"])
    op.create_index("ix_results_holder_id", "results", ["holder_id"])
    results = sa.table("results", sa.column("code", sa.String), sa.column("fields", sa.JSON),
                       sa.column("issued_on", sa.String), sa.column("holder_id", sa.String))
    conn = op.get_bind()
    for code, fields in conn.execute(sa.select(results.c.code, results.c.fields)).all():
        fields = fields or {}
        conn.execute(results.update().where(results.c.code == code).values(
            issued_on=fields.get("issued_on"), holder_id=fields.get("holder_id")))
    op.create_table(
        "clients",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("scopes", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("client", sa.String(100), nullable=False, index=True),
        sa.Column("code", sa.String(64), nullable=True, index=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("access_log")
    op.drop_table("clients")
    op.drop_index("ix_results_holder_id", "results")
    op.drop_index("ix_results_issued_on", "results")
    op.drop_column("results", "holder_id")
    op.drop_column("results", "issued_on")
