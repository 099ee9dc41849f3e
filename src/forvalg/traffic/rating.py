"""`forvalg traffic rate`: route-check and rate a CDR file, vectorised in DuckDB.

One SQL statement streams the calls through small joined tables (traffic/reference.py)
and out to the rated file; there is no per-row Python. The decision per call is the
domain's `routing.route` and `Tariff.charge`, in SQL; a property test holds the two
equal on every row. Bad rows go to a rejects file with a reason each; the rated file and
the rejects file appear together, or neither does (written aside, then renamed).

Memory stays bounded whatever the file size: DuckDB streams the scan, the joins'
build sides are the small tables, and `memory_limit` caps the rest (it spills).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from forvalg.domain.numbering import CSC_DIGITS, INTERNATIONAL_PREFIX, KEY_DIGITS, OWN_COUNTRY_CODE
from forvalg.domain.numbering import NATIONAL_DIGITS as NAT
from forvalg.domain.numbers import CSC_FIRST, CSC_LAST
from forvalg.domain.orders import Option
from forvalg.domain.routing import INCUMBENT
from forvalg.domain.tariffs import UNITS_PER_NOK, TimeBand, units
from forvalg.engines.dialect import DUCKDB, Dialect
from forvalg.traffic.cdrs import CdrSource, file_format, open_cdrs, sql_path
from forvalg.traffic.reference import MAX_SPAN, PLAN_KEY, RatingReference, SpanTooLong

RATED_COLUMNS = (
    "call_id",
    "start_utc",
    "duration_s",
    "a_number",
    "dialed",
    "carrier",
    "call_class",
    "expected_carrier",
    "route_reason",
    "order_id",
    "routing_version",
    "time_band",
    "charge_nok",
    "mismatch",
)
REJECT_COLUMNS = ("row", "reason", "call_id", "start_utc", "duration_s", "a_number", "dialed")
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
MAX_DIALLED = 32
MAX_DURATION_S = 86_400  # exchanges close a call's record at least daily
# Hours 00-23: DuckDB reads T24:00:00 as the next midnight, Spark as no time at all.
CSV_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z"


class RatingFailed(ValueError):
    """A run that cannot complete (its files, or the engine); nothing is written."""


def publish(summary: RatingSummary, rated: tuple[Path, Path], rejects: tuple[Path, Path]) -> None:
    """Check that every row read was rated or rejected, then rename the staged rated and
    rejects files (staged, final) into place: both appear, or neither."""
    accounted = summary.rated + sum(summary.rejected.values())
    if accounted != summary.rows:
        raise RatingFailed(
            f"{summary.source}: {summary.rows} rows read but {accounted} rated or rejected"
        )
    os.replace(*rated)
    os.replace(*rejects)
    summary.rejects = rejects[1]


def _distinct(**paths: Path) -> None:
    """The input, the rated file and the rejects file must be three different files."""
    seen: dict[Path, str] = {}
    for option, path in paths.items():
        where = path.resolve()
        if where in seen:
            raise RatingFailed(f"--{option} {path}: the same file as the {seen[where]}")
        seen[where] = "input" if option == "source" else f"--{option}"


@dataclass
class RatingSummary:
    source: Path
    out: Path
    rejects: Path | None
    rows: int = 0
    rated: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    by_reason: Counter[str] = field(default_factory=Counter)
    by_class: Counter[str] = field(default_factory=Counter)
    mismatches: int = 0
    charge_nok: Decimal = Decimal("0.0000")
    ignored_columns: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class EngineSettings:
    threads: int | None = None  # DuckDB's default: every core
    memory_limit: str = "2GB"
    temp_directory: Path | None = None
    compression: str = "snappy"  # zstd halves the file and doubles the time


def _checked(src: CdrSource, d: Dialect = DUCKDB) -> str:
    """The calls with `start_us` (microseconds since the epoch, UTC), `dur` (BIGINT) and
    `reject` (the first problem found, or NULL)."""
    if src.typed:
        start = d.epoch_ns_to_us("start_utc") if src.nanoseconds else d.epoch_us("start_utc")
        dur = "TRY_CAST(duration_s AS BIGINT)"
        time_reason = "WHEN start_utc IS NULL THEN 'start_utc: missing'"
        dur_reason = (
            "WHEN duration_s IS NULL THEN 'duration_s: missing' "
            f"WHEN dur IS NULL THEN 'duration_s: more than {MAX_DURATION_S}'"
        )
    else:
        without_z = "substring(start_utc, 1, length(start_utc) - 1)"
        start = (
            f"CASE WHEN {d.full_match('start_utc', CSV_TIME)} "
            f"THEN {d.epoch_us(f'TRY_CAST({without_z} AS TIMESTAMP)')} END"
        )
        dur = (
            f"CASE WHEN {d.full_match('duration_s', '-?[0-9]{1,18}')} "
            "THEN CAST(duration_s AS BIGINT) END"
        )
        time_reason = (
            "WHEN start_utc IS NULL THEN 'start_utc: missing' "
            "WHEN start_us IS NULL "
            "THEN 'start_utc: not an ISO 8601 UTC time like 2026-11-01T10:00:00Z'"
        )
        dur_reason = (
            "WHEN duration_s IS NULL THEN 'duration_s: missing' "
            "WHEN dur IS NULL THEN 'duration_s: not an integer'"
        )
    carrier = "carrier" if src.has_carrier else f"CAST(NULL AS {d.text})"
    earliest, latest = (int(t.timestamp()) * 1_000_000 for t in (EARLIEST, LATEST))
    return f"""
        SELECT *, CASE
            WHEN call_id IS NULL OR call_id = '' THEN 'call_id: missing'
            {time_reason}
            WHEN start_us < {earliest} OR start_us >= {latest}
                THEN 'start_utc: outside 1990-2099'
            {dur_reason}
            WHEN dur < 0 THEN 'duration_s: negative'
            WHEN dur > {MAX_DURATION_S} THEN 'duration_s: more than {MAX_DURATION_S}'
            WHEN a_number IS NULL OR a_number = '' THEN 'a_number: missing'
            WHEN NOT {d.full_match("a_number", f"[0-9]{{{NAT}}}")}
                THEN 'a_number: not an 8-digit national number'
            WHEN dialed IS NULL OR dialed = '' THEN 'dialed: missing'
            WHEN NOT {d.full_match("dialed", f"[0-9]{{1,{MAX_DIALLED}}}")}
                THEN 'dialed: not 1-{MAX_DIALLED} digits'
        END AS reject
        FROM (
            SELECT row, call_id, start_utc, duration_s, a_number, dialed,
                   {carrier} AS carrier, {start} AS start_us, {dur} AS dur
            FROM {src.relation}
        )"""


def _rated(src: CdrSource, reference: RatingReference, d: Dialect = DUCKDB) -> str:
    """The route of DOMAIN.md (and of `routing.route`) and the charge, per valid call."""
    own = INTERNATIONAL_PREFIX + OWN_COUNTRY_CODE
    minimum = units(reference.tariff.minimum_charge)
    k = CSC_DIGITS
    covered = " ".join(f"WHEN '{o.value}' THEN p.covers_{o.lower()}" for o in Option)
    rate = " ".join(f"WHEN '{b.value}' THEN p.rate_{b.lower()}" for b in TimeBand)
    return f"""
    WITH calls AS ({_checked(src, d)}),
    split AS (
        SELECT row, call_id, start_utc, start_us, dur, a_number, dialed, carrier,
            CASE WHEN length(dialed) > {k}
                      AND substring(dialed, 1, {k}) BETWEEN '{CSC_FIRST}' AND '{CSC_LAST}'
                 THEN substring(dialed, 1, {k}) END AS csc
        FROM calls WHERE reject IS NULL
    ),
    numbered AS (
        SELECT *, CASE WHEN csc IS NULL THEN dialed ELSE substring(dialed, {k + 1}) END AS num
        FROM split
    ),
    national AS (
        SELECT *, CASE WHEN left(num, {len(own)}) = '{own}' AND length(num) = {len(own) + NAT}
                       THEN substring(num, {len(own) + 1}) ELSE num END AS nat
        FROM numbered
    ),
    judged AS (
        SELECT c.*,
            coalesce(p.call_class, 'INVALID') AS class0,
            coalesce(p.excluded, false) AS excluded,
            coalesce(p.selectable, false) AS selectable,
            k.operator_id AS code_operator,
            h.operator_id AS cps_operator, h.order_id AS cps_order,
            coalesce(CASE h.option {covered} END, false) AS covered,
            t.band, t.routing_version,
            CASE t.band {rate} END AS rate_units
        FROM national c
        LEFT JOIN plan p
             ON p.plan_key = length(c.nat) * {PLAN_KEY}
                + CAST(substring(c.nat, 1, {KEY_DIGITS}) AS BIGINT)
        LEFT JOIN codes k ON k.csc = c.csc
        LEFT JOIN history h ON h.number = CAST(c.a_number AS INTEGER)
             AND c.start_us >= h.valid_from AND (h.valid_to IS NULL OR c.start_us < h.valid_to)
        JOIN minutes t ON t.minute = {d.div("c.start_us", "60000000")}
    ),
    routed AS (
        SELECT *, CASE
            WHEN excluded THEN 'EXCLUDED'
            WHEN csc IS NOT NULL THEN
                CASE WHEN code_operator IS NOT NULL AND selectable THEN 'CSC' ELSE 'DEFAULT' END
            WHEN covered THEN 'CPS'
            ELSE 'DEFAULT' END AS route_reason
        FROM judged
    )
    SELECT row, call_id, start_utc, start_us, dur AS duration_s, a_number, dialed, carrier,
        CASE WHEN csc IS NOT NULL AND NOT excluded AND route_reason = 'DEFAULT'
             THEN 'INVALID' ELSE class0 END AS call_class,
        CASE route_reason WHEN 'CSC' THEN code_operator WHEN 'CPS' THEN cps_operator
             ELSE '{INCUMBENT}' END AS expected_carrier,
        route_reason,
        CASE WHEN route_reason = 'CPS' THEN cps_order END AS order_id,
        routing_version,
        band AS time_band,
        CASE WHEN route_reason IN ('CSC', 'CPS') AND dur > 0
             THEN greatest({d.div("dur * rate_units + 30", "60")}, {minimum}) ELSE 0 END
             AS charge_units
    FROM routed
    """


def _output(rated: str, src: CdrSource, fmt: str, d: Dialect = DUCKDB) -> str:
    """The rated rows in the published columns and types."""
    charge = (
        f"CAST(CAST(charge_units AS DECIMAL(18, 0)) * {Decimal(1) / UNITS_PER_NOK} "
        "AS DECIMAL(18, 4))"
    )
    if fmt == "parquet":
        start = "start_utc"  # a UTC timestamp already: passed through untouched
        if not src.aware:
            start = d.from_epoch_us("start_us")
    else:
        start = d.iso_utc("start_us")
        charge = f"CAST({charge} AS {d.text})"
    return f"""
        SELECT call_id, {start} AS start_utc, duration_s, a_number, dialed, carrier,
               call_class, expected_carrier, route_reason, order_id, routing_version,
               time_band, {charge} AS charge_nok,
               coalesce(carrier IS NOT NULL AND carrier <> expected_carrier, false) AS mismatch
        FROM ({rated})"""


class RatingEngine:
    """Rates CDR files against one `RatingReference` (docs/TRAFFIC.md)."""

    def __init__(self, reference: RatingReference, settings: EngineSettings | None = None):
        self._reference = reference
        self._settings = settings or EngineSettings()

    def _connect(self, temp: Path) -> duckdb.DuckDBPyConnection:
        s = self._settings
        con = duckdb.connect(config={"threads": s.threads} if s.threads else {})
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"SET memory_limit = '{s.memory_limit}'")
        con.execute(f"SET temp_directory = {sql_path(s.temp_directory or temp)}")
        # The calls are the probe side of every join, whatever the optimiser estimates
        # after the per-row checks: building a hash table of them would hold the file.
        con.execute("SET disabled_optimizers = 'join_order,build_side_probe_side'")
        # Rows are written as the threads finish them (a third faster on two cores);
        # call_id names each row, so nothing depends on the input's order.
        con.execute("SET preserve_insertion_order = false")
        for name, table in self._reference.tables().items():
            con.register(name, table)
        return con

    def rate(self, source: Path, out: Path, *, rejects: Path | None = None) -> RatingSummary:
        """Rate `source` into `out` (format by extension) and bad rows into `rejects`
        (default `<out>.rejects.csv`; its header alone when nothing is rejected).

        A clean Parquet file is read once: its row count and the span of its start times
        come from its footer. A CSV file (or a Parquet file without statistics) is first
        scanned for them. Rejects are written, in a second pass, only if some rows were
        not rated."""
        started = time.perf_counter()
        rejects = rejects or out.with_name(out.name + ".rejects.csv")
        fmt = file_format(out)
        _distinct(source=source, out=out, rejects=rejects)
        with ExitStack() as stack:
            temp = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=out.parent)))
            src = open_cdrs(source, temp / "staged.parquet")
            con = stack.enter_context(self._connect(temp))
            summary = RatingSummary(source, out, None, ignored_columns=src.ignored)
            # A file the schema check passed may still fail in the engine (a Parquet file
            # DuckDB cannot decode): that is the file's fault, named, never a traceback.
            try:
                rows, first, last = _footer(src) or self._scan(con, src)
            except duckdb.Error as exc:
                raise RatingFailed(f"{source}: {str(exc).splitlines()[0]}") from None
            summary.rows = rows + len(src.malformed)
            try:
                con.register("minutes", self._reference.minutes(first, last))
            except SpanTooLong as exc:  # found by fuzzing: the message named no file
                raise RatingFailed(f"{source}: {exc}") from None
            rated, staged = _output(_rated(src, self._reference), src, fmt), temp / f"rated.{fmt}"
            options = "FORMAT csv, HEADER true"
            if fmt == "parquet":
                options = (
                    f"FORMAT parquet, COMPRESSION {self._settings.compression}, "
                    f"KV_METADATA {_metadata(self._reference, source)}"
                )
            try:
                con.execute(f"COPY ({rated}) TO {sql_path(staged)} ({options})")
            except duckdb.Error as exc:
                raise RatingFailed(f"{source}: {str(exc).splitlines()[0]}") from None
            self._tally(con, _reader(staged, fmt), summary)
            staged_rejects = temp / "rejects.csv"
            if summary.rated < summary.rows:
                try:
                    self._write_rejects(con, src, staged_rejects, summary)
                except duckdb.Error as exc:
                    raise RatingFailed(f"{source}: {str(exc).splitlines()[0]}") from None
            else:  # a clean run still replaces an earlier run's rejects
                staged_rejects.write_text(",".join(REJECT_COLUMNS) + "\n")
            publish(summary, (staged, out), (staged_rejects, rejects))
        summary.seconds = time.perf_counter() - started
        return summary

    def _scan(
        self, con: duckdb.DuckDBPyConnection, src: CdrSource
    ) -> tuple[int, datetime | None, datetime | None]:
        """The rows, and the first and last start of the rows that will be rated."""
        rows, lo, hi = con.execute(span_sql(_checked(src))).fetchall()[0]
        return span(rows, lo, hi)

    def _tally(self, con: duckdb.DuckDBPyConnection, rated: str, summary: RatingSummary) -> None:
        add_tally(summary, con.execute(tally_sql(rated)).fetchall())

    def _write_rejects(
        self, con: duckdb.DuckDBPyConnection, src: CdrSource, path: Path, summary: RatingSummary
    ) -> None:
        """Write the rows that were not rated, with their reasons, and count them."""
        if src.malformed:
            con.register("malformed", malformed_table(src))
        query = rejects_sql(src)
        con.execute(f"COPY ({query}) TO {sql_path(path)} (FORMAT csv, HEADER true)")
        counts = con.execute(
            f"SELECT reason, count(*) FROM {_reader(path, 'csv')} GROUP BY reason"
        ).fetchall()
        summary.rejected.update(dict(counts))


def span_sql(checked: str) -> str:
    """Rows, and the first and last `start_us` of the rows that will be rated."""
    return (
        "SELECT count(*), min(start_us) FILTER (WHERE reject IS NULL), "
        f"max(start_us) FILTER (WHERE reject IS NULL) FROM ({checked})"
    )


def span(rows: int, lo: int | None, hi: int | None) -> tuple[int, datetime | None, datetime | None]:
    if lo is None or hi is None:
        return rows, None, None
    return rows, datetime.fromtimestamp(lo / 1e6, UTC), datetime.fromtimestamp(hi / 1e6, UTC)


def tally_sql(rated: str) -> str:
    """Calls, mismatches and charge by route and class, of a rated file (Parquet or CSV
    read as text) that the engine wrote: the summary counts what is in the file."""
    return f"""SELECT route_reason, call_class, count(*),
                      count(*) FILTER (WHERE CAST(mismatch AS BOOLEAN)),
                      coalesce(sum(CAST(charge_nok AS DECIMAL(38, 4))), 0)
               FROM {rated} GROUP BY ALL"""


def add_tally(summary: RatingSummary, rows: Iterable[Sequence[Any]]) -> None:
    for reason, call_class, count, mismatches, charge in rows:
        summary.rated += count
        summary.by_reason[reason] += count
        summary.by_class[call_class] += count
        summary.mismatches += mismatches
        summary.charge_nok += Decimal(charge)


def malformed_table(src: CdrSource) -> pa.Table:
    """The CSV rows with the wrong number of fields, as `malformed` (row, reason)."""
    rows, reasons = zip(*src.malformed, strict=True) if src.malformed else ((), ())
    return pa.table(
        {"row": pa.array(list(rows), pa.int64()), "reason": pa.array(list(reasons), pa.string())}
    )


def rejects_sql(src: CdrSource, d: Dialect = DUCKDB) -> str:
    """The rows not rated, with their reasons, in row order; the malformed rows of a CSV
    file come from the table `malformed` (see `malformed_table`)."""
    columns = REJECT_COLUMNS[2:]
    stamp = src.typed  # start_utc is a timestamp, not text
    text = ", ".join(
        f"{d.timestamp_text(c, aware=src.aware) if stamp and c == 'start_utc' else d.cast_text(c)}"
        f" AS {c}"
        for c in columns
    )
    nulls = ", ".join(f"CAST(NULL AS {d.text}) AS {c}" for c in columns)
    query = (
        f"SELECT row, reject AS reason, {text} FROM ({_checked(src, d)}) WHERE reject IS NOT NULL"
    )
    if src.malformed:
        query = f"{query} UNION ALL SELECT row, reason, {nulls} FROM malformed"
    return f"SELECT * FROM ({query}) ORDER BY row"


def _footer(src: CdrSource) -> tuple[int, datetime, datetime] | None:
    """Rows and span from a Parquet file's footer, when usable: the span must lie in the
    years a call can have and be short enough for one run (otherwise a scan finds the
    span of the rows that will be rated, rejects left out)."""
    if src.rows is None or src.span is None:
        return None
    first, last = src.span
    if first < EARLIEST or last >= LATEST or last - first > MAX_SPAN:
        return None
    return src.rows, first, last


def rating_metadata(reference: RatingReference, source: Path, engine: str) -> dict[str, str]:
    """What the rated file was judged by, as Parquet key-value metadata (`forvalg.*`;
    settlement copies it into the statements' sources)."""
    return {
        "forvalg.source": source.name,
        "forvalg.tariff_version": reference.tariff.version,
        "forvalg.exclusions_version": reference.plan.exclusions.version,
        "forvalg.routing_versions": str(len(reference.versions)),
        "forvalg.engine": engine,
    }


def _metadata(reference: RatingReference, source: Path) -> str:
    """`rating_metadata` as DuckDB's KV_METADATA option."""
    facts = rating_metadata(reference, source, f"duckdb {duckdb.__version__}")
    quoted = (f"'{k}': '{v.replace(chr(39), chr(39) * 2)}'" for k, v in facts.items())
    return "{" + ", ".join(quoted) + "}"


def _reader(path: Path, fmt: str) -> str:
    if fmt == "parquet":
        return f"read_parquet({sql_path(path)})"
    return f"read_csv({sql_path(path)}, all_varchar = true, header = true)"
