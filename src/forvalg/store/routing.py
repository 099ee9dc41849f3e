"""Routing table versions: the versions a batch of completions makes, and what the
exports read (the full table at a version, the lines changed between two).

A batch plans its versions under a lock held to commit (an advisory lock on PostgreSQL;
SQLite's write lock), so versions are numbered without gaps however many processors
run: the head version, every bucket's digest, and the current rows of the buckets the
batch touches are read after the lock, the versions computed in the domain
(`RoutingState`), and the batch's own preselection changes written only afterwards.
A processor keeps the state its last batch left while the database's head is the one
that batch reached, so consecutive batches read only the buckets they have not seen.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import RowMapping, Select, and_, or_, select, text, union
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from forvalg.domain.orders import Option
from forvalg.domain.routing_table import (
    BUCKET_DIGITS,
    VERSION_ZERO,
    Bucket,
    RoutingChange,
    RoutingRow,
    RoutingState,
    RoutingVersion,
    bucket_of,
    row_text,
)
from forvalg.store.bulk import among, dialect_name, insert_values
from forvalg.store.tables import preselections, routing_buckets, routing_versions

ROUTING_LOCK = 0x52747673  # "Rtvs": one batch at a time makes routing versions
NUMBER_DIGITS = 8


@dataclass(frozen=True, slots=True)
class Plan:
    """The versions a batch makes and the buckets to store after them."""

    versions: list[RoutingVersion]
    buckets: list[Bucket]


def plan(session: Session, *, changes: Sequence[RoutingChange]) -> Plan:
    """Lock, read what the changes need and compute their versions. Must run before the
    batch writes its preselection changes: the buckets' rows are read as they were."""
    if dialect_name(session) == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ROUTING_LOCK})
    latest = head(session)
    engine = session.get_bind()
    with _CACHE_LOCK:
        state = _CACHE.pop(engine, None)
    if state is None or state.head != latest:
        state = RoutingState(latest, stored_buckets(session))
    elif state.loaded_rows > MAX_CACHED_ROWS:
        state.forget_rows()
    missing = sorted({bucket_of(c.number) for c in changes} - state.loaded)
    grouped: dict[str, list[tuple[str, bytes]]] = {p: [] for p in missing}
    for number, row in bucket_texts(session, prefixes=missing):
        grouped[number[:BUCKET_DIGITS]].append((number, row))
    for prefix, rows in grouped.items():
        state.load(prefix, rows)
    versions = [state.apply(c) for c in changes]
    planned = Plan(versions, state.changed())
    state.mark_saved()
    with _CACHE_LOCK:
        _CACHE[engine] = state
    return planned


# The state the last batch left, per engine, while the database's head is the one it
# reached: the next batch then reloads no bucket it already holds. A batch that rolls
# back leaves a state ahead of the database, which the next batch sees and drops; a
# state whose head version and content hash are the database's holds the same table.
_CACHE: WeakKeyDictionary[object, RoutingState] = WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()
MAX_CACHED_ROWS = 500_000


def write(session: Session, *, planned: Plan, recorded_at: datetime) -> None:
    """Store the planned versions and the buckets they leave."""
    if not planned.versions:
        return
    when = _timestamps(session)
    recorded = when(recorded_at)
    insert_values(
        session.connection(),
        routing_versions,
        ("version", "content_hash", "effective_at", "order_id", "row_count", "recorded_at"),
        [
            (v.version, v.content_hash, when(v.effective_at), v.order_id, v.rows, recorded)
            for v in planned.versions
        ],
    )
    make = pg_insert if dialect_name(session) == "postgresql" else sqlite_insert
    statement = make(routing_buckets)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[routing_buckets.c.prefix],
            set_={"digest": statement.excluded.digest, "row_count": statement.excluded.row_count},
        ),
        [{"prefix": b.prefix, "digest": b.digest, "row_count": b.rows} for b in planned.buckets],
    )


def _timestamps(session: Session) -> Callable[[datetime], Any]:
    """A timestamp as the driver takes it for `UtcDateTime` (`insert_values` bypasses
    SQLAlchemy's parameter processing)."""
    dialect = session.get_bind().dialect
    column = routing_versions.c.recorded_at.type
    process = column.dialect_impl(dialect).bind_processor(dialect)
    return (lambda value: value) if process is None else process


