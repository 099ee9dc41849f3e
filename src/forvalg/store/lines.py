"""The line inventory."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import BigInteger, cast, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from forvalg.domain.lines import Line
from forvalg.store.bulk import among
from forvalg.store.mapping import line_from_row
from forvalg.store.tables import lines

_CHUNK = 5000


def upsert_lines(session: Session, *, items: Sequence[Line], recorded_at: datetime) -> None:
    """Insert or replace lines by number."""
    dialect = session.get_bind().dialect.name
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    for start in range(0, len(items), _CHUNK):
        chunk = items[start : start + _CHUNK]
        stmt = make(lines)
        stmt = stmt.on_conflict_do_update(
            index_elements=[lines.c.number],
            set_={
                "postcode": stmt.excluded.postcode,
                "line_type": stmt.excluded.line_type,
                "status": stmt.excluded.status,
                "updated_at": stmt.excluded.updated_at,
            },
        )
        session.execute(
            stmt,
            [
                {
                    "number": li.number,
                    "postcode": li.postcode,
                    "line_type": li.line_type.value,
                    "status": li.status,
                    "updated_at": recorded_at,
                }
                for li in chunk
            ],
        )


def get_lines(session: Session, *, numbers: Iterable[str]) -> dict[str, Line]:
    nums = list(numbers)
    if not nums:
        return {}
    query = select(lines).where(among(session, lines.c.number, nums))
    rows = session.execute(query).mappings().all()
    return {r["number"]: line_from_row(r) for r in rows}


# A multiplicative hash of the number, salted: a pseudo-random order the caller's random
# source decides, the same on SQLite and PostgreSQL (the product stays below 2**63).
_SCRAMBLE, _MODULUS = 2_654_435_761, 1_000_003


def sample(session: Session, *, count: int, salt: int) -> list[Line]:
    """Up to `count` lines not ceased, in the pseudo-random order `salt` picks."""
    scrambled = (cast(lines.c.number, BigInteger) * _SCRAMBLE + salt) % _MODULUS
    query = (
        select(lines)
        .where(lines.c.status != "CEASED")
        .order_by(scrambled, lines.c.number)
        .limit(count)
    )
    return [line_from_row(r) for r in session.execute(query).mappings().all()]
