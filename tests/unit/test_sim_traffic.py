"""Synthetic traffic: CDRs whose digits, carriers and rhythm are what they claim to be.

The recorded carrier is checked against the scalar routing rule
(`forvalg.domain.routing.route`) on every row, with the preselection found by a plain
Python search of the history, so the vectorised exchange cannot drift from the domain.
"""

from __future__ import annotations

import itertools
import tracemalloc
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forvalg.domain.numbering import CallClass, NumberingPlan, split_carrier_code
from forvalg.domain.orders import Option
from forvalg.domain.preselection import Preselection
from forvalg.domain.routing import INCUMBENT, Route, route
from forvalg.sim.dialling import CLASSES, COUNTRIES, TemplateError, dialling_table, verdict
from forvalg.sim.digits import strings_from_digits
from forvalg.sim.exchange import NONE, index_periods, line_numbers
from forvalg.sim.sampling import GuideTable
from forvalg.sim.traffic import (
    CDR_SCHEMA,
    HISTORY_SCHEMA,
    CdrSummary,
    TrafficSpec,
    synthetic_history,
    synthetic_lines,
    write_cdrs,
)

OSLO = ZoneInfo("Europe/Oslo")
PLAN = NumberingPlan()
START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
DAYS = 14
OPERATORS = ("telia", "ice", "phonero")
# nextgentel has a code but no preselected lines.
CODES = {"1505": "telia", "1510": "ice", "1520": "phonero", "1530": "nextgentel"}
SPEC = TrafficSpec(
    calls=30_000,
    start=START,
    days=DAYS,
    seed=7,
    csc_share=0.05,
    misrouted_share=0.01,
    chunk_rows=7_000,
)


@pytest.fixture(scope="module")
def lines() -> pa.Array:
    return synthetic_lines(3_000, seed=7)


@pytest.fixture(scope="module")
def history(lines: pa.Array) -> pa.Table:
    return synthetic_history(lines, OPERATORS, share=0.3, start=START, days=DAYS, seed=7)


@pytest.fixture(scope="module")
def written(
    tmp_path_factory: pytest.TempPathFactory, lines: pa.Array, history: pa.Table
) -> tuple[CdrSummary, pa.Table]:
    path = tmp_path_factory.mktemp("cdrs") / "cdrs.parquet"
    summary = write_cdrs(path, SPEC, lines=lines, history=history, carrier_codes=CODES)
    return summary, pq.read_table(path)


def write(path: Path, spec: TrafficSpec, lines: pa.Array, history: pa.Table) -> CdrSummary:
    return write_cdrs(path, spec, lines=lines, history=history, carrier_codes=CODES)


# -- lines and history -------------------------------------------------------------------


def test_lines_are_unique_geographic_numbers_and_seeded(lines: pa.Array) -> None:
    numbers = lines.to_pylist()
    assert len(set(numbers)) == len(numbers) == 3_000
    assert {len(n) for n in numbers} == {8}
    assert {PLAN.classify(n).call_class for n in numbers} == {CallClass.LOCAL_NATIONAL}
    assert synthetic_lines(3_000, seed=7).equals(lines)
    assert not synthetic_lines(3_000, seed=8).equals(lines)


def test_history_periods(lines: pa.Array, history: pa.Table) -> None:
    assert history.schema.equals(HISTORY_SCHEMA)
    rows = history.to_pylist()
    by_line: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_line.setdefault(str(row["number"]), []).append(row)
    assert len(by_line) == round(0.3 * len(lines))
    end = START + timedelta(days=DAYS)
    for periods in by_line.values():
        for before, after in itertools.pairwise(periods):
            assert before["valid_to"] is not None
            assert before["valid_to"] <= after["valid_from"]
    assert {r["option"] for r in rows} == {o.value for o in Option}
    assert {r["operator_id"] for r in rows} == set(OPERATORS)
    assert len({r["order_id"] for r in rows}) == len(rows)
    opened = sum(START <= r["valid_from"] < end for r in rows)
    closed = sum(r["valid_to"] is not None and START <= r["valid_to"] < end for r in rows)
    transfers = sum(
        len(p) > 1 and p[-2]["operator_id"] != p[-1]["operator_id"] for p in by_line.values()
    )
    assert opened > 50
    assert closed > 50
    assert transfers > 20


