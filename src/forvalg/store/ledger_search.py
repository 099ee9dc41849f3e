"""The access log searched: entries of the tree that pass a compliance officer's filters,
newest first (`domain.access_log`).

The entries are stored as their canonical JSON text (the leaf data), so the filters are
JSON field lookups in SQL: `json_extract` on SQLite, `jsonb` operators on PostgreSQL.
SQL narrows; each candidate is then checked in Python by the domain's own rule
(`LoggedAccess.matches`), so what a page holds is exactly what the filters say even where
SQL is only approximate: time bounds are compared as ISO text widened by a day (an entry
stamped in another zone than UTC still sorts within a day of its instant), and the
break-glass marker and the roles are matched as text. The line filter goes through the
subject index (`ledger_subjects`, `ledger_subject_sets`), as the subscriber's view does,
so bulk decisions whose subject set holds the line are found too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, cast, func, select
from sqlalchemy.dialects.postgresql import JSONB

from forvalg.domain.access_log import BREAK_GLASS, AccessLogQuery, LoggedAccess
from forvalg.store.bulk import dialect_name
from forvalg.store.ledger import Db, touched_by
from forvalg.store.tables import ledger_entries, ledger_subjects

_SLACK = timedelta(days=1)  # more than any zone's offset from UTC
_CHUNK = 500


def _like(text: str) -> str:
    """`text` as a LIKE pattern that matches it anywhere, wildcards escaped with `\\`."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class _Fields:
    """The event's fields as SQL expressions, per dialect."""

    def __init__(self, dialect: str) -> None:
        self._postgres = dialect == "postgresql"

    def text(self, name: str) -> ColumnElement[Any]:
        entry = ledger_entries.c.entry
        if self._postgres:
            found: ColumnElement[Any] = cast(entry, JSONB)[("event", name)].astext
            return found
        return func.json_extract(entry, f"$.event.{name}")

    def has_role(self, role: str) -> ColumnElement[bool]:
        entry = ledger_entries.c.entry
        if self._postgres:
            return cast(entry, JSONB)[("event", "roles")].contains([role])
        roles = func.json_extract(entry, "$.event.roles")  # the array as JSON text
        return roles.like(_like(json.dumps(role, ensure_ascii=False)), escape="\\")


def _where(
    fields: _Fields, query: AccessLogQuery, pseudonym: str | Sequence[str] | None
) -> list[Any]:
    where: list[Any] = []
    exact = {
        "principal": query.principal,
        "purpose": query.purpose,
        "resource": query.category,
        "decision": query.decision,
        "work_item": query.work_item,
    }
    where += [fields.text(name) == value for name, value in exact.items() if value is not None]
    if query.role is not None:
        where.append(fields.has_role(query.role))
    if query.break_glass:  # "not break-glass" is left to the exact check
        where.append(fields.text("decision") == "allow")
        where.append(fields.text("reason").like(_like(BREAK_GLASS), escape="\\"))
    if query.since is not None:
        where.append(fields.text("at") >= (query.since - _SLACK).astimezone(UTC).isoformat())
    if query.until is not None:
        where.append(fields.text("at") < (query.until + _SLACK).astimezone(UTC).isoformat())
    if pseudonym is not None:
        touched = select(ledger_subjects.c.idx).where(touched_by(pseudonym))
        where.append(ledger_entries.c.idx.in_(touched))
    return where


def search(
    db: Db, *, query: AccessLogQuery, pseudonym: str | Sequence[str] | None, size: int
) -> tuple[list[LoggedAccess], int | None]:
    """Up to `query.limit` entries below `size` (and below `query.before`) passing every
    filter, newest first, and the index to continue below (None: nothing further).
    `pseudonym` is the line filter's pseudonym (or its pseudonyms under every key), if
    any."""
    where = _where(_Fields(dialect_name(db)), query, pseudonym)
    upper = size if query.before is None else min(size, query.before)
    found: list[LoggedAccess] = []
    while upper > 0 and len(found) < query.limit:
        rows = db.execute(
            select(ledger_entries.c.idx, ledger_entries.c.entry)
            .where(and_(ledger_entries.c.idx < upper, *where))
            .order_by(ledger_entries.c.idx.desc())
            .limit(_CHUNK)
        ).all()
        for idx, entry in rows:
            hit = LoggedAccess(idx, json.loads(entry)["event"])
            if hit.matches(query):
                found.append(hit)
                if len(found) == query.limit:
                    return found, (idx if idx > 0 else None)
        if len(rows) < _CHUNK:
            break
        upper = rows[-1][0]
    return found, None
