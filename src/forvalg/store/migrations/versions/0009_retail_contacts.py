"""Retail contacts, in the compliance zone.

Revision ID: 0009_retail_contacts
Revises: 0008_statements
Create Date: 2026-12-02

`retail_contacts` holds the retail CRM's contacts (INTERFACES.md §4), one row per source
and contact id, written by `forvalg contacts import` and `POST /v1/retail/contacts`. On
PostgreSQL it lives in `forvalg_compliance`: compliance reads, retail may only insert (no
SELECT, so not even its own rows come back); `zones.place` grants exactly that.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from forvalg.store import zones
from forvalg.store.types import UtcDateTime

revision = "0009_retail_contacts"
down_revision = "0008_statements"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retail_contacts",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("contact_id", sa.String(length=64), nullable=False),
        sa.Column("time_utc", UtcDateTime(), nullable=False),
        sa.Column("number", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=500), nullable=True),
        sa.Column("imported_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source", "contact_id", name="pk_retail_contacts"),
    )
    op.create_index("ix_retail_contacts_number", "retail_contacts", ["number"])
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        zones.place(bind, "retail_contacts", zones.PLACEMENT["retail_contacts"])


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        zones.unplace(bind, "retail_contacts")
    op.drop_index("ix_retail_contacts_number", table_name="retail_contacts")
    op.drop_table("retail_contacts")
