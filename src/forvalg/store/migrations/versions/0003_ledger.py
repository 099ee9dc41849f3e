"""The ledger: inbox, entries (with the subtrees each completes), tree heads,
checkpoints; staff users.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

The append-only `access_log` table becomes the ledger's inbox: its rows are carried over
as canonical JSON events, in order, and the sequencer integrates them into the tree.
The ledger tables refuse UPDATE and DELETE by trigger (on PostgreSQL also TRUNCATE);
the inbox refuses UPDATE, and on PostgreSQL DELETE except from the sequencer's own
transaction. SQLite has no session setting to tell the sequencer from anyone else, so
there the inbox's DELETE is not guarded: the embedded default relies on the wall alone.
"""

from __future__ import annotations

from datetime import UTC, datetime

import rfc8785
import sqlalchemy as sa
from alembic import op

from forvalg.store.types import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
LEDGER_TABLES = ("ledger_entries", "ledger_heads", "ledger_checkpoints")

PG_FUNCTIONS = """
CREATE FUNCTION forvalg_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE FUNCTION forvalg_ledger_inbox_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE'
     AND current_setting('forvalg.ledger_sequencer', true) IS NOT DISTINCT FROM 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'the ledger inbox is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
"""


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_users_token_hash")),
    )
    op.create_table(
        "ledger_inbox",
        sa.Column("seq", Serial, autoincrement=True, nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_ledger_inbox")),
    )
    op.create_table(
        "ledger_entries",
        sa.Column("idx", Serial, autoincrement=False, nullable=False),
        sa.Column("entry", sa.Text(), nullable=False),
        sa.Column("leaf", sa.LargeBinary(length=32), nullable=False),
        sa.Column("closes", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_ledger_entries")),
    )
    op.create_table(
        "ledger_heads",
        sa.Column("size", Serial, autoincrement=False, nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("integrated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_ledger_heads")),
    )
    op.create_table(
        "ledger_checkpoints",
        sa.Column("seq", Serial, autoincrement=True, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("signed_at", UtcDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_ledger_checkpoints")),
    )
    with op.batch_alter_table("ledger_checkpoints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_checkpoints_size"), ["size"], unique=False)
    _carry_over_access_log()
    op.drop_table("access_log")
    _create_triggers()


def _carry_over_access_log() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT * FROM access_log ORDER BY seq")).mappings()
    events = []
    for row in rows:
        event = {k: row[k] for k in row.keys() if k != "seq"}  # noqa: SIM118
        at = event["at"]
        at = datetime.fromisoformat(at) if isinstance(at, str) else at
        event["at"] = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
        event["roles"] = [r for r in event["roles"].split(",") if r]
        events.append({"event": rfc8785.dumps(event).decode()})
    if events:
        connection.execute(sa.text("INSERT INTO ledger_inbox (event) VALUES (:event)"), events)


def _create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTIONS)
        for table in LEDGER_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION forvalg_ledger_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION forvalg_ledger_append_only()"
            )
        op.execute(
            "CREATE TRIGGER ledger_inbox_guard BEFORE UPDATE OR DELETE ON ledger_inbox "
            "FOR EACH ROW EXECUTE FUNCTION forvalg_ledger_inbox_guard()"
        )
        op.execute(
            "CREATE TRIGGER ledger_inbox_no_truncate BEFORE TRUNCATE ON ledger_inbox "
            "FOR EACH STATEMENT EXECUTE FUNCTION forvalg_ledger_append_only()"
        )
        return
    for table in LEDGER_TABLES:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: {verb} on {table} "
                "refused'); END"
            )
    op.execute(
        "CREATE TRIGGER ledger_inbox_no_update BEFORE UPDATE ON ledger_inbox "
        "BEGIN SELECT RAISE(ABORT, 'the ledger inbox is append-only: UPDATE refused'); END"
    )


def downgrade() -> None:
    # The ledger cannot be un-written: downgrading drops it, and with it the evidence.
    op.create_table(
        "access_log",
        sa.Column("seq", Serial, autoincrement=True, nullable=False),
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
    for table in (*LEDGER_TABLES, "ledger_inbox"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION forvalg_ledger_append_only()")
        op.execute("DROP FUNCTION forvalg_ledger_inbox_guard()")
    op.drop_table("staff_users")
