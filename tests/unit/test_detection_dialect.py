"""The pieces of detection on Spark that need no Spark: the step table with a point at
every midnight is the same step function, and the dialects' spellings."""

from __future__ import annotations

import duckdb
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from forvalg.compliance.detectors.workspace import DAY_US, Exposure
from forvalg.engines.dialect import DUCKDB, SPARK

intervals = st.lists(
    st.tuples(st.integers(0, 20 * DAY_US), st.integers(1, 5 * DAY_US)), min_size=0, max_size=30
)


@given(intervals, st.lists(st.integers(-DAY_US, 30 * DAY_US), min_size=1, max_size=50))
def test_daily_steps_are_the_same_step_function(
    pairs: list[tuple[int, int]], instants: list[int]
) -> None:
    starts = np.array([s for s, _ in pairs], dtype=np.int64)
    ends = np.array([s + w for s, w in pairs], dtype=np.int64)
    exposure = Exposure.of(starts, ends)
    points, exposed = exposure.steps()
    daily, at = exposure.daily_steps()
    assert np.all(np.diff(daily) > 0)  # sorted, distinct
    assert set(points.tolist()) <= set(daily.tolist())
    if len(points):
        days = np.arange(points[0] // DAY_US, points[-1] // DAY_US + 1) * DAY_US
        assert set(days.tolist()) <= set(daily.tolist())
    for t in instants:  # the latest point at or before t gives the same count
        k, j = np.searchsorted(points, t, "right") - 1, np.searchsorted(daily, t, "right") - 1
        assert (exposed[k] if k >= 0 else 0) == (at[j] if j >= 0 else 0)


def test_the_spellings_that_differ() -> None:
    assert DUCKDB.div("t", 86) == "((t) // (86))"
    assert SPARK.div("t", 86) == "((t) DIV (86))"
    assert (DUCKDB.semi_join, SPARK.semi_join) == ("SEMI JOIN", "LEFT SEMI JOIN")
    assert DUCKDB.first_sorted("id", 3, "hit") == (
        "list_slice(list(id ORDER BY id) FILTER (WHERE hit), 1, 3)"
    )
    assert SPARK.first_sorted("id", 3) == "slice(array_sort(collect_list(id)), 1, 3)"
    assert (DUCKDB.asof_join, SPARK.asof_join) == (True, False)


def test_the_list_spellings_give_the_values_they_say_on_duckdb() -> None:
    """Each list spelling evaluated (Spark's are evaluated through the ledger detectors'
    identity test, tests/integration/test_detection_spark.py)."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE r AS SELECT * FROM (VALUES "
        "(1, ['b', 'a'], 'x'), (2, ['c'], 'y'), (3, [], 'x'), (4, ['a', 'b', 'c'], 'x')"
        ") AS v(leaf, subjects, why)"
    )
    d = DUCKDB
    row = con.execute(
        f"""
        SELECT {
            d.first_sorted(
                "leaf", 2, f"{d.length('subjects')} > 0", by=(f"-{d.length('subjects')}", "leaf")
            )
        },
               {d.first_sorted("leaf", 2, "why = 'x'")},
               {d.sorted_set("why")},
               max({d.joined_sorted("subjects", ",")}),
               bool_and({d.has_all("['a', 'b', 'c']", "subjects")}),
               count_if({d.has_all("['a', 'b']", "subjects")})
        FROM r
        """
    ).fetchone()
    assert row == ([4, 1], [1, 3], ["x", "y"], "c", True, 2)  # [b, a] and []
    lines = con.execute(f"SELECT {d.explode('subjects')} AS s FROM r ORDER BY s").fetchall()
    assert [s for (s,) in lines] == ["a", "a", "b", "b", "c", "c"]
    assert SPARK.explode("x") == "explode(x)"
    assert SPARK.has_all("a", "b") == "(size(array_except(b, a)) = 0)"
    assert (DUCKDB.anti_join, SPARK.anti_join) == ("ANTI JOIN", "LEFT ANTI JOIN")
