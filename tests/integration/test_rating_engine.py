"""The batch engine (DuckDB) against the scalar truth (`traffic.scalar.judge`), row by row,
and the engine's handling of files: formats, rejects, schema errors, atomic output."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forvalg.domain.numbering import NORWAY
from forvalg.domain.orders import Option
from forvalg.domain.tariffs import tariff_from_toml
from forvalg.sim.traffic import TrafficSpec, synthetic_history, synthetic_lines, write_cdrs
from forvalg.traffic.cdrs import CdrFileError
from forvalg.traffic.rating import RATED_COLUMNS, REJECT_COLUMNS, RatingEngine, RatingFailed
from forvalg.traffic.reference import RatingReference
from forvalg.traffic.scalar import Call, judge
from forvalg.traffic.schemas import HISTORY_SCHEMA

TARIFF = tariff_from_toml(
    (Path(__file__).parents[2] / "src/forvalg/traffic/tariffs/default.toml").read_text(),
    "default.toml",
)
LINES = ["22334455", "22334456", "51234567", "73000001"]
OPERATORS = ["telia", "ice", "phonero"]
CODES = {"1505": "telia", "1510": "ice"}  # 1520 is allocated to nobody (or suspended)
# Around the end of summer time 2026 (25 October), All Saints' is no holiday in Norway,
# and Christmas 2026 is.
WINDOW = (datetime(2026, 10, 24, tzinfo=UTC), datetime(2026, 12, 27, tzinfo=UTC))


@dataclass(frozen=True)
class V:
    effective_at: datetime
    content_hash: str


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


@st.composite
def dialled(draw: st.DrawFn) -> str:
    r = draw(st.sampled_from(NORWAY))
    number = r.prefix + draw(_digits(r.length - len(r.prefix)))
    number = draw(
        st.sampled_from(
            [
                number,
                "0047" + draw(_digits(8)),
                draw(st.text(alphabet="0123456789", min_size=1, max_size=18)),
            ]
        )
    )
    prefix = draw(st.sampled_from(["", "", "", "1505", "1510", "1520", "1549", "1550"]))
    return prefix + number


instants = st.datetimes(
    min_value=WINDOW[0].replace(tzinfo=None), max_value=WINDOW[1].replace(tzinfo=None)
).map(lambda d: d.replace(tzinfo=UTC))


@st.composite
def histories(draw: st.DrawFn) -> pa.Table:
    rows = []
    for number in LINES:
        cuts = sorted(draw(st.lists(instants, max_size=3, unique=True)))
        for i, start in enumerate(cuts):
            if draw(st.booleans()):
                continue  # a gap: no preselection for a while
            rows.append(
                {
                    "number": number,
                    "operator_id": draw(st.sampled_from(OPERATORS)),
                    "option": draw(st.sampled_from(list(Option))).value,
                    "valid_from": start,
                    # Usually the next cut; sometimes open or running past it (periods
                    # that overlap: the later one wins, in the engine and in `judge`).
                    "valid_to": draw(
                        st.sampled_from(
                            [cuts[i + 1] if i + 1 < len(cuts) else None] * 3 + [None, WINDOW[1]]
                        )
                    ),
                    "order_id": f"o{number}{i}",
                }
            )
    return pa.Table.from_pylist(rows, schema=HISTORY_SCHEMA)


@st.composite
def references(draw: st.DrawFn) -> RatingReference:
    moments = sorted(draw(st.lists(instants, max_size=4, unique=True)))
    versions = [V(datetime(1970, 1, 1, tzinfo=UTC), "v0")]
    versions += [V(at, f"v{i + 1}") for i, at in enumerate(moments)]
    return RatingReference(TARIFF, draw(histories()), versions, CODES)


calls = st.builds(
    Call,
    start=instants.map(lambda d: d.replace(microsecond=0)),
    duration_s=st.integers(min_value=0, max_value=20_000),
    a_number=st.sampled_from(LINES),
    dialed=dialled(),
    carrier=st.sampled_from([None, "INCUMBENT", *OPERATORS]),
)


def _write(calls_: list[Call], path: Path) -> None:
    table = pa.table(
        {
            "call_id": [f"c{i}" for i in range(len(calls_))],
            "start_utc": pa.array([c.start for c in calls_], pa.timestamp("us", tz="UTC")),
            "duration_s": pa.array([c.duration_s for c in calls_], pa.int64()),
            "a_number": [c.a_number for c in calls_],
            "dialed": [c.dialed for c in calls_],
            "carrier": pa.array([c.carrier for c in calls_], pa.string()),
        }
    )
    pq.write_table(table, path)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(reference=references(), batch=st.lists(calls, min_size=1, max_size=150))
def test_the_engine_equals_the_scalar_truth_on_every_row(
    tmp_path: Path, reference: RatingReference, batch: list[Call]
) -> None:
    source, out = tmp_path / "cdrs.parquet", tmp_path / "rated.parquet"
    _write(batch, source)
    summary = RatingEngine(reference).rate(source, out)
    assert summary.rated == len(batch)
    assert not summary.rejected
    rows = pq.read_table(out).to_pylist()  # in no particular order: call_id names them
    by_id = {r["call_id"]: r for r in rows}
    assert len(by_id) == len(batch)
    for i, call in enumerate(batch):
        row = by_id[f"c{i}"]
        truth = judge(call, reference)
        got = (
            row["call_class"],
            row["expected_carrier"],
            row["route_reason"],
            row["order_id"],
            row["routing_version"],
            row["time_band"],
            row["charge_nok"],
            row["mismatch"],
        )
        want = (
            truth.route.call_class.value,
            truth.route.expected_carrier,
            truth.route.route_reason.value,
            truth.route.order_id,
            truth.routing_version,
            truth.time_band.value,
            truth.charge_nok,
            truth.mismatch,
        )
        assert got == want, (call, got, want)
    assert summary.charge_nok == sum((r["charge_nok"] for r in rows), Decimal(0))


def _reference() -> RatingReference:
    history = pa.Table.from_pylist(
        [
            {
                "number": "22334455",
                "operator_id": "telia",
                "option": "ALL",
                "valid_from": datetime(2026, 11, 1, 23, tzinfo=UTC),
                "valid_to": None,
                "order_id": "o1",
            }
        ],
        schema=HISTORY_SCHEMA,
    )
    versions = [
        V(datetime(1970, 1, 1, tzinfo=UTC), "v0"),
        V(datetime(2026, 11, 1, 23, tzinfo=UTC), "v1"),
    ]
    return RatingReference(TARIFF, history, versions, CODES)


CSV = """call_id,start_utc,duration_s,a_number,dialed,carrier
c1,2026-11-02T10:00:00Z,61,22334455,91234567,telia
c2,2026-11-01T10:00:00Z,61,22334455,91234567,INCUMBENT
c3,2026-11-02T10:00:00Z,61,22334455,112,INCUMBENT
c4,2026-11-02T10:00:00Z,61,22334455,151091234567,ice
c5,2026-11-02T10:00:00Z,-1,22334455,91234567,
c6,2026-11-02 10:00:00,5,22334455,91234567,
c7,2026-11-02T10:00:00Z,5,2233445,91234567,
c8,2026-11-02T10:00:00Z,5,22334455
c9,,5,22334455,91234567,
c10,2026-11-02T10:00:00Z,5.5,22334455,91234567,
c11,2026-11-02T10:00:00Z,5,22334455,9123-4567,
c12,2026-11-07T10:00:00.250000Z,0,22334455,0046701234567,INCUMBENT
"""


def test_bad_rows_go_to_the_rejects_file_and_the_good_rows_are_rated(tmp_path: Path) -> None:
    source = tmp_path / "cdrs.csv"
    source.write_text(CSV)
    summary = RatingEngine(_reference()).rate(source, tmp_path / "rated.csv")
    assert (summary.rows, summary.rated, sum(summary.rejected.values())) == (12, 5, 7)
    header, rated = _csv(tmp_path / "rated.csv")
    assert header == RATED_COLUMNS
    assert sorted(r["call_id"] for r in rated) == ["c1", "c12", "c2", "c3", "c4"]
    by_id = {r["call_id"]: r for r in rated}
    c1 = by_id["c1"]
    assert (c1["route_reason"], c1["order_id"], c1["charge_nok"]) == ("CPS", "o1", "0.0661")
    assert (by_id["c2"]["routing_version"], by_id["c2"]["time_band"]) == ("v0", "WEEKEND")
    assert by_id["c12"]["mismatch"] == "true"
    assert by_id["c12"]["start_utc"] == "2026-11-07T10:00:00.250000Z"
    header, rejects = _csv(tmp_path / "rated.csv.rejects.csv")
    assert header == REJECT_COLUMNS
    assert {r["row"]: r["reason"] for r in rejects} == {
        "5": "duration_s: negative",
        "6": "start_utc: not an ISO 8601 UTC time like 2026-11-01T10:00:00Z",
        "7": "a_number: not an 8-digit national number",
        "8": "expected 6 fields, found 4",
        "9": "start_utc: missing",
        "10": "duration_s: not an integer",
        "11": "dialed: not 1-32 digits",
    }
    assert (rejects[0]["call_id"], rejects[0]["duration_s"]) == ("c5", "-1")


def _csv(path: Path) -> tuple[tuple[str, ...], list[dict[str, str]]]:
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        return tuple(reader.fieldnames or ()), rows


def test_a_file_with_the_wrong_schema_fails_at_once_and_writes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "cdrs.parquet"
    pq.write_table(pa.table({"call_id": ["c1"], "start_utc": ["2026-11-02T10:00:00Z"]}), source)
    with pytest.raises(CdrFileError, match="column duration_s: missing"):
        RatingEngine(_reference()).rate(source, tmp_path / "rated.parquet")
    table = pa.table(
        {
            "call_id": ["c1"],
            "start_utc": ["2026-11-02T10:00:00Z"],
            "duration_s": [1],
            "a_number": ["22334455"],
            "dialed": ["91234567"],
        }
    )
    pq.write_table(table, source)
    with pytest.raises(CdrFileError, match="column start_utc: expected timestamp"):
        RatingEngine(_reference()).rate(source, tmp_path / "rated.parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdrs.parquet"]


def test_parquet_in_and_out_keeps_the_published_types(tmp_path: Path) -> None:
    source = tmp_path / "cdrs.csv"
    source.write_text(CSV)
    RatingEngine(_reference()).rate(source, tmp_path / "rated.parquet")
    schema = pq.read_schema(tmp_path / "rated.parquet")
    assert tuple(schema.names) == RATED_COLUMNS
    assert schema.field("start_utc").type == pa.timestamp("us", tz="UTC")
    assert schema.field("charge_nok").type == pa.decimal128(18, 4)
    assert schema.field("mismatch").type == pa.bool_()
    assert schema.field("duration_s").type == pa.int64()
    facts = {k.decode(): v.decode() for k, v in (schema.metadata or {}).items()}
    assert facts["forvalg.tariff_version"] == TARIFF.version
    assert facts["forvalg.exclusions_version"] == "2026-01"
    assert facts["forvalg.source"] == "cdrs.csv"


def test_a_month_of_calls_is_one_run(tmp_path: Path) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    batch = [
        Call(start + timedelta(minutes=7 * i), i % 400, "22334455", "91234567") for i in range(5000)
    ]
    _write(batch, tmp_path / "cdrs.parquet")
    summary = RatingEngine(_reference()).rate(tmp_path / "cdrs.parquet", tmp_path / "rated.parquet")
    ids = pq.read_table(tmp_path / "rated.parquet", columns=["call_id"]).column(0).to_pylist()
    assert sorted(ids) == sorted(f"c{i}" for i in range(5000))
    assert summary.by_reason["CPS"] + summary.by_reason["DEFAULT"] == 5000


def test_simulated_traffic_rates_to_the_simulators_ground_truth(tmp_path: Path) -> None:
    """The simulator routes each call as the exchange would, then misroutes a few: the
    engine must find exactly those classes, routes and carriers, and flag exactly the
    misrouted calls."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    lines = synthetic_lines(3_000, seed=7)
    history = synthetic_history(lines, OPERATORS, share=0.3, start=start, days=30, seed=7)
    spec = TrafficSpec(calls=60_000, start=start, days=30, seed=7, chunk_rows=20_000)
    truth = write_cdrs(
        tmp_path / "cdrs.parquet", spec, lines=lines, history=history, carrier_codes=CODES
    )
    reference = RatingReference(TARIFF, history, [V(datetime(1970, 1, 1, tzinfo=UTC), "v0")], CODES)
    summary = RatingEngine(reference).rate(tmp_path / "cdrs.parquet", tmp_path / "rated.parquet")
    assert (summary.rows, summary.rated) == (truth.rows, truth.rows)
    assert dict(summary.by_class) == {k: v for k, v in truth.by_class.items() if v}
    assert dict(summary.by_reason) == {k: v for k, v in truth.by_reason.items() if v}
    assert summary.mismatches == truth.misrouted > 0
    rated = pq.read_table(tmp_path / "rated.parquet", columns=["expected_carrier"])
    carriers = Counter(rated.column(0).to_pylist())
    assert carriers == Counter({k: v for k, v in truth.by_carrier.items() if v})


