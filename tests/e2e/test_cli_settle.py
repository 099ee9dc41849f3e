"""`forvalg settle` as a billing clerk runs it: statements per operator, the same bytes
again whatever the order of the files, a re-run filed as the next version, and bad input
refused in one line with nothing written."""

from __future__ import annotations

import json

import pytest

from tests.rated import Call, at, write_csv, write_parquet

from .helpers import Cli, query

CALLS = [
    Call(at(2026, 11, 2, 8), 61, charge="0.1220"),
    Call(at(2026, 11, 7, 12), 120, call_class="MOBILE", band="WEEKEND", charge="0.4800"),
    Call(at(2026, 11, 2, 9), 30, expected="betanett", reason="CSC", charge="0.0600"),
    Call(at(2026, 11, 3, 9), 45, mismatch=True, carrier="INCUMBENT", charge="0.0900"),
    Call(at(2026, 10, 31, 22, 30), 60, charge="0.1200"),  # October in Oslo
]


@pytest.fixture
def clerk(initialised: Cli) -> Cli:
    initialised.ok("operators", "add", "--id", "alfatel", "--name", "Alfa Telecom", "--csc", "1501")
    initialised.ok("operators", "add", "--id", "betanett", "--name", "Beta Nett", "--csc", "1502")
    metadata = {"forvalg.tariff_version": "T1"}
    write_parquet(initialised.cwd / "a.parquet", CALLS[:2], metadata=metadata)
    write_csv(initialised.cwd / "b.csv", CALLS[2:])
    return initialised


def test_settle_writes_a_statement_per_operator_the_same_bytes_in_any_order(clerk: Cli) -> None:
    month = ("settle", "--period", "2026-11")
    first = clerk.ok(*month, "--cdrs", "a.parquet", "b.csv", "--out", "nov")
    again = clerk.ok(*month, "--cdrs", "b.csv", "--cdrs", "a.parquet", "--out", "nov2")

    out = clerk.cwd / "nov"
    assert sorted(p.name for p in out.iterdir()) == [
        "alfatel.csv",
        "alfatel.json",
        "betanett.csv",
        "betanett.json",
    ]
    for name in ("alfatel.json", "alfatel.csv", "betanett.json", "betanett.csv"):
        assert (out / name).read_bytes() == (clerk.cwd / "nov2" / name).read_bytes(), name
    line = "alfatel: 3 calls, 3.77 minutes, NOK 0.6920 (version 1) -> nov/alfatel.json"
    assert line in first.stdout
    assert "read 5 rated calls: 4 in the period, 1 outside it (not billed)" in first.stdout
    assert "(version 2)" in again.stdout
    body = json.loads((out / "alfatel.json").read_text())
    assert body["totals"]["charge_nok"] == "0.6920"
    assert body["sources"][0]["rating"] == {"forvalg.tariff_version": "T1"}
    stored = query(
        clerk.cwd / "forvalg.db",
        "SELECT operator_id, version, body FROM statements ORDER BY operator_id, version",
    )
    assert [(o, v) for o, v, _ in stored] == [
        ("alfatel", 1),
        ("alfatel", 2),
        ("betanett", 1),
        ("betanett", 2),
    ]
    assert stored[0][2].encode() == (out / "alfatel.json").read_bytes()


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("--period", "2026-13"), "forvalg: --period: '2026-13' is not a month written as YYYY-MM"),
    ],
)
def test_a_bad_option_is_one_line_and_writes_nothing(
    clerk: Cli, args: tuple[str, ...], error: str
) -> None:
    result = clerk.fails("settle", *args, "--cdrs", "a.parquet", "--out", "nov")
    assert result.error_line.startswith(error), result
    assert not (clerk.cwd / "nov").exists()


def test_a_file_with_a_wrong_column_is_named_in_one_line_and_nothing_is_written(
    clerk: Cli,
) -> None:
    write_parquet(clerk.cwd / "old.parquet", CALLS[:1], drop=["charge_nok"])
    files = ("--cdrs", "a.parquet", "old.parquet")
    result = clerk.fails("settle", "--period", "2026-11", *files, "--out", "nov")
    assert result.error_line == (
        "forvalg: old.parquet: column charge_nok: missing "
        "(expected decimal with 4 places (decimal128(18,4)))"
    )
    bad = clerk.cwd / "bad.csv"
    bad.write_text((clerk.cwd / "b.csv").read_text().replace(",PEAK,", ",NIGHT,"))
    result = clerk.fails("settle", "--period", "2026-11", "--cdrs", "bad.csv", "--out", "nov")
    assert result.error_line.startswith(
        "forvalg: bad.csv: row 2, column time_band: must be one of PEAK, OFFPEAK, WEEKEND"
    ), result
    assert not (clerk.cwd / "nov").exists()
    assert query(clerk.cwd / "forvalg.db", "SELECT count(*) FROM statements") == [(0,)]


def test_settle_is_documented(cli: Cli) -> None:
    result = cli.ok("settle", "--help")
    assert "--period" in result.stdout
    assert "--cdrs" in result.stdout
