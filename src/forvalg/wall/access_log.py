"""The access log searched behind the wall (`domain.access_log`, `store.ledger_search`).

A search is one decision on `ledger.access`, ledgered in the search's own unit of work
before any entry leaves it. With a line filter the decision names the line (as its
pseudonym, like every entry), so the line's subscriber, who sees every entry that
touched their line, sees that compliance searched for it. The grant must reach every
row (`Scope.ALL`): an own-rows grant (a subscriber's) reads its line's entries through
`guard.ledger.touching`, never a search.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from forvalg.domain.access_log import AccessLogQuery, LoggedAccess
from forvalg.domain.categories import Category
from forvalg.domain.reasons import ReasonCode
from forvalg.store import ledger as ledger_store
from forvalg.store import ledger_search
from forvalg.wall.policy import Action, Scope

if TYPE_CHECKING:
    from forvalg.wall.guard import Guard


class GuardedAccessLog:
    def __init__(self, guard: Guard) -> None:
        self._g = guard

    def search(self, query: AccessLogQuery) -> tuple[int, list[LoggedAccess], int | None]:
        """(the tree's size searched, the entries found newest first, the index to
        continue below or None)."""
        g = self._g
        permit = g.permit(Action.READ, Category.ACCESS_LOG)
        if permit.scope is not Scope.ALL:
            g.refuse(permit, ReasonCode.E_FORBIDDEN, "a search reads the whole log")
        size = ledger_store.head(g.session).size
        pseudonym = None if query.line is None else g.wall.pseudonymiser.pseudonyms(query.line)
        found, more = ledger_search.search(g.session, query=query, pseudonym=pseudonym, size=size)
        g.record(permit, [] if query.line is None else [query.line])
        return size, found, more
