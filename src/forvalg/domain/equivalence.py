"""Equivalence KPIs: how the incumbent treats one CPS operator's orders, counted so that the
same numbers can be put beside those of its own retail arm (docs/REPORT.md).

The UK's Equality of Access Board published lead times, rejection rates by reason and
cancellations for competitors against the incumbent's retail (DOMAIN.md). Here one
`OrderOutcome` is what a KPI needs to know of one order, no number and no customer, and
`tally` turns many into counts. The wall tallies forvalg's orders before anything leaves
it, and the report tallies the retail file's rows with the same function, so the two
sides are counted alike by construction.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from forvalg.domain.calendar import WorkingCalendar
from forvalg.domain.orders import OrderState, OrderType

# Orders whose completion changes a line: the lead time is measured on these only (a
# CANCEL_OTHER completes at once and would pull every percentile to zero).
LEAD_TIME_TYPES = frozenset(
    t.value for t in (OrderType.PROVIDE, OrderType.TRANSFER, OrderType.MODIFY, OrderType.CEASE)
)


@dataclass(frozen=True, slots=True)
class OrderOutcome:
    """One order as the KPIs see it. `cutoff_miss`: a cancel request for it came after the
    cut-off and was refused (how each source knows that: docs/REPORT.md)."""

    type: str
    state: str
    reason_code: str | None
    received_at: datetime
    completed_at: datetime | None = None
    due_date: date | None = None
    cutoff_miss: bool = False


@dataclass
class KpiTally:
    """Counts over the orders received in a period (a cohort), as of the report."""

    received: int = 0
    completed: int = 0
    open: int = 0
    rejected: int = 0
    cancelled: int = 0
    cutoff_misses: int = 0
    rejections: Counter[str] = field(default_factory=Counter)  # reason code -> orders
    cancellations: Counter[str] = field(default_factory=Counter)  # reason code -> orders
    lead_days: Counter[int] = field(default_factory=Counter)  # working days -> orders
    on_due_date: int = 0
    before_due_date: int = 0
    after_due_date: int = 0

    def add(self, outcome: OrderOutcome, calendar: WorkingCalendar) -> None:
        self.received += 1
        self.cutoff_misses += outcome.cutoff_miss
        state = outcome.state
        if state == OrderState.REJECTED.value:
            self.rejected += 1
            self.rejections[outcome.reason_code or "UNKNOWN"] += 1
        elif state == OrderState.CANCELLED.value:
            self.cancelled += 1
            self.cancellations[outcome.reason_code or "UNKNOWN"] += 1
        elif state == OrderState.COMPLETED.value and outcome.completed_at is not None:
            self.completed += 1
            if outcome.type not in LEAD_TIME_TYPES:
                return
            received = calendar.local_date(outcome.received_at)
            done = calendar.local_date(outcome.completed_at)
            self.lead_days[working_days_between(calendar, received, done)] += 1
            if outcome.due_date is not None:
                if done == outcome.due_date:
                    self.on_due_date += 1
                elif done < outcome.due_date:
                    self.before_due_date += 1
                else:
                    self.after_due_date += 1
        else:
            self.open += 1

    @property
    def measured(self) -> int:
        """Completed orders whose lead time is measured."""
        return sum(self.lead_days.values())


def tally(outcomes: Iterable[OrderOutcome], calendar: WorkingCalendar) -> KpiTally:
    found = KpiTally()
    for outcome in outcomes:
        found.add(outcome, calendar)
    return found


def working_days_between(calendar: WorkingCalendar, start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 if `end` is not after it):
    an order received on day D and completed on its due date D + 10 working days took 10."""
    if end <= start:
        return 0
    days, day = 0, start
    while day < end:
        day = calendar.add_working_days(day, 1)
        if day <= end:
            days += 1
    return days


def percentile(histogram: Mapping[int, int], q: float) -> int | None:
    """The nearest-rank `q`-th percentile (0 < q <= 100) of the values a histogram counts
    (value -> how many); None when it counts nothing. Lead times are whole working days,
    so the answer is one of the values, never an interpolation between two."""
    if not 0 < q <= 100:
        raise ValueError(f"percentile {q} is not in (0, 100]")
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = math.ceil(round(q * total / 100, 9))  # rounded first: 90% of 10 is 9, not 9.0..2
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    return max(histogram)  # pragma: no cover - the loop always returns
