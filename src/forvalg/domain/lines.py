"""The incumbent's line inventory: line types and statuses, and which lines can take CPS."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from forvalg.domain.numbers import national_number
from forvalg.domain.reasons import ReasonCode


class LineType(StrEnum):
    PSTN = "PSTN"
    ISDN_BRA = "ISDN_BRA"
    ISDN_PRA = "ISDN_PRA"
    PAYPHONE = "PAYPHONE"


ELIGIBLE_LINE_TYPES = frozenset({LineType.PSTN, LineType.ISDN_BRA})

WLR_PREFIX = "WLR:"
_POSTCODE = re.compile(r"[0-9]{4}")


class InvalidLine(ValueError):
    """A line record with a bad field; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Line:
    number: str
    postcode: str
    line_type: LineType
    status: str  # ACTIVE, CEASED or WLR:<operator>

    @property
    def is_active(self) -> bool:
        return self.status != "CEASED"

    @property
    def wholesale_rented(self) -> bool:
        return self.status.startswith(WLR_PREFIX)


def parse_line(number: str, postcode: str, line_type: str, status: str) -> Line:
    """Build a `Line` from inventory text, raising `InvalidLine` naming the bad field."""
    try:
        national_number(number)
    except ValueError as exc:
        raise InvalidLine("number", str(exc)) from None
    if not _POSTCODE.fullmatch(postcode):
        raise InvalidLine("postcode", f"{postcode!r} is not a 4-digit postcode")
    try:
        kind = LineType(line_type)
    except ValueError:
        allowed = ", ".join(t.value for t in LineType)
        raise InvalidLine("line_type", f"{line_type!r} is not one of {allowed}") from None
    if status not in ("ACTIVE", "CEASED") and not (
        status.startswith(WLR_PREFIX) and len(status) > len(WLR_PREFIX)
    ):
        raise InvalidLine("status", f"{status!r} is not ACTIVE, CEASED or WLR:<operator>")
    return Line(number=number, postcode=postcode, line_type=kind, status=status)


def eligibility(line: Line | None) -> ReasonCode | None:
    """Why the line cannot take preselection, or None if it can. Never depends on who serves it."""
    if line is None:
        return ReasonCode.E_LINE_UNKNOWN
    if not line.is_active:
        return ReasonCode.E_LINE_NOT_ACTIVE
    if line.line_type not in ELIGIBLE_LINE_TYPES or line.wholesale_rented:
        return ReasonCode.E_LINE_NOT_ELIGIBLE
    return None


@dataclass(frozen=True, slots=True)
class LineView:
    """A line as one audience may see it; what the audience's view masks is None.

    full (wholesale operations): everything below. routing (network provisioning): the
    number, carrier selection code and option. status (the subscriber): whether the line
    has preselection, with whom, which option and since when.
    """

    number: str
    preselected: bool
    carrier_code: str | None = None  # the CSC the exchange routes to
    option: str | None = None
    operator_id: str | None = None
    operator_name: str | None = None
    since: datetime | None = None
    order_id: str | None = None  # the order that set up the current preselection
    open_order: str | None = None  # an order on the line not yet completed
    postcode: str | None = None
    line_type: str | None = None
    status: str | None = None
