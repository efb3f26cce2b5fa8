"""Distributed backfills: each enqueued input (``job_documents``) and the pages its workers read
(``page_results``); the index is the single source of truth, the broker only carries the work.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    when = sa.DateTime(timezone=True)
    op.create_table(
        "job_documents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, nullable=False, index=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False, index=True),
        sa.Column("staged_key", sa.Text, nullable=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("page_count", sa.Integer, nullable=False),
        sa.Column("text_pages", sa.JSON, nullable=False),
        sa.Column("signed", sa.Boolean, nullable=False),
        sa.Column("split_blank", sa.Boolean, nullable=False),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("pages_in", sa.Integer, nullable=False),
        sa.Column("outcomes", sa.JSON, nullable=False),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("claimed_at", when, nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("ready_at", when, nullable=True),
        sa.Column("swept_at", when, nullable=True),
        sa.Column("finished_at", when, nullable=True, index=True),
        sa.UniqueConstraint("source", "source_sha256", name="uq_job_document"),
    )
    op.create_table(
        "page_results",
        sa.Column("document_id", sa.Integer, sa.ForeignKey("job_documents.id"), primary_key=True),
        sa.Column("page_index", sa.Integer, primary_key=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("done", sa.Boolean, nullable=False),
        sa.Column("page", sa.JSON, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("worker", sa.String(200), nullable=True),
        sa.Column("seconds", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("page_results")
    op.drop_table("job_documents")