def _cdr_table(**overrides: Any) -> pa.Table:
    columns: dict[str, Any] = {
        "call_id": ["c1", "c2"],
        "start_utc": pa.array(
            [datetime(2026, 11, 2, 10, tzinfo=UTC), datetime(2026, 11, 2, 11, tzinfo=UTC)],
            pa.timestamp("us", tz="UTC"),
        ),
        "duration_s": pa.array([61, 100_000], pa.int64()),
        "a_number": ["22334455", "22334455"],
        "dialed": ["91234567", "91234567"],
    }
    return pa.table(columns | overrides)


def test_writers_other_encodings_are_read(tmp_path: Path) -> None:
    """pandas writes nanoseconds; others write dictionary-encoded or unsigned columns."""
    nanos = pa.array(
        [datetime(2026, 11, 2, 10, tzinfo=UTC), datetime(2026, 11, 2, 11, tzinfo=UTC)],
        pa.timestamp("ns", tz="UTC"),
    )
    table = _cdr_table(
        start_utc=nanos,
        duration_s=pa.array([61, 2**63 + 5], pa.uint64()),
        dialed=pa.array(["91234567", "91234567"]).dictionary_encode(),
    )
    pq.write_table(table, tmp_path / "cdrs.parquet")
    summary = RatingEngine(_reference()).rate(tmp_path / "cdrs.parquet", tmp_path / "r.parquet")
    assert (summary.rated, dict(summary.rejected)) == (1, {"duration_s: more than 86400": 1})
    [row] = pq.read_table(tmp_path / "r.parquet").to_pylist()
    assert row["start_utc"] == datetime(2026, 11, 2, 10, tzinfo=UTC)
    assert (row["route_reason"], row["charge_nok"]) == ("CPS", Decimal("0.0661"))


