"""The detectors' queries on Spark (`forvalg detect --engine spark`).

`SparkEngine` is the workspace's `SqlEngine` port on a Spark session the caller owns
(local mode here, a cluster in production; bootstrap makes it with
`engines.spark.spark_session`). The inputs arrive as Arrow tables from the wall and become
DataFrames; each table the workspace names is computed once and cached
(`persist`, then counted), as DuckDB's temp tables are, under a temp view of that name.
The views live in the caller's session (whose settings, e.g. the test's shuffle
partitions, then hold), so one engine at a time per session: `forvalg detect` runs one.
`close()` unpersists what the engine cached and drops the views it made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from forvalg.engines.dialect import SPARK
from forvalg.engines.spark import SparkUnavailable, arrow_frame, spark_session

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["SparkEngine", "SparkUnavailable", "spark_engine"]


def spark_engine(threads: int | None = None) -> SparkEngine:
    """An engine on the process's Spark session (`engines.spark.spark_session`: local mode on
    `threads` cores, every core when None); `SparkUnavailable` without pyspark or Java."""
    return SparkEngine(spark_session(threads))


class SparkEngine:
    dialect = SPARK

    def __init__(self, session: SparkSession) -> None:
        self.session = session
        self._cached: dict[str, DataFrame] = {}

    def register(self, name: str, table: pa.Table) -> None:
        self._keep(name, arrow_frame(self.session, table))

    def create(self, name: str, sql: str) -> None:
        self._keep(name, self.session.sql(sql))

    def query(self, sql: str) -> pa.Table:
        result: pa.Table = self.session.sql(sql).toArrow()
        return result

    def close(self) -> None:
        for name, frame in self._cached.items():
            self.session.catalog.dropTempView(name)
            frame.unpersist()
        self._cached.clear()

    def _keep(self, name: str, frame: DataFrame) -> None:
        frame = frame.persist()
        frame.count()  # computed now, once, like a temp table
        frame.createOrReplaceTempView(name)
        old = self._cached.pop(name, None)
        if old is not None:
            old.unpersist()
        self._cached[name] = frame