# -- the file ----------------------------------------------------------------------------


def test_schema_is_exactly_the_cdr_schema(written: tuple[CdrSummary, pa.Table]) -> None:
    summary, table = written
    assert pq.read_schema(summary.path).equals(CDR_SCHEMA)
    assert table.schema.equals(CDR_SCHEMA)
    assert pq.ParquetFile(summary.path).num_row_groups == summary.chunks == 5
    assert summary.rows == table.num_rows == SPEC.calls
    assert summary.bytes == summary.path.stat().st_size
    assert len(set(table.column("call_id").to_pylist())) == SPEC.calls
    starts = table.column("start_utc").to_pylist()
    assert starts == sorted(starts)
    assert starts[0] >= START
    assert starts[-1] < START + timedelta(days=DAYS)
    assert set(table.column("a_number").to_pylist()) <= set(
        synthetic_lines(3_000, seed=7).to_pylist()
    )


def test_deterministic_for_a_seed(
    tmp_path: Path, written: tuple[CdrSummary, pa.Table], lines: pa.Array, history: pa.Table
) -> None:
    again = write(tmp_path / "again.parquet", SPEC, lines, history)
    assert pq.read_table(again.path).equals(written[1])
    assert replace(again, path=written[0].path, seconds=0) == replace(written[0], seconds=0)
    other = write(tmp_path / "other.parquet", replace(SPEC, seed=8), lines, history)
    assert not pq.read_table(other.path).equals(written[1])


def test_csv_parses_back_to_the_same_rows(
    tmp_path: Path, written: tuple[CdrSummary, pa.Table], lines: pa.Array, history: pa.Table
) -> None:
    summary = write(tmp_path / "cdrs.csv", SPEC, lines, history)
    head = summary.path.read_text().splitlines()[:2]
    assert head[0] == '"call_id","start_utc","duration_s","a_number","dialed","carrier"'
    assert head[1].split(",")[1].endswith('Z"')
    types = {f.name: f.type for f in CDR_SCHEMA}
    back = pacsv.read_csv(summary.path, convert_options=pacsv.ConvertOptions(column_types=types))
    assert back.cast(CDR_SCHEMA).equals(written[1])


# -- digits and classes ------------------------------------------------------------------


def test_every_template_gives_the_class_it_is_meant_to() -> None:
    table = dialling_table(PLAN)
    template = np.arange(len(table.length))
    numbers = strings_from_digits(
        table.digits(template, np.random.default_rng(1)), table.length
    ).to_pylist()
    for i, number in enumerate(numbers):
        found = PLAN.classify(number)
        assert found.call_class is CLASSES[table.call_class[i]], number
        assert found.excluded == table.excluded[i], number
        assert split_carrier_code(number)[0] is None, number


def test_a_template_the_plan_does_not_agree_with_is_refused() -> None:
    with pytest.raises(TemplateError):
        verdict(PLAN, "00", 12)  # 0047 + 8 digits is a national number
    with pytest.raises(TemplateError):
        verdict(PLAN, "15", 8)  # reads as a carrier selection code
    assert verdict(PLAN, "0046", 13) == (CallClass.INTERNATIONAL, False)


def test_dialled_classes_are_the_plans(written: tuple[CdrSummary, pa.Table]) -> None:
    summary, table = written
    found = Counter()
    for dialled in table.column("dialed").to_pylist():
        found[PLAN.classify(split_carrier_code(dialled)[1]).call_class.value] += 1
    assert dict(found) == summary.dialled_by_class
    share = {c: n / summary.rows for c, n in found.items()}
    assert share["LOCAL_NATIONAL"] > 0.4
    assert share["MOBILE"] > 0.3
    assert 0.03 < share["INTERNATIONAL"] < 0.12
    for small in ("FREEPHONE", "SHARED_COST", "PREMIUM", "SHORT", "EMERGENCY", "INVALID"):
        assert 0 < share[small] < 0.05, small


