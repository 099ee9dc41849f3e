"""Routing table versions and the bucket digests that keep their hashes cheap.

Revision ID: 0007_routing_versions
Revises: 0006
Create Date: 2026-11-29

`routing_versions` has one row per completed order that changed the routing table
(docs/ROUTING.md) and refuses UPDATE and DELETE by trigger; `routing_buckets` holds the
latest digest and row count of each 4-digit number bucket. On PostgreSQL both live in
the wholesale zone (`zones.place`).

A database that already holds completed orders gets their versions now, in the order
they completed (switch instant, then the order the history was written in), with the
hashes the processor would have written. Those versions have no ledger entry: they
were made before the ledger named routing versions.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from forvalg.domain.orders import Option
from forvalg.domain.routing_table import RoutingChange, RoutingRow, content_hash, replay
from forvalg.store import zones
from forvalg.store.types import UtcDateTime

revision = "0007_routing_versions"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = ("routing_versions", "routing_buckets")

PG_FUNCTION = """
CREATE FUNCTION forvalg_routing_versions_insert_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'routing versions are insert-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
"""


def upgrade() -> None:
    op.create_table(
        "routing_versions",
        sa.Column("version", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("effective_at", UtcDateTime(), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name="fk_routing_versions_order_id_orders"
        ),
        sa.PrimaryKeyConstraint("version", name="pk_routing_versions"),
        sa.UniqueConstraint("order_id", name="uq_routing_versions_order_id"),
    )
    op.create_table(
        "routing_buckets",
        sa.Column("prefix", sa.String(length=4), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", name="pk_routing_buckets"),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER routing_versions_insert_only BEFORE UPDATE OR DELETE "
            "ON routing_versions FOR EACH ROW "
            "EXECUTE FUNCTION forvalg_routing_versions_insert_only()"
        )
        for table in TABLES:
            zones.place(bind, table, zones.PLACEMENT[table])
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER routing_versions_no_{verb.lower()} BEFORE {verb} "
                "ON routing_versions BEGIN SELECT RAISE(ABORT, "
                f"'routing versions are insert-only: {verb} refused'); END"
            )
    _versions_of_completed_orders(bind)


def _versions_of_completed_orders(bind: sa.Connection) -> None:
    """Replay every completion that opened or closed a preselection, in completion order."""
    rows = bind.execute(
        sa.text(
            "SELECT h.order_id, h.at, o.number, p.operator_id, p.option "
            "FROM order_history h JOIN orders o ON o.id = h.order_id "
            "LEFT JOIN preselections p ON p.order_id = h.order_id "
            "WHERE h.state = 'COMPLETED' "
            "AND o.type IN ('PROVIDE', 'TRANSFER', 'MODIFY', 'CEASE') "
            "ORDER BY h.at, h.seq"
        ).columns(order_id=sa.String(), at=UtcDateTime())
    ).all()
    if not rows:
        return
    changes = [
        RoutingChange(
            order_id,
            at,
            number,
            None if operator is None else RoutingRow(number, operator, Option(option)),
        )
        for order_id, at, number, operator, option in rows
    ]
    versions, buckets = replay(changes)
    current = bind.execute(
        sa.text("SELECT number, operator_id, option FROM preselections WHERE valid_to IS NULL")
    ).all()
    found = content_hash(RoutingRow(n, o, Option(p)) for n, o, p in current)
    if found != versions[-1].content_hash:
        raise RuntimeError(
            "the completed orders' history does not replay to the current preselections; "
            "routing versions cannot be derived"
        )
    now = datetime.now(UTC)
    table = sa.table(
        "routing_versions",
        sa.column("version"),
        sa.column("content_hash"),
        sa.column("effective_at", UtcDateTime()),
        sa.column("order_id"),
        sa.column("row_count"),
        sa.column("recorded_at", UtcDateTime()),
    )
    bind.execute(
        sa.insert(table),
        [
            {
                "version": v.version,
                "content_hash": v.content_hash,
                "effective_at": v.effective_at,
                "order_id": v.order_id,
                "row_count": v.rows,
                "recorded_at": now,
            }
            for v in versions
        ],
    )
    digests = sa.table(
        "routing_buckets",
        sa.column("prefix"),
        sa.column("digest", sa.LargeBinary()),
        sa.column("row_count"),
    )
    bind.execute(
        sa.insert(digests),
        [{"prefix": b.prefix, "digest": b.digest, "row_count": b.rows} for b in buckets],
    )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION forvalg_routing_versions_insert_only()")
