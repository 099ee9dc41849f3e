"""The Europe/Oslo working-day calendar, with concrete Norwegian dates.

Oslo is UTC+1 in winter (CET) and UTC+2 in summer (CEST); in 2026 summer time runs
from 2026-03-29 01:00 UTC to 2026-10-25 01:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forvalg.domain.calendar import CalendarRules, WorkingCalendar

OSLO = ZoneInfo("Europe/Oslo")
CAL = WorkingCalendar()

# Norwegian public holidays of 2026, written out by hand (Sundays need not be listed).
NO_HOLIDAYS_2026 = frozenset(
    {
        date(2026, 1, 1),  # New Year's Day
        date(2026, 4, 2),  # Maundy Thursday
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 1),  # Labour Day
        date(2026, 5, 14),  # Ascension Day
        date(2026, 5, 25),  # Whit Monday
        date(2026, 12, 25),  # Christmas Day
        date(2026, 12, 26),  # Boxing Day (a Saturday)
    }
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def oslo(*args: int) -> datetime:
    return datetime(*args, tzinfo=OSLO)  # type: ignore[misc]


def reference_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in NO_HOLIDAYS_2026


def reference_add(start: date, days: int) -> date:
    day = start
    while days:
        day += timedelta(days=1)
        if reference_working_day(day):
            days -= 1
    return day


# --- defaults -----------------------------------------------------------------------------


def test_default_rules() -> None:
    rules = CalendarRules()
    assert rules.timezone == "Europe/Oslo"
    assert rules.country == "NO"
    assert rules.lead_working_days == 10
    assert rules.cutoff_time == time(12, 0)
    assert rules.cutoff_working_days_before == 1
    assert rules.switch_time == time(0, 0)
    assert rules.cooling_off_days == 14
    assert rules.authorisation_max_age_days == 90
    assert WorkingCalendar().rules == rules
    assert CAL.zone == OSLO


# --- working days -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 4, 2),  # Maundy Thursday
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 4),  # Easter Saturday (a Saturday)
        date(2026, 4, 5),  # Easter Sunday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 1),  # Labour Day, a Friday
        date(2026, 5, 14),  # Ascension Day
        date(2026, 5, 25),  # Whit Monday
        date(2028, 5, 17),  # Constitution Day, a Wednesday
        date(2027, 5, 17),  # Constitution Day and Whit Monday, a Monday
        date(2026, 12, 25),  # Christmas Day, a Friday
        date(2028, 12, 26),  # Boxing Day, a Tuesday
        date(2027, 1, 1),  # New Year's Day, a Friday
        date(2026, 11, 28),  # an ordinary Saturday
        date(2026, 11, 29),  # an ordinary Sunday
    ],
)
def test_holidays_and_weekends_are_not_working_days(day: date) -> None:
    assert not CAL.is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 4, 1),  # the Wednesday before Easter
        date(2026, 4, 7),  # the Tuesday after Easter Monday
        date(2028, 5, 16),
        date(2028, 5, 18),
        date(2026, 12, 24),  # Christmas Eve is not a public holiday in Norway
        date(2026, 12, 28),
        date(2026, 12, 31),
        date(2027, 12, 27),  # holidays falling on a weekend do not move to Monday
        date(2026, 11, 23),
    ],
)
def test_ordinary_weekdays_are_working_days(day: date) -> None:
    assert CAL.is_working_day(day)


def test_holiday_names() -> None:
    assert CAL.holiday_name(date(2026, 4, 2)) is not None
    assert CAL.holiday_name(date(2028, 5, 17)) is not None
    assert CAL.holiday_name(date(2026, 12, 25)) is not None
    assert CAL.holiday_name(date(2026, 4, 1)) is None
    assert CAL.holiday_name(date(2026, 11, 23)) is None


@given(st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)))
def test_working_days_of_2026_match_a_hand_written_list(day: date) -> None:
    assert CAL.is_working_day(day) == reference_working_day(day)


# --- adding working days ------------------------------------------------------------------


def test_add_working_days_never_counts_the_start() -> None:
    assert CAL.add_working_days(date(2026, 11, 23), 1) == date(2026, 11, 24)
    assert CAL.add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Fri -> Mon
    assert CAL.add_working_days(date(2026, 4, 1), 1) == date(2026, 4, 7)  # across Easter
    assert CAL.add_working_days(date(2026, 4, 3), 1) == date(2026, 4, 7)  # from a holiday
    assert CAL.add_working_days(date(2026, 4, 4), 0) == date(2026, 4, 4)


def test_add_working_days_backwards() -> None:
    assert CAL.add_working_days(date(2026, 4, 7), -1) == date(2026, 4, 1)
    assert CAL.add_working_days(date(2026, 11, 30), -1) == date(2026, 11, 27)
    assert CAL.add_working_days(date(2026, 12, 28), -2) == date(2026, 12, 23)


def test_next_working_day() -> None:
    assert CAL.next_working_day(date(2026, 11, 23)) == date(2026, 11, 23)
    assert CAL.next_working_day(date(2026, 11, 28)) == date(2026, 11, 30)
    assert CAL.next_working_day(date(2026, 4, 2)) == date(2026, 4, 7)
    assert CAL.next_working_day(date(2026, 12, 25)) == date(2026, 12, 28)
    assert CAL.next_working_day(date(2028, 5, 17)) == date(2028, 5, 18)


# --- local dates and naive datetimes ------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (utc(2026, 1, 10, 22, 30), date(2026, 1, 10)),  # 23:30 CET
        (utc(2026, 1, 10, 23, 30), date(2026, 1, 11)),  # 00:30 CET
        (utc(2026, 6, 10, 21, 30), date(2026, 6, 10)),  # 23:30 CEST
        (utc(2026, 6, 10, 22, 30), date(2026, 6, 11)),  # 00:30 CEST
        (utc(2026, 3, 28, 23, 30), date(2026, 3, 29)),  # the night summer time starts
        (utc(2026, 10, 24, 22, 30), date(2026, 10, 25)),  # the night summer time ends
        (datetime(2026, 6, 10, 18, 0, tzinfo=ZoneInfo("America/New_York")), date(2026, 6, 11)),
    ],
)
def test_local_date_is_the_oslo_calendar_date(instant: datetime, expected: date) -> None:
    assert CAL.local_date(instant) == expected


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 11, 23, 10, 0)
    with pytest.raises(ValueError, match="timezone"):
        CAL.local_date(naive)
    with pytest.raises(ValueError, match="timezone"):
        CAL.earliest_due_date(naive)
    with pytest.raises(ValueError, match="timezone"):
        CAL.due_date(naive)
    with pytest.raises(ValueError, match="timezone"):
        CAL.due_date(naive, date(2027, 1, 4))
    with pytest.raises(ValueError, match="timezone"):
        CAL.cooling_off_ends(naive)


# --- due dates ----------------------------------------------------------------------------


def test_due_date_is_ten_working_days_after_receipt() -> None:
    # Monday 2026-11-23: Nov 24-27, Nov 30 - Dec 4, Dec 7 is the tenth working day.
    assert CAL.earliest_due_date(utc(2026, 11, 23, 9, 0)) == date(2026, 12, 7)
    assert CAL.due_date(utc(2026, 11, 23, 9, 0)) == date(2026, 12, 7)


def test_due_date_across_easter() -> None:
    # Received Monday 2026-03-30: Mar 31, Apr 1, (Easter: Apr 2, 3, 6 off), Apr 7-10,
    # Apr 13-16 -> the tenth working day is Thursday 2026-04-16.
    assert CAL.due_date(oslo(2026, 3, 30, 10, 0)) == date(2026, 4, 16)


def test_due_date_across_christmas() -> None:
    # Received Monday 2026-12-14: Dec 15-18, 21-24 (Christmas Eve works), Dec 25 off,
    # Dec 28, 29 -> Tuesday 2026-12-29.
    assert CAL.due_date(oslo(2026, 12, 14, 10, 0)) == date(2026, 12, 29)


def test_due_date_across_constitution_day() -> None:
    # Received Wednesday 2028-05-10: May 11, 12, 15, 16, (17 off), 18, 19, 22, 23, 24,
    # (25 Ascension off), 26 -> Friday 2028-05-26.
    assert CAL.due_date(oslo(2028, 5, 10, 10, 0)) == date(2028, 5, 26)


def test_due_date_counts_from_the_oslo_date_of_receipt() -> None:
    # 22:30 UTC on Thursday 2026-06-11 is already Friday in Oslo.
    late = CAL.due_date(utc(2026, 6, 11, 22, 30))
    assert late == CAL.due_date(oslo(2026, 6, 12, 9, 0))
    assert late == date(2026, 6, 26)
    assert CAL.due_date(utc(2026, 6, 11, 21, 30)) == date(2026, 6, 25)


def test_due_date_when_received_on_a_weekend() -> None:
    # Saturday 2026-11-28: Nov 30 is the first working day, Dec 11 the tenth.
    assert CAL.due_date(oslo(2026, 11, 28, 12, 0)) == date(2026, 12, 11)


@given(
    st.datetimes(
        min_value=datetime(2026, 1, 1),
        max_value=datetime(2026, 12, 1),
        timezones=st.just(UTC),
    )
)
def test_earliest_due_date_matches_a_reference_count(received: datetime) -> None:
    local = received.astimezone(OSLO).date()
    due = CAL.earliest_due_date(received)
    assert due == reference_add(local, 10)
    assert CAL.is_working_day(due)
    assert due > local


def test_requested_date_not_later_than_earliest_gives_earliest() -> None:
    received = utc(2026, 11, 23, 9, 0)
    assert CAL.due_date(received, None) == date(2026, 12, 7)
    assert CAL.due_date(received, date(2026, 12, 7)) == date(2026, 12, 7)
    assert CAL.due_date(received, date(2026, 11, 24)) == date(2026, 12, 7)


def test_requested_working_day_later_than_earliest_is_kept() -> None:
    assert CAL.due_date(utc(2026, 11, 23, 9, 0), date(2026, 12, 8)) == date(2026, 12, 8)
    assert CAL.due_date(utc(2026, 11, 23, 9, 0), date(2027, 1, 4)) == date(2027, 1, 4)


def test_requested_non_working_day_later_than_earliest_moves_to_the_next_working_day() -> None:
    received = utc(2026, 11, 23, 9, 0)
    assert CAL.due_date(received, date(2026, 12, 12)) == date(2026, 12, 14)  # Sat -> Mon
    assert CAL.due_date(received, date(2026, 12, 25)) == date(2026, 12, 28)  # Christmas
    # Received 2026-03-18, the earliest is Wednesday 2026-04-01; Maundy Thursday -> Apr 7.
    assert CAL.earliest_due_date(oslo(2026, 3, 18, 10, 0)) == date(2026, 4, 1)
    assert CAL.due_date(oslo(2026, 3, 18, 10, 0), date(2026, 4, 2)) == date(2026, 4, 7)


# --- cut-off and switch instants ----------------------------------------------------------


def test_cutoff_before_a_monday_due_date_is_friday_noon_winter() -> None:
    cutoff = CAL.cancel_cutoff(date(2026, 12, 7))
    assert cutoff == utc(2026, 12, 4, 11, 0)
    assert cutoff.astimezone(OSLO) == oslo(2026, 12, 4, 12, 0)
    assert cutoff.utcoffset() == timedelta(0)


def test_cutoff_before_a_monday_due_date_is_friday_noon_summer() -> None:
    assert CAL.cancel_cutoff(date(2026, 6, 15)) == utc(2026, 6, 12, 10, 0)


def test_cutoff_skips_holidays() -> None:
    # Due Tuesday 2026-04-07: the working day before is Wednesday 2026-04-01 (Easter).
    assert CAL.cancel_cutoff(date(2026, 4, 7)) == utc(2026, 4, 1, 10, 0)
    # Due Tuesday 2026-05-26: Whit Monday is off, so Friday 2026-05-22.
    assert CAL.cancel_cutoff(date(2026, 5, 26)) == utc(2026, 5, 22, 10, 0)
    # Due Monday 2026-12-28: Christmas Day is off, so Thursday 2026-12-24.
    assert CAL.cancel_cutoff(date(2026, 12, 28)) == utc(2026, 12, 24, 11, 0)


def test_cutoff_and_switch_across_the_spring_dst_change() -> None:
    due = date(2026, 3, 30)  # Monday after summer time starts on Sunday 2026-03-29
    assert CAL.cancel_cutoff(due) == utc(2026, 3, 27, 11, 0)  # Friday 12:00 CET
    assert CAL.switch_at(due) == utc(2026, 3, 29, 22, 0)  # Monday 00:00 CEST


def test_cutoff_and_switch_across_the_autumn_dst_change() -> None:
    due = date(2026, 10, 26)  # Monday after summer time ends on Sunday 2026-10-25
    assert CAL.cancel_cutoff(due) == utc(2026, 10, 23, 10, 0)  # Friday 12:00 CEST
    assert CAL.switch_at(due) == utc(2026, 10, 25, 23, 0)  # Monday 00:00 CET


def test_switch_at_is_midnight_oslo() -> None:
    assert CAL.switch_at(date(2026, 12, 7)) == utc(2026, 12, 6, 23, 0)
    assert CAL.switch_at(date(2026, 6, 15)) == utc(2026, 6, 14, 22, 0)
    assert CAL.switch_at(date(2026, 6, 15)).tzinfo is UTC
    assert CAL.switch_at(date(2026, 6, 15)).astimezone(OSLO) == oslo(2026, 6, 15, 0, 0)


@given(st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 31)))
def test_cutoff_is_noon_on_the_previous_working_day(day: date) -> None:
    due = CAL.next_working_day(day)
    cutoff = CAL.cancel_cutoff(due)
    local = cutoff.astimezone(OSLO)
    assert local.time() == time(12, 0)
    assert CAL.is_working_day(local.date())
    assert local.date() < due
    between = [local.date() + timedelta(days=n) for n in range(1, (due - local.date()).days)]
    assert not any(CAL.is_working_day(d) for d in between)
    assert cutoff < CAL.switch_at(due)


def test_cooling_off_ends_fourteen_calendar_days_after_the_oslo_receipt_date() -> None:
    assert CAL.cooling_off_ends(utc(2026, 11, 23, 9, 0)) == date(2026, 12, 7)
    assert CAL.cooling_off_ends(utc(2026, 6, 11, 22, 30)) == date(2026, 6, 26)
    assert CAL.cooling_off_ends(utc(2026, 12, 20, 12, 0)) == date(2027, 1, 3)


# --- configurable rules -------------------------------------------------------------------


def test_lead_working_days_is_configurable() -> None:
    cal = WorkingCalendar(CalendarRules(lead_working_days=5))
    assert cal.due_date(utc(2026, 11, 23, 9, 0)) == date(2026, 11, 30)
    # Across Easter: received Monday 2026-03-30 -> Mar 31, Apr 1, 7, 8, 9.
    assert cal.due_date(oslo(2026, 3, 30, 10, 0)) == date(2026, 4, 9)


def test_cutoff_rules_are_configurable() -> None:
    cal = WorkingCalendar(CalendarRules(cutoff_time=time(15, 30), cutoff_working_days_before=2))
    # Due Monday 2026-12-07: two working days before is Thursday 2026-12-03.
    assert cal.cancel_cutoff(date(2026, 12, 7)) == utc(2026, 12, 3, 14, 30)


def test_switch_time_and_cooling_off_are_configurable() -> None:
    cal = WorkingCalendar(CalendarRules(switch_time=time(6, 0), cooling_off_days=30))
    assert cal.switch_at(date(2026, 12, 7)) == utc(2026, 12, 7, 5, 0)
    assert cal.cooling_off_ends(utc(2026, 11, 23, 9, 0)) == date(2026, 12, 23)


def test_timezone_is_configurable() -> None:
    cal = WorkingCalendar(CalendarRules(timezone="UTC"))
    assert cal.switch_at(date(2026, 12, 7)) == utc(2026, 12, 7, 0, 0)
    assert cal.cancel_cutoff(date(2026, 12, 7)) == utc(2026, 12, 4, 12, 0)
    assert cal.local_date(utc(2026, 6, 10, 22, 30)) == date(2026, 6, 10)


def test_country_is_configurable() -> None:
    sweden = WorkingCalendar(CalendarRules(country="SE", timezone="Europe/Stockholm"))
    assert sweden.is_working_day(date(2026, 4, 2))  # Maundy Thursday is not off in Sweden
    assert sweden.is_working_day(date(2028, 5, 17))
    assert not sweden.is_working_day(date(2026, 4, 3))  # Good Friday is
    assert not sweden.is_working_day(date(2028, 6, 6))  # Swedish National Day
    assert CAL.is_working_day(date(2028, 6, 6))
