"""Settlement's rules: the Oslo-month period (DST included), minutes rounded half-even,
money in fixed point, the whole-period run's coverage, the policy's grants for the
settlement job and for operators' own statements, and the statement's renderings."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forvalg.domain.categories import Category
from forvalg.domain.settlement import InvalidPeriod, Period, minutes, money, period_run
from forvalg.domain.work_items import WorkItemKind
from forvalg.store.zones import Zone
from forvalg.traffic.statement import Mismatches, Source, Statement, Usage
from forvalg.wall.policy import Action, Policy, Question, Scope
from forvalg.wall.principals import SETTLEMENT_JOB, Purpose, zone_of

POLICY = Policy.load()


@pytest.mark.parametrize(
    ("month", "start", "end"),
    [
        # Winter time (UTC+1) at both ends.
        ("2026-11", datetime(2026, 10, 31, 23, tzinfo=UTC), datetime(2026, 11, 30, 23, tzinfo=UTC)),
        # Clocks go forward on 29 March: the month ends at 22:00 UTC.
        ("2026-03", datetime(2026, 2, 28, 23, tzinfo=UTC), datetime(2026, 3, 31, 22, tzinfo=UTC)),
        # Clocks go back on 25 October: the month starts at 22:00 UTC, ends at 23:00.
        ("2026-10", datetime(2026, 9, 30, 22, tzinfo=UTC), datetime(2026, 10, 31, 23, tzinfo=UTC)),
        ("2026-12", datetime(2026, 11, 30, 23, tzinfo=UTC), datetime(2026, 12, 31, 23, tzinfo=UTC)),
    ],
)
def test_a_period_is_the_month_in_oslo_time(month: str, start: datetime, end: datetime) -> None:
    period = Period.parse(month)
    assert (period.start, period.end) == (start, end)
    assert start in period
    assert end not in period
    assert datetime.fromtimestamp(end.timestamp() - 1, UTC) in period


def test_the_months_that_change_clocks_are_an_hour_short_or_long() -> None:
    march, october = Period.parse("2026-03"), Period.parse("2026-10")
    assert (march.end - march.start).total_seconds() == 31 * 86400 - 3600
    assert (october.end - october.start).total_seconds() == 31 * 86400 + 3600


@pytest.mark.parametrize(
    "text", ["2026-13", "2026-00", "2026-1", "26-11", "2026-11-01", "", "x", "1969-12", "9999-12"]
)
def test_a_period_that_is_not_yyyy_mm_is_refused(text: str) -> None:
    with pytest.raises(InvalidPeriod, match="month"):
        Period.parse(text)


@given(st.integers(min_value=0, max_value=10**15))
def test_minutes_are_seconds_over_60_rounded_half_even(seconds: int) -> None:
    exact = Fraction(seconds, 60)
    hundredths = exact * 100
    floor = hundredths.numerator // hundredths.denominator
    rest = hundredths - floor
    expected = floor + (1 if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and floor % 2) else 0)
    assert minutes(seconds) == Decimal(expected) / 100
    _, places = str(minutes(seconds)).split(".")
    assert len(places) == 2


def test_minutes_examples() -> None:
    assert [str(minutes(s)) for s in (0, 1, 30, 59, 60, 61, 3599)] == [
        "0.00",
        "0.02",
        "0.50",
        "0.98",
        "1.00",
        "1.02",
        "59.98",
    ]


def test_money_is_fixed_point_with_four_places_and_never_rounded() -> None:
    assert money(Decimal("0")) == "0.0000"
    assert money(Decimal("1E+3")) == "1000.0000"
    assert money(Decimal("12.3")) == "12.3000"
    with pytest.raises(ValueError, match="more than 4"):
        money(Decimal("0.00001"))


def test_a_whole_period_run_covers_every_operator_a_staff_run_only_its_own() -> None:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    run = period_run(
        "SR-0123456789ab", Period.parse("2026-11"), summary="s", opened_by="x", opened_at=at
    )
    assert (run.kind, run.period, run.operator_id) == (WorkItemKind.SETTLEMENT_RUN, "2026-11", None)
    assert run.uncovered([], ["alfatel", "betanett"]) is None
    with pytest.raises(ValueError, match="settlement run"):
        period_run(
            "FT-0123456789ab", Period.parse("2026-11"), summary="s", opened_by="x", opened_at=at
        )


def _ask(role: str, category: Category, action: Action, purpose: str, kind: str) -> Question:
    return Question(frozenset({role}), kind, action, category, purpose, "", False)


def test_the_settlement_job_reads_traffic_and_files_statements_and_nothing_else() -> None:
    (role,) = SETTLEMENT_JOB.roles
    assert zone_of(SETTLEMENT_JOB) is Zone.BILLING
    granted = {
        (action, category)
        for action in Action
        for category in Category
        for purpose in Purpose
        if POLICY.decide(_ask(role, category, action, purpose.value, "system")).allowed
        and purpose is Purpose.SETTLEMENT
    }
    assert granted == {
        (Action.READ, Category.TRAFFIC),
        (Action.READ, Category.OPERATOR),
        (Action.READ, Category.SETTLEMENT),
        (Action.WRITE, Category.SETTLEMENT),
        (Action.READ, Category.WORK_ITEM),
        (Action.WRITE, Category.WORK_ITEM),
    }
    for purpose in Purpose:
        if purpose is not Purpose.SETTLEMENT:
            for category in Category:
                q = _ask(role, category, Action.READ, purpose.value, "system")
                assert not POLICY.decide(q).allowed, q


def test_an_operator_reads_its_own_statements_for_settlement_only() -> None:
    own = POLICY.decide(
        _ask("cps_operator", Category.SETTLEMENT, Action.READ, "settlement", "operator")
    )
    assert (own.allowed, own.scope) == (True, Scope.OWN)
    assert "operator-reads-own-statements" in own.reason
    for purpose in ("order_management", "marketing", ""):
        q = _ask("cps_operator", Category.SETTLEMENT, Action.READ, purpose, "operator")
        assert not POLICY.decide(q).allowed
    q = _ask("cps_operator", Category.SETTLEMENT, Action.WRITE, "settlement", "operator")
    assert not POLICY.decide(q).allowed
    q = _ask("cps_operator", Category.TRAFFIC, Action.READ, "settlement", "operator")
    assert not POLICY.decide(q).allowed


def _statement() -> Statement:
    return Statement(
        operator="alfatel",
        period=Period.parse("2026-11"),
        lines={
            ("MOBILE", "PEAK"): Usage(2, 90, Decimal("0.3000")),
            ("LOCAL_NATIONAL", "WEEKEND"): Usage(1, 61, Decimal("0.0100")),
        },
        mismatches=Mismatches(recorded_not_billed=Usage(1, 30)),
        outside_period=Usage(),
        sources=(Source("b.parquet", "2" * 64), Source("a.csv", "1" * 64, {"forvalg.x": "æ"})),
    )


def test_the_json_is_canonical_sorted_and_self_describing() -> None:
    data = _statement().json_bytes()
    parsed = json.loads(data)
    assert (
        data == (json.dumps(parsed, sort_keys=True, ensure_ascii=False, indent=2) + "\n").encode()
    )
    assert [(li["call_class"], li["time_band"]) for li in parsed["lines"]] == [
        ("LOCAL_NATIONAL", "WEEKEND"),
        ("MOBILE", "PEAK"),
    ]
    assert parsed["totals"] == {
        "calls": 3,
        "seconds": 151,
        "minutes": "2.52",
        "charge_nok": "0.3100",
    }
    assert [s["name"] for s in parsed["sources"]] == ["a.csv", "b.parquet"]
    assert parsed["sources"][0]["rating"] == {"forvalg.x": "æ"}
    assert "charge_nok" not in parsed["mismatches"]["recorded_not_billed"]
    assert parsed["period"] == {
        "month": "2026-11",
        "time_zone": "Europe/Oslo",
        "from_utc": "2026-10-31T23:00:00Z",
        "to_utc": "2026-11-30T23:00:00Z",
    }


def test_the_csv_has_a_row_per_line_then_totals_mismatches_and_outside() -> None:
    text = _statement().csv_bytes().decode()
    assert "\r" not in text
    rows = text.splitlines()
    assert (
        rows[0] == "operator,period,section,call_class,time_band,calls,seconds,minutes,charge_nok"
    )
    assert rows[1:4] == [
        "alfatel,2026-11,LINE,LOCAL_NATIONAL,WEEKEND,1,61,1.02,0.0100",
        "alfatel,2026-11,LINE,MOBILE,PEAK,2,90,1.50,0.3000",
        "alfatel,2026-11,TOTAL,,,3,151,2.52,0.3100",
    ]
    assert [r.split(",")[2] for r in rows[4:]] == [
        "MISMATCH_BILLED_RECORDED_OTHER",
        "MISMATCH_BILLED_RECORDED_NONE",
        "MISMATCH_RECORDED_NOT_BILLED",
        "OUTSIDE_PERIOD",
    ]
    assert rows[6] == "alfatel,2026-11,MISMATCH_RECORDED_NOT_BILLED,,,1,30,0.50,"
