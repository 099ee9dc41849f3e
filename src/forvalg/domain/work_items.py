"""Work items: "no work item, no data".

A staff member reading competitor-derived data names the work item that needs it: the
order being worked, a fault ticket, a settlement run, a regulator's inquiry, a
subscriber's request, or a compliance audit. The wall checks that what was touched
belongs to it: the line is on the ticket, the order is the one being worked, the
operator is the one being invoiced. That turns explaining an access afterwards into
preventing it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class WorkItemKind(StrEnum):
    ORDER = "order"  # an order being worked; its id is the order's id
    FAULT_TICKET = "fault_ticket"  # names the lines at fault
    SETTLEMENT_RUN = "settlement_run"  # one operator, one period
    INQUIRY = "inquiry"  # a regulator's question, with a period and a deadline
    SUBSCRIBER_REQUEST = "subscriber_request"  # a subscriber asking about their own line
    AUDIT = "audit"  # a compliance or regulatory audit of the ledger

    @property
    def prefix(self) -> str:
        return _PREFIXES[self]


_PREFIXES = {
    WorkItemKind.ORDER: "o",
    WorkItemKind.FAULT_TICKET: "FT-",
    WorkItemKind.SETTLEMENT_RUN: "SR-",
    WorkItemKind.INQUIRY: "INQ-",
    WorkItemKind.SUBSCRIBER_REQUEST: "SUB-",
    WorkItemKind.AUDIT: "AUD-",
}
# Kinds bound to lines: what they cover is exactly their lines.
LINE_BOUND = frozenset(
    {WorkItemKind.ORDER, WorkItemKind.FAULT_TICKET, WorkItemKind.SUBSCRIBER_REQUEST}
)
_REFERENCE = re.compile(r"^(o[0-9A-Z]{26}|(FT|SR|INQ|SUB|AUD)-[0-9a-f]{12})$")


def is_reference(text: str) -> bool:
    """Whether `text` is shaped like a work item id (an order id or `FT-<12 hex>`, ...)."""
    return bool(_REFERENCE.match(text))


@dataclass(frozen=True, slots=True)
class WorkItem:
    id: str
    kind: WorkItemKind
    summary: str
    opened_by: str
    opened_at: datetime
    lines: frozenset[str] = frozenset()
    operator_id: str | None = None
    period: str | None = None  # YYYY-MM
    due_at: datetime | None = None
    closed_at: datetime | None = None

    def uncovered(self, numbers: Iterable[str], operators: Iterable[str] = ()) -> str | None:
        """Why the data touched does not belong to this work item, or None if it does."""
        if self.closed_at is not None:
            return f"work item {self.id} is closed"
        if self.kind in LINE_BOUND:
            outside = sorted(set(numbers) - self.lines)
            if outside:
                return f"{len(outside)} line(s) touched are not on {self.kind} {self.id}"
        if self.kind is WorkItemKind.SETTLEMENT_RUN:
            others = sorted(set(operators) - {self.operator_id})
            if others:
                return f"operator(s) {', '.join(others)} are not invoiced by {self.id}"
        return None
