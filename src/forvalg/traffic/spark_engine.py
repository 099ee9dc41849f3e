"""`--engine spark`: rating and settlement's scan on Spark, with the same SQL as DuckDB.

The queries are the ones of rating.py and aggregate.py, rendered for Spark by
`dialect.SPARK`; this module only does what differs between the engines: reading the
files (Spark's Parquet reader; `_metadata.row_index` numbers the rows), the reference
tables as broadcast views, writing the output, and the rename into place.

A CSV CDR file is first staged to Parquet exactly as for DuckDB (`cdrs.stage_csv`: row
numbers, and the rows with the wrong number of fields listed as rejects), then read by
Spark: row numbers and the malformed-row rejects are then the same by construction. On a
cluster the input is Parquet (docs/SCALE.md).

For one `--out` file Spark writes a part file per partition, in parallel, and the
driver gathers them into the one file (a rated Parquet file gets the same `forvalg.*`
key-value metadata as DuckDB writes, which Spark cannot write in a footer); the rejects,
few and sorted by row, are coalesced into one part. Both are written aside (a temporary
directory beside `--out`) and renamed only when both are whole and the counts add up.

Settlement: Spark aggregates; when a value is bad, or an operator unregistered, the first
bad row is found by DuckDB's `first_bad_value`/`locate` (an error path over the same
files, with the same messages).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq

from forvalg.domain.settlement import Period
from forvalg.engines.dialect import SPARK
from forvalg.engines.spark import SparkUnavailable, arrow_frame, spark_session, task_progress
from forvalg.traffic.aggregate import Scan, collect, csv_rows, groups_sql, parquet_rows
from forvalg.traffic.cdrs import CdrSource, file_format, open_cdrs
from forvalg.traffic.rating import (
    REJECT_COLUMNS,
    EngineSettings,
    RatingFailed,
    RatingSummary,
    _checked,
    _distinct,
    _footer,
    _output,
    _rated,
    add_tally,
    malformed_table,
    publish,
    rating_metadata,
    rejects_sql,
    span,
    span_sql,
    tally_sql,
)
from forvalg.traffic.reference import RatingReference
from forvalg.traffic.sources import BadRatedFile, Format, RatedFile

__all__ = ["SparkRatingEngine", "SparkUnavailable", "spark_groups"]

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

BROADCAST_BYTES = 256 << 20  # a reference table up to this size is sent whole to every task

# Spark's CSV writer and reader set to RFC 4180 as DuckDB writes it: fields quoted only
# when needed, a quote doubled, NULL as an empty field, an empty string as "".
CSV_WRITE = {
    "header": "true",
    "sep": ",",
    "quote": '"',
    "escape": '"',
    "nullValue": "",
    "emptyValue": '""',
    "ignoreLeadingWhiteSpace": "false",
    "ignoreTrailingWhiteSpace": "false",
    "lineSep": "\n",
    "encoding": "UTF-8",
}
CSV_READ = {
    "header": "true",
    "sep": ",",
    "quote": '"',
    "escape": '"',
    "mode": "FAILFAST",
    "multiLine": "true",  # a quoted field may hold a line break
    "inferSchema": "false",
    "ignoreLeadingWhiteSpace": "false",
    "ignoreTrailingWhiteSpace": "false",
    "encoding": "UTF-8",
}


def session(settings: EngineSettings) -> SparkSession:
    return spark_session(settings.threads, settings.memory_limit)


def _spark_error() -> tuple[type[BaseException], ...]:
    from py4j.protocol import Py4JJavaError  # type: ignore[import-untyped]
    from pyspark.errors import PySparkException

    return (PySparkException, Py4JJavaError)


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300]


def _view(spark: SparkSession, name: str, table: Any, *, broadcast: bool = True) -> None:
    """An Arrow table as a temporary view, marked for broadcast joins when it is small
    (every reference table of a Norwegian month; a UK history of tens of millions of
    periods is left to Spark's sort-merge join on the number instead)."""
    from pyspark.sql.functions import broadcast as hint

    frame = arrow_frame(spark, table)
    small = broadcast and table.nbytes <= BROADCAST_BYTES
    (hint(frame) if small else frame).createOrReplaceTempView(name)


def _dropped(spark: SparkSession, names: Iterable[str]) -> Callable[[], None]:
    """A callback dropping a run's temporary views: the session outlives the run (tests,
    a long-lived driver), and the views name files the run deletes."""
    chosen = tuple(names)

    def drop() -> None:
        for name in chosen:
            spark.catalog.dropTempView(name)

    return drop


def _parts(directory: Path, suffix: str) -> list[Path]:
    """The part files Spark wrote in `directory`, in partition order."""
    return sorted(
        p for p in directory.iterdir() if p.name.startswith("part-") and p.name.endswith(suffix)
    )


def _single(directory: Path, suffix: str, target: Path) -> None:
    """Move the one part file Spark wrote in `directory` to `target`."""
    parts = _parts(directory, suffix)
    if len(parts) != 1:
        raise RatingFailed(f"{directory}: expected one part file, found {len(parts)}")
    os.replace(parts[0], target)


def _gather_parquet(
    directory: Path, target: Path, metadata: dict[str, str], compression: str
) -> None:
    """Spark's part files as one Parquet file, batch by batch, with key-value metadata in
    its footer (which Spark cannot write)."""
    parts = [pq.ParquetFile(p) for p in _parts(directory, ".parquet")]
    if not parts:
        raise RatingFailed(f"{directory}: Spark wrote no part file")
    schema = parts[0].schema_arrow
    merged = {**(schema.metadata or {}), **{k.encode(): v.encode() for k, v in metadata.items()}}
    schema = schema.with_metadata(merged)
    with pq.ParquetWriter(target, schema, compression=compression) as writer:
        for part in parts:
            for batch in part.iter_batches(batch_size=1 << 17):
                writer.write_batch(batch.replace_schema_metadata(merged))


def _gather_csv(directory: Path, target: Path, header: Sequence[str]) -> None:
    """The header, then Spark's part files (written without one), as one CSV file."""
    with target.open("wb") as out:
        out.write((",".join(header) + "\n").encode())
        for part in _parts(directory, ".csv"):
            with part.open("rb") as handle:
                shutil.copyfileobj(handle, out, 1 << 20)


class SparkRatingEngine:
    """`RatingEngine` on Spark: the same per-row checks, route and charge (rating.py)."""

    def __init__(self, reference: RatingReference, settings: EngineSettings | None = None):
        self._reference = reference
        self._settings = settings or EngineSettings()

    def rate(self, source: Path, out: Path, *, rejects: Path | None = None) -> RatingSummary:
        started = time.perf_counter()
        rejects = rejects or out.with_name(out.name + ".rejects.csv")
        fmt = file_format(out)
        _distinct(source=source, out=out, rejects=rejects)
        spark = session(self._settings)
        errors = _spark_error()
        with ExitStack() as stack:
            temp = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=out.parent)))
            views = ("cdrs", "minutes", "written", "malformed", *self._reference.tables())
            stack.callback(_dropped(spark, views))
            src = open_cdrs(source, temp / "staged.parquet")
            summary = RatingSummary(source, out, None, ignored_columns=src.ignored)
            try:
                src = self._register(spark, src, temp)
                rows, first, last = _footer(src) or span(
                    *spark.sql(span_sql(_checked(src, SPARK))).collect()[0]
                )
                summary.rows = rows + len(src.malformed)
                _view(spark, "minutes", self._reference.minutes(first, last))
                rated = spark.sql(_output(_rated(src, self._reference, SPARK), src, fmt, SPARK))
                staged = temp / f"rated.{fmt}"
                self._write(rated, fmt, temp / "rated.d", staged, source)
                written = self._read_back(spark, staged, fmt)
                add_tally(summary, spark.sql(tally_sql(written)).collect())
                staged_rejects = temp / "rejects.csv"
                if summary.rated < summary.rows:
                    self._write_rejects(spark, src, temp, staged_rejects, summary)
                else:
                    staged_rejects.write_text(",".join(REJECT_COLUMNS) + "\n")
            except errors as exc:
                raise RatingFailed(f"{source}: {_first_line(exc)}") from None
            publish(summary, (staged, out), (staged_rejects, rejects))
        summary.seconds = time.perf_counter() - started
        return summary

    def _register(self, spark: SparkSession, src: CdrSource, temp: Path) -> CdrSource:
        """The calls as the view `cdrs` (numbered rows) and the reference tables."""
        if src.nanoseconds:
            raise RatingFailed(
                f"{src.path}: start_utc is in nanoseconds, which Spark does not read; "
                "write microseconds, or use --engine duckdb"
            )
        if src.typed:  # Parquet, read where it lies
            frame = spark.read.parquet(str(src.path))
            frame = frame.selectExpr("_metadata.row_index + 1 AS row", "*")
        else:  # CSV, staged with row numbers by open_cdrs
            frame = spark.read.parquet(str(temp / "staged.parquet"))
        frame.createOrReplaceTempView("cdrs")
        for name, table in self._reference.tables().items():
            _view(spark, name, table)
        return replace(src, relation="cdrs")

    def _write(
        self, rated: DataFrame, fmt: str, directory: Path, staged: Path, source: Path
    ) -> None:
        """Spark writes a part file per partition, in parallel; the driver gathers them
        into the one staged file (a cluster writes a directory instead: docs/SCALE.md)."""
        write = rated.write.mode("errorifexists")
        compression = self._settings.compression
        if fmt == "parquet":
            write.option("compression", compression).parquet(str(directory))
            facts = rating_metadata(self._reference, source, _engine())
            _gather_parquet(directory, staged, facts, compression)
        else:
            write.options(**(CSV_WRITE | {"header": "false"})).csv(str(directory))
            _gather_csv(directory, staged, rated.columns)

    def _read_back(self, spark: SparkSession, path: Path, fmt: str) -> str:
        reader = spark.read.parquet if fmt == "parquet" else spark.read.options(**CSV_READ).csv
        reader(str(path)).createOrReplaceTempView("written")
        return "written"

    def _write_rejects(
        self, spark: SparkSession, src: CdrSource, temp: Path, path: Path, summary: RatingSummary
    ) -> None:
        if src.malformed:
            _view(spark, "malformed", malformed_table(src), broadcast=False)
        directory = temp / "rejects.d"
        frame = spark.sql(rejects_sql(src, SPARK))
        frame.coalesce(1).write.mode("errorifexists").options(**CSV_WRITE).csv(str(directory))
        _single(directory, ".csv", path)
        self._read_back(spark, path, "csv")
        counts = spark.sql("SELECT reason, count(*) FROM written GROUP BY reason").collect()
        summary.rejected.update({str(r[0]): int(r[1]) for r in counts})


