"""CDR files as the exchanges export them (INTERFACES.md §3): schema checks and reading.

A Parquet file is read where it lies: its schema is checked before anything runs and its
rows are numbered by DuckDB. A CSV file is staged once into a temporary Parquet file of
strings with row numbers (pyarrow's streaming reader, block by block), so both formats
feed the same SQL and the same per-row checks. Row numbers count data rows from 1.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from forvalg.domain.columns import is_text, is_utc_timestamp

REQUIRED = ("call_id", "start_utc", "duration_s", "a_number", "dialed")
OPTIONAL = ("carrier",)
COLUMNS = (*REQUIRED, *OPTIONAL)
STAGE_BLOCK = 16 << 20


class CdrFileError(ValueError):
    """A CDR file that cannot be read at all (format or schema); nothing is written."""


def sql_path(path: Path) -> str:
    """`path` as a DuckDB string literal."""
    return "'" + str(path).replace("'", "''") + "'"


def file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix == ".csv":
        return "csv"
    raise CdrFileError(f"{path}: unknown format {suffix!r} (expected .parquet or .csv)")


@dataclass(frozen=True, slots=True)
class CdrSource:
    """A CDR file ready for the engine: `relation` is a DuckDB table expression with the
    columns `row` and COLUMNS; `typed` says whether start_utc and duration_s are already a
    timestamp and an integer (Parquet) or text still to be parsed (CSV)."""

    path: Path
    relation: str
    typed: bool
    has_carrier: bool
    ignored: tuple[str, ...]
    aware: bool = False  # start_utc is a timestamp in microseconds with a UTC time zone
    nanoseconds: bool = False  # start_utc is a timestamp in nanoseconds
    rows: int | None = None  # from the Parquet footer
    span: tuple[datetime, datetime] | None = None  # first and last start, from statistics
    malformed: list[tuple[int, str]] = field(default_factory=list)  # (row, reason), CSV


def _check_columns(path: Path, names: list[str]) -> tuple[bool, tuple[str, ...]]:
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise CdrFileError(
            f"{path}: column {missing[0]}: missing (required: {', '.join(REQUIRED)})"
        )
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise CdrFileError(f"{path}: column {dupes[0]}: appears more than once")
    return "carrier" in names, tuple(n for n in names if n not in COLUMNS)


def _expect(path: Path, schema: pa.Schema, name: str, ok: bool, wanted: str) -> None:
    if not ok:
        found = schema.field(name).type
        raise CdrFileError(f"{path}: column {name}: expected {wanted}, found {found}")


def _parquet(path: Path) -> CdrSource:
    try:
        schema = pq.read_schema(path)
    # A column name that is not UTF-8 fails to decode in pyarrow, as itself.
    except (OSError, pa.ArrowException, UnicodeDecodeError) as exc:
        raise CdrFileError(f"{path}: not a readable Parquet file: {exc}") from None
    has_carrier, ignored = _check_columns(path, schema.names)
    for name in ("call_id", "a_number", "dialed", *(["carrier"] if has_carrier else [])):
        _expect(path, schema, name, is_text(schema.field(name).type), "string")
    start = schema.field("start_utc").type
    _expect(
        path,
        schema,
        "start_utc",
        is_utc_timestamp(start),
        "timestamp (UTC)",
    )
    _expect(
        path, schema, "duration_s", pa.types.is_integer(schema.field("duration_s").type), "integer"
    )
    relation = (
        "(SELECT file_row_number + 1 AS row, * "
        f"FROM read_parquet({sql_path(path)}, file_row_number = true))"
    )
    meta = pq.read_metadata(path)
    return CdrSource(
        path,
        relation,
        True,
        has_carrier,
        ignored,
        # Microseconds with a zone pass through untouched; other units are recomputed.
        aware=start.tz is not None and start.unit == "us",
        nanoseconds=start.unit == "ns",
        rows=meta.num_rows,
        span=_span(path),
    )


def _span(path: Path) -> tuple[datetime, datetime] | None:
    """The first and last start_utc by the row groups' statistics, if they all have them.

    Read through DuckDB's `parquet_metadata`, not pyarrow's statistics: pyarrow aborts the
    whole process (a C++ exception nobody catches) on some corrupt statistics, where
    DuckDB raises an error (found by fuzz/cdr_reader.py). Anything unreadable or beyond
    Python's datetime gives None: the engine then scans for the span."""
    query = (
        "SELECT stats_min, stats_max FROM parquet_metadata(" + sql_path(path) + ") "
        "WHERE path_in_schema = 'start_utc'"
    )
    try:
        with duckdb.connect() as con:
            con.execute("SET TimeZone = 'UTC'")
            found = con.execute(query).fetchall()
    except duckdb.Error:
        return None
    if not found or any(low is None or high is None for low, high in found):
        return None
    try:
        lows = [_instant(low) for low, _ in found]
        highs = [_instant(high) for _, high in found]
    except ValueError:
        return None
    return min(lows), max(highs)