def test_international_calls_use_real_country_codes(written: tuple[CdrSummary, pa.Table]) -> None:
    codes = {code for code, _, _ in COUNTRIES}
    seen = Counter()
    for dialled in written[1].column("dialed").to_pylist():
        number = split_carrier_code(dialled)[1]
        if PLAN.classify(number).call_class is CallClass.INTERNATIONAL:
            assert number.startswith("00")
            cc = next(number[2 : 2 + n] for n in (1, 2, 3) if number[2 : 2 + n] in codes)
            seen[cc] += 1
    assert len(seen) > 10
    assert seen.most_common(1)[0][0] == "46"  # Sweden


# -- the recorded carrier ----------------------------------------------------------------


def preselection_finder(history: pa.Table) -> Callable[[str, datetime], Preselection | None]:
    """The preselection valid at an instant, by a plain search of the history's rows."""
    periods: dict[str, list[dict[str, Any]]] = {}
    for row in history.to_pylist():
        periods.setdefault(row["number"], []).append(row)

    def at(number: str, instant: datetime) -> Preselection | None:
        rows = periods.get(number, [])
        i = bisect_right([r["valid_from"] for r in rows], instant) - 1
        if i < 0 or (rows[i]["valid_to"] is not None and instant >= rows[i]["valid_to"]):
            return None
        r = rows[i]
        return Preselection(
            number, r["operator_id"], Option(r["option"]), r["valid_from"], r["order_id"]
        )

    return at


def scalar_routes(table: pa.Table, history: pa.Table) -> list[Route]:
    at = preselection_finder(history)
    return [
        route(
            row["dialed"],
            plan=PLAN,
            carrier_codes=CODES,
            preselection=at(row["a_number"], row["start_utc"]),
        )
        for row in table.to_pylist()
    ]


def test_recorded_carrier_is_the_routing_rule_except_misrouted_calls(
    written: tuple[CdrSummary, pa.Table], history: pa.Table
) -> None:
    summary, table = written
    routes = scalar_routes(table, history)
    recorded = table.column("carrier").to_pylist()
    mismatches = sum(r.expected_carrier != c for r, c in zip(routes, recorded, strict=True))
    assert mismatches == summary.misrouted > 0
    assert dict(Counter(r.call_class.value for r in routes)) == summary.by_class
    assert dict(Counter(r.route_reason.value for r in routes)) == summary.by_reason
    assert dict(Counter(r.expected_carrier for r in routes)) == summary.by_carrier
    assert dict(Counter(recorded)) == summary.recorded_by_carrier
    seconds = Counter()
    for r, d in zip(routes, table.column("duration_s").to_pylist(), strict=True):
        seconds[r.expected_carrier] += d
    assert {k: v for k, v in seconds.items() if v} == summary.seconds_by_carrier
    assert {"CPS", "CSC", "EXCLUDED", "DEFAULT"} <= set(summary.by_reason)
    assert "nextgentel" in summary.by_carrier  # by code only


def test_codes_before_excluded_numbers_stay_with_the_incumbent(
    written: tuple[CdrSummary, pa.Table],
) -> None:
    summary, table = written
    assert 0.04 < summary.csc_calls / summary.rows < 0.06
    dialled = table.column("dialed").to_pylist()
    coded = [split_carrier_code(d) for d in dialled]
    assert sum(code in CODES for code, _ in coded) == summary.csc_calls
    excluded = [
        carrier
        for (code, number), carrier in zip(coded, table.column("carrier").to_pylist(), strict=True)
        if code is not None and PLAN.classify(number).excluded
    ]
    assert len(excluded) > 5
    assert Counter(excluded).most_common(1)[0][0] == INCUMBENT


def test_misrouted_share_within_tolerance(
    tmp_path: Path, lines: pa.Array, history: pa.Table
) -> None:
    spec = replace(SPEC, calls=20_000, misrouted_share=0.05, chunk_rows=20_000)
    summary = write(tmp_path / "m.parquet", spec, lines, history)
    assert abs(summary.misrouted / summary.rows - 0.05) < 0.006  # > 5 sigma
    assert summary.recorded_by_carrier != summary.by_carrier


def test_no_misrouting_records_the_rule(tmp_path: Path, lines: pa.Array, history: pa.Table) -> None:
    spec = replace(SPEC, calls=3_000, misrouted_share=0.0)
    summary = write(tmp_path / "exact.parquet", spec, lines, history)
    assert summary.misrouted == 0
    assert summary.recorded_by_carrier == summary.by_carrier


