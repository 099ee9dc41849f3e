"""Rated CDR files (INTERFACES §3) as settlement takes them: checked before a row is read.

A Parquet file's schema and a CSV file's header are checked against the rated columns;
the first missing or mistyped column fails the whole run at once, naming the file and
the column. Values are checked later, in the scan itself (traffic/aggregate.py). Each
file's SHA-256 and the rating engine's Parquet key-value metadata (keys `forvalg.*`)
go into every statement, so an operator can tell exactly which inputs it was built from.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

METADATA_PREFIX = "forvalg."
UTC_NAMES = frozenset({"UTC", "utc", "Etc/UTC", "Z", "+00:00", "00:00"})
CHUNK = 1 << 20


class Kind(StrEnum):
    STRING = "string"
    INSTANT = "timestamp with time zone UTC"
    INTEGER = "integer"
    MONEY = "decimal with 4 places (decimal128(18,4))"
    BOOL = "bool"


# The rated columns (INTERFACES §3) and what each must hold in Parquet.
REQUIRED: Mapping[str, Kind] = {
    "call_id": Kind.STRING,
    "start_utc": Kind.INSTANT,
    "duration_s": Kind.INTEGER,
    "a_number": Kind.STRING,
    "dialed": Kind.STRING,
    "call_class": Kind.STRING,
    "expected_carrier": Kind.STRING,
    "route_reason": Kind.STRING,
    "order_id": Kind.STRING,
    "routing_version": Kind.STRING,
    "time_band": Kind.STRING,
    "charge_nok": Kind.MONEY,
    "mismatch": Kind.BOOL,
}
OPTIONAL: Mapping[str, Kind] = {"carrier": Kind.STRING}
# Columns that may be entirely empty, which pyarrow may write as the `null` type.
MAY_BE_EMPTY = frozenset({"order_id", "carrier"})


class BadRatedFile(Exception):
    """A rated file settlement cannot take: names the file and, where known, the row
    (CSV: the header is row 1; Parquet: the first row is row 1) and the column."""

    def __init__(
        self, path: Path, message: str, *, column: str | None = None, row: int | None = None
    ) -> None:
        where = str(path)
        if row is not None:
            where += f": row {row}"
        if column is not None:
            where += f", column {column}" if row is not None else f": column {column}"
        super().__init__(f"{where}: {message}")
        self.path, self.column, self.row = path, column, row


class Format(StrEnum):
    PARQUET = "parquet"
    CSV = "csv"


@dataclass(frozen=True, slots=True)
class RatedFile:
    path: Path
    format: Format
    columns: frozenset[str]
    rating: Mapping[str, str] = field(default_factory=dict)  # Parquet `forvalg.*` metadata

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def has_carrier(self) -> bool:
        return "carrier" in self.columns


def format_of(path: Path) -> Format:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return Format.PARQUET
    if suffix == ".csv":
        return Format.CSV
    raise BadRatedFile(path, "not a rated CDR file: the name must end in .parquet or .csv")


def inspect(path: Path) -> RatedFile:
    """The file's format, columns and rating metadata; `BadRatedFile` for a file that is
    missing, unreadable, or lacks a rated column (or has it in another type)."""
    kind = format_of(path)
    if not path.is_file():
        raise BadRatedFile(path, "no such file")
    if kind is Format.PARQUET:
        return _parquet(path)
    return _csv(path)


def _parquet(path: Path) -> RatedFile:
    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException, UnicodeDecodeError) as exc:
        raise BadRatedFile(path, f"not a readable Parquet file ({_first_line(exc)})") from None
    names = schema.names
    for name in sorted({n for n in names if names.count(n) > 1}):
        raise BadRatedFile(path, "appears more than once", column=name)
    for name, kind in {**REQUIRED, **OPTIONAL}.items():
        if name not in names:
            if name in REQUIRED:
                raise BadRatedFile(path, f"missing (expected {kind})", column=name)
            continue
        found = schema.field(name).type
        if not _is(found, kind, may_be_empty=name in MAY_BE_EMPTY):
            raise BadRatedFile(path, f"is {found}, expected {kind}", column=name)
    raw = schema.metadata or {}
    rating = {
        key.decode("utf-8", "replace"): value.decode("utf-8", "replace")
        for key, value in raw.items()
        if key.startswith(METADATA_PREFIX.encode())
    }
    return RatedFile(path, Format.PARQUET, frozenset(names), dict(sorted(rating.items())))


def _is(found: pa.DataType, kind: Kind, *, may_be_empty: bool) -> bool:
    if pa.types.is_dictionary(found):
        found = found.value_type
    if may_be_empty and pa.types.is_null(found):
        return True
    match kind:
        case Kind.STRING:
            return bool(
                pa.types.is_string(found)
                or pa.types.is_large_string(found)
                or pa.types.is_string_view(found)
            )
        case Kind.INSTANT:
            return bool(pa.types.is_timestamp(found)) and found.tz in UTC_NAMES
        case Kind.INTEGER:
            return bool(pa.types.is_integer(found))
        case Kind.MONEY:
            return bool(pa.types.is_decimal(found)) and found.scale == 4
        case Kind.BOOL:
            return bool(pa.types.is_boolean(found))


def _csv(path: Path) -> RatedFile:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise BadRatedFile(path, f"cannot read the header ({_first_line(exc)})", row=1) from None
    if not header:
        raise BadRatedFile(path, "empty: no header", row=1)
    names = list(header)
    for name in names:
        if names.count(name) > 1:
            raise BadRatedFile(path, "appears more than once in the header", column=name, row=1)
    for name in REQUIRED:
        if name not in names:
            raise BadRatedFile(path, "missing from the header", column=name, row=1)
    return RatedFile(path, Format.CSV, frozenset(names))


def sha256(path: Path, progress: Callable[[int], None] | None = None) -> str:
    """The file's SHA-256 (hex), read in 1 MiB chunks; `progress` gets each chunk's size."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            if progress is not None:
                progress(len(chunk))
    return digest.hexdigest()


def inspect_all(paths: Iterable[Path]) -> list[RatedFile]:
    """Every file, checked, in the order given; a file given twice is refused (its calls
    would be billed twice)."""
    found: list[RatedFile] = []
    seen: dict[Path, Path] = {}
    for path in paths:
        rated = inspect(path)
        key = path.resolve()
        if key in seen:
            raise BadRatedFile(path, f"given twice (also as {seen[key]})")
        seen[key] = path
        found.append(rated)
    if not found:
        raise ValueError("no rated files")
    return found


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
