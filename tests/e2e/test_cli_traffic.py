"""`forvalg traffic rate` and then `forvalg settle`, as a user runs them: calls judged by
the preselection valid at their time, with the order and routing version as evidence;
bad rows to the rejects file; a wrong file or tariff refused with one line."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq

from .helpers import Cli, query
from .test_cli_orders import GOOD, RECEIVED, place_orders

# Telia's PROVIDE on GOOD switches at 2026-12-07 00:00 Oslo (2026-12-06T23:00Z).
CDRS = f"""call_id,start_utc,duration_s,a_number,dialed,carrier
before,2026-12-04T10:00:00Z,61,{GOOD},91234567,INCUMBENT
after,2026-12-07T10:00:00Z,61,{GOOD},91234567,telia
misrouted,2026-12-07T11:00:00Z,30,{GOOD},22223333,INCUMBENT
abroad,2026-12-07T20:00:00Z,600,{GOOD},004670123456,telia
code,2026-12-05T12:00:00Z,120,22334456,150591234567,telia
police,2026-12-07T10:00:00Z,5,{GOOD},112,INCUMBENT
negative,2026-12-07T10:00:00Z,-5,{GOOD},91234567,telia
"""


def _completed(cli: Cli) -> str:
    """The order completed; returns version 1's content hash."""
    place_orders(cli, RECEIVED)
    cli.ok("orders", "process", "--as-of", "2026-12-01T12:00:00Z")
    cli.ok("orders", "process", "--as-of", "2026-12-07T12:00:00Z")
    versions = cli.ok("routing", "versions").stdout.splitlines()
    return versions[1].split("\t")[3]


def test_rate_then_settle(initialised: Cli) -> None:
    version_1 = _completed(initialised)
    (initialised.cwd / "cdrs.csv").write_text(CDRS)

    rated = initialised.ok("traffic", "rate", "cdrs.csv", "--out", "rated.parquet")
    assert rated.stderr == ""
    assert "7 rows, 6 rated, 1 rejected" in rated.stdout
    rows = {r["call_id"]: r for r in pq.read_table(initialised.cwd / "rated.parquet").to_pylist()}
    assert sorted(rows) == ["abroad", "after", "before", "code", "misrouted", "police"]
    order = {
        k: (rows[k]["route_reason"], rows[k]["expected_carrier"], rows[k]["charge_nok"])
        for k in rows
    }
    assert order == {
        "before": ("DEFAULT", "INCUMBENT", Decimal("0.0000")),
        "after": ("CPS", "telia", Decimal("0.0661")),  # 61 s peak at 0.0650 NOK/min
        "misrouted": ("CPS", "telia", Decimal("0.0325")),
        "abroad": ("CPS", "telia", Decimal("0.3500")),  # 600 s off-peak at 0.0350
        "code": ("CSC", "telia", Decimal("0.0500")),  # a Saturday: 120 s at 0.0250
        "police": ("EXCLUDED", "INCUMBENT", Decimal("0.0000")),
    }
    assert rows["after"]["order_id"]
    assert rows["before"]["order_id"] is None
    assert rows["after"]["routing_version"] == version_1
    assert rows["before"]["routing_version"] != version_1
    assert [k for k in sorted(rows) if rows[k]["mismatch"]] == ["misrouted"]
    rejects = (initialised.cwd / "rated.parquet.rejects.csv").read_text().splitlines()
    assert rejects[1].startswith("7,duration_s: negative,negative,")

    # One settlement access read the history for the whole run, before any call.
    events = query(
        initialised.cwd / "forvalg.db",
        "SELECT event FROM ledger_inbox UNION ALL SELECT entry FROM ledger_entries",
    )
    rating = [json.loads(e[0]) for e in events if "system:traffic-rater" in e[0]]
    assert {(e["purpose"], e["resource"]) for e in rating} == {
        ("settlement", "cps.routing"),
        ("settlement", "cps.operator"),
    }

    settled = initialised.ok(
        "settle", "--period", "2026-12", "--cdrs", "rated.parquet", "--out", "statements"
    )
    assert "telia" in settled.stdout
    statement = json.loads((initialised.cwd / "statements" / "telia.json").read_text())
    billed = sum(r["charge_nok"] for r in rows.values() if r["expected_carrier"] == "telia")
    assert Decimal(statement["totals"]["charge_nok"]) == billed


