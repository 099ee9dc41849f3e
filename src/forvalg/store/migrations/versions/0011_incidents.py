"""Incidents, their events and their evidence, in the compliance zone.

Revision ID: 0011_incidents
Revises: 0010_honey_lines
Create Date: 2026-12-09

`incidents` holds one row per incident opened from a finding (docs/INCIDENTS.md), with
the latest detection's severity, summary and statistics and its state; a partial unique
index keeps at most one incident per finding that is not closed. `incident_events` is
each incident's history (opened, moved, re-detected), `incident_evidence` the copies of
contacts, CPS events and ledger entries (with their proofs) it rests on. On PostgreSQL
they live in `forvalg_compliance`: compliance reads and writes them, the regulator reads
the rows of incidents reported or closed (row-level security), nobody else touches them;
`zones.place` grants exactly that.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from forvalg.store import zones
from forvalg.store.types import UtcDateTime

revision = "0011_incidents"
down_revision = "0010_honey_lines"
branch_labels = None
depends_on = None

TABLES = ("incidents", "incident_events", "incident_evidence")
NOT_CLOSED = "state <> 'closed'"


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("finding_id", sa.String(length=64), nullable=False),
        sa.Column("detector", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("statistics", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
    )
    op.create_index(
        "uq_incidents_one_live_per_finding",
        "incidents",
        ["finding_id"],
        unique=True,
        sqlite_where=sa.text(NOT_CLOSED),
        postgresql_where=sa.text(NOT_CLOSED),
    )
    op.create_index("ix_incidents_finding_opened", "incidents", ["finding_id", "opened_at"])
    op.create_table(
        "incident_events",
        sa.Column("incident_id", sa.String(length=16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("by", sa.String(length=80), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("severity", sa.String(length=8), nullable=True),
        sa.Column("statistics", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_incident_events_incident_id_incidents"
        ),
        sa.PrimaryKeyConstraint("incident_id", "seq", name="pk_incident_events"),
    )
    op.create_table(
        "incident_evidence",
        sa.Column("incident_id", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("added_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_incident_evidence_incident_id_incidents"
        ),
        sa.PrimaryKeyConstraint("incident_id", "kind", "reference", name="pk_incident_evidence"),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in TABLES:
            zones.place(bind, table, zones.PLACEMENT[table])


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in reversed(TABLES):
            zones.unplace(bind, table)
    op.drop_table("incident_evidence")
    op.drop_table("incident_events")
    op.drop_index("ix_incidents_finding_opened", table_name="incidents")
    op.drop_index("uq_incidents_one_live_per_finding", table_name="incidents")
    op.drop_table("incidents")
