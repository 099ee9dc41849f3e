"""Database zones on PostgreSQL: a role and a schema per zone, GRANTs, row-level security.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

Creates the roles `forvalg_api`, `forvalg_wholesale`, `forvalg_billing`,
`forvalg_compliance`, `forvalg_regulator` and `forvalg_retail` where the cluster lacks
them (LOGIN, no password: deployments set authentication in pg_hba.conf) and makes the
migrating login a member so it can `SET ROLE`; creates a schema per zone; moves every
table into its zone's schema (indexes, constraints, serial sequences and triggers move
with it) and grants each zone exactly its row of the privilege matrix, with row-level
security on the API's tables. All of it is defined once, in `forvalg.store.zones`.

Downgrade moves the tables back to `public`, drops the policies, revokes this
database's privileges and drops the schemas. It never drops the roles: they are
cluster-wide and other databases use them.

On SQLite this revision does nothing: SQLite has no roles, schemas or row-level
security, and the embedded default relies on the wall alone.
"""

from __future__ import annotations

from alembic import op

from forvalg.store import zones

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The tables as of this revision, referenced tables first (the API's row policies on
# order_history and work_item_lines read orders and work_items in their new schema).
# Later revisions `zones.place` the tables they create.
TABLES = (
    *("operators", "operator_api_keys", "lines", "orders", "order_history", "preselections"),
    *("operator_events", "customer_letters", "staff_users", "work_items", "work_item_lines"),
    *("compliance_alerts", "subscriber_codes", "subscriber_messages"),
    *("ledger_inbox", "ledger_entries"),
    *("ledger_heads", "ledger_checkpoints", "ledger_subjects", "ledger_subject_sets"),
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    zones.create_zones(bind)
    for table in TABLES:
        zones.place(bind, table, zones.PLACEMENT[table])


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table in reversed(TABLES):
        zones.unplace(bind, table)
    zones.drop_schemas(bind)
