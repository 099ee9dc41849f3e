"""Issue 8, item 1: the detectors on Spark (local mode) agree with DuckDB on the same input,
every test of every subject to the last digit.

The world is the detectors' unit-test world (`sim.campaigns.world`: leaking and clean
campaigns and agents, a retention campaign explained by inbound calls, contacts before
the customer's letter) with honey-lines added: some contacted inside their window by a
leaking campaign and by an agent, some outside it, some never. Both runs keep every
result (`min_severity=INFO`), so results below `low` are compared too.

Exact equality holds, with no float tolerance, because every number the statistics
use comes out of the engines as an integer (counts, sums of exposed lines, interval
bounds in microseconds); the floats (p-values, lifts, shares) are computed from them in
Python, the same code for both engines.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from forvalg.compliance.detectors import (
    DetectionSettings,
    Finding,
    detect,
    examined,
    findings_document,
)
from forvalg.compliance.detectors.spark_engine import SparkEngine
from forvalg.domain.statistics import Severity
from forvalg.sim.campaigns import DAY, World, world

TS = pa.timestamp("us", tz="UTC")
GENERATED = datetime(2026, 12, 1, tzinfo=UTC)


def honey_lines(w: World) -> pa.Table:
    """Eight honey-lines among the lines contacted once: three contacted by WB inside their
    60-day window (and so by WB's agents), one contacted a microsecond before its decoy
    order, two the day before it, and two lines never contacted."""
    t = pc.cast(w.contacts["time_utc"], pa.int64()).to_numpy()
    numbers = w.contacts["number"].cast(pa.string()).to_pylist()
    campaigns = w.contacts["campaign_id"].cast(pa.string()).to_pylist()
    directions = w.contacts["direction"].cast(pa.string()).to_pylist()
    seen = Counter(numbers)
    once = [i for i, n in enumerate(numbers) if seen[n] == 1 and directions[i] == "OUTBOUND"]
    by_wb = [i for i in once if campaigns[i] == "WB"][:3]
    by_other = [i for i in once if campaigns[i] not in (None, "", "WB")][:3]
    rows: list[tuple[str, int]] = []
    rows += [(numbers[i], int(t[i]) - 5 * DAY) for i in by_wb]  # inside the window
    rows += [(numbers[by_other[0]], int(t[by_other[0]]) + 1)]  # a microsecond after
    rows += [(numbers[i], int(t[i]) + DAY) for i in by_other[1:]]  # the day after
    never = [n for n in w.population.cast(pa.string()).to_pylist() if n not in seen][:2]
    rows += [(n, int(t.min())) for n in never]
    assert len(rows) == 8
    return pa.table(
        {
            "number": pa.array([n for n, _ in rows], pa.string()),
            "created_at": pa.array(np.array([s for _, s in rows], dtype=np.int64)).cast(TS),
        }
    )


def run(w: World, honey: pa.Table, engine: Any = None) -> list[Finding]:
    return detect(
        w.contacts,
        w.events,
        w.population,
        DetectionSettings(),
        honey,
        min_severity=Severity.INFO,
        engine=engine,
    )


@pytest.fixture(scope="module")
def the_world() -> World:
    return world()


def test_spark_and_duckdb_find_the_same_to_the_last_digit(the_world: World, spark: Any) -> None:
    honey = honey_lines(the_world)
    on_duckdb = run(the_world, honey)
    on_spark = run(the_world, honey, SparkEngine(spark))
    looked_at = examined(the_world.contacts)
    assert findings_document(on_spark, GENERATED, looked_at) == findings_document(
        on_duckdb, GENERATED, looked_at
    )
    # The comparison is not empty: every detector and test ran, leaks were found.
    tests = {(f.detector, str(f.evidence["test"])) for f in on_spark}
    assert tests >= {
        ("targeting", "after_cps_event"),
        ("timing", "before_letter"),
        ("timing", "after_receipt"),
        ("honey_line", "honey_contact"),
    }
    serious = {
        next(iter(f.subject.values())) for f in on_spark if f.severity.at_least(Severity.HIGH)
    }
    assert {"WB", "EARLY"} <= serious
    assert not serious & (the_world.clean_campaigns | the_world.clean_agents)
    honey_hits = {
        next(iter(f.subject.values())): f.evidence["honey_lines_contacted"]
        for f in on_spark
        if f.detector == "honey_line"
    }
    assert honey_hits["WB"] == 3
    # Nothing of the run is left in the session.
    assert [t.name for t in spark.catalog.listTables() if t.isTemporary] == []
