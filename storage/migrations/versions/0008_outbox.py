"""The transactional outbox: events written with what they record, their deliveries to subscribers, and the
webhook subscribers themselves; scans submitted by other systems (uploads with an idempotency key, a
procedure code and a holder identifier).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    when = sa.DateTime(timezone=True)
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False, server_default="webhook"),
        sa.Column("events", sa.JSON, nullable=True),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("previous_secret", sa.Text, nullable=True),
        sa.Column("previous_until", when, nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("disabled_at", when, nullable=True),
    )
    op.create_table(
        "outbox_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(40), nullable=False, unique=True),
        sa.Column("event_type", sa.String(40), nullable=False, index=True),
        sa.Column("code", sa.String(64), nullable=True, index=True),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("created_at", when, nullable=False),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event", sa.Integer, sa.ForeignKey("outbox_events.id"), nullable=False, index=True),
        sa.Column("webhook", sa.Integer, sa.ForeignKey("webhooks.id"), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", when, nullable=False, index=True),
        sa.Column("lease_until", when, nullable=True),
        sa.Column("leased_by", sa.String(200), nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("delivered_at", when, nullable=True),
        sa.UniqueConstraint("event", "webhook", name="uq_delivery"),
    )
    with op.batch_alter_table("uploads") as batch:
        batch.add_column(sa.Column("idempotency_key", sa.String(200), nullable=True))
        batch.add_column(sa.Column("procedure_code", sa.String(40), nullable=True))
        batch.add_column(sa.Column("holder_id", sa.String(16), nullable=True))
        batch.create_index("ix_uploads_submission", ["officer", "idempotency_key"])


def downgrade() -> None:
    with op.batch_alter_table("uploads") as batch:
        batch.drop_index("ix_uploads_submission")
        batch.drop_column("holder_id")
        batch.drop_column("procedure_code")
        batch.drop_column("idempotency_key")
    op.drop_table("deliveries")
    op.drop_table("outbox_events")
    op.drop_table("webhooks")
