"""An operator's own cancels that were refused, in the wholesale zone.

Revision ID: 0014_cancel_refusals
Revises: 0013_rejected_orders_index
Create Date: 2026-11-29

A cancel refused `E_TOO_LATE` (past the cut-off) or `E_CONFLICT` (the order is final)
changes no order, so nothing recorded it, and the equivalence report could count only
the cut-off misses of `CANCEL_OTHER` orders (docs/REPORT.md). `cancel_refusals` holds one
row per refusal. On PostgreSQL it lives in `forvalg_wholesale`; the API's role inserts
and reads its own operator's rows (row-level security through `orders`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from forvalg.store import zones
from forvalg.store.types import UtcDateTime

revision = "0014_cancel_refusals"
down_revision = "0013_rejected_orders_index"
branch_labels = None
depends_on = None

TABLE = "cancel_refusals"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("reason_code", sa.String(length=40), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name="fk_cancel_refusals_order_id_orders"
        ),
        sa.PrimaryKeyConstraint("seq", name="pk_cancel_refusals"),
    )
    op.create_index("ix_cancel_refusals_order_id", TABLE, ["order_id"])
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        zones.place(bind, TABLE, zones.PLACEMENT[TABLE])


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        zones.unplace(bind, TABLE)
    op.drop_index("ix_cancel_refusals_order_id", table_name=TABLE)
    op.drop_table(TABLE)
