"""`--engine spark` against `--engine duckdb` on the same input: the same rated rows (every
column, exact decimals), the same rejects with the same reasons, the same summary, and the
same settlement scan and statements. Spark runs in local mode, one session for the whole
test run (the JVM takes seconds to start)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from forvalg.domain.settlement import Period
from forvalg.domain.tariffs import tariff_from_toml
from forvalg.sim.traffic import TrafficSpec, synthetic_history, synthetic_lines, write_cdrs
from forvalg.traffic.aggregate import connect, scan
from forvalg.traffic.rating import (
    RATED_COLUMNS,
    REJECT_COLUMNS,
    EngineSettings,
    RatingEngine,
    RatingSummary,
)
from forvalg.traffic.reference import RatingReference
from forvalg.traffic.settlement import _statement
from forvalg.traffic.sources import BadRatedFile, inspect_all
from forvalg.traffic.spark_engine import SparkRatingEngine, spark_groups
from tests.rated import Call as RatedCall
from tests.rated import at, write_csv, write_parquet

TARIFF = tariff_from_toml(
    (Path(__file__).parents[2] / "src/forvalg/traffic/tariffs/default.toml").read_text(),
    "default.toml",
)
OPERATORS = ["telia", "ice", "phonero"]
CODES = {"1505": "telia", "1510": "ice"}
START = datetime(2026, 11, 1, tzinfo=UTC)
SETTINGS = EngineSettings(threads=2)


class V:
    def __init__(self, effective_at: datetime, content_hash: str) -> None:
        self.effective_at, self.content_hash = effective_at, content_hash


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RatingReference]:
    """Some thousands of generated calls (every route, class and band, CSC and CPS) in
    Parquet, and the reference they are judged by (two routing versions in the month)."""
    where = tmp_path_factory.mktemp("spark")
    lines = synthetic_lines(400, seed=11)
    history = synthetic_history(lines, OPERATORS, share=0.4, start=START, days=30, seed=11)
    spec = TrafficSpec(calls=6_000, start=START, days=30, seed=11, chunk_rows=2_000)
    write_cdrs(where / "cdrs.parquet", spec, lines=lines, history=history, carrier_codes=CODES)
    versions = [
        V(datetime(1970, 1, 1, tzinfo=UTC), "v0"),
        V(START + timedelta(days=12, hours=3, seconds=30), "v1"),
    ]
    return where, RatingReference(TARIFF, history, versions, CODES)


# Rows every check rejects, as text (CSV) and, where the type allows, as Parquet values.
BAD = [
    # call_id, start_utc, duration_s, a_number, dialed, carrier
    ("", "2026-11-03T10:00:00Z", "60", "22334455", "22998877", ""),
    ("b2", "", "60", "22334455", "22998877", ""),
    ("b3", "1989-12-31T23:59:59Z", "60", "22334455", "22998877", ""),
    ("b4", "2026-11-03T10:00:00Z", "", "22334455", "22998877", ""),
    ("b5", "2026-11-03T10:00:00Z", "-1", "22334455", "22998877", ""),
    ("b6", "2026-11-03T10:00:00Z", "86401", "22334455", "22998877", ""),
    ("b7", "2026-11-03T10:00:00Z", "60", "", "22998877", ""),
    ("b8", "2026-11-03T10:00:00Z", "60", "2233445", "22998877", ""),
    ("b9", "2026-11-03T10:00:00Z", "60", "22334455", "", ""),
    ("b10", "2026-11-03T10:00:00Z", "60", "22334455", "22-998877", ""),
    ("b11", "2026-11-03T10:00:00Z", "60", "22334455\n", "22998877", ""),
]
BAD_CSV_ONLY = [
    ("c1", "2026-11-03 10:00:00", "60", "22334455", "22998877", ""),
    ("c2", "2026-11-03T24:00:00Z", "60", "22334455", "22998877", ""),
    ("c3", "2026-02-30T10:00:00Z", "60", "22334455", "22998877", ""),
    ("c4", "2026-11-03T10:00:00Z", "6O", "22334455", "22998877", ""),
    ("c5", "2026-11-03T10:00:00.25Z", "60", "22334455", "1505 22998877", ""),
]
# Valid rows a reader could get wrong: a fraction of a second, quoting, an empty carrier.
ODD = [
    ("o1,quoted", "2026-11-03T10:00:00.123456Z", "61", "22334455", "150522998877", "telia"),
    ('o2 "q"', "2026-11-15T23:59:59Z", "0", "22334455", "004722998877", ""),
    (" o3 ", "2026-11-30T12:30:00Z", "3600", "22334455", "004412345678", "ice"),
]


def _calls_table(where: Path) -> pa.Table:
    generated = pq.read_table(where / "cdrs.parquet")
    return generated.slice(0, 3_000)


def _parquet_input(where: Path) -> Path:
    path = where / "input.parquet"
    calls = _calls_table(where)
    rows = []
    for call_id, start, dur, a, dialed, carrier in BAD + ODD:
        rows.append(
            {
                "call_id": call_id or None,
                "start_utc": datetime.fromisoformat(start) if start else None,
                "duration_s": int(dur) if dur else None,
                "a_number": a,
                "dialed": dialed,
                "carrier": carrier or None,
            }
        )
    schema = pa.schema([f.with_nullable(True) for f in calls.schema])
    extra = pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(pa.concat_tables([calls.cast(schema), extra]), path, row_group_size=1_000)
    return path


def _csv_input(where: Path) -> Path:
    path = where / "input.csv"
    calls = _calls_table(where).slice(0, 1_500).to_pylist()
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["call_id", "start_utc", "duration_s", "a_number", "dialed", "carrier"])
        for c in calls:
            start = c["start_utc"].strftime("%Y-%m-%dT%H:%M:%S") + (
                f".{c['start_utc'].microsecond:06d}Z" if c["start_utc"].microsecond else "Z"
            )
            row = [c["call_id"], start, c["duration_s"], c["a_number"], c["dialed"]]
            out.writerow([*row, c["carrier"] or ""])
        out.writerows(BAD + BAD_CSV_ONLY + ODD)
        handle.write("m1,2026-11-03T10:00:00Z,60\n")  # too few fields
        handle.write("m2,2026-11-03T10:00:00Z,60,22334455,22998877,ice,extra\n")
    return path


def _rows(path: Path, key: str) -> list[dict[str, Any]]:
    if path.suffix == ".parquet":
        rows = pq.read_table(path).to_pylist()
    else:
        options = pacsv.ConvertOptions(strings_can_be_null=False, quoted_strings_can_be_null=False)
        names = pacsv.read_csv(path, convert_options=options).column_names
        options.column_types = dict.fromkeys(names, pa.string())
        rows = pacsv.read_csv(path, convert_options=options).to_pylist()
    return sorted(rows, key=lambda r: str(r[key]))


def _same_summary(a: RatingSummary, b: RatingSummary) -> None:
    for name in ("rows", "rated", "rejected", "by_reason", "by_class", "mismatches"):
        assert getattr(a, name) == getattr(b, name), name
    assert a.charge_nok == b.charge_nok


# Parquet to CSV adds nothing to these three: the instants' text is CSV to CSV's, the
# rejects' text of a timestamp Parquet to Parquet's.
@pytest.mark.parametrize(
    ("fmt_in", "fmt_out"), [("parquet", "parquet"), ("csv", "parquet"), ("csv", "csv")]
)
def test_spark_rates_exactly_as_duckdb(
    spark: Any, world: tuple[Path, RatingReference], tmp_path: Path, fmt_in: str, fmt_out: str
) -> None:
    where, reference = world
    source = _parquet_input(where) if fmt_in == "parquet" else _csv_input(where)
    duck = RatingEngine(reference, SETTINGS).rate(source, tmp_path / f"duck.{fmt_out}")
    on_spark = SparkRatingEngine(reference, SETTINGS).rate(source, tmp_path / f"spark.{fmt_out}")

    _same_summary(duck, on_spark)
    assert on_spark.rejected  # every kind of reject is there
    bad_rows = len(BAD) + (len(BAD_CSV_ONLY) + 2 if fmt_in == "csv" else 0)  # 2 malformed
    assert sum(on_spark.rejected.values()) == bad_rows
    assert on_spark.by_reason.keys() == {"CPS", "CSC", "DEFAULT", "EXCLUDED"}
    theirs, ours = (_rows(tmp_path / f"{e}.{fmt_out}", "call_id") for e in ("duck", "spark"))
    assert len(ours) == on_spark.rated
    assert ours == theirs  # every column, decimals exact, instants exact
    if fmt_out == "parquet":
        duck_schema = pq.read_schema(tmp_path / "duck.parquet")
        spark_schema = pq.read_schema(tmp_path / "spark.parquet")
        assert [(f.name, f.type) for f in spark_schema] == [(f.name, f.type) for f in duck_schema]
        assert spark_schema.field("charge_nok").type == pa.decimal128(18, 4)
        facts = {k: v for k, v in spark_schema.metadata.items() if k.startswith(b"forvalg.")}
        assert facts[b"forvalg.engine"].startswith(b"spark ")
        assert facts[b"forvalg.tariff_version"] == TARIFF.version.encode()
    else:
        assert ours[0].keys() == set(RATED_COLUMNS)
    rejects = [tmp_path / f"{e}.{fmt_out}.rejects.csv" for e in ("duck", "spark")]
    assert _rows(rejects[1], "row") == _rows(rejects[0], "row")
    lines = rejects[1].read_text().splitlines()
    assert lines[0] == ",".join(REJECT_COLUMNS)
    assert [int(r["row"]) for r in _rows(rejects[1], "row")] == sorted(
        int(line.split(",", 1)[0]) for line in lines[1:] if line[:1].isdigit()
    )
    assert _views(spark) == []  # the run's views go with it (the session outlives it)


def test_a_failed_spark_run_writes_nothing(
    spark: Any, world: tuple[Path, RatingReference], tmp_path: Path
) -> None:
    where, reference = world
    out = tmp_path / "rated.parquet"
    out.write_bytes(b"an earlier run")
    early = RatingReference(TARIFF, reference.history, [V(START + timedelta(days=40), "v")], {})
    with pytest.raises(ValueError, match="no routing table version"):
        SparkRatingEngine(early, SETTINGS).rate(_parquet_input(where), out)
    assert out.read_bytes() == b"an earlier run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rated.parquet"]
    SparkRatingEngine(reference, SETTINGS).rate(_csv_input(where), out)  # the session lives on
    assert pq.read_metadata(out).num_rows > 0


SETTLE_CALLS = [
    RatedCall(at(2026, 11, 2, 8), 61, charge="0.1220"),
    RatedCall(at(2026, 11, 7, 12), 120, call_class="MOBILE", band="WEEKEND", charge="0.4800"),
    RatedCall(at(2026, 11, 2, 9), 30, expected="betanett", reason="CSC", charge="0.0600"),
    RatedCall(at(2026, 11, 3, 9), 45, mismatch=True, carrier="INCUMBENT", charge="0.0900"),
    RatedCall(at(2026, 11, 3, 9), 45, mismatch=True, carrier=None, charge="0.0901"),
    RatedCall(at(2026, 11, 5, 9), 45, expected="INCUMBENT", reason="DEFAULT", mismatch=True),
    RatedCall(at(2026, 10, 31, 22, 30), 60, charge="0.1200"),  # October in Oslo
    RatedCall(at(2026, 11, 4, 9), 50, expected="INCUMBENT", reason="DEFAULT", charge="0.0000"),
]


def test_spark_settles_exactly_as_duckdb(
    spark: Any, world: tuple[Path, RatingReference], tmp_path: Path
) -> None:
    """The scan of rated files (the engine's own Parquet and CSV output, and hand-made
    files with and without `carrier`) is the same on both engines, so are the statements."""
    where, reference = world
    RatingEngine(reference, SETTINGS).rate(_parquet_input(where), tmp_path / "r1.parquet")
    RatingEngine(reference, SETTINGS).rate(_csv_input(where), tmp_path / "r2.csv")
    files = [
        tmp_path / "r1.parquet",
        tmp_path / "r2.csv",
        write_parquet(tmp_path / "a.parquet", SETTLE_CALLS[:4], carrier=False),
        write_csv(tmp_path / "b.csv", SETTLE_CALLS[4:]),
    ]
    rated = inspect_all(files)
    period = Period.parse("2026-11")
    duck = scan(connect(), rated, period)
    tasks: list[tuple[int, int]] = []
    on_spark, bad = spark_groups(rated, period, SETTINGS, lambda *done: tasks.append(done))
    assert not bad
    assert on_spark == duck
    # progress in Spark's tasks: every one of the scan's tasks done at the end, none after
    assert tasks[-1][0] == tasks[-1][1] > 0
    assert all(done <= total for done, total in tasks)
    assert spark.sparkContext.getLocalProperty("spark.jobGroup.id") is None
    assert on_spark.rows == duck.rows > 4_000
    assert on_spark.rows_outside_period > 0
    for operator in sorted(duck.billed_operators | duck.recorded_carriers):
        statements = [_statement(found, operator, period, ()) for found in (duck, on_spark)]
        assert statements[0].json_bytes() == statements[1].json_bytes()
        assert statements[0].csv_bytes() == statements[1].csv_bytes()
    assert sum((u.charge for lines in duck.lines.values() for u in lines.values()), Decimal(0))
    assert _views(spark) == []


def _views(spark: Any) -> list[str]:
    return [t.name for t in spark.catalog.listTables() if t.isTemporary]


def test_a_bad_value_is_found_on_spark_too(spark: Any, tmp_path: Path) -> None:
    bad = write_csv(tmp_path / "bad.csv", [RatedCall(at(2026, 11, 2, 8), -5)])
    good = write_parquet(tmp_path / "good.parquet", SETTLE_CALLS[:2])
    _, found = spark_groups(inspect_all([good, bad]), Period.parse("2026-11"), SETTINGS)
    assert found
    with pytest.raises(BadRatedFile):
        scan(connect(), inspect_all([good, bad]), Period.parse("2026-11"))
