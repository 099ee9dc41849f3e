"""The ledger's subject index: which entries touched a subscriber's line.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

`ledger_subjects` maps each pseudonym an entry names, and each bulk decision's subject
digest, to the entry; `ledger_subject_sets` keeps the members of each bulk set. Entries
already in the tree are indexed here by the pseudonyms they name; the members of their
bulk sets were never stored, so a bulk decision made before this revision is found only
by its count and digest.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

NAMED_SUBJECTS = 10  # as forvalg.wall.pseudonyms.NAMED_SUBJECTS when this was written


def upgrade() -> None:
    op.create_table(
        "ledger_subjects",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", "idx", name="pk_ledger_subjects"),
    )
    op.create_table(
        "ledger_subject_sets",
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("pseudonym", "digest", name="pk_ledger_subject_sets"),
    )
    connection = op.get_bind()
    index = sa.table("ledger_subjects", sa.column("key"), sa.column("idx"))
    rows = connection.execute(sa.text("SELECT idx, entry FROM ledger_entries ORDER BY idx"))
    batch: list[dict[str, object]] = []
    for idx, entry in rows:
        batch.extend({"key": key, "idx": idx} for key in keys_of(json.loads(entry)["event"]))
        if len(batch) >= 5000:
            connection.execute(sa.insert(index), batch)
            batch = []
    if batch:
        connection.execute(sa.insert(index), batch)


def keys_of(event: dict[str, object]) -> set[str]:
    named = event.get("subjects") or []
    keys = {str(s) for s in named} if isinstance(named, list) else set()
    count, digest = event.get("subject_count"), event.get("subjects_digest")
    if isinstance(count, int) and count > NAMED_SUBJECTS and isinstance(digest, str):
        keys.add(digest)
    return keys


def downgrade() -> None:
    op.drop_table("ledger_subject_sets")
    op.drop_table("ledger_subjects")
