"""Issuing registers (sổ đăng ký văn bản đi) imported by archivists: one row per entry.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.create_table(
        "register_entries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("register", sa.String(200), nullable=False, index=True),
        sa.Column("number", sa.String(100), nullable=False),
        sa.Column("issued_on", sa.String(10), nullable=False, index=True),
        sa.Column("kind", sa.String(200), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("signer", sa.String(200), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("register", "number", "issued_on", name="uq_register_entry"),
    )


def downgrade() -> None:
    op.drop_table("register_entries")
