"""The few SQL spellings in which DuckDB and Spark SQL differ, for the detectors' queries.

Every detector query is one definition (DESIGN.md "Storage"): the builder writes the
SQL once and asks its engine's `Dialect` for the handful of functions that are spelt
differently. Everything else in those queries (FILTER clauses on aggregates,
`bool_or`, window frames, `count(DISTINCT ...)`, joins with `USING`) is the same text
on both engines.

One construct has no Spark equivalent: DuckDB's `ASOF JOIN` ("the latest row at or
before this instant"). Where a query needs it, its builder writes the DuckDB form and,
beside it, a Spark form with a window over the union of both sides (`asof_join` says
which to use); the engines' identity test (tests/integration/test_detection_spark.py)
holds the two equal. DuckDB keeps its ASOF JOIN because it is the faster of the two there.

sqlglot was not used: it would be a new dependency for three spellings, and the ASOF
joins need a different query shape on Spark, not a different spelling.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    semi_join: str  # the left semi join keyword(s)
    asof_join: bool  # has DuckDB's ASOF JOIN

    def idiv(self, a: str, b: int | str) -> str:
        """Integer division of non-negative integers (microseconds into days)."""
        if self.name == "duckdb":
            return f"({a} // {b})"
        return f"({a} div {b})"

    def first_sorted(self, expr: str, n: int, where: str | None = None) -> str:
        """The aggregate: the first `n` values of `expr` in ascending order (the rows
        `where` holds); an empty list or null when there are none."""
        if self.name == "duckdb":
            having = f" FILTER (WHERE {where})" if where else ""
            return f"list_slice(list({expr} ORDER BY {expr}){having}, 1, {int(n)})"
        having = f" FILTER (WHERE {where})" if where else ""
        return f"slice(array_sort(collect_list({expr}){having}), 1, {int(n)})"


DUCKDB = Dialect(name="duckdb", semi_join="SEMI JOIN", asof_join=True)
SPARK = Dialect(name="spark", semi_join="LEFT SEMI JOIN", asof_join=False)