def _instant(text: str) -> datetime:
    """DuckDB's rendering of a timestamp statistic, as an aware UTC datetime (a time
    without a zone is UTC by the file's contract)."""
    found = datetime.fromisoformat(text)
    return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)


def _csv_batches(
    path: Path, names: list[str], malformed: list[tuple[int, str]]
) -> Iterator[pa.RecordBatch]:
    """The CSV's rows with their data-row numbers; rows with the wrong number of fields
    are left out and listed in `malformed` (row, reason)."""
    skipped: set[int] = set()

    def skip(row: pacsv.InvalidRow) -> Literal["skip"]:
        number = (row.number or 0) - 1  # physical line 1 is the header
        skipped.add(number)
        malformed.append(
            (number, f"expected {row.expected_columns} fields, found {row.actual_columns}")
        )
        return "skip"

    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(
            block_size=STAGE_BLOCK, use_threads=False, column_names=names, skip_rows=1
        ),
        parse_options=pacsv.ParseOptions(invalid_row_handler=skip),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True
        ),
    )
    row = 1
    for batch in reader:
        span = np.arange(row, row + batch.num_rows + len(skipped), dtype=np.int64)
        numbers = span[~np.isin(span, list(skipped))][: batch.num_rows] if skipped else span
        row = int(numbers[-1]) + 1 if len(numbers) else row
        skipped = {s for s in skipped if s >= row}
        yield pa.RecordBatch.from_arrays(
            [pa.array(numbers), *batch.columns], ["row", *batch.schema.names]
        )


def _csv_header(path: Path) -> list[str]:
    """The column names of the header line, unquoted (RFC 4180) and stripped."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f, skipinitialspace=True), [])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CdrFileError(f"{path}: not a readable UTF-8 CSV file: {exc}") from None
    return [n.strip() for n in header]


def stage_csv(path: Path, staging: Path) -> CdrSource:
    """Copy a CSV file into `staging` (Parquet, all text, numbered rows)."""
    names = _csv_header(path)
    has_carrier, ignored = _check_columns(path, names)
    types: dict[str, pa.DataType] = {"row": pa.int64()} | dict.fromkeys(names, pa.string())
    schema = pa.schema(types)
    malformed: list[tuple[int, str]] = []
    try:
        with pq.ParquetWriter(staging, schema, compression="lz4") as writer:
            for batch in _csv_batches(path, names, malformed):
                writer.write_batch(batch)
    except pa.ArrowInvalid as exc:
        raise CdrFileError(f"{path}: {exc}") from None
    relation = f"read_parquet({sql_path(staging)})"
    return CdrSource(path, relation, False, has_carrier, ignored, malformed=malformed)


def check_schema(path: Path) -> None:
    """Raise `CdrFileError` now if `path` cannot be a CDR file (format, columns, types)."""
    if not path.is_file():
        raise CdrFileError(f"{path}: no such file")
    if file_format(path) == "parquet":
        _parquet(path)
    else:
        _check_columns(path, _csv_header(path))


def open_cdrs(path: Path, staging: Path) -> CdrSource:
    """Check `path`'s schema (raising `CdrFileError`) and make it readable by the engine;
    a CSV file is staged at `staging`."""
    if not path.is_file():
        raise CdrFileError(f"{path}: no such file")
    if file_format(path) == "parquet":
        return _parquet(path)
    return stage_csv(path, staging)
