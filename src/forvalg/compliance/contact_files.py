"""Retail contact files as the CRM exports them (INTERFACES.md §4): schema checks and
streaming reads.

The schema is checked before the first row is read: a missing or repeated column, or a
Parquet column of the wrong type, is a `ContactFileError` naming the file and the
column, and nothing is imported. `campaign_id` and `outcome` may be left out; other
columns beyond §4's are ignored. Rows come in batches (`BATCH` rows, a Parquet record
batch or a stretch of CSV lines), each row with its number among the data rows
(counted from 1, the header not counted), so a file of any size is read in bounded
memory. A CSV row with the wrong number of fields is a row error, not a file error.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from forvalg.domain.columns import is_text, is_utc_timestamp
from forvalg.domain.contacts import COLUMNS, REQUIRED, Value

BATCH = 10_000
OPTIONAL = tuple(c for c in COLUMNS if c not in REQUIRED)


class ContactFileError(ValueError):
    """A contact file that cannot be imported at all; nothing is written."""


@dataclass(frozen=True, slots=True)
class RawRow:
    """One data row as read: its number, its values by column, or why it has none."""

    row: int
    values: dict[str, Value]
    malformed: str | None = None


def file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix == ".csv":
        return "csv"
    raise ContactFileError(f"{path}: unknown format {suffix!r} (expected .parquet or .csv)")


def _check_columns(path: Path, names: list[str]) -> list[str]:
    """The §4 columns the file has, in §4's order."""
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise ContactFileError(
            f"{path}: column {missing[0]}: missing (required: {', '.join(REQUIRED)})"
        )
    dupes = sorted({n for n in names if n in COLUMNS and names.count(n) > 1})
    if dupes:
        raise ContactFileError(f"{path}: column {dupes[0]}: appears more than once")
    return [c for c in COLUMNS if c in names]


@dataclass(frozen=True, slots=True)
class ContactFile:
    """A checked file: its format and the §4 columns it has."""

    path: Path
    format: str
    columns: tuple[str, ...]

    def batches(self) -> Iterator[list[RawRow]]:
        if self.format == "parquet":
            return self._parquet()
        return self._csv()

    def _parquet(self) -> Iterator[list[RawRow]]:
        row = 1
        try:
            source = pq.ParquetFile(self.path)
            for batch in source.iter_batches(batch_size=BATCH, columns=list(self.columns)):
                try:
                    records = batch.to_pylist()
                except UnicodeDecodeError:
                    at, name = _not_utf8(batch)
                    raise ContactFileError(
                        f"{self.path}: row {row + at}, column {name}: not UTF-8 text"
                    ) from None
                yield [RawRow(row + i, r) for i, r in enumerate(records)]
                row += len(records)
        except (OSError, pa.ArrowException, UnicodeDecodeError) as exc:
            raise ContactFileError(f"{self.path}: row {row} onwards: unreadable: {exc}") from None

    def _csv(self) -> Iterator[list[RawRow]]:
        row = 0
        try:
            with self.path.open("rb") as f:
                reader = csv.reader(_decoded(self.path, f), skipinitialspace=True)
                header = [h.strip() for h in next(reader)]
                index = {name: header.index(name) for name in self.columns}
                batch: list[RawRow] = []
                for cells in reader:
                    row += 1
                    if not any(c.strip() for c in cells):
                        continue  # blank lines carry nothing
                    if len(cells) != len(header):
                        values: dict[str, Value] = {
                            n: cells[i] if i < len(cells) else None for n, i in index.items()
                        }
                        reason = f"expected {len(header)} fields, found {len(cells)}"
                        batch.append(RawRow(row, values, reason))
                    else:
                        batch.append(RawRow(row, {n: cells[i] for n, i in index.items()}))
                    if len(batch) >= BATCH:
                        yield batch
                        batch = []
                if batch:
                    yield batch
        except csv.Error as exc:
            raise ContactFileError(f"{self.path}: row {row + 1}: {exc}") from None
        except OSError as exc:
            raise ContactFileError(f"{self.path}: cannot read: {exc.strerror or exc}") from None


def _not_utf8(batch: pa.RecordBatch) -> tuple[int, str]:
    """Where in `batch` a string value is not UTF-8 (Parquet does not check): its offset
    and column. Only called once a batch failed to decode."""
    for i in range(batch.num_rows):
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            try:
                column[i].as_py()
            except UnicodeDecodeError:
                return i, name
    return 0, "?"


def _decoded(path: Path, lines: Iterable[bytes]) -> Iterator[str]:
    """The file's lines as text, decoded one by one so that a byte that is not UTF-8 is
    named by its line (1 = the header; a quoted field may span lines)."""
    for number, line in enumerate(lines, start=1):
        try:
            yield line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise ContactFileError(
                f"{path}: line {number}: not UTF-8 text (byte {line[exc.start]:#04x})"
            ) from None


def open_contacts(path: Path) -> ContactFile:
    """Check the file's format and schema; read nothing else yet."""
    kind = file_format(path)
    if kind == "parquet":
        try:
            schema = pq.read_schema(path)
        except (OSError, pa.ArrowException, UnicodeDecodeError) as exc:
            raise ContactFileError(f"{path}: not a readable Parquet file: {exc}") from None
        columns = _check_columns(path, list(schema.names))
        for name in columns:
            found = schema.field(name).type
            ok = is_text(found) or (name == "time_utc" and is_utc_timestamp(found))
            if not ok:
                wanted = "timestamp (UTC) or string" if name == "time_utc" else "string"
                raise ContactFileError(f"{path}: column {name}: expected {wanted}, found {found}")
        return ContactFile(path, kind, tuple(columns))
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f, skipinitialspace=True), None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ContactFileError(f"{path}: not a readable UTF-8 CSV file: {exc}") from None
    if header is None:
        raise ContactFileError(f"{path}: empty: no header (required: {', '.join(REQUIRED)})")
    columns = _check_columns(path, [h.strip() for h in header])
    return ContactFile(path, kind, tuple(columns))
