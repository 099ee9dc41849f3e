"""Issue 8, item 1: the detectors on Spark (local mode) agree with DuckDB on the same input,
every test of every subject to the last digit: the contact detectors on the detectors'
unit-test world, and the ledger's detectors (access, unexplained access) on a staff
ledger with every kind of misuse they know.

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
from datetime import UTC, datetime, timedelta
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
from forvalg.compliance.detectors.ledger_input import STAFF_PREFIX
from forvalg.compliance.detectors.spark_engine import SparkEngine
from forvalg.domain.statistics import Severity
from forvalg.sim.campaigns import DAY, World, world
from tests.staff_ledger import CODES, START, Book, clean_world, each_unexplained_kind

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


def misused(book: Book) -> None:
    """Into a clean world's ledger: an entry of each kind the work items do not explain,
    break-glass uses followed in time, late, in part, by nobody, and one request reading
    four categories."""
    at = START + timedelta(days=10)
    each_unexplained_kind(book, at)
    book.glass("user:a", at, ["L4", "L5"], follow_up_after=timedelta(hours=23))
    book.glass("user:a", at, [], follow_up_after=timedelta(hours=1), follow_up_by="user:a")
    book.glass("user:b", at, ["L6"], follow_up_after=timedelta(hours=30))
    book.glass("user:c", at, ["L7", "L8"], follow_up_lines=["L7"])
    book.glass("user:c", at, [], follow_up_after=timedelta(hours=1))
    for h in range(4):
        book.glass("user:h", at + timedelta(hours=h), [f"LH{h}"], follow_up_after=None)
    why = "the customer is on the phone and the line is dead"
    for resource in ("cps.routing", "cps.operator", "line.inventory", "personal.subscriber"):
        book.entry("user:i", at, resource=resource, subjects=["L10"], break_glass=True, why=why)


def test_the_ledger_detectors_find_the_same_on_spark_to_the_last_digit(
    the_world: World, spark: Any
) -> None:
    w = clean_world(7)
    w.curious("user:curious1", 6)
    w.curious("user:curious2", 10)
    w.staff("user:prober", "wholesale_ops", w.mean, 0)
    for i in range(40):
        w.book.denied("user:prober", w.instant(), CODES[i % 2])
    for _ in range(8):
        w.book.glass("user:glass", w.instant(), w.lines(1))
    misused(w.book)
    entries, items = w.book.tables()
    no_contacts = the_world.contacts.slice(0, 0)

    def findings(engine: Any = None) -> list[Finding]:
        return detect(
            no_contacts,
            the_world.events.slice(0, 0),
            the_world.population.slice(0, 0),
            ledger=entries,
            work_items=items,
            min_severity=Severity.INFO,
            engine=engine,
        )

    on_duckdb = findings()
    on_spark = findings(SparkEngine(spark))
    looked_at = examined(no_contacts, entries)
    assert findings_document(on_spark, GENERATED, looked_at) == findings_document(
        on_duckdb, GENERATED, looked_at
    )
    # Not empty: every test ran, and found what was put there.
    by = {(next(iter(f.subject.values())), str(f.evidence["test"])): f for f in on_spark}
    assert {test for _, test in by} == {
        "volume",
        "denials",
        "break_glass",
        "break_glass_uses",
        "unexplained",
    }
    for who in ("user:curious1", "user:curious2"):
        assert by[(who, "volume")].statistics["lift"] > 6
    assert by[("user:curious1", "volume")].severity is Severity.MEDIUM
    assert by[("user:prober", "denials")].severity is Severity.HIGH
    assert by[("user:glass", "break_glass_uses")].severity is Severity.MEDIUM
    unexplained = {who for who, test in by if test == "unexplained"}
    assert unexplained == {f"{STAFF_PREFIX}{x}" for x in "bcdefh"} | {"user:i"}
    assert by[("user:e", "unexplained")].evidence["by_reason"] == {"purpose_mismatch": 2}
    assert by[("user:i", "break_glass_uses")].evidence["break_glass_entries"] == 4
    assert [t.name for t in spark.catalog.listTables() if t.isTemporary] == []


def test_a_ledger_without_staff_finds_nothing_on_spark(the_world: World, spark: Any) -> None:
    """No staff entry: the staff table is empty (a filter's result, no chunks at all,
    which pyspark 4 cannot read as it is)."""
    book = Book()
    book.entry("system:order-processor", START, role="order_processor", subjects=["L1"])
    entries, items = book.tables()
    found = detect(
        the_world.contacts.slice(0, 0),
        the_world.events.slice(0, 0),
        the_world.population.slice(0, 0),
        ledger=entries,
        work_items=items,
        min_severity=Severity.INFO,
        engine=SparkEngine(spark),
    )
    assert found == []
