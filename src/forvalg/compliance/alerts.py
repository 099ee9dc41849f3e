"""Compliance alerts: every denial and every break-glass access, raised by the wall."""

from __future__ import annotations

from forvalg.domain.alerts import Alert
from forvalg.wall import Principal, Purpose, Wall
from forvalg.wall.principals import Statement


class AlertDesk:
    def __init__(self, wall: Wall) -> None:
        self._wall = wall

    def page(
        self, principal: Principal, stated: Statement, *, after: int | None, limit: int
    ) -> list[Alert]:
        with self._wall.access_for(principal, stated, Purpose.COMPLIANCE_AUDIT) as guard:
            return guard.alerts.page(after=after, limit=limit)
