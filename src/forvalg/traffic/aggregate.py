"""Settlement's one pass over the rated files, in DuckDB.

The rows never come to Python: one SQL aggregation reads every file (Parquet and CSV
side by side), checks each row's values, and returns one row per group — problem, in the
period or not, billed operator, recorded carrier of a mismatch, call class, time band —
with calls, seconds and the exact decimal sum of the charges. That is a few hundred
rows for any input size, so memory is bounded by DuckDB's scan buffers, whatever the
number of rows. Only when a value is bad does a second query find the first bad row
(file, row, column) to name it.

Values checked on every row: `start_utc` (an instant; CSV: ISO 8601 with `Z` or an
offset), `route_reason` (one of the four), `duration_s` (a whole number >= 0),
`mismatch` (true or false). On billed rows (`CSC`, `CPS`) also: `expected_carrier`
(not empty), `call_class` and `time_band` (known values), `charge_nok` (>= 0; CSV: at
most 4 decimal places).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from forvalg.domain.numbering import CallClass
from forvalg.domain.routing import RouteReason
from forvalg.domain.settlement import BILLED, Period
from forvalg.domain.tariffs import TimeBand
from forvalg.engines.dialect import DUCKDB, Dialect
from forvalg.traffic.sources import BadRatedFile, Format, RatedFile
from forvalg.traffic.statement import ZERO, Mismatches, Usage

MEMORY_LIMIT = "1GB"
POLL_S = 0.25
Progress = Callable[[float], None]  # percent of the query done


def _list(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in sorted(values))


_BILLED = f"route_reason IN ({_list(BILLED)})"


def _problem_sql() -> str:
    """The first column at fault in a row, or NULL: the order is the order of the checks."""
    return f"""CASE
  WHEN start_utc IS NULL THEN 'start_utc'
  WHEN route_reason IS NULL OR route_reason NOT IN ({_list(RouteReason)}) THEN 'route_reason'
  WHEN duration_s IS NULL OR duration_s < 0 THEN 'duration_s'
  WHEN mismatch IS NULL THEN 'mismatch'
  WHEN {_BILLED} AND coalesce(expected_carrier, '') = '' THEN 'expected_carrier'
  WHEN {_BILLED} AND coalesce(call_class, '') NOT IN ({_list(CallClass)}) THEN 'call_class'
  WHEN {_BILLED} AND coalesce(time_band, '') NOT IN ({_list(TimeBand)}) THEN 'time_band'
  WHEN {_BILLED} AND (charge IS NULL OR charge < 0) THEN 'charge_nok'
END"""


_PROBLEM = _problem_sql()
WHY = {
    "start_utc": "missing, or not an instant (CSV: ISO 8601 with Z, e.g. 2026-11-02T08:15:00Z)",
    "route_reason": f"must be one of {', '.join(RouteReason)}",
    "duration_s": "missing, negative, or not a whole number of seconds",
    "mismatch": "missing, or not true or false",
    "expected_carrier": "missing on a billed (CSC or CPS) call",
    "call_class": f"must be one of {', '.join(CallClass)} on a billed call",
    "time_band": f"must be one of {', '.join(TimeBand)} on a billed call",
    "charge_nok": "missing, negative, or more than 4 decimal places on a billed call",
}
_INSTANT = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
    r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)"
)
_MONEY = r"[0-9]{1,14}(\.[0-9]{1,4})?"


def parquet_rows(d: Dialect, source: str) -> str:
    """The typed rows of rated Parquet files; `source` has their columns, `filename` and
    (with `@ROW@` numbering) `file_row_number`."""
    return f"""
SELECT filename AS file, @ROW@ AS row,
  TRY_CAST(start_utc AS {d.instant}) AS start_utc,
  TRY_CAST(duration_s AS BIGINT) AS duration_s,
  CAST(call_class AS {d.text}) AS call_class,
  CAST(expected_carrier AS {d.text}) AS expected_carrier,
  CAST(route_reason AS {d.text}) AS route_reason,
  CAST(time_band AS {d.text}) AS time_band,
  TRY_CAST(charge_nok AS DECIMAL(38, 4)) AS charge,
  CAST(mismatch AS BOOLEAN) AS mismatch,
  @CARRIER@ AS carrier
FROM {source}"""


def csv_rows(d: Dialect, source: str) -> str:
    """The typed rows of rated CSV files read as text; `source` as for `parquet_rows`."""
    return f"""
SELECT filename AS file, @ROW@ AS row,
  CASE WHEN {d.full_match("start_utc", _INSTANT)}
    THEN TRY_CAST(start_utc AS {d.instant}) END AS start_utc,
  CASE WHEN {d.full_match("duration_s", "[0-9]{1,12}")}
    THEN CAST(duration_s AS BIGINT) END AS duration_s,
  call_class, expected_carrier, route_reason, time_band,
  CASE WHEN {d.full_match("charge_nok", _MONEY)}
    THEN CAST(charge_nok AS DECIMAL(38, 4)) END AS charge,
  CASE lower(mismatch) WHEN 'true' THEN true WHEN 'false' THEN false
    WHEN '1' THEN true WHEN '0' THEN false END AS mismatch,
  @CARRIER@ AS carrier
