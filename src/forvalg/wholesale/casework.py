"""Casework: wholesale staff looking at one line or one order, for the work item that
needs it. Network provisioning sees the same line through its routing mask; retail sees
nothing at all (the policy forbids it, and the wall never reaches the store)."""

from __future__ import annotations

from datetime import datetime

from forvalg.domain.lines import LineView
from forvalg.domain.numbering import NumberingPlan
from forvalg.domain.orders import Order
from forvalg.domain.routing import Route
from forvalg.wall import Principal, Purpose, Wall
from forvalg.wall.principals import Statement
from forvalg.wholesale.orders import OrderNotFound


class Casework:
    def __init__(self, wall: Wall) -> None:
        self._wall = wall

    def line(self, principal: Principal, stated: Statement, number: str) -> LineView:
        with self._wall.access_for(principal, stated, Purpose.PROVISIONING) as guard:
            return guard.lines.view(number)

    def route(
        self,
        principal: Principal,
        stated: Statement,
        number: str,
        dialled: str,
        at: datetime,
        plan: NumberingPlan | None = None,
    ) -> Route:
        """Where a call from the line must go (a fault: "my calls go to the wrong
        carrier"), by the preselection valid at `at`: the rating engine's own rule."""
        with self._wall.access_for(principal, stated, Purpose.FAULT_REPAIR) as guard:
            return guard.traffic.route(number, dialled, at, plan or NumberingPlan())

    def order(self, principal: Principal, stated: Statement, order_id: str) -> Order:
        """The order with its history; `OrderNotFound` if there is none."""
        with self._wall.access_for(principal, stated, Purpose.PROVISIONING) as guard:
            found = guard.orders.get(order_id)
        if found is None:
            raise OrderNotFound(order_id)
        return found