# -- rhythm, durations, volume -----------------------------------------------------------


def test_daily_and_weekly_rhythm_in_oslo_time(written: tuple[CdrSummary, pa.Table]) -> None:
    local = [t.astimezone(OSLO) for t in written[1].column("start_utc").to_pylist()]
    by_hour = Counter(t.hour for t in local)
    night = sum(by_hour[h] for h in range(1, 6)) / 5
    day = sum(by_hour[h] for h in range(9, 16)) / 7
    assert night < day / 10
    assert max(by_hour, key=by_hour.__getitem__) in (9, 10, 11, 13, 14)
    by_weekday = Counter(t.weekday() for t in local)
    assert by_weekday[5] + by_weekday[6] < (by_weekday[0] + by_weekday[1]) * 0.6


def test_durations_are_log_normal_with_a_long_tail(written: tuple[CdrSummary, pa.Table]) -> None:
    durations = np.array(written[1].column("duration_s").to_pylist())
    answered = durations[durations > 0]
    assert durations.min() == 0
    assert 0.02 < (durations == 0).mean() < 0.08
    assert 55 <= np.median(answered) <= 110
    assert np.percentile(answered, 99) > 10 * np.median(answered)


def test_a_few_lines_make_many_calls(written: tuple[CdrSummary, pa.Table]) -> None:
    calls = Counter(written[1].column("a_number").to_pylist())
    ranked = sorted(calls.values(), reverse=True)
    assert sum(ranked[:30]) > 0.08 * written[0].rows  # top 1% of 3,000 lines
    assert np.median(ranked) < 2 * written[0].rows / 3_000


# -- memory ------------------------------------------------------------------------------


