"""The wholesale work queue: what needs a human.

Wholesale operations work order exceptions and faults. Their queue lists the work items
they opened that are still open, and the orders a person should look at: those rejected
lately (the operator may want help with the reason) and those stuck (the processor
should have moved them and has not). The orders are shown in the queue view: id, type,
state, reason code, operator and times; never the number, the postcode or anything else
about the line, so the list says nothing about any subscriber. Working one of them is a
read of its own, under the order as work item.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from forvalg.domain.orders import OrderState, OrderType
from forvalg.domain.reasons import ReasonCode
from forvalg.domain.work_items import WorkItemKind

# States an order can be stuck in: the processor still has a step to take.
PENDING_STATES = frozenset({OrderState.RECEIVED, OrderState.VALIDATED, OrderState.COMMITTED})
MAX_REJECTED_DAYS = 90
MAX_STUCK_MINUTES = 24 * 60
MAX_ROWS = 200


class InvalidWindow(ValueError):
    """A queue window that cannot be used; `field` names the parameter at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class QueueWindow:
    """Which orders count as needing attention: rejected in the last `rejected_days`
    days, or stuck more than `stuck_minutes` past their processing instant (intake at
    receipt for RECEIVED and VALIDATED, the switch instant of the due date for
    COMMITTED); at most `limit` rows of each."""

    rejected_days: int = 7
    stuck_minutes: int = 5
    limit: int = 50

    def __post_init__(self) -> None:
        if not 1 <= self.rejected_days <= MAX_REJECTED_DAYS:
            raise InvalidWindow("rejected_days", f"must be 1-{MAX_REJECTED_DAYS} days")
        if not 0 <= self.stuck_minutes <= MAX_STUCK_MINUTES:
            raise InvalidWindow("stuck_minutes", f"must be 0-{MAX_STUCK_MINUTES} minutes")
        if not 1 <= self.limit <= MAX_ROWS:
            raise InvalidWindow("limit", f"must be 1-{MAX_ROWS} rows")

    def rejected_since(self, now: datetime) -> datetime:
        return now - timedelta(days=self.rejected_days)

    def overdue_before(self, now: datetime) -> datetime:
        """An order whose processing instant is before this is stuck."""
        return now - timedelta(minutes=self.stuck_minutes)


@dataclass(frozen=True, slots=True)
class QueuedOrder:
    """An order in the queue view: no number, no line, nothing about the subscriber."""

    id: str
    type: OrderType
    operator_id: str
    state: OrderState
    reason_code: ReasonCode | None
    created_at: datetime
    updated_at: datetime
    due_date: date | None = None
    due_at: datetime | None = None  # the processing instant it waits for (pending only)

    def age(self, now: datetime) -> timedelta:
        """Since when it needs attention: its rejection, or the instant it was due."""
        since = self.due_at if self.due_at is not None else self.updated_at
        return max(now - since, timedelta(0))


def is_stuck(state: OrderState, due_at: datetime | None, *, now: datetime, grace: int) -> bool:
    """Whether an order in `state`, due for processing at `due_at`, is more than `grace`
    minutes late: the rule the store's query applies (`store/work_queue.py`)."""
    if state not in PENDING_STATES or due_at is None:
        return False
    return due_at < now - timedelta(minutes=grace)


@dataclass(frozen=True, slots=True)
class OpenItem:
    """A work item of mine that is still open: what it is and how many lines it names,
    not which."""

    id: str
    kind: WorkItemKind
    summary: str
    opened_at: datetime
    lines: int


@dataclass(frozen=True, slots=True)
class OrdersNeedingAttention:
    """Rejected and stuck orders: all of them counted, the first `limit` of each listed
    (rejected newest first, stuck longest overdue first)."""

    rejected: list[QueuedOrder] = field(default_factory=list)
    stuck: list[QueuedOrder] = field(default_factory=list)
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    stuck_by_state: dict[str, int] = field(default_factory=dict)

    @property
    def rejected_count(self) -> int:
        return sum(self.rejected_by_reason.values())

    @property
    def stuck_count(self) -> int:
        return sum(self.stuck_by_state.values())


@dataclass(frozen=True, slots=True)
class WorkQueue:
    """One listing of the queue, as of `at`, under the queue work item `work_item`."""

    at: datetime
    work_item: str
    window: QueueWindow
    items: list[OpenItem]
    orders: OrdersNeedingAttention
