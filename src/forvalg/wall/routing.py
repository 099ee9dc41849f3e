"""The routing table behind the wall: its versions, and the table or delta an export needs.

Everything here is category `cps.routing` and reads the table at large, so only a grant
that reaches every row (scope all) may use it: the rating engine reading the versions,
the exporter writing files for the exchanges. An export is one decision whose subjects
are every line it reads, so a subscriber's transparency page shows each export that
carried their line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from forvalg.domain.categories import Category
from forvalg.domain.reasons import ReasonCode
from forvalg.domain.routing_table import (
    DeltaRow,
    RoutingRow,
    RoutingTableCorrupt,
    RoutingVersion,
    delta,
)
from forvalg.store import routing as routing_store
from forvalg.wall.policy import Action, Scope

if TYPE_CHECKING:
    from forvalg.wall.guard import Guard, Permit


class UnknownVersion(LookupError):
    """A routing table version that does not exist (yet)."""


class SinceAfterVersion(ValueError):
    """A delta asked from a version after the one it should lead to."""


@dataclass(frozen=True, slots=True)
class TableAt:
    """The table at `version`, sorted by number, and, when asked, the delta from `base`."""

    version: RoutingVersion
    rows: list[RoutingRow]
    base: RoutingVersion | None = None
    delta: list[DeltaRow] | None = None


class GuardedRouting:
    def __init__(self, guard: Guard) -> None:
        self._g = guard

    def _whole(self) -> Permit:
        permit = self._g.permit(Action.READ, Category.ROUTING)
        if permit.scope is not Scope.ALL:
            self._g.refuse(permit, ReasonCode.E_FORBIDDEN, "the routing table is not own rows")
        return permit

    def versions(self) -> list[RoutingVersion]:
        """Every version of the table, version 0 (the empty table) first: numbers,
        content hashes, effective instants, orders and row counts, no line."""
        permit = self._whole()
        found = routing_store.versions(self._g.session)
        self._g.record(permit, ())
        return found

    def versions_between(self, *, start: datetime, end: datetime) -> list[RoutingVersion]:
        """The versions in force from an instant in [start, end): no line."""
        permit = self._whole()
        found = routing_store.versions_between(self._g.session, start=start, end=end)
        self._g.record(permit, ())
        return found

    def table(self, version: int | None = None, *, since: int | None = None) -> TableAt:
        """The full table at `version` (default: the latest) and, with `since`, the delta
        that turns the table at `since` into it. One decision; its subjects are the
        lines read."""
        g = self._g
        permit = self._whole()
        session = g.session
        at = routing_store.head(session) if version is None else self._version(version)
        rows = routing_store.rows_at(session, at=at.version)
        if len(rows) != at.rows:
            raise RoutingTableCorrupt(
                f"version {at.version} has {at.rows} rows, the preselections give {len(rows)}"
            )
        base, changes, touched = None, None, []
        if since is not None:
            if since > at.version:
                raise SinceAfterVersion(f"version {since} is after version {at.version}")
            base = self._version(since)
            touched = routing_store.changed_between(session, after=since, upto=at.version)
            before = routing_store.rows_at(session, at=since, numbers=touched)
            after = routing_store.rows_at(session, at=at.version, numbers=touched)
            changes = delta(before, after)
        g.record(permit, [r.number for r in rows] + touched)
        return TableAt(at, rows, base, changes)

    def _version(self, number: int) -> RoutingVersion:
        found = routing_store.version(self._g.session, number=number)
        if found is None:
            raise UnknownVersion(f"no routing table version {number}")
        return found