def _engine() -> str:
    import pyspark

    return f"spark {pyspark.__version__}"


def spark_groups(
    files: Sequence[RatedFile],
    period: Period,
    settings: EngineSettings,
    report: Callable[[int, int], None] | None = None,
) -> tuple[Scan, bool]:
    """The `Scan` of the rated files for the period, and whether a value was bad (the
    caller names it, see aggregate.first_bad_value); `report` gets (tasks done, tasks
    known) as Spark runs (`engines.spark.task_progress`)."""
    spark = session(settings)
    with ExitStack() as stack:
        stack.callback(_dropped(spark, (f"{kind}_files" for kind in Format)))
        if report is not None:
            stack.enter_context(task_progress(spark, report))
        return _groups(spark, files, period)


def _groups(spark: SparkSession, files: Sequence[RatedFile], period: Period) -> tuple[Scan, bool]:
    errors = _spark_error()
    parts = []
    for kind, template in ((Format.PARQUET, parquet_rows), (Format.CSV, csv_rows)):
        chosen = [f for f in files if f.format is kind]
        if not chosen:
            continue
        view = f"{kind}_files"
        frames = []
        for f in chosen:
            try:
                if kind is Format.PARQUET:
                    frame = spark.read.parquet(str(f.path))
                else:
                    frame = spark.read.options(**CSV_READ).csv(str(f.path))
            except errors as exc:
                raise BadRatedFile(f.path, f"cannot be read: {_first_line(exc)}") from None
            frames.append(frame.selectExpr("*", f"{SPARK.string(str(f.path))} AS filename"))
        union = frames[0]
        for frame in frames[1:]:
            union = union.unionByName(frame, allowMissingColumns=True)
        union.createOrReplaceTempView(view)
        carrier = "CAST(carrier AS STRING)" if any(f.has_carrier for f in chosen) else "NULL"
        parts.append(
            template(SPARK, view)
            .replace("@ROW@", "CAST(NULL AS BIGINT)")
            .replace("@CARRIER@", carrier)
        )
    query = groups_sql(SPARK, "\nUNION ALL\n".join(parts))
    try:
        groups = spark.sql(query, args={"start": period.start, "end": period.end}).collect()
    except errors as exc:
        named = next((f for f in files if str(f.path) in str(exc)), files[0])
        raise BadRatedFile(named.path, f"cannot be read: {_first_line(exc)}") from None
    return collect(tuple(row) for row in groups)
