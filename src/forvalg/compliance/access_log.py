"""Compliance searches the access log: by principal, role, purpose, category, decision,
break-glass, work item, time and line (`domain.access_log`), newest first, a page at a
time.

The search is compliance's tool, so it always reads for the purpose
`compliance_audit`, under the work item the officer names (an audit, `AUD-…`): the
policy grants that to compliance officers only, and anyone else — the regulator, who
reads the log through `/v1/log` for its own inspections, or wholesale staff — is refused,
the refusal ledgered. Each search is one ledgered decision. What is searched is the
tree: queued decisions are integrated first, so the page reflects every decision made
before the search.
"""

from __future__ import annotations

from dataclasses import dataclass

from forvalg.domain.access_log import AccessLogQuery, InvalidSearch, LoggedAccess
from forvalg.wall import Principal, Purpose, Wall
from forvalg.wall.ledger import LedgerKeeper
from forvalg.wall.principals import Statement

__all__ = ["AccessLogPage", "AccessLogQuery", "AccessLogSearch", "InvalidSearch", "LoggedAccess"]


@dataclass(frozen=True, slots=True)
class AccessLogPage:
    """One page of a search: entries of the tree of `size`, newest first; `more` is the
    index to pass as `before` for the next page (None: this was the last)."""

    size: int
    entries: list[LoggedAccess]
    more: int | None


class AccessLogSearch:
    def __init__(self, *, wall: Wall, keeper: LedgerKeeper) -> None:
        self._wall = wall
        self._keeper = keeper

    def search(
        self, principal: Principal, stated: Statement, query: AccessLogQuery
    ) -> AccessLogPage:
        self._keeper.integrate()
        with self._wall.access(
            principal,
            Purpose.COMPLIANCE_AUDIT,
            stated.work_item,
            break_glass=stated.break_glass,
        ) as guard:
            size, found, more = guard.access_log.search(query)
        return AccessLogPage(size, found, more)
