"""Claims: an input (by SHA-256) being worked on by one run, so that two runs never archive it twice.
Access log detail: a keyed hash of a search's parameters (who searched for what, without the values).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "claims",
        sa.Column("source_sha256", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("access_log") as batch:
        batch.add_column(sa.Column("detail", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("access_log") as batch:
        batch.drop_column("detail")
    op.drop_table("claims")
