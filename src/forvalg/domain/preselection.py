"""A line's preselection: which CPS operator carries which calls, from when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from forvalg.domain.orders import Option


@dataclass(frozen=True, slots=True)
class Preselection:
    number: str
    operator_id: str
    option: Option
    valid_from: datetime
    order_id: str
    valid_to: datetime | None = None  # None while it lasts


@dataclass(frozen=True, slots=True)
class Opened:
    """A new preselection period starts (valid_from = the switch instant)."""

    preselection: Preselection


@dataclass(frozen=True, slots=True)
class Closed:
    """The line's current preselection period ends at `valid_to`, because of `order_id`."""

    number: str
    operator_id: str
    valid_to: datetime
    order_id: str
