"""Codes and targets: issuing agency, dossier code and result alias on results; imported agencies;
counts of still-valid results per agency and year.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    with op.batch_alter_table("results") as batch:
        batch.add_column(sa.Column("issuer_agency", sa.String(40), nullable=True))
        batch.add_column(sa.Column("dossier_code", sa.String(64), nullable=True))
        batch.add_column(sa.Column("result_alias", sa.String(80), nullable=True))
        batch.create_index("ix_results_issuer_agency", ["issuer_agency"])
        batch.create_index("ix_results_dossier_code", ["dossier_code"])
        batch.create_unique_constraint("uq_results_result_alias", ["result_alias"])
    op.create_table(
        "agencies",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("parent", sa.String(40), nullable=True),
        sa.Column("successor", sa.String(40), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "valid_results",
        sa.Column("agency", sa.String(40), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("valid_results")
    op.drop_table("agencies")
    with op.batch_alter_table("results") as batch:
        batch.drop_constraint("uq_results_result_alias", type_="unique")
        batch.drop_index("ix_results_dossier_code")
        batch.drop_index("ix_results_issuer_agency")
        batch.drop_column("result_alias")
        batch.drop_column("dossier_code")
        batch.drop_column("issuer_agency")
