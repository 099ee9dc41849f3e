"""When people call: the daily and weekly rhythm of a fixed-line network, in Oslo time.

The period is cut into hour slots from its start. Each slot weighs its Oslo local hour
(`HOUR_PROFILE`: quiet at night, a peak mid-morning and another in the afternoon) times
its local day (`DAY_FACTOR`: weekends lower; Norwegian public holidays count as Sundays).
The number of calls in every slot is drawn once (multinomial), so the calls can then be
generated chunk by chunk in time order: chunk k holds calls k*chunk .. (k+1)*chunk-1 of
the whole period, and the file is sorted by start.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from forvalg.domain.calendar import WorkingCalendar

OSLO = ZoneInfo("Europe/Oslo")
SLOT_S = 3600
SECONDS_STREAM = 0x5EC0
# Relative call volume by Oslo local hour 00-23.
HOUR_PROFILE = np.array(
    [
        *(0.6, 0.35, 0.2, 0.15, 0.15, 0.3),  # 00-05
        *(1.0, 3.0, 6.5, 9.0, 10.0, 9.5),  # 06-11
        *(7.5, 8.5, 9.0, 8.5, 7.0, 5.5),  # 12-17
        *(5.0, 4.5, 4.0, 3.0, 2.0, 1.1),  # 18-23
    ]
)
DAY_FACTOR = np.array([1.0, 1.0, 1.0, 1.0, 0.95, 0.45, 0.35])  # Monday .. Sunday


def slot_weights(
    start: datetime, days: int, calendar: WorkingCalendar | None = None
) -> npt.NDArray[np.float64]:
    """Relative call volume of each hour slot of the period (days * 24 slots)."""
    calendar = calendar or WorkingCalendar()
    weights = np.empty(days * 24)
    for slot in range(len(weights)):
        local = (start + timedelta(seconds=slot * SLOT_S)).astimezone(OSLO)
        day = local.date()
        weekday = day.weekday()
        if weekday < 5 and not calendar.is_working_day(day):
            weekday = 6
        weights[slot] = HOUR_PROFILE[local.hour] * DAY_FACTOR[weekday]
    return weights


def calls_per_slot(
    weights: npt.NDArray[np.float64], calls: int, rng: np.random.Generator
) -> npt.NDArray[np.int64]:
    """Cumulative number of calls up to the end of each slot (last entry = calls)."""
    counts = rng.multinomial(calls, weights / weights.sum())
    return np.cumsum(counts, dtype=np.int64)


def start_seconds(
    cumulative: npt.NDArray[np.int64], first: int, rows: int, seed: int
) -> npt.NDArray[np.int64]:
    """Seconds from the period's start of calls first .. first+rows-1, in time order.

    Each slot's seconds are drawn by a generator of its own, so a slot that two chunks
    share is drawn the same in both and the whole file is in time order."""
    out = np.empty(rows, dtype=np.int64)
    if rows == 0:
        return out
    end = first + rows
    low = int(np.searchsorted(cumulative, first, side="right"))
    high = int(np.searchsorted(cumulative, end - 1, side="right"))
    for slot in range(low, high + 1):
        slot_first = int(cumulative[slot - 1]) if slot else 0
        slot_end = int(cumulative[slot])
        a, b = max(slot_first, first), min(slot_end, end)
        if a >= b:
            continue
        rng = np.random.default_rng([seed, SECONDS_STREAM, slot])
        seconds = np.sort(rng.integers(0, SLOT_S, slot_end - slot_first, dtype=np.int64))
        out[a - first : b - first] = slot * SLOT_S + seconds[a - slot_first : b - slot_first]
    return out
