"""A synthetic export of the incumbent's own retail orders for a month: the baseline the
compliance report puts beside the CPS operators' KPIs (`forvalg report --retail-orders`,
docs/REPORT.md for the columns).

Plausible rather than real: orders arrive on working days in office hours, are due after
the same lead time in working days as a CPS order (the same calendar and rules), and
most complete on the due date. Retail is served a little better than the operators (a
few orders complete early), which is what an equivalence report is there to show.
"""

from __future__ import annotations

import csv
import os
import random
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from forvalg.compliance.report.period import OSLO, parse_period
from forvalg.compliance.report.retail import COLUMNS, OPTIONAL
from forvalg.domain.calendar import WorkingCalendar
from forvalg.domain.orders import OrderState, OrderType

TYPES = ((OrderType.PROVIDE, 55), (OrderType.MODIFY, 25), (OrderType.CEASE, 20))
REJECTIONS = (
    ("E_POSTCODE_MISMATCH", 4),
    ("E_LINE_NOT_ELIGIBLE", 2),
    ("E_OPEN_ORDER", 2),
    ("E_AUTHORISATION_MISSING", 1),
)
REJECTED, CANCELLED, CUTOFF_MISSED = 0.05, 0.03, 0.01
EARLY, LATE = 0.07, 0.04  # completed 1-3 working days early, 1-2 late


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([k for k, _ in weighted], [w for _, w in weighted])[0]


def _stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def retail_rows(
    period: str, count: int, seed: int, calendar: WorkingCalendar | None = None
) -> list[dict[str, str]]:
    """`count` retail orders received in `period` (YYYY-MM), by receipt time."""
    month = parse_period(period)
    calendar = calendar or WorkingCalendar()
    rng = random.Random(seed)
    first = month.start.astimezone(OSLO).date()
    last = (month.end - timedelta(seconds=1)).astimezone(OSLO).date()
    days = [
        first + timedelta(days=d)
        for d in range((last - first).days + 1)
        if calendar.is_working_day(first + timedelta(days=d))
    ]
    received = sorted(
        datetime.combine(rng.choice(days), time(8), tzinfo=OSLO)
        + timedelta(seconds=rng.randrange(8 * 3600))
        for _ in range(count)
    )
    types = tuple((t.value, w) for t, w in TYPES)
    rows = []
    for i, at in enumerate(received):
        due = calendar.due_date(at)
        row = {
            "order_id": f"R{month.label.replace('-', '')}-{i:06d}",
            "type": _pick(rng, types),
            "received_at": _stamp(at),
            "due_date": due.isoformat(),
            "completed_at": "",
            "state": OrderState.COMPLETED.value,
            "reason_code": "",
            "cutoff_missed": "false",
        }
        draw = rng.random()
        if draw < REJECTED:
            row |= {"state": OrderState.REJECTED.value, "reason_code": _pick(rng, REJECTIONS)}
            row["due_date"] = ""
        elif draw < REJECTED + CANCELLED:
            row |= {"state": OrderState.CANCELLED.value, "reason_code": "C_CANCELLED_BY_OPERATOR"}
        else:
            shift = rng.random()
            done = due
            if shift < EARLY:
                done = calendar.add_working_days(due, -rng.randint(1, 3))
            elif shift < EARLY + LATE:
                done = calendar.add_working_days(due, rng.randint(1, 2))
            row["completed_at"] = _stamp(max(calendar.switch_at(done), at))
            if rng.random() < CUTOFF_MISSED / (1 - REJECTED - CANCELLED):
                row["cutoff_missed"] = "true"
        rows.append(row)
    return rows


def write_retail_orders(path: Path, period: str, count: int, seed: int) -> Path:
    """Write the export (whole or not at all) and return its path."""
    rows = retail_rows(period, count, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("w", newline="", encoding="utf-8") as handle:
        out = csv.DictWriter(handle, fieldnames=[*COLUMNS, *OPTIONAL], lineterminator="\n")
        out.writeheader()
        out.writerows(rows)
    os.replace(partial, path)
    return path
