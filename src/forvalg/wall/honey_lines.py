"""Honey-lines behind the wall: compliance's secret (docs/DETECTION.md, "Honey-lines").

Only compliance's canary keeper writes them and only compliance's jobs read them; both
are decisions in the ledger like any other, naming the lines by pseudonym.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from forvalg.domain.categories import Category
from forvalg.domain.reasons import ReasonCode
from forvalg.store import honey_lines as honey_store
from forvalg.wall.policy import Action, Scope

if TYPE_CHECKING:
    from forvalg.wall.guard import Guard


class GuardedHoneyLines:
    def __init__(self, guard: Guard) -> None:
        self._g = guard

    def add(self, rows: Sequence[tuple[str, str, str]]) -> None:
        """Record honey-lines: (number, decoy order id, operator id) each."""
        g = self._g
        g.authorize(Action.WRITE, Category.CANARY, [number for number, _, _ in rows])
        honey_store.add(g.session, rows=rows, by=g.principal.id, at=g.wall.clock.now())

    def table(self) -> pa.Table:
        """Every honey-line (store.honey_lines.SCHEMA)."""
        g = self._g
        permit = g.permit(Action.READ, Category.CANARY)
        if permit.scope is not Scope.ALL:
            g.refuse(permit, ReasonCode.E_FORBIDDEN, "the honey-lines are read whole or not at all")
        found = honey_store.table(g.session)
        g.record(permit, found.column("number").to_pylist())
        return found
