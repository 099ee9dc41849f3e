"""A month of the synthetic world's traffic, through the real services.

The exchange routes calls by the routing it was loaded with (the history, read once as
the routing exporter) and writes its CDRs; billing rates them (`traffic rate`) and
settles the month (`settle`); every operator then fetches its own statement as it would
over the API. The month reconciles when the statements' charges add up to the rated
calls' and every operator's statement is the file settlement wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa

from forvalg.bootstrap import Services
from forvalg.domain.tariffs import Tariff
from forvalg.sim.traffic import TrafficSpec, write_cdrs
from forvalg.traffic.rating import RatingSummary
from forvalg.wall.principals import operator_principal

OSLO = ZoneInfo("Europe/Oslo")


@dataclass
class MonthReport:
    month: str
    calls: int
    rating: RatingSummary
    statements: dict[str, dict[str, str]] = field(default_factory=dict)  # operator -> totals
    billed_nok: Decimal = Decimal("0.0000")
    reconciled: bool = False
    fetched: dict[str, bool] = field(default_factory=dict)  # operator -> API == file


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def traffic_month(
    svc: Services,
    lines: list[str],
    operators: list[str],
    month: date,
    out: Path,
    tariff: Tariff,
    *,
    calls_per_line: int = 100,
    seed: int = 2026,
) -> MonthReport:
    """Generate, rate and settle the calendar month (Oslo) starting on `month`."""
    first = month.replace(day=1)
    start = datetime.combine(first, time(0), OSLO).astimezone(UTC)
    days = (next_month(first) - first).days
    name = f"{month:%Y-%m}"
    history, codes = svc.routing.history()
    cdrs, rated = out / f"cdrs-{name}.parquet", out / f"rated-{name}.parquet"
    spec = TrafficSpec(calls=len(lines) * calls_per_line, start=start, days=days, seed=seed)
    written = write_cdrs(
        cdrs, spec, lines=pa.array(sorted(lines)), history=history, carrier_codes=codes
    )
    rating = svc.rating.rate(cdrs, rated, tariff)
    report = MonthReport(name, written.rows, rating)
    statements = out / "statements" / name
    settled = svc.settlement.settle(name, [rated], statements)
    for w in settled.written:
        totals = w.statement.totals.fields()
        report.statements[w.statement.operator] = {k: str(v) for k, v in totals.items()}
        report.billed_nok += w.statement.totals.charge
    for op in operators:
        mine = statements / f"{op}.json"
        if mine.exists():
            report.fetched[op] = (
                svc.statements.own(operator_principal(op), name) == mine.read_bytes()
            )
    report.reconciled = report.billed_nok == rating.charge_nok and all(report.fetched.values())
    return report