FROM {source}"""


# The SQL is built from this module's constants only; file names are parameters.
_PARQUET = parquet_rows(
    DUCKDB, "read_parquet($@NAME@, filename = true, union_by_name = true@NUMBERED@)"
)
_CSV = csv_rows(
    DUCKDB,
    """read_csv($@NAME@, header = true, all_varchar = true, filename = true,
  union_by_name = true, delim = ',', quote = '"', escape = '"')@NUMBERED@""",
)


def groups_sql(d: Dialect, rows: str) -> str:
    """One row per group of the checked rows (see `collect`), with the period's bounds as
    the parameters `start` and `end`."""
    in_period = f"start_utc >= {d.param('start')} AND start_utc < {d.param('end')}"
    return f"""
WITH checked AS (
  SELECT *, {_PROBLEM} AS problem, {_BILLED} AS billed FROM ({rows})
), valued AS (
  SELECT *, problem IS NULL AND {in_period} AS in_period FROM checked
)
SELECT
  problem,
  CASE WHEN problem IS NULL THEN in_period END AS in_period,
  CASE WHEN problem IS NULL AND billed THEN expected_carrier END AS operator,
  CASE WHEN in_period AND mismatch THEN nullif(carrier, '') END AS recorded,
  CASE WHEN in_period THEN mismatch END AS mismatch,
  CASE WHEN in_period AND billed THEN call_class END AS call_class,
  CASE WHEN in_period AND billed THEN time_band END AS time_band,
  count(*) AS calls,
  coalesce(sum(CASE WHEN problem IS NULL THEN duration_s END), 0) AS seconds,
  coalesce(sum(CASE WHEN problem IS NULL AND billed THEN charge END), 0) AS charge
