"""One call at a time: the truth the batch engine must equal on every row.

`judge` is DOMAIN.md's routing (`routing.route`) and the tariff (`Tariff.band`,
`Tariff.charge`) applied to one call with the same reference the engine joins; a
property test runs both over generated calls and compares every column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from forvalg.domain.routing import Route, RouteReason, route
from forvalg.domain.tariffs import TimeBand
from forvalg.traffic.reference import RatingReference

CHARGED = frozenset({RouteReason.CSC, RouteReason.CPS})


@dataclass(frozen=True, slots=True)
class Call:
    start: datetime
    duration_s: int
    a_number: str
    dialed: str
    carrier: str | None = None


@dataclass(frozen=True, slots=True)
class RatedCall:
    route: Route
    routing_version: str
    time_band: TimeBand
    charge_nok: Decimal
    mismatch: bool


def judge(call: Call, reference: RatingReference) -> RatedCall:
    """Route-check and rate one call (a valid one: see the engine's per-row checks)."""
    decided = route(
        call.dialed,
        plan=reference.plan,
        carrier_codes=reference.carrier_codes,
        preselection=reference.preselection_at(call.a_number, call.start),
    )
    tariff = reference.tariff
    band = tariff.band(call.start)
    charge = Decimal("0.0000")
    if decided.route_reason in CHARGED:
        charge = tariff.charge(decided.call_class, band, call.duration_s)
    return RatedCall(
        decided,
        reference.version_at(call.start),
        band,
        charge,
        call.carrier is not None and call.carrier != decided.expected_carrier,
    )
