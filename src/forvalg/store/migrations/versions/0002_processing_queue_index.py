"""The processor's queue index: (next_due_at, seq) over pending orders only.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

`ORDER BY next_due_at, seq LIMIT n` on the single-column index sorted every pending
order with the same due instant again for every batch (quadratic in the backlog).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PENDING = "next_due_at IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_next_due_at"))
        batch_op.create_index(
            "ix_orders_due",
            ["next_due_at", "seq"],
            unique=False,
            sqlite_where=sa.text(PENDING),
            postgresql_where=sa.text(PENDING),
        )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_due", sqlite_where=sa.text(PENDING))
        batch_op.create_index(batch_op.f("ix_orders_next_due_at"), ["next_due_at"], unique=False)
