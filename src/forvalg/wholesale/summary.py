"""Counts across the order desk for the demo and the operations summary (no rows leave)."""

from __future__ import annotations

from dataclasses import dataclass

from forvalg.wall import Purpose, Wall
from forvalg.wall.principals import REPORTER


@dataclass(frozen=True)
class DeskSummary:
    orders_by_state: dict[str, int]
    rejections: dict[str, int]
    preselections_by_operator: dict[str, int]
    events_by_type: dict[str, int]
    customer_letters: int
    access_decisions: dict[str, int]


def summarise(wall: Wall) -> DeskSummary:
    with wall.access(REPORTER, Purpose.COMPLIANCE_AUDIT, "desk-summary") as guard:
        events, letters = guard.outbox.summary()
        states, rejections = guard.orders.counts()
        return DeskSummary(
            orders_by_state=states,
            rejections=rejections,
            preselections_by_operator=guard.lines.count_preselections(),
            events_by_type=events,
            customer_letters=letters,
            access_decisions=guard.ledger.decisions(),
        )
