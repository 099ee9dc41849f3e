"""Guarded bulk reads for rating and settlement: one decision for the whole job.

A rating run reads the whole preselection history (every line that ever had
preselection is a subject: the ledger entry carries their count and digest, the subject
index their pseudonyms) and the allocated, active carrier selection codes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from forvalg.domain.categories import Category
from forvalg.store import operators as operator_store
from forvalg.store import preselections as preselection_store
from forvalg.wall.policy import Action

if TYPE_CHECKING:
    from forvalg.wall.guard import Guard


class GuardedTraffic:
    def __init__(self, guard: Guard) -> None:
        self._g = guard

    def preselection_history(self) -> pa.Table:
        """Every preselection period, for judging calls by the routing valid at their time."""
        permit = self._g.permit(Action.READ, Category.ROUTING)
        table = preselection_store.history(self._g.session)
        numbers = table.column("number").unique().to_pylist()
        self._g.record(permit, (str(n) for n in numbers))
        return table

    def carrier_codes(self) -> dict[str, str]:
        """Allocated carrier selection codes of operators with an active agreement."""
        self._g.authorize(Action.READ, Category.OPERATOR)
        found = operator_store.get_operators(self._g.session)
        return {op.csc: op.id for op in found.values() if op.agreement_active}
