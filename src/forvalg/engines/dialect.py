"""The few SQL spellings where DuckDB and Spark differ, so each query is written once.

The query builders of traffic (rating.py, aggregate.py) and of the detectors
(compliance/detectors/) write SQL both engines read alike (`substring`, `left`, `CASE`,
`coalesce`, `TRY_CAST`, `GROUP BY ALL`, the `FILTER` clause of an aggregate, `bool_or`,
`max_by`, `split_part`, window frames, joins with `USING`; identifiers unquoted, as
Spark reads `"x"` as a string) and call a `Dialect` for the rest: a regular
expression that must match the whole text, integer division, a timestamp as microseconds
since the epoch and back, ISO 8601 text of an instant, a string literal, a query
parameter, a fixed-point decimal type, the semi- and anti-join keywords, and the few
list functions (the first n values in order, a sorted set, a list's length, sorted and
joined, "holds all of", one row per element). Nothing here runs a query; the engines do
(DuckDB in the services, Spark through `forvalg.engines.spark`).

The regular expressions used are plain ones (character classes, counts, groups) that
RE2 (DuckDB) and java.util.regex (Spark) read the same way.

One construct has no Spark equivalent: DuckDB's `ASOF JOIN` ("the latest row at or
before this instant"). Where a query needs it, its builder writes the DuckDB form and,
beside it, a Spark form with a window over the union of both sides (`asof_join` says
which to use); the engines' identity tests hold the two equal. sqlglot was not used: the
spellings are few, and the ASOF joins need a different query shape on Spark, not a
different spelling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Name = Literal["duckdb", "spark"]


@dataclass(frozen=True, slots=True)
class Dialect:
    name: Name

    @property
    def spark(self) -> bool:
        return self.name == "spark"

    def string(self, text: str) -> str:
        """`text` as a string literal. Spark reads backslash escapes in literals (and two
        adjacent literals as one), DuckDB reads neither."""
        if self.spark:
            return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return "'" + text.replace("'", "''") + "'"

    def full_match(self, expr: str, pattern: str) -> str:
        """True when the whole of `expr` matches `pattern` (NULL for NULL)."""
        if self.spark:
            # `\z`, not `$`: Java's `$` also matches before a final line break.
            return f"({expr} RLIKE {self.string('^(?:' + pattern + ')' + chr(92) + 'z')})"
        return f"regexp_full_match({expr}, {self.string(pattern)})"

    def div(self, a: str, b: str | int) -> str:
        """Integer division of two integers, truncating (both engines truncate toward 0)."""
        return f"(({a}) DIV ({b}))" if self.spark else f"(({a}) // ({b}))"

    @property
    def semi_join(self) -> str:
        """The left semi join keyword(s)."""
        return "LEFT SEMI JOIN" if self.spark else "SEMI JOIN"

    @property
    def asof_join(self) -> bool:
        """Whether the engine has DuckDB's ASOF JOIN."""
        return not self.spark

    @property
    def anti_join(self) -> str:
        """The left anti join keyword(s)."""
        return "LEFT ANTI JOIN" if self.spark else "ANTI JOIN"

    def first_sorted(
        self, expr: str, n: int, where: str | None = None, by: tuple[str, ...] = ()
    ) -> str:
        """The aggregate: the first `n` values of `expr` in ascending order of `by` (of
        `expr` itself when none; keys must not be null) over the rows `where` holds; an
        empty list or null when there are none."""
        having = f" FILTER (WHERE {where})" if where else ""
        if self.spark:
            if not by:
                return f"slice(array_sort(collect_list({expr}){having}), 1, {int(n)})"
            keys = ", ".join(f"'k{i}', {k}" for i, k in enumerate(by))
            pairs = f"array_sort(collect_list(named_struct({keys}, 'v', {expr})){having})"
            return f"transform(slice({pairs}, 1, {int(n)}), x -> x.v)"
        order = ", ".join(by or (expr,))
        return f"list_slice(list({expr} ORDER BY {order}){having}, 1, {int(n)})"

    def sorted_set(self, expr: str) -> str:
        """The aggregate: the distinct values of `expr`, in ascending order."""
        if self.spark:
            return f"array_sort(collect_set({expr}))"
        return f"list(DISTINCT {expr} ORDER BY {expr})"

    def length(self, array: str) -> str:
        """The number of elements of a list."""
        return f"size({array})" if self.spark else f"len({array})"

    def joined_sorted(self, array: str, separator: str) -> str:
        """A list of strings sorted and joined with `separator` into one string."""
        if self.spark:
            return f"array_join(array_sort({array}), {self.string(separator)})"
        return f"array_to_string(list_sort({array}), {self.string(separator)})"

    def has_all(self, array: str, elements: str) -> str:
        """True when list `array` holds every element of list `elements`."""
        if self.spark:
            return f"(size(array_except({elements}, {array})) = 0)"
        return f"list_has_all({array}, {elements})"

    def explode(self, array: str) -> str:
        """In a SELECT list: a row per element of `array` (none for an empty list)."""
        return f"explode({array})" if self.spark else f"unnest({array})"

    def epoch_us(self, timestamp: str) -> str:
        """A timestamp (UTC) as microseconds since the epoch (BIGINT)."""
        return f"unix_micros({timestamp})" if self.spark else f"epoch_us({timestamp})"

    def epoch_ns_to_us(self, timestamp: str) -> str:
        """A nanosecond timestamp as microseconds (Spark holds microseconds only)."""
        if self.spark:
            return self.epoch_us(timestamp)
        return f"(epoch_ns({timestamp}) // 1000)"

    def from_epoch_us(self, micros: str) -> str:
        """Microseconds since the epoch as a UTC timestamp."""
        if self.spark:
            return f"timestamp_micros({micros})"
        return f"(to_timestamp({micros} // 1000000) + to_microseconds({micros} % 1000000))"

    def iso_utc(self, micros: str) -> str:
        """Microseconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`, with `.ffffff` before the
        `Z` only when the instant is not on a whole second."""
        if self.spark:
            whole = "\"yyyy-MM-dd'T'HH:mm:ss'Z'\""
            part = "\"yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'\""
            ts = f"timestamp_micros({micros})"
            return (
                f"CASE WHEN {micros} % 1000000 = 0 THEN date_format({ts}, {whole}) "
                f"ELSE date_format({ts}, {part}) END"
            )
        return (
            f"CASE WHEN {micros} % 1000000 = 0 "
            f"THEN strftime(make_timestamp({micros}), '%Y-%m-%dT%H:%M:%SZ') "
            f"ELSE strftime(make_timestamp({micros}), '%Y-%m-%dT%H:%M:%S.%fZ') END"
        )

    @property
    def instant(self) -> str:
        """The type of a time-zone-aware instant (Spark's TIMESTAMP is one, in UTC here)."""
        return "TIMESTAMP" if self.spark else "TIMESTAMPTZ"

    @property
    def text(self) -> str:
        return "STRING" if self.spark else "VARCHAR"

    def cast_text(self, expr: str) -> str:
        return f"CAST({expr} AS {self.text})"

    def timestamp_text(self, expr: str, *, aware: bool) -> str:
        """A timestamp as DuckDB's text of it: `2026-11-01 10:00:00.123+00` (the fraction
        without trailing zeros, `+00` when the timestamp has a zone)."""
        if not self.spark:
            return self.cast_text(expr)
        fraction = f"date_format({expr}, 'SSSSSS')"
        zone = " '+00'," if aware else ""
        return (
            f"concat(date_format({expr}, 'yyyy-MM-dd HH:mm:ss'), "
            f"CASE WHEN {fraction} = '000000' THEN '' "
            f"ELSE concat('.', regexp_replace({fraction}, '0+$', '')) END,{zone} '')"
        )

    def param(self, name: str) -> str:
        """A named query parameter."""
        return f":{name}" if self.spark else f"${name}"


DUCKDB = Dialect("duckdb")
SPARK = Dialect("spark")