FROM valued
GROUP BY ALL"""


@dataclass
class Scan:
    """What one pass found: per operator, its lines, mismatches and calls outside the
    period; and the run's row counts."""

    lines: dict[str, dict[tuple[str, str], Usage]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    billed_recorded_other: dict[str, Usage] = field(default_factory=dict)
    billed_recorded_none: dict[str, Usage] = field(default_factory=dict)
    recorded_not_billed: dict[str, Usage] = field(default_factory=dict)
    outside_period: dict[str, Usage] = field(default_factory=dict)
    rows: int = 0
    rows_in_period: int = 0
    rows_outside_period: int = 0

    @property
    def billed_operators(self) -> set[str]:
        """Operators the files bill for calls, in the period or outside it."""
        return set(self.lines) | set(self.outside_period)

    @property
    def recorded_carriers(self) -> set[str]:
        """Carriers the exchange recorded on calls it did not bill them for."""
        return set(self.recorded_not_billed)

    def mismatches(self, operator: str) -> Mismatches:
        return Mismatches(
            billed_recorded_other=self.billed_recorded_other.get(operator, Usage()),
            billed_recorded_none=self.billed_recorded_none.get(operator, Usage()),
            recorded_not_billed=self.recorded_not_billed.get(operator, Usage()),
        )


def _add(into: dict[str, Usage], key: str, usage: Usage) -> None:
    into[key] = into.get(key, Usage()) + usage


def connect(memory_limit: str = MEMORY_LIMIT) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with bounded memory, answering in UTC, keeping track of a
    query's progress without printing it (the caller shows it, see `scan`)."""
    connection = duckdb.connect(
        config={"memory_limit": memory_limit, "preserve_insertion_order": False}
    )
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute("SET enable_progress_bar = true")
    connection.execute("SET enable_progress_bar_print = false")
    return connection


def _watch(
    connection: duckdb.DuckDBPyConnection, progress: Progress, stop: threading.Event
) -> None:
    """Report the running query's progress (percent) until `stop` is set."""
    while not stop.wait(POLL_S):
        done = connection.query_progress()
        if done >= 0:
            progress(float(done))


def _rows_sql(files: Sequence[RatedFile], *, numbered: bool) -> tuple[str, dict[str, Any]]:
    """The typed rows of `files` (all Parquet, all CSV, or both, by column name), and the
    parameters naming the files. `numbered`: with each row's number in its file (one
    file at a time)."""
    parts, params = [], {}
    for kind, template in ((Format.PARQUET, _PARQUET), (Format.CSV, _CSV)):
        chosen = [f for f in files if f.format is kind]
        if not chosen:
            continue
        name = f"{kind}_files"
        params[name] = [str(f.path) for f in chosen]
        if kind is Format.PARQUET:
            row, suffix = "file_row_number + 1", ", file_row_number = true"
        else:
            row, suffix = "ordinality + 1", " WITH ORDINALITY"  # the header is row 1
        carrier = "CAST(carrier AS VARCHAR)" if any(f.has_carrier for f in chosen) else "NULL"
        parts.append(
            template.replace("@NAME@", name)
            .replace("@ROW@", row if numbered else "NULL")
            .replace("@NUMBERED@", suffix if numbered else "")
            .replace("@CARRIER@", carrier)
        )
    return "\nUNION ALL BY NAME\n".join(parts), params


def scan(
    connection: duckdb.DuckDBPyConnection,
    files: Sequence[RatedFile],
    period: Period,
    progress: Progress | None = None,
) -> Scan:
    """Aggregate the rated files for the period; `BadRatedFile` naming the first bad
    value (file, row, column) if there is one, before anything is returned. `progress`
    is told the query's progress in percent, a few times a second, from another thread."""
    rows, params = _rows_sql(files, numbered=False)
    params |= {"start": period.start, "end": period.end}
    stop = threading.Event()
    watcher = None
    if progress is not None:
        watcher = threading.Thread(target=_watch, args=(connection, progress, stop), daemon=True)
        watcher.start()
    try:
        groups = connection.execute(groups_sql(DUCKDB, rows), params).fetchall()
    except duckdb.Error as exc:
        raise _unreadable(files, exc) from None
    finally:
        stop.set()
        if watcher is not None:
            watcher.join()
    found, bad = collect(groups)
    if bad:
        raise first_bad_value(connection, files)
    return found


def collect(groups: Iterable[Sequence[Any]]) -> tuple[Scan, bool]:
    """The groups of `groups_sql` as a `Scan`, and whether a group had a bad value."""
    found = Scan()
    bad = False
    for (
        problem,
        in_period,
        operator,
        recorded,
        mismatch,
        cclass,
        band,
        calls,
        secs,
        charge,
    ) in groups:
        found.rows += calls
        if problem is not None:
            bad = True
            continue
        usage = Usage(int(calls), int(secs), Decimal(charge) if operator else ZERO)
        if not in_period:
            found.rows_outside_period += calls
            if operator is not None:
                _add(found.outside_period, operator, usage)
            continue
        found.rows_in_period += calls
        if operator is not None:
            lines = found.lines[operator]
            lines[cclass, band] = lines.get((cclass, band), Usage()) + usage
            if mismatch:
                mine = (
                    found.billed_recorded_none if recorded is None else found.billed_recorded_other
                )
                _add(mine, operator, usage)
        if mismatch and recorded is not None and recorded != operator:
            _add(found.recorded_not_billed, recorded, Usage(usage.calls, usage.seconds))
    return found, bad


def first_bad_value(
    connection: duckdb.DuckDBPyConnection, files: Sequence[RatedFile]
) -> BadRatedFile:
    """The first bad value of the first file (by name) that has one, as `BadRatedFile`."""
    try:
        found = _first(connection, files, f"{_PROBLEM}", {})
    except BadRatedFile as exc:
        return exc
    if found is None:
        return BadRatedFile(files[0].path, "a bad value that could not be found again")
    path, row, column = found
    return BadRatedFile(path, WHY[column], column=column, row=row)


def locate(
    connection: duckdb.DuckDBPyConnection, files: Sequence[RatedFile], operator: str
) -> tuple[Path, int] | None:
    """The first row (file by name, then row) billing `operator`, or None."""
    condition = f"CASE WHEN {_BILLED} AND expected_carrier = $operator THEN 'yes' END"
    found = _first(connection, files, condition, {"operator": operator})
    return None if found is None else found[:2]


def _first(
    connection: duckdb.DuckDBPyConnection,
    files: Sequence[RatedFile],
    label: str,
    params: dict[str, Any],
) -> tuple[Path, int, str] | None:
    """(file, row, label) of the first row whose `label` expression is not NULL, in the
    first file (by name) that has one; a file at a time, rows numbered as in the file."""
    for rated in sorted(files, key=lambda f: (f.name, str(f.path))):
        rows, named = _rows_sql([rated], numbered=True)
        query = (
            f"SELECT row, label FROM (SELECT row, {label} AS label FROM ({rows})) "
            "WHERE label IS NOT NULL ORDER BY row LIMIT 1"
        )
        try:
            found = connection.execute(query, named | params).fetchone()
        except duckdb.Error as exc:
            raise _unreadable([rated], exc) from None
        if found is not None:
            return rated.path, int(found[0]), str(found[1])
    return None


def _unreadable(files: Sequence[RatedFile], exc: duckdb.Error) -> BadRatedFile:
    """DuckDB could not read a file (a malformed CSV row, a corrupt Parquet page): the
    file its message names, else the first, with the message's first line."""
    text = " ".join(str(exc).split())
    named = next((f for f in files if str(f.path) in text), files[0])
    return BadRatedFile(named.path, f"cannot be read: {text[:300]}")