def test_a_quoted_or_spaced_csv_header_is_a_header(tmp_path: Path) -> None:
    source = tmp_path / "cdrs.csv"
    source.write_text(
        '"call_id", "start_utc" ,"duration_s","a_number","dialed"\n'
        "c1,2026-11-02T10:00:00Z,61,22334455,91234567\n"
    )
    summary = RatingEngine(_reference()).rate(source, tmp_path / "r.csv")
    assert (summary.rows, summary.rated) == (1, 1)


def test_files_are_never_overwritten_by_each_other_and_stale_rejects_go(tmp_path: Path) -> None:
    source = tmp_path / "cdrs.csv"
    source.write_text(CSV)
    engine = RatingEngine(_reference())
    with pytest.raises(RatingFailed, match="the same file as the input"):
        engine.rate(source, source)
    with pytest.raises(RatingFailed, match=r"--rejects .* the same file as the --out"):
        engine.rate(source, tmp_path / "r.csv", rejects=tmp_path / "r.csv")
    assert source.read_text() == CSV
    engine.rate(source, tmp_path / "r.csv")
    assert len(_csv(tmp_path / "r.csv.rejects.csv")[1]) == 7
    source.write_text(CSV.splitlines()[0] + "\n" + CSV.splitlines()[1] + "\n")
    summary = engine.rate(source, tmp_path / "r.csv")
    assert not summary.rejected
    assert _csv(tmp_path / "r.csv.rejects.csv") == (REJECT_COLUMNS, [])
