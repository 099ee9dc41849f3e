"""The order desk: operators, lines, orders, preselections, outbox, access log.

Revision ID: 0001
Revises:
Create Date: 2026-11-29 00:04:20.166276
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from forvalg.store.types import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_log",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("principal", sa.String(length=100), nullable=False),
        sa.Column("organisation", sa.String(length=100), nullable=False),
        sa.Column("roles", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("work_item", sa.String(length=100), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("resource", sa.String(length=40), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("policy_version", sa.String(length=40), nullable=False),
        sa.Column("subject_count", sa.Integer(), nullable=False),
        sa.Column("subjects_digest", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_access_log")),
    )
    op.create_table(
        "lines",
        sa.Column("number", sa.String(length=8), nullable=False),
        sa.Column("postcode", sa.String(length=4), nullable=False),
        sa.Column("line_type", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=64), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_lines")),
    )
    op.create_table(
        "operators",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("csc", sa.String(length=4), nullable=False),
        sa.Column("agreement_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operators")),
        sa.UniqueConstraint("csc", name=op.f("uq_operators_csc")),
    )
    op.create_table(
        "operator_api_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("operator_id", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_operator_api_keys_operator_id_operators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_operator_api_keys_key_hash")),
    )
    op.create_table(
        "operator_events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("operator_id", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=24), nullable=False),
        sa.Column("number", sa.String(length=8), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_operator_events_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_operator_events")),
    )
    with op.batch_alter_table("operator_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_operator_events_operator_seq", ["operator_id", "seq"], unique=False
        )

    op.create_table(
        "orders",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=8), nullable=False),
        sa.Column("operator_id", sa.String(length=32), nullable=False),
        sa.Column("option", sa.String(length=16), nullable=True),
        sa.Column("postcode", sa.String(length=4), nullable=True),
        sa.Column("auth_reference", sa.String(length=100), nullable=True),
        sa.Column("auth_signed_at", sa.Date(), nullable=True),
        sa.Column("auth_channel", sa.String(length=32), nullable=True),
        sa.Column("requested_date", sa.Date(), nullable=True),
        sa.Column("target_order", sa.String(length=32), nullable=True),
        sa.Column("cancel_reason", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.String(length=40), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("next_due_at", UtcDateTime(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_orders_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_orders")),
        sa.UniqueConstraint("id", name=op.f("uq_orders_id")),
        sa.UniqueConstraint("operator_id", "idempotency_key", name="uq_orders_idempotency"),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_next_due_at"), ["next_due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_number"), ["number"], unique=False)
        batch_op.create_index("ix_orders_operator_seq", ["operator_id", "seq"], unique=False)
        batch_op.create_index(
            "uq_orders_one_holding_per_line",
            ["number"],
            unique=True,
            sqlite_where=sa.text("state IN ('VALIDATED', 'COMMITTED') AND type <> 'CANCEL_OTHER'"),
            postgresql_where=sa.text(
                "state IN ('VALIDATED', 'COMMITTED') AND type <> 'CANCEL_OTHER'"
            ),
        )

    op.create_table(
        "customer_letters",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("number", sa.String(length=8), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("template", sa.String(length=40), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_customer_letters_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_customer_letters")),
    )
    op.create_table(
        "order_history",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("reason_code", sa.String(length=40), nullable=True),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_history_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_order_history")),
    )
    with op.batch_alter_table("order_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_history_order_id"), ["order_id"], unique=False)

    op.create_table(
        "preselections",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("number", sa.String(length=8), nullable=False),
        sa.Column("operator_id", sa.String(length=32), nullable=False),
        sa.Column("option", sa.String(length=16), nullable=False),
        sa.Column("valid_from", UtcDateTime(), nullable=False),
        sa.Column("valid_to", UtcDateTime(), nullable=True),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("closed_by_order", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["closed_by_order"], ["orders.id"], name=op.f("fk_preselections_closed_by_order_orders")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_preselections_operator_id_operators")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_preselections_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preselections")),
    )
    with op.batch_alter_table("preselections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_preselections_number"), ["number"], unique=False)
        batch_op.create_index(
            "uq_preselections_one_current_per_line",
            ["number"],
            unique=True,
            sqlite_where=sa.text("valid_to IS NULL"),
            postgresql_where=sa.text("valid_to IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("preselections", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_preselections_one_current_per_line",
            sqlite_where=sa.text("valid_to IS NULL"),
            postgresql_where=sa.text("valid_to IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_preselections_number"))

    op.drop_table("preselections")
    with op.batch_alter_table("order_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_history_order_id"))

    op.drop_table("order_history")
    op.drop_table("customer_letters")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_orders_one_holding_per_line",
            sqlite_where=sa.text("state IN ('VALIDATED', 'COMMITTED') AND type <> 'CANCEL_OTHER'"),
            postgresql_where=sa.text(
                "state IN ('VALIDATED', 'COMMITTED') AND type <> 'CANCEL_OTHER'"
            ),
        )
        batch_op.drop_index("ix_orders_operator_seq")
        batch_op.drop_index(batch_op.f("ix_orders_number"))
        batch_op.drop_index(batch_op.f("ix_orders_next_due_at"))

    op.drop_table("orders")
    with op.batch_alter_table("operator_events", schema=None) as batch_op:
        batch_op.drop_index("ix_operator_events_operator_seq")

    op.drop_table("operator_events")
    op.drop_table("operator_api_keys")
    op.drop_table("operators")
    op.drop_table("lines")
    op.drop_table("access_log")
