"""Work items, compliance alerts, subscribers' one-time codes and the messages that carry them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

A one-time code travels in `subscriber_messages` (a letter or an SMS), not with the
customer letters: its body holds the code in clear until it is sent.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from forvalg.store.types import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "work_items",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("operator_id", sa.String(length=32), nullable=True),
        sa.Column("period", sa.String(length=7), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("opened_by", sa.String(length=64), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=True),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name="fk_work_items_operator_id_operators"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_work_items"),
    )
    op.create_table(
        "work_item_lines",
        sa.Column("work_item_id", sa.String(length=40), nullable=False),
        sa.Column("number", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_item_id"],
            ["work_items.id"],
            name="fk_work_item_lines_work_item_id_work_items",
        ),
        sa.PrimaryKeyConstraint("work_item_id", "number", name="pk_work_item_lines"),
    )
    op.create_table(
        "compliance_alerts",
        sa.Column("seq", Serial, autoincrement=True, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("principal", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("work_item", sa.String(length=80), nullable=True),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("acknowledged_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_compliance_alerts"),
    )
    op.create_table(
        "subscriber_codes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.String(length=8), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("used_at", UtcDateTime(), nullable=True),
        sa.Column("session_hash", sa.String(length=64), nullable=True),
        sa.Column("session_expires_at", UtcDateTime(), nullable=True),
        sa.Column("work_item_id", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["work_item_id"],
            ["work_items.id"],
            name="fk_subscriber_codes_work_item_id_work_items",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_subscriber_codes"),
        sa.UniqueConstraint("session_hash", name="uq_subscriber_codes_session_hash"),
    )
    op.create_index("ix_subscriber_codes_number", "subscriber_codes", ["number"])
    op.create_table(
        "subscriber_messages",
        sa.Column("seq", Serial, autoincrement=True, nullable=False),
        sa.Column("code_id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["code_id"],
            ["subscriber_codes.id"],
            name="fk_subscriber_messages_code_id_subscriber_codes",
        ),
        sa.PrimaryKeyConstraint("seq", name="pk_subscriber_messages"),
    )


def downgrade() -> None:
    op.drop_table("subscriber_messages")
    op.drop_index("ix_subscriber_codes_number", table_name="subscriber_codes")
    op.drop_table("subscriber_codes")
    op.drop_table("compliance_alerts")
    op.drop_table("work_item_lines")
    op.drop_table("work_items")
