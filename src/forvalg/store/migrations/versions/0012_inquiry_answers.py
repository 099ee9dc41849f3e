"""The answers to regulator inquiries, in the compliance zone.

Revision ID: 0012_inquiry_answers
Revises: 0011_incidents
Create Date: 2026-12-14

`inquiry_answers` holds one row per evidence bundle compliance gave in answer to an
inquiry (docs/INQUIRIES.md): who answered and when, the checkpoint the bundle is proved
against (size, root, signed note), the previous checkpoint's size it proves consistency
from, how many entries it holds, the bundle's SHA-256 and its bytes. On PostgreSQL it
lives in `forvalg_compliance`: compliance writes and reads it, the regulator reads it;
`zones.place` grants exactly that.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from forvalg.store import zones
from forvalg.store.types import UtcDateTime

revision = "0012_inquiry_answers"
down_revision = "0011_incidents"
branch_labels = None
depends_on = None

TABLE = "inquiry_answers"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("inquiry_id", sa.String(length=40), nullable=False),
        sa.Column("answered_at", UtcDateTime(), nullable=False),
        sa.Column("answered_by", sa.String(length=80), nullable=False),
        sa.Column("bundle_sha256", sa.String(length=64), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.String(length=44), nullable=False),
        sa.Column("checkpoint", sa.Text(), nullable=False),
        sa.Column("previous_size", sa.BigInteger(), nullable=True),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("bundle", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inquiry_id"], ["work_items.id"], name="fk_inquiry_answers_inquiry_id_work_items"
        ),
        sa.PrimaryKeyConstraint("seq", name="pk_inquiry_answers"),
    )
    op.create_index("ix_inquiry_answers_inquiry_id", TABLE, ["inquiry_id"])
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        zones.place(bind, TABLE, zones.PLACEMENT[TABLE])


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        zones.unplace(bind, TABLE)
    op.drop_index("ix_inquiry_answers_inquiry_id", table_name=TABLE)
    op.drop_table(TABLE)
