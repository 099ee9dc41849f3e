"""Honey-lines, in the compliance zone.

Revision ID: 0010_honey_lines
Revises: 0009_retail_contacts
Create Date: 2026-11-29

`honey_lines` names the inventory lines that are canaries and the decoy order each was
given (docs/DETECTION.md, "Honey-lines"), written by `forvalg canary add`. On PostgreSQL
it lives in `forvalg_compliance`: compliance reads and writes it; the API zone may read
it, only to hide the decoys from the operator they name; nobody else sees it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from forvalg.store import zones
from forvalg.store.types import UtcDateTime

revision = "0010_honey_lines"
down_revision = "0009_retail_contacts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "honey_lines",
        sa.Column("number", sa.String(length=8), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("operator_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("number", name="pk_honey_lines"),
        sa.UniqueConstraint("order_id", name="uq_honey_lines_order_id"),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        zones.place(bind, "honey_lines", zones.PLACEMENT["honey_lines"])


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        zones.unplace(bind, "honey_lines")
    op.drop_table("honey_lines")
