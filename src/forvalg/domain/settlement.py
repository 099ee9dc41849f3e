"""Settlement's business rules: the billing period, minutes, and what is billed to whom.

A call belongs to period `YYYY-MM` when its answer time (`start_utc`) falls in that
calendar month *in Europe/Oslo*: from 00:00 Oslo time on the 1st (inclusive) to 00:00
Oslo time on the 1st of the next month (exclusive). So a call at 23:30 UTC on 31 October
is a November call (00:30 Oslo), and the months that change clocks are an hour shorter
(March) or longer (October) than their days say.

An operator is billed for the calls the rating engine routed to it (`route_reason`
`CSC` or `CPS`, `expected_carrier` the operator). Minutes are seconds / 60, rounded
half-even to 2 places; charges are exact decimal sums of the rated rows, 4 places.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from forvalg.domain.routing import RouteReason
from forvalg.domain.work_items import WorkItem, WorkItemKind

OSLO = ZoneInfo("Europe/Oslo")
_PERIOD = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
CHARGE_PLACES = Decimal("0.0001")


# The calls an operator is billed for: those routed to it by prefix or preselection.
BILLED = frozenset({RouteReason.CSC, RouteReason.CPS})


class InvalidPeriod(ValueError):
    """A period that is not a month written as YYYY-MM."""


@dataclass(frozen=True, slots=True)
class Period:
    """A billing month and the UTC instants it runs between: [start, end)."""

    month: str  # YYYY-MM
    start: datetime  # 00:00 Oslo on the 1st, in UTC
    end: datetime  # 00:00 Oslo on the 1st of the next month, in UTC

    @classmethod
    def parse(cls, text: str) -> Period:
        found = _PERIOD.match(text)
        if found is None:
            raise InvalidPeriod(f"{text!r} is not a month written as YYYY-MM (e.g. 2026-11)")
        year, month = int(found.group(1)), int(found.group(2))
        if not 1970 <= year <= 9998:
            raise InvalidPeriod(f"{text!r} is not a month between 1970-01 and 9998-12")
        following = (year + 1, 1) if month == 12 else (year, month + 1)
        return cls(
            month=text,
            start=datetime(year, month, 1, tzinfo=OSLO).astimezone(UTC),
            end=datetime(*following, 1, tzinfo=OSLO).astimezone(UTC),
        )

    def __contains__(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


def minutes(seconds: int) -> Decimal:
    """seconds / 60 to 2 places, rounded half-even, in integer arithmetic (exact for any
    count). A tie cannot occur: seconds * 100 / 60 = seconds * 5 / 3 never ends in .5."""
    if seconds < 0:
        raise ValueError("seconds must not be negative")
    hundredths, rest = divmod(seconds * 5, 3)
    if rest * 2 > 3 or (rest * 2 == 3 and hundredths % 2):
        hundredths += 1
    return Decimal(hundredths).scaleb(-2)


def money(amount: Decimal) -> str:
    """An amount in NOK, as the statement writes it: fixed point, 4 places, no exponent."""
    exact = amount.quantize(CHARGE_PLACES)
    if exact != amount:
        raise ValueError(f"{amount} has more than 4 decimal places")
    return f"{exact:f}"


def fixed(value: Decimal) -> str:
    """A decimal written in fixed point (no exponent), as it is."""
    return f"{value:f}"


@dataclass(frozen=True, slots=True)
class FiledStatement:
    """A statement as filed: its JSON body (the bytes of DIR/<operator>.json, as text),
    their SHA-256, and which settlement run filed it as which version."""

    operator_id: str
    period: str  # YYYY-MM
    version: int
    run_id: str
    body: str
    sha256: str
    csv_sha256: str
    created_at: datetime


def period_run(
    item_id: str, period: Period, *, summary: str, opened_by: str, opened_at: datetime
) -> WorkItem:
    """The settlement run `forvalg settle` opens for a whole period: it names the period
    and no single operator, and so covers every operator it invoices (a run staff open
    names one operator and covers that one only)."""
    if not item_id.startswith(WorkItemKind.SETTLEMENT_RUN.prefix):
        raise ValueError(f"{item_id!r} is not a settlement run's id")
    return WorkItem(
        id=item_id,
        kind=WorkItemKind.SETTLEMENT_RUN,
        summary=summary,
        opened_by=opened_by,
        opened_at=opened_at,
        period=period.month,
    )
