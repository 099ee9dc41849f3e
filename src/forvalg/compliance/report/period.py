"""The report's period: one calendar month in Oslo time, as the instants [start, end)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")
_MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")


class BadPeriod(ValueError):
    """A period that is not a calendar month YYYY-MM."""


@dataclass(frozen=True, slots=True)
class Period:
    label: str  # YYYY-MM
    start: datetime  # UTC: 00:00 Oslo on the first day of the month
    end: datetime  # UTC: 00:00 Oslo on the first day of the next month

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


def parse_period(text: str) -> Period:
    """`2026-11` -> November 2026 in Oslo time; `BadPeriod` for anything else."""
    found = _MONTH.match(text.strip())
    if found is None or not 1900 <= int(found.group(1)) <= 9998:
        raise BadPeriod(f"--period {text!r}: not a calendar month YYYY-MM (e.g. 2026-11)")
    year, month = int(found.group(1)), int(found.group(2))
    after = (year + 1, 1) if month == 12 else (year, month + 1)
    start = datetime(year, month, 1, tzinfo=OSLO).astimezone(UTC)
    end = datetime(*after, 1, tzinfo=OSLO).astimezone(UTC)
    return Period(f"{year:04d}-{month:02d}", start, end)