def peaks(path: Path, spec: TrafficSpec, lines: pa.Array, history: pa.Table) -> tuple[int, int]:
    """(peak bytes in pyarrow's pool, peak bytes numpy and Python allocated) of one run."""
    pool, default = pa.proxy_memory_pool(pa.default_memory_pool()), pa.default_memory_pool()
    pa.set_memory_pool(pool)
    tracemalloc.start()
    try:
        write(path, spec, lines, history)
        return pool.max_memory(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        pa.set_memory_pool(default)


def test_memory_stays_bounded_while_streaming(
    tmp_path: Path, lines: pa.Array, history: pa.Table
) -> None:
    spec = replace(SPEC, calls=15_000, chunk_rows=5_000)
    arrow_3, numpy_3 = peaks(tmp_path / "3.parquet", spec, lines, history)
    arrow_12, numpy_12 = peaks(tmp_path / "12.parquet", replace(spec, calls=60_000), lines, history)
    chunk = pq.read_table(tmp_path / "3.parquet").slice(0, 5_000).nbytes
    assert pq.ParquetFile(tmp_path / "12.parquet").num_row_groups == 12
    assert arrow_12 < 2 * chunk
    assert arrow_12 <= arrow_3 * 1.1
    assert numpy_12 <= numpy_3 * 1.1  # four times the rows, not more memory


# -- the vectorised preselection lookup --------------------------------------------------


def test_a_period_holds_from_its_first_second_until_its_end() -> None:
    begin = START + timedelta(hours=10, microseconds=500_000)
    row = ("22000001", "ice", "NATIONAL", begin, START + timedelta(hours=11), "o1")
    history = pa.Table.from_pylist(
        [dict(zip(HISTORY_SCHEMA.names, row, strict=True))], schema=HISTORY_SCHEMA
    )
    t0 = int(START.timestamp())
    periods = index_periods(
        history, line_numbers(pa.array(["22000001"])), {"ice": 3}, t0, t0 + 86_400
    )
    calls = np.array([10 * 3600, 10 * 3600 + 1, 11 * 3600 - 1, 11 * 3600], dtype=np.int64) + t0
    carrier, option = periods.at(np.zeros(4, dtype=np.int64), calls)
    assert carrier.tolist() == [NONE, 3, 3, NONE]
    assert option[1] == list(Option).index(Option.NATIONAL)


@settings(max_examples=60, deadline=None)
@given(
    bounds=st.lists(
        st.integers(0, 2 * 86_400).map(lambda s: s * 10**6) | st.integers(0, 2 * 86_400 * 10**6),
        max_size=8,
        unique=True,
    ),
    opens=st.lists(st.booleans(), min_size=8, max_size=8),
    calls=st.lists(st.integers(0, 86_400 * 2), min_size=1, max_size=30),
)
def test_period_lookup_equals_a_scalar_search(
    bounds: list[int], opens: list[bool], calls: list[int]
) -> None:
    """Periods with microsecond bounds, some open-ended, some before the calls."""
    t0 = int(START.timestamp())
    micros = sorted(bounds)
    edges = [datetime.fromtimestamp(t0 - 50, UTC) + timedelta(microseconds=m) for m in micros]
    rows = []
    for i, begin in enumerate(edges):
        end = edges[i + 1] if i + 1 < len(edges) else None
        if end is not None and not opens[i]:
            end = begin + (end - begin) / 2
        rows.append(("22000001", OPERATORS[i % 3], "ALL", begin, end, f"o{i}"))
    history = pa.Table.from_pylist(
        [dict(zip(HISTORY_SCHEMA.names, r, strict=True)) for r in rows], schema=HISTORY_SCHEMA
    )
    lines = pa.array(["22000000", "22000001"])
    carriers = {"INCUMBENT": 0, **{op: i + 1 for i, op in enumerate(OPERATORS)}}
    periods = index_periods(history, line_numbers(lines), carriers, t0, t0 + 86_400 * 2 + 1)
    t_first = int(edges[0].timestamp()) if edges else t0
    calls += [e - t_first for e in range(t_first, t_first + 3)]  # on and around an edge
    for e in edges:
        calls += [int(e.timestamp()) - t0 + d for d in (-1, 0, 1)]
    calls = [c for c in calls if 0 <= c <= 86_400 * 2]
    seconds = np.array([t0 + c for c in calls], dtype=np.int64)
    carrier, _ = periods.at(np.ones(len(calls), dtype=np.int64), seconds)
    nobody, _ = periods.at(np.zeros(len(calls), dtype=np.int64), seconds)
    at = preselection_finder(history)
    for c, got in zip(calls, carrier, strict=True):
        found = at("22000001", datetime.fromtimestamp(t0 + c, UTC))
        assert got == (NONE if found is None else carriers[found.operator_id])
    assert (nobody == NONE).all()


@settings(max_examples=50, deadline=None)
@given(
    weights=st.lists(st.floats(0, 1e6) | st.just(0.0) | st.floats(0, 1e-9), min_size=1),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_guide_table_draws_what_a_binary_search_draws(weights: list[float], seed: int) -> None:
    if not sum(weights) > 0:
        weights = [*weights, 1.0]
    table = GuideTable(np.array(weights))
    uniform = np.concatenate([np.random.default_rng(seed).random(2_000), table.cdf[:-1]])
    uniform = uniform[uniform < 1]
    expected = np.searchsorted(table.cdf, uniform, side="right")
    assert table.draw(uniform).tolist() == expected.tolist()
    assert np.all(np.array(weights)[table.draw(uniform)] > 0)


def test_bad_input_is_refused(tmp_path: Path, lines: pa.Array, history: pa.Table) -> None:
    spec = replace(SPEC, calls=10)
    with pytest.raises(ValueError, match="8-digit"):
        write_cdrs(tmp_path / "x.parquet", spec, lines=pa.array(["2233"]), history=history,
                   carrier_codes=CODES)  # fmt: skip
    with pytest.raises(ValueError, match="1500-1549"):
        write_cdrs(tmp_path / "x.parquet", spec, lines=lines, history=history,
                   carrier_codes={"1600": "telia"})  # fmt: skip
    with pytest.raises(ValueError, match="timezone"):
        TrafficSpec(calls=1, start=datetime(2026, 11, 2), days=1)


def test_no_calls_is_an_empty_file(tmp_path: Path, lines: pa.Array, history: pa.Table) -> None:
    summary = write(tmp_path / "empty.parquet", replace(SPEC, calls=0), lines, history)
    assert summary.rows == summary.chunks == 0
    assert pq.read_table(summary.path).schema.equals(CDR_SCHEMA)
