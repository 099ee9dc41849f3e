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
    QUEUE = "queue"  # wholesale operations working their queue (docs/WEB.md): no lines

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
    WorkItemKind.QUEUE: "WQ-",
}
# Kinds bound to lines: what they cover is exactly their lines.
LINE_BOUND = frozenset(
    {WorkItemKind.ORDER, WorkItemKind.FAULT_TICKET, WorkItemKind.SUBSCRIBER_REQUEST}
)
_REFERENCE = re.compile(r"^(o[0-9A-Z]{26}|(FT|SR|INQ|SUB|AUD|WQ)-[0-9a-f]{12})$")


def kind_of(reference: str) -> WorkItemKind | None:
    """The kind a work item id claims by its shape (an order id, `FT-<12 hex>`, ...), or
    None if it is not shaped like one. Read without looking anything up, so the policy
    can refuse a kind before anyone learns whether such an item exists."""
    if not _REFERENCE.match(reference):
        return None
    return next(k for k in WorkItemKind if reference.startswith(k.prefix))


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
        """Why the data touched does not belong to this work item, or None if it does.
        `operators` are the operators whose data was touched (settlement names the
        operators it invoices). A settlement run naming no operator is a whole period's
        run, opened by `forvalg settle`: it covers every operator it invoices."""
        if self.closed_at is not None:
            return f"work item {self.id} is closed"
        if self.kind in LINE_BOUND:
            outside = sorted(set(numbers) - self.lines)
            if outside:
                return f"{len(outside)} line(s) touched are not on {self.kind} {self.id}"
        if self.kind is WorkItemKind.SETTLEMENT_RUN and self.operator_id is not None:
            others = sorted(set(operators) - {self.operator_id})
            if others:
                return f"operator(s) {', '.join(others)} are not invoiced by {self.id}"
        return None


class InvalidWorkItem(ValueError):
    """A work item that cannot be opened; `field` names the field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# What each kind opened by staff must name, beyond a summary.
NEEDS_LINES = frozenset({WorkItemKind.FAULT_TICKET})
NEEDS_OPERATOR = frozenset({WorkItemKind.SETTLEMENT_RUN})
NEEDS_PERIOD = frozenset({WorkItemKind.SETTLEMENT_RUN, WorkItemKind.INQUIRY})
NEEDS_DEADLINE = frozenset({WorkItemKind.INQUIRY})
MAX_LINES = 100
_PERIOD = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


def new_work_item(
    item_id: str,
    kind: WorkItemKind,
    *,
    summary: str,
    opened_by: str,
    opened_at: datetime,
    lines: Iterable[str] = (),
    operator_id: str | None = None,
    period: str | None = None,
    due_at: datetime | None = None,
) -> WorkItem:
    """A new work item, or `InvalidWorkItem` naming the field that is missing or wrong.
    Orders are work items by themselves and are not opened here."""
    if kind is WorkItemKind.ORDER:
        raise InvalidWorkItem("kind", "an order is a work item already: name its id")
    summary = summary.strip()
    if not summary or len(summary) > 2000:
        raise InvalidWorkItem("summary", "the summary must be 1-2000 characters")
    numbers = frozenset(lines)
    if kind in NEEDS_LINES and not numbers:
        raise InvalidWorkItem("lines", f"a {kind} names the lines it is about")
    if len(numbers) > MAX_LINES:
        raise InvalidWorkItem("lines", f"at most {MAX_LINES} lines per work item")
    if kind in NEEDS_OPERATOR and not operator_id:
        raise InvalidWorkItem("operator", f"a {kind} names the operator concerned")
    if kind in NEEDS_PERIOD and not (period and _PERIOD.match(period)):
        raise InvalidWorkItem("period", f"a {kind} names its period as YYYY-MM")
    if kind in NEEDS_DEADLINE and (due_at is None or due_at <= opened_at):
        raise InvalidWorkItem("due_at", f"a {kind} has a deadline in the future")
    return WorkItem(
        id=item_id,
        kind=kind,
        summary=summary,
        opened_by=opened_by,
        opened_at=opened_at,
        lines=numbers,
        operator_id=operator_id,
        period=period,
        due_at=due_at,
    )
