"""Inquiries' pure rules (domain.inquiries): deadline status, which entries a bundle
holds, and the checks on what an answer is given."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from forvalg.domain.inquiries import (
    MAX_BUNDLE_ENTRIES,
    DeadlineState,
    InquiryError,
    Why,
    check_actor,
    check_bounded,
    check_period,
    check_report_files,
    deadline,
    deadline_end_of,
    why_relevant,
)

DUE = deadline_end_of("2026-12-10")  # 00:00 Oslo on 11 December = 23:00 UTC on the 10th
NOVEMBER = check_period("2026-11")
INQ = "INQ-0123456789ab"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_a_deadline_day_ends_at_midnight_in_oslo() -> None:
    assert datetime(2026, 12, 10, 23, 0, tzinfo=UTC) == DUE
    with pytest.raises(InquiryError, match="not a date"):
        deadline_end_of("10.12.2026")


@pytest.mark.parametrize(
    ("now", "answered", "state", "days", "text"),
    [
        ("2026-12-07T12:00:00+00:00", None, DeadlineState.DUE, 3, "due in 3 days"),
        ("2026-12-09T23:30:00+00:00", None, DeadlineState.DUE, 0, "due today"),  # Oslo 10th
        ("2026-12-09T12:00:00+00:00", None, DeadlineState.DUE, 1, "due in 1 day"),
        ("2026-12-10T23:00:00+00:00", None, DeadlineState.OVERDUE, 1, "overdue by 1 day"),
        ("2026-12-14T09:00:00+00:00", None, DeadlineState.OVERDUE, 4, "overdue by 4 days"),
        (
            "2026-12-20T09:00:00+00:00",
            "2026-12-10T22:59:00+00:00",
            DeadlineState.ANSWERED_ON_TIME,
            0,
            "answered on time",
        ),
        (
            "2026-12-20T09:00:00+00:00",
            "2026-12-12T09:00:00+00:00",
            DeadlineState.ANSWERED_LATE,
            2,
            "answered 2 days late",
        ),
    ],
)
def test_deadline_status(
    now: str, answered: str | None, state: DeadlineState, days: int, text: str
) -> None:
    found = deadline(DUE, now=at(now), answered_at=None if answered is None else at(answered))
    assert (found.state, found.days, found.describe()) == (state, days, text)


def event(**fields: Any) -> dict[str, Any]:
    base = {
        "at": "2026-11-15T10:00:00+00:00",
        "principal": "system:order-processor",
        "decision": "allow",
        "reason": "permit order-processor-provisions",
        "work_item": None,
    }
    return base | fields


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({}, ()),  # a system job's allow in the period: not asked about
        ({"principal": "user:abc"}, (Why.STAFF,)),
        ({"decision": "deny", "reason": "E_FORBIDDEN: no"}, (Why.DENIAL,)),
        ({"principal": "anonymous", "decision": "deny"}, (Why.DENIAL,)),  # failed sign-in
        (
            {"principal": "user:abc", "reason": "permit x; break-glass: the customer waits"},
            (Why.STAFF, Why.BREAK_GLASS),
        ),
        ({"principal": "user:abc", "decision": "deny"}, (Why.STAFF, Why.DENIAL)),
        ({"principal": "system:inquiry-cli", "work_item": INQ}, (Why.INQUIRY,)),
        # outside the period: only the inquiry's own entries count
        ({"principal": "user:abc", "at": "2026-12-01T10:00:00+00:00"}, ()),
        ({"decision": "deny", "at": "2026-10-31T22:59:59+00:00"}, ()),  # 23:59 Oslo, October
        ({"decision": "deny", "at": "2026-10-31T23:00:00+00:00"}, (Why.DENIAL,)),  # November
        ({"work_item": INQ, "at": "2027-01-05T10:00:00+00:00"}, (Why.INQUIRY,)),
        ({"work_item": "INQ-ffffffffffff", "principal": "user:abc"}, (Why.STAFF,)),
    ],
)
def test_which_entries_a_bundle_holds(fields: dict[str, Any], why: tuple[Why, ...]) -> None:
    assert why_relevant(event(**fields), inquiry_id=INQ, period=NOVEMBER) == why


def test_a_bundle_is_bounded() -> None:
    check_bounded(MAX_BUNDLE_ENTRIES, inquiry_id=INQ)
    with pytest.raises(InquiryError, match=f"{INQ}: {MAX_BUNDLE_ENTRIES + 1} ledger entries"):
        check_bounded(MAX_BUNDLE_ENTRIES + 1, inquiry_id=INQ)


def test_what_an_answer_is_given_is_checked() -> None:
    assert check_actor("  Kari Nordmann ") == "Kari Nordmann"
    for bad in ("", "   ", "x" * 81, "two\nlines"):
        with pytest.raises(InquiryError, match="--by"):
            check_actor(bad)
    assert check_report_files(["report.json", "report.html"]) == ["report.html", "report.json"]
    for bad in ("../etc", "a/b", ".hidden", ""):
        with pytest.raises(InquiryError, match="report file"):
            check_report_files([bad])
    with pytest.raises(InquiryError, match="period"):
        check_period("2026-13")
