"""The Europe/Oslo working-day calendar: due dates, cancel cut-offs, cooling-off windows.

Working days are Monday to Friday except Norwegian public holidays (from `holidays`).
All instants are timezone-aware; dates are Oslo calendar dates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays


@dataclass(frozen=True)
class CalendarRules:
    """The configurable numbers of the order life cycle."""

    timezone: str = "Europe/Oslo"
    country: str = "NO"
    lead_working_days: int = 10
    cutoff_time: time = time(12, 0)
    cutoff_working_days_before: int = 1
    switch_time: time = time(0, 0)
    cooling_off_days: int = 14
    authorisation_max_age_days: int = 90
    letter_post_working_days: int = 1  # a letter posted today arrives this many working days on


@dataclass(frozen=True)
class WorkingCalendar:
    rules: CalendarRules = field(default_factory=CalendarRules)

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.rules.timezone)

    @cached_property
    def _holidays(self) -> holidays.HolidayBase:
        return holidays.country_holidays(self.rules.country)

    def local_date(self, instant: datetime) -> date:
        return _aware(instant).astimezone(self.zone).date()

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._holidays

    def holiday_name(self, day: date) -> str | None:
        name = self._holidays.get(day)
        return None if name is None else str(name)

    def add_working_days(self, start: date, days: int) -> date:
        """The date `days` working days after `start` (start itself never counts)."""
        step = 1 if days >= 0 else -1
        day, left = start, abs(days)
        while left:
            day += timedelta(days=step)
            if self.is_working_day(day):
                left -= 1
        return day

    def next_working_day(self, day: date) -> date:
        """`day` itself if it is a working day, else the next one."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def earliest_due_date(self, received_at: datetime) -> date:
        return self.add_working_days(self.local_date(received_at), self.rules.lead_working_days)

    def due_date(self, received_at: datetime, requested: date | None = None) -> date:
        """The lead time in working days after receipt, or a later requested working day."""
        earliest = self.earliest_due_date(received_at)
        if requested is None or requested <= earliest:
            return earliest
        return self.next_working_day(requested)

    def switch_at(self, due: date) -> datetime:
        """The instant the change takes effect: the due date at the switch time, Oslo time."""
        return self._instant(due, self.rules.switch_time)

    def cancel_cutoff(self, due: date) -> datetime:
        """12:00 Oslo time (configurable) on the working day before the due date."""
        day = self.add_working_days(due, -self.rules.cutoff_working_days_before)
        return self._instant(day, self.rules.cutoff_time)

    def cooling_off_ends(self, received_at: datetime) -> date:
        return self.local_date(received_at) + timedelta(days=self.rules.cooling_off_days)

    def letter_earliest(self, sent_at: datetime) -> datetime:
        """The earliest instant a letter posted at `sent_at` can arrive: the start (Oslo
        time) of the working day `letter_post_working_days` after the day it was posted.
        Before that only the customer, their new operator and wholesale know of an order."""
        day = self.add_working_days(self.local_date(sent_at), self.rules.letter_post_working_days)
        return self._instant(day, time(0, 0))

    def _instant(self, day: date, at: time) -> datetime:
        return datetime.combine(day, at, tzinfo=self.zone).astimezone(UTC)


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError(f"{instant!r} has no timezone")
    return instant