def test_a_file_of_the_wrong_shape_changes_nothing(initialised: Cli) -> None:
    (initialised.cwd / "cdrs.csv").write_text("call_id,start_utc\nc1,2026-12-04T10:00:00Z\n")
    failed = initialised.fails("traffic", "rate", "cdrs.csv", "--out", "rated.parquet")
    assert failed.error_line == (
        "forvalg: cdrs.csv: column duration_s: missing "
        "(required: call_id, start_utc, duration_s, a_number, dialed)"
    )
    assert not (initialised.cwd / "rated.parquet").exists()
    events = query(initialised.cwd / "forvalg.db", "SELECT event FROM ledger_inbox")
    assert not [e for e in events if "system:traffic-rater" in e[0]]


def test_a_bad_tariff_is_one_line_naming_the_key(initialised: Cli) -> None:
    (initialised.cwd / "cdrs.csv").write_text(CDRS)
    (initialised.cwd / "tariff.toml").write_text(
        'version = "x"\n[time_bands]\npeak_from = "08:30"\npeak_to = "17:00"\n'
    )
    failed = initialised.fails(
        "traffic", "rate", "cdrs.csv", "--out", "r.parquet", "--tariff", "tariff.toml"
    )
    assert failed.error_line == (
        "forvalg: tariff.toml: time_bands.peak_from: '08:30' is not a whole hour like '08:00'"
    )


def test_out_in_a_missing_directory_is_refused(initialised: Cli, tmp_path: Path) -> None:
    (initialised.cwd / "cdrs.csv").write_text(CDRS)
    failed = initialised.fails("traffic", "rate", "cdrs.csv", "--out", "nowhere/r.parquet")
    assert failed.error_line == "forvalg: --out nowhere/r.parquet: directory nowhere does not exist"


ENGINES = ("duck", "spark")


def test_rate_then_settle_on_spark_as_on_duckdb(initialised: Cli) -> None:
    """`--engine spark` end to end: the same rated rows, rejects and statements as DuckDB."""
    _completed(initialised)
    (initialised.cwd / "cdrs.csv").write_text(CDRS)
    duck = initialised.ok("traffic", "rate", "cdrs.csv", "--out", "duck.parquet")
    spark = initialised.ok(
        "traffic", "rate", "cdrs.csv", "--out", "spark.parquet", "--engine", "spark",
        "--threads", "2",
    )  # fmt: skip
    assert "7 rows, 6 rated, 1 rejected" in spark.stdout
    assert "Traceback" not in spark.stderr
    rows = [
        sorted(pq.read_table(initialised.cwd / f"{e}.parquet").to_pylist(), key=str)
        for e in ("duck", "spark")
    ]
    assert rows[0] == rows[1]
    assert duck.stdout.split("charge NOK")[1].split(";")[0] in spark.stdout
    rejects = [
        (initialised.cwd / f"{e}.parquet.rejects.csv").read_text() for e in ("duck", "spark")
    ]
    assert rejects[0] == rejects[1]
    month = ("settle", "--period", "2026-12", "--cdrs", "duck.parquet")
    initialised.ok(*month, "--out", "by-duckdb")
    on_spark = initialised.ok(*month, "--out", "by-spark", "--engine", "spark")
    assert "telia: 4 calls" in on_spark.stdout
    for name in ("telia.json", "telia.csv"):
        by = [(initialised.cwd / d / name).read_bytes() for d in ("by-duckdb", "by-spark")]
        assert by[0] == by[1], name