def head(session: Session) -> RoutingVersion:
    """The latest version (version 0, the empty table, before any)."""
    row = (
        session.execute(
            select(routing_versions).order_by(routing_versions.c.version.desc()).limit(1)
        )
        .mappings()
        .first()
    )
    return VERSION_ZERO if row is None else _version(row)


def versions(session: Session) -> list[RoutingVersion]:
    """Every version, version 0 first."""
    rows = session.execute(select(routing_versions).order_by(routing_versions.c.version))
    return [VERSION_ZERO, *(_version(r) for r in rows.mappings())]


def versions_between(session: Session, *, start: datetime, end: datetime) -> list[RoutingVersion]:
    """The versions in force from an instant in [start, end), in order."""
    v = routing_versions.c
    rows = session.execute(
        select(routing_versions)
        .where(v.effective_at >= start, v.effective_at < end)
        .order_by(v.version)
    )
    return [_version(r) for r in rows.mappings()]


def version(session: Session, *, number: int) -> RoutingVersion | None:
    if number == 0:
        return VERSION_ZERO
    row = (
        session.execute(select(routing_versions).where(routing_versions.c.version == number))
        .mappings()
        .first()
    )
    return None if row is None else _version(row)


def _version(row: RowMapping) -> RoutingVersion:
    return RoutingVersion(
        row["version"], row["content_hash"], row["effective_at"], row["order_id"], row["row_count"]
    )


def stored_buckets(session: Session) -> list[Bucket]:
    """Every non-empty bucket's digest and row count."""
    b = routing_buckets.c
    rows = session.execute(
        select(b.prefix, b.digest, b.row_count).where(b.row_count > 0).order_by(b.prefix)
    )
    return [Bucket(prefix, bytes(digest), count) for prefix, digest, count in rows]


def bucket_texts(session: Session, *, prefixes: Sequence[str]) -> list[tuple[str, bytes]]:
    """(number, row text) of the current rows of the buckets named: numbers are 8 digits,
    so a bucket is a range of the number index whatever the collation. Raw rows, texts
    made here: a batch may read thousands."""
    if not prefixes:
        return []
    p = preselections.c
    ranges = [
        p.number.between(prefix.ljust(NUMBER_DIGITS, "0"), prefix.ljust(NUMBER_DIGITS, "9"))
        for prefix in prefixes
    ]
    found: list[tuple[str, bytes]] = []
    for chunk in range(0, len(ranges), 200):
        rows = session.execute(
            select(p.number, p.operator_id, p.option).where(
                p.valid_to.is_(None), or_(*ranges[chunk : chunk + 200])
            )
        ).all()
        found += [(n, row_text(n, o, opt)) for n, o, opt in rows]
    return found


def _in_force(at: int) -> Select[str, str, str]:
    """Preselection rows in force at version `at`: opened by a version at or before it,
    not closed by one at or before it."""
    opened, closed = aliased(routing_versions), aliased(routing_versions)
    p = preselections.c
    return (
        select(p.number, p.operator_id, p.option)
        .join(opened, opened.c.order_id == p.order_id)
        .outerjoin(closed, closed.c.order_id == p.closed_by_order)
        .where(opened.c.version <= at, or_(closed.c.version.is_(None), closed.c.version > at))
    )


def rows_at(session: Session, *, at: int, numbers: Sequence[str] | None = None) -> list[RoutingRow]:
    """The table as version `at` had it (of the numbers given, or all), sorted by number."""
    query = _in_force(at)
    if numbers is not None:
        if not numbers:
            return []
        query = query.where(among(session, preselections.c.number, list(numbers)))
    rows = session.execute(query.order_by(preselections.c.number))
    return [RoutingRow(n, o, Option(opt)) for n, o, opt in rows]


def changed_between(session: Session, *, after: int, upto: int) -> list[str]:
    """The numbers whose row some version in (after, upto] changed, sorted."""
    v = routing_versions.c
    p = preselections.c
    window = and_(v.version > after, v.version <= upto)
    opened = select(p.number).join(routing_versions, v.order_id == p.order_id).where(window)
    closed = select(p.number).join(routing_versions, v.order_id == p.closed_by_order).where(window)
    rows = session.execute(union(opened, closed))
    return sorted(r[0] for r in rows)
