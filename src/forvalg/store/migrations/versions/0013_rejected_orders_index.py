"""The work queue's index of rejected orders: (updated_at, seq) over rejected orders only.

Revision ID: 0013_rejected_orders_index
Revises: 0012_inquiry_answers
Create Date: 2026-11-29

"Rejected lately" (store/work_queue.rejected) read every order to find the few rejected
in the last days; a partial index holds only the rejected ones, newest last.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_rejected_orders_index"
down_revision = "0012_inquiry_answers"
branch_labels = None
depends_on = None

REJECTED = "state = 'REJECTED'"


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orders_rejected",
            ["updated_at", "seq"],
            unique=False,
            sqlite_where=sa.text(REJECTED),
            postgresql_where=sa.text(REJECTED),
        )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_rejected", sqlite_where=sa.text(REJECTED))
