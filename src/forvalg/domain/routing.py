"""The routing decision for one call (DOMAIN.md, Routing).

1. Excluded numbers (emergency, 1xx, 116xxx, ...) stay with the incumbent.
2. A `15NN` prefix selects that operator, if the code is allocated and active; a code
   that is not, or a number after it that no carrier carries, makes the call INVALID
   (the exchange refuses it) and it stays with the incumbent.
3. Otherwise a preselected line's calls of a class its option covers go to its operator.
4. Everything else stays with the incumbent.

This is the scalar truth the batch engine (traffic/rating.py) must equal on every row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from forvalg.domain.numbering import CallClass, NumberingPlan, split_carrier_code
from forvalg.domain.orders import Option
from forvalg.domain.preselection import Preselection

INCUMBENT = "INCUMBENT"


class RouteReason(StrEnum):
    EXCLUDED = "EXCLUDED"
    CSC = "CSC"
    CPS = "CPS"
    DEFAULT = "DEFAULT"


_NATIONAL = frozenset(
    {
        CallClass.LOCAL_NATIONAL,
        CallClass.MOBILE,
        CallClass.FREEPHONE,
        CallClass.SHARED_COST,
        CallClass.PREMIUM,
    }
)
# The classes each preselection option carries (configurable by editing this table).
COVERS: Mapping[Option, frozenset[CallClass]] = {
    Option.ALL: _NATIONAL | {CallClass.INTERNATIONAL},
    Option.NATIONAL: _NATIONAL,
    Option.INTERNATIONAL: frozenset({CallClass.INTERNATIONAL}),
}
# Classes a carrier selection code can carry: anything a preselection could.
SELECTABLE = COVERS[Option.ALL]


def covers(option: Option, call_class: CallClass) -> bool:
    return call_class in COVERS[option]


@dataclass(frozen=True, slots=True)
class Route:
    call_class: CallClass
    expected_carrier: str
    route_reason: RouteReason
    order_id: str | None = None

    @property
    def carried_by_operator(self) -> bool:
        return self.expected_carrier != INCUMBENT


def route(
    dialled: str,
    *,
    plan: NumberingPlan,
    carrier_codes: Mapping[str, str],
    preselection: Preselection | None,
) -> Route:
    """Where a call from a line dialling `dialled` must go.

    `carrier_codes` maps the allocated and active `15NN` codes to operator ids;
    `preselection` is the line's preselection valid at the call's start, if any."""
    code, number = split_carrier_code(dialled)
    found = plan.classify(number)
    if found.excluded:
        return Route(found.call_class, INCUMBENT, RouteReason.EXCLUDED)
    if code is not None:
        operator = carrier_codes.get(code)
        if operator is None or found.call_class not in SELECTABLE:
            return Route(CallClass.INVALID, INCUMBENT, RouteReason.DEFAULT)
        return Route(found.call_class, operator, RouteReason.CSC)
    if preselection is not None and covers(preselection.option, found.call_class):
        return Route(
            found.call_class, preselection.operator_id, RouteReason.CPS, preselection.order_id
        )
    return Route(found.call_class, INCUMBENT, RouteReason.DEFAULT)
