"""Honey-lines (`honey_lines`, in the compliance zone; docs/DETECTION.md).

`DECOY_ORDERS` and `HONEY_NUMBERS` are subqueries for the operator's own reads, which
leave the decoys out: a decoy order names a real operator, which never placed it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import pyarrow as pa
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from forvalg.store.bulk import among, arrow_table
from forvalg.store.tables import honey_lines

DECOY_ORDERS = select(honey_lines.c.order_id).scalar_subquery()
HONEY_NUMBERS = select(honey_lines.c.number).scalar_subquery()
SCHEMA = pa.schema(
    [
        ("number", pa.string()),
        ("order_id", pa.string()),
        ("operator_id", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
    ]
)


def add(session: Session, *, rows: Sequence[tuple[str, str, str]], by: str, at: datetime) -> None:
    """Record honey-lines: (number, decoy order id, operator id) each."""
    if rows:
        session.execute(
            insert(honey_lines),
            [
                {"number": n, "order_id": o, "operator_id": op, "created_at": at, "created_by": by}
                for n, o, op in rows
            ],
        )


def decoys(session: Session, order_ids: Iterable[str]) -> set[str]:
    """Which of `order_ids` are decoy orders."""
    ids = list(order_ids)
    if not ids:
        return set()
    query = select(honey_lines.c.order_id).where(among(session, honey_lines.c.order_id, ids))
    return set(session.execute(query).scalars())


def table(session: Session) -> pa.Table:
    """Every honey-line (SCHEMA), by number."""
    c = honey_lines.c
    rows = session.execute(
        select(c.number, c.order_id, c.operator_id, c.created_at).order_by(c.number)
    ).all()
    return arrow_table(rows, SCHEMA)
