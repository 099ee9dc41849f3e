"""Guarded reads of what routes calls: the bulk reads of a rating run, and one call's
route for someone working a line.

A rating run reads the whole preselection history (every line that ever had
preselection is a subject: the ledger entry carries their count and digest, the subject
index their pseudonyms) and the allocated, active carrier selection codes, in one
decision each for the whole job. `route` answers, for one line, where a call dialled at
an instant must go, with the same `routing.route` the rating engine is held equal to.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

import pyarrow as pa

from forvalg.domain.categories import Category
from forvalg.domain.numbering import NumberingPlan
from forvalg.domain.reasons import ReasonCode
from forvalg.domain.routing import Route, route
from forvalg.store import operators as operator_store
from forvalg.store import preselections as preselection_store
from forvalg.wall.policy import Action, Scope, View

if TYPE_CHECKING:
    from forvalg.wall.guard import Guard


class GuardedTraffic:
    def __init__(self, guard: Guard) -> None:
        self._g = guard

    def preselection_history(self) -> pa.Table:
        """Every preselection period, for judging calls by the routing valid at their time:
        only for a grant that reaches every row, unmasked."""
        permit = self._g.permit(Action.READ, Category.ROUTING)
        if permit.scope is not Scope.ALL or permit.view is not View.FULL:
            self._g.refuse(permit, ReasonCode.E_FORBIDDEN, "the whole history needs scope all")
        table = preselection_store.history(self._g.session)
        numbers = table.column("number").unique().to_pylist()
        self._g.record(permit, (str(n) for n in numbers))
        return table

    def carrier_codes(self) -> dict[str, str]:
        """Allocated carrier selection codes of operators with an active agreement."""
        self._g.authorize(Action.READ, Category.OPERATOR)
        found = operator_store.get_operators(self._g.session)
        return {op.csc: op.id for op in found.values() if op.agreement_active}

    def route(self, number: str, dialled: str, at: datetime, plan: NumberingPlan) -> Route:
        """Where a call from `number` dialling `dialled` at `at` must go, and why. Every
        decision comes first, so a refusal says nothing about the line. The order behind a
        preselection is order data: an unmasked view must also be granted `cps.order`
        (billing, whose settlement runs are not bound to lines, is not); a view that
        masks orders (network provisioning's routing view, a subscriber's status) gets no
        order id."""
        g = self._g
        permit = g.authorize(Action.READ, Category.ROUTING, [number])
        g.authorize(Action.READ, Category.OPERATOR, [number])
        if permit.view is View.FULL:
            g.authorize(Action.READ, Category.ORDER, [number])
        found = preselection_store.valid_at(g.session, number=number, at=at)
        codes = {
            op.csc: op.id
            for op in operator_store.get_operators(g.session).values()
            if op.agreement_active
        }
        decided = route(dialled, plan=plan, carrier_codes=codes, preselection=found)
        return decided if permit.view is View.FULL else replace(decided, order_id=None)
