"""The retail CRM's contacts (`retail_contacts`, in the compliance zone).

Retail may only INSERT there (store/zones.py): a contact already stored is skipped by
`ON CONFLICT DO NOTHING`, which needs no SELECT, and the statement's row count says how
many were new. A chunk is one multi-row INSERT, so its row count is exact on SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from forvalg.domain.contacts import Contact
from forvalg.store.bulk import dialect_name
from forvalg.store.tables import retail_contacts

CHUNK = 1_000  # rows per INSERT: 10 parameters each, well under SQLite's 32,766


def _insert(session: Session) -> Insert:
    if dialect_name(session) == "postgresql":
        return postgresql.insert(retail_contacts).on_conflict_do_nothing()
    return sqlite.insert(retail_contacts).on_conflict_do_nothing()


def add_contacts(
    session: Session, *, source: str, contacts: Sequence[Contact], at: datetime
) -> int:
    """Insert the contacts not yet stored for `source`; how many were new."""
    added = 0
    for start in range(0, len(contacts), CHUNK):
        rows: list[dict[str, Any]] = [
            {
                "source": source,
                "contact_id": c.contact_id,
                "time_utc": c.time_utc,
                "number": c.number,
                "channel": c.channel.value,
                "direction": c.direction.value,
                "agent_id": c.agent_id,
                "campaign_id": c.campaign_id,
                "outcome": c.outcome,
                "imported_at": at,
            }
            for c in contacts[start : start + CHUNK]
        ]
        statement = _insert(session).values(rows).execution_options(preserve_rowcount=True)
        result = session.execute(statement)
        added += int(getattr(result, "rowcount", 0))
    return added


SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("contact_id", pa.string()),
        ("time_utc", pa.timestamp("us", tz="UTC")),
        ("number", pa.string()),
        ("channel", pa.string()),
        ("direction", pa.string()),
        ("agent_id", pa.string()),
        ("campaign_id", pa.string()),
        ("outcome", pa.string()),
        ("imported_at", pa.timestamp("us", tz="UTC")),
    ]
)
_BATCH = 50_000


def table(session: Session) -> pa.Table:
    """Every stored contact, by time, as Arrow (SCHEMA), read in batches."""
    c = retail_contacts.c
    result = session.execute(
        select(*(c[name] for name in SCHEMA.names)).order_by(c.time_utc, c.source, c.contact_id),
        execution_options={"yield_per": _BATCH},
    )
    batches = []
    for rows in result.partitions():
        columns = list(zip(*rows, strict=True))
        batches.append(
            pa.record_batch(
                [pa.array(col, f.type) for col, f in zip(columns, SCHEMA, strict=True)],
                schema=SCHEMA,
            )
        )
    return pa.Table.from_batches(batches, schema=SCHEMA)
