"""Settlement statements, in the billing zone.

Revision ID: 0008_statements
Revises: 0007_routing_versions
Create Date: 2026-12-01

`statements` holds every statement `forvalg settle` files: one row per operator, period
and version, with the JSON body exactly as written to DIR/<operator>.json and the
SHA-256 of both files. On PostgreSQL it lives in `forvalg_billing`: billing reads and
inserts, compliance reads, and the API role reads only the current operator's rows
(row-level security); `zones.place` grants exactly that.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from forvalg.store import zones
from forvalg.store.types import UtcDateTime

revision = "0008_statements"
down_revision = "0007_routing_versions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "statements",
        sa.Column("operator_id", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("csv_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name="fk_statements_operator_id_operators"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["work_items.id"], name="fk_statements_run_id_work_items"
        ),
        sa.PrimaryKeyConstraint("operator_id", "period", "version", name="pk_statements"),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        zones.place(bind, "statements", zones.PLACEMENT["statements"])


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        zones.unplace(bind, "statements")
    op.drop_table("statements")
