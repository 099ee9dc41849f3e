"""The Spark session of the engines that run on Spark (`--engine spark`: traffic, detection).

Nothing happens on import: pyspark is imported, and the JVM started, only when
`spark_session` is called. The settings follow `traffic.rating.EngineSettings`: a number
of threads (`local[N]`; all cores when None) and a memory size (the driver's heap; in local
mode the driver runs every task). On a cluster `master` is given (or comes from
`spark-submit`) and `threads` is ignored.

This module holds no tables and touches no protected data; traffic and compliance may
import it (pyproject's import contract names it as the one exception).

The settings every engine relies on for identical results to DuckDB:
- the session time zone is UTC (timestamps in and out are UTC instants);
- Parquet timestamps are written as INT64 microseconds adjusted to UTC (not INT96);
- ANSI SQL is on (an overflow or a bad cast fails the query instead of giving NULL).
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

DEFAULT_MEMORY = "2g"
SETTINGS: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.ansi.enabled": "true",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "8",  # local: a few; a cluster sets its own
    "spark.sql.adaptive.enabled": "true",
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
}


LOG_CONFIG = Path(__file__).with_name("spark-log4j2.properties")


def _java_options() -> str:
    """The driver JVM's options: UTC, and Spark's logging quiet (errors only)."""
    return f"-Duser.timezone=UTC -Dlog4j2.configurationFile=file:{LOG_CONFIG}"


class SparkUnavailable(RuntimeError):
    """pyspark or Java is missing, or the session cannot start; the message says which."""


def master_for(threads: int | None) -> str:
    """`local[N]` for `threads`, `local[*]` (every core) for None."""
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be at least 1, not {threads}")
    return f"local[{threads}]" if threads else "local[*]"


def _memory(memory: str) -> str:
    """`2GB`/`512MB` (DuckDB's spelling, as `--memory-limit` takes it) as Spark's `2g`."""
    text = memory.strip().lower().replace(" ", "")
    for suffix, unit in (("gib", "g"), ("gb", "g"), ("mib", "m"), ("mb", "m")):
        if text.endswith(suffix):
            text = text[: -len(suffix)] + unit
            break
    if not text[:-1].isdigit() or text[-1] not in "kmgt":
        raise ValueError(f"memory {memory!r}: expected a size like 2GB, 512MB or 2g")
    return text


def check_java() -> None:
    """`SparkUnavailable` unless a Java runtime can be found (JAVA_HOME or PATH)."""
    home = os.environ.get("JAVA_HOME")
    if home and os.path.exists(os.path.join(home, "bin", "java")):
        return
    if shutil.which("java") is None:
        raise SparkUnavailable(
            "--engine spark needs Java 17 or later: none found (set JAVA_HOME or put java "
            "on PATH), or use --engine duckdb"
        )


def spark_session(
    threads: int | None = None,
    memory: str = DEFAULT_MEMORY,
    *,
    master: str | None = None,
    app_name: str = "forvalg",
) -> SparkSession:
    """The process's Spark session, started on first use with the settings above
    (`getOrCreate`: a second call returns the running session, whose master and memory
    were fixed when it started; the SQL settings are applied again)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkUnavailable(
            "--engine spark needs pyspark: pip install 'forvalg[spark]', or use --engine duckdb"
        ) from None
    check_java()
    builder = (
        SparkSession.builder.master(master or master_for(threads))
        .appName(app_name)
        .config("spark.driver.memory", _memory(memory))
        .config("spark.driver.extraJavaOptions", _java_options())
    )
    for key, value in SETTINGS.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start: say so in one line
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise SparkUnavailable(
            f"--engine spark: the Spark session did not start: {first}"
        ) from None
    for key, value in SETTINGS.items():
        if key.startswith("spark.sql."):
            session.conf.set(key, value)
    return session


@contextmanager
def task_progress(
    session: SparkSession, report: Callable[[int, int], None], *, every_s: float = 0.5
) -> Iterator[None]:
    """Report (tasks done, tasks known) of the Spark jobs this thread starts inside the
    block: from a daemon thread every `every_s` seconds while it runs, and once at its
    end. The jobs are found by a job group of their own (thread-local in pyspark), so a
    progress bar follows Spark's real work rather than a spinner's guess."""
    context = session.sparkContext
    group = f"forvalg-{uuid.uuid4().hex}"
    context.setJobGroup(group, "forvalg", interruptOnCancel=False)
    tracker = context.statusTracker()
    seen: dict[int, tuple[int, int]] = {}  # stage: (done, tasks); a stage's info can expire

    def poll() -> None:
        for job in tracker.getJobIdsForGroup(group):
            info = tracker.getJobInfo(job)
            if info is None:
                continue
            for stage in info.stageIds:
                now = tracker.getStageInfo(stage)
                if now is not None:
                    seen[stage] = (now.numCompletedTasks, now.numTasks)
                if info.status == "SUCCEEDED" and seen.get(stage, (0, 0))[0] == 0:
                    seen[stage] = (0, 0)  # skipped: its shuffle output was reused
        report(sum(d for d, _ in seen.values()), sum(t for _, t in seen.values()))

    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(every_s):
            with suppress(Exception):  # a bar that misses a beat must not fail the run
                poll()

    watcher = threading.Thread(target=watch, name="spark-progress", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()
        for key in ("spark.jobGroup.id", "spark.job.description"):  # None removes it
            context.setLocalProperty(key, None)  # type: ignore[arg-type]
    poll()


def arrow_frame(session: SparkSession, table: pa.Table) -> DataFrame:
    """An Arrow table as a DataFrame. An empty table is passed with one empty chunk per
    column: pyspark 4 fails on a column of no chunks, which is what a filter that keeps
    no row gives."""
    if table.num_rows == 0:
        table = table.schema.empty_table()
    return session.createDataFrame(table)
