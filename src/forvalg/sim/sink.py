"""Where CDR chunks go: a Parquet file (one row group a chunk) or a CSV file.

CSV carries timestamps as ISO 8601 with `Z` (INTERFACES.md §3), to the second; the
synthetic calls start on whole seconds, so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ISO_Z = "%Y-%m-%dT%H:%M:%SZ"


class Sink(Protocol):
    def write(self, table: pa.Table) -> None: ...


class ParquetSink:
    def __init__(self, writer: pq.ParquetWriter) -> None:
        self._writer = writer

    def write(self, table: pa.Table) -> None:
        self._writer.write_table(table, row_group_size=max(table.num_rows, 1))


class CsvSink:
    def __init__(self, writer: pacsv.CSVWriter, schema: pa.Schema) -> None:
        self._writer, self._schema = writer, schema

    def write(self, table: pa.Table) -> None:
        self._writer.write_table(as_text(table, self._schema))


def text_schema(schema: pa.Schema) -> pa.Schema:
    """`schema` with timestamp columns as strings (their CSV form)."""
    return pa.schema(
        [
            pa.field(f.name, pa.string(), f.nullable) if pa.types.is_timestamp(f.type) else f
            for f in schema
        ]
    )


def as_text(table: pa.Table, schema: pa.Schema) -> pa.Table:
    columns = []
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_timestamp(field.type):
            column = pc.strftime(column.cast(pa.timestamp("s", tz="UTC")), format=ISO_Z)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=schema)


@contextmanager
def open_sink(path: Path, schema: pa.Schema) -> Iterator[Sink]:
    """A sink for `path`: CSV when its name ends in .csv, else Parquet (zstd)."""
    if path.suffix.lower() == ".csv":
        text = text_schema(schema)
        with pacsv.CSVWriter(str(path), text) as writer:
            yield CsvSink(writer, text)
    else:
        with pq.ParquetWriter(
            str(path), schema, compression="zstd", use_dictionary=["carrier"]
        ) as writer:
            yield ParquetSink(writer)
