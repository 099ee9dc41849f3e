"""A settlement statement and its two renderings, JSON and CSV (docs/TRAFFIC.md).

Both are canonical: sorted keys and rows, fixed decimal formatting (money 4 places,
minutes 2), `\\n` line ends, UTF-8, no timestamp of when they were made. The same rated
input gives the same bytes, whatever order the files were given in.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from forvalg.domain.settlement import OSLO, Period, fixed, minutes, money

FORMAT = "forvalg-statement/1"
CURRENCY = "NOK"
ZERO = Decimal("0.0000")
RULES = {
    "period": "calls whose start_utc falls in the month in Europe/Oslo time",
    "billed": "calls the rating routed to the operator (route_reason CSC or CPS)",
    "minutes": "seconds / 60, rounded half-even to 2 places",
    "charge_nok": "the exact sum of the rated rows' charge_nok, 4 places",
}
CSV_COLUMNS = (
    *("operator", "period", "section", "call_class", "time_band"),
    *("calls", "seconds", "minutes", "charge_nok"),
)


@dataclass(frozen=True, slots=True)
class Usage:
    """Calls, their billable seconds and their charge."""

    calls: int = 0
    seconds: int = 0
    charge: Decimal = ZERO

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.calls + other.calls, self.seconds + other.seconds, self.charge + other.charge
        )

    @property
    def minutes(self) -> Decimal:
        return minutes(self.seconds)

    def fields(self, *, charge: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "calls": self.calls,
            "seconds": self.seconds,
            "minutes": fixed(self.minutes),
        }
        if charge:
            out["charge_nok"] = money(self.charge)
        return out


def total(usages: Iterable[Usage]) -> Usage:
    found = Usage()
    for usage in usages:
        found += usage
    return found


@dataclass(frozen=True, slots=True)
class Source:
    """A rated file the statement was built from."""

    name: str
    sha256: str
    rating: Mapping[str, str] = field(default_factory=dict)  # the rating engine's metadata

    def document(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sha256": self.sha256,
            "rating": dict(sorted(self.rating.items())),
        }


@dataclass(frozen=True, slots=True)
class Mismatches:
    """Calls where the exchange's recorded carrier differs from the rated one."""

    billed_recorded_other: Usage = Usage()  # billed here; the exchange recorded another
    billed_recorded_none: Usage = Usage()  # billed here; the exchange recorded no carrier
    recorded_not_billed: Usage = Usage()  # the exchange recorded this operator; not billed


@dataclass(frozen=True, slots=True)
class Statement:
    operator: str
    period: Period
    lines: Mapping[tuple[str, str], Usage]  # (call_class, time_band) -> usage
    mismatches: Mismatches
    outside_period: Usage  # this operator's rated calls in the files, outside the period
    sources: tuple[Source, ...]

    @property
    def totals(self) -> Usage:
        return total(self.lines.values())

    def document(self) -> dict[str, Any]:
        m = self.mismatches
        return {
            "format": FORMAT,
            "operator": self.operator,
            "period": {
                "month": self.period.month,
                "time_zone": str(OSLO),
                "from_utc": _instant(self.period.start),
                "to_utc": _instant(self.period.end),
            },
            "currency": CURRENCY,
            "rules": RULES,
            "lines": [
                {"call_class": call_class, "time_band": band, **usage.fields()}
                for (call_class, band), usage in sorted(self.lines.items())
            ],
            "totals": self.totals.fields(),
            "mismatches": {
                "billed_recorded_other": m.billed_recorded_other.fields(),
                "billed_recorded_none": m.billed_recorded_none.fields(),
                # Not billed here: the rated charge is another carrier's business.
                "recorded_not_billed": m.recorded_not_billed.fields(charge=False),
            },
            "outside_period": self.outside_period.fields(),
            "sources": [
                s.document() for s in sorted(self.sources, key=lambda s: (s.name, s.sha256))
            ],
        }

    def json_bytes(self) -> bytes:
        text = json.dumps(self.document(), sort_keys=True, ensure_ascii=False, indent=2)
        return (text + "\n").encode("utf-8")

    def csv_bytes(self) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        head = (self.operator, self.period.month)
        for (call_class, band), usage in sorted(self.lines.items()):
            writer.writerow((*head, "LINE", call_class, band, *_cells(usage)))
        m = self.mismatches
        rows = (
            ("TOTAL", self.totals, True),
            ("MISMATCH_BILLED_RECORDED_OTHER", m.billed_recorded_other, True),
            ("MISMATCH_BILLED_RECORDED_NONE", m.billed_recorded_none, True),
            ("MISMATCH_RECORDED_NOT_BILLED", m.recorded_not_billed, False),
            ("OUTSIDE_PERIOD", self.outside_period, True),
        )
        for section, usage, charged in rows:
            writer.writerow((*head, section, "", "", *_cells(usage, charge=charged)))
        return buffer.getvalue().encode("utf-8")


def _cells(usage: Usage, *, charge: bool = True) -> tuple[str, ...]:
    return (
        str(usage.calls),
        str(usage.seconds),
        fixed(usage.minutes),
        money(usage.charge) if charge else "",
    )


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
