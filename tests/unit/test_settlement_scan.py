"""Settlement's one pass over rated files (DuckDB, no database): what is billed to whom,
exact decimal totals, the Oslo-month boundaries, mismatches, Parquet and CSV alike, and
bad input named by file, row and column."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from tests.rated import Call, at, reference_total, write_csv, write_parquet

from forvalg.domain.settlement import Period
from forvalg.traffic.aggregate import Scan, connect, scan
from forvalg.traffic.sources import BadRatedFile, RatedFile, inspect, inspect_all
from forvalg.traffic.statement import Usage

NOVEMBER = Period.parse("2026-11")


def run(files: Sequence[Path], period: Period = NOVEMBER) -> Scan:
    with connect() as duck:
        return scan(duck, inspect_all(files), period)


def test_lines_by_class_and_band_and_only_billed_calls(tmp_path: Path) -> None:
    calls = [
        Call(at(2026, 11, 2, 8), 61, charge="0.1220"),
        Call(at(2026, 11, 2, 9), 59, charge="0.1180"),
        Call(at(2026, 11, 7, 9), 120, call_class="MOBILE", band="WEEKEND", reason="CSC"),
        Call(at(2026, 11, 2, 8), 30, expected="betanett", charge="0.0500"),
        Call(at(2026, 11, 2, 8), 40, expected="INCUMBENT", reason="DEFAULT", charge="0.0000"),
        Call(
            at(2026, 11, 2, 8), 5, expected="INCUMBENT", reason="EXCLUDED", call_class="EMERGENCY"
        ),
    ]
    found = run([write_parquet(tmp_path / "r.parquet", calls)])

    assert found.lines["alfatel"] == {
        ("LOCAL_NATIONAL", "PEAK"): Usage(2, 120, Decimal("0.2400")),
        ("MOBILE", "WEEKEND"): Usage(1, 120, Decimal("0.1000")),
    }
    assert found.lines["betanett"] == {("LOCAL_NATIONAL", "PEAK"): Usage(1, 30, Decimal("0.05"))}
    assert found.billed_operators == {"alfatel", "betanett"}
    assert (found.rows, found.rows_in_period, found.rows_outside_period) == (6, 6, 0)


def test_totals_are_the_exact_decimal_sum_of_the_rated_rows(tmp_path: Path) -> None:
    rng = random.Random(5)
    routes = [("alfatel", "CSC"), ("alfatel", "CPS"), ("betanett", "CPS"), ("INCUMBENT", "DEFAULT")]
    calls = [
        Call(
            NOVEMBER.start + timedelta(seconds=rng.randrange(-3 * 86400, 33 * 86400)),
            rng.randrange(0, 7200),
            *rng.choice(routes),
            call_class=rng.choice(["LOCAL_NATIONAL", "MOBILE", "INTERNATIONAL"]),
            band=rng.choice(["PEAK", "OFFPEAK", "WEEKEND"]),
            charge=f"{rng.randrange(0, 10**8)}.{rng.randrange(0, 10**4):04d}",
        )
        for _ in range(3000)
    ]
    half = len(calls) // 2
    files = [
        write_parquet(tmp_path / "a.parquet", calls[:half]),
        write_csv(tmp_path / "b.csv", calls[half:]),
    ]
    found = run(files)
    for operator in ("alfatel", "betanett"):
        lines = found.lines[operator].values()
        got = (
            sum(u.calls for u in lines),
            sum(u.seconds for u in lines),
            sum((u.charge for u in lines), Decimal(0)),
        )
        assert got == reference_total(calls, operator, NOVEMBER.start, NOVEMBER.end)
    assert "INCUMBENT" not in found.lines


def test_tiny_charges_add_up_exactly_where_floats_would_not(tmp_path: Path) -> None:
    calls = [Call(at(2026, 11, 2, 8), 1, charge=c) for c in ["0.1000", "0.2000"] * 5000]
    big = [Call(at(2026, 11, 3, 8), 1, expected="betanett", charge="99999999999999.9999")] * 3
    found = run([write_parquet(tmp_path / "r.parquet", calls + big)])
    assert found.lines["alfatel"][("LOCAL_NATIONAL", "PEAK")].charge == Decimal("1500.0000")
    assert sum([0.1, 0.2] * 5000) != 1500.0  # what a float sum would have billed
    assert found.lines["betanett"][("LOCAL_NATIONAL", "PEAK")].charge == Decimal(
        "299999999999999.9997"
    )


BOUNDARIES = {
    # 00:00 Oslo on 1 November is 23:00 UTC on 31 October (winter time).
    "2026-11": (
        [at(2026, 10, 31, 23), at(2026, 11, 30, 22, 59, 59)],
        [at(2026, 10, 31, 22, 59, 59), at(2026, 11, 30, 23)],
    ),
    # March: clocks go forward on the 29th, so April starts at 22:00 UTC on 31 March.
    "2026-03": (
        [at(2026, 2, 28, 23), at(2026, 3, 31, 21, 59, 59)],
        [at(2026, 2, 28, 22, 59, 59), at(2026, 3, 31, 22)],
    ),
    # October: clocks go back on the 25th (02:00-03:00 Oslo twice); the month starts at
    # 22:00 UTC on 30 September and ends at 23:00 UTC on 31 October.
    "2026-10": (
        [
            at(2026, 9, 30, 22),
            at(2026, 10, 25, 0, 30),
            at(2026, 10, 25, 1, 30),
            at(2026, 10, 31, 22, 59, 59),
        ],
        [at(2026, 9, 30, 21, 59, 59), at(2026, 10, 31, 23)],
    ),
}


@pytest.mark.parametrize("month", sorted(BOUNDARIES))
def test_period_boundaries_are_oslo_midnight_across_dst(tmp_path: Path, month: str) -> None:
    inside, outside = BOUNDARIES[month]
    calls = [Call(t, 60, charge="1.0000") for t in inside + outside]
    for name, writer in (("r.parquet", write_parquet), ("r.csv", write_csv)):
        found = run([writer(tmp_path / name, calls)], Period.parse(month))
        assert found.lines["alfatel"][("LOCAL_NATIONAL", "PEAK")].calls == len(inside), name
        assert found.outside_period["alfatel"] == Usage(
            len(outside), 60 * len(outside), Decimal(len(outside))
        )
        assert (found.rows_in_period, found.rows_outside_period) == (len(inside), len(outside))


def test_mismatches_split_by_what_the_exchange_recorded(tmp_path: Path) -> None:
    calls = [
        Call(at(2026, 11, 2, 8), 60, charge="0.5000"),  # as expected
        Call(at(2026, 11, 2, 8), 60, charge="0.5000", mismatch=True, carrier="INCUMBENT"),
        Call(at(2026, 11, 2, 8), 30, charge="0.2500", mismatch=True, carrier="betanett"),
        Call(at(2026, 11, 2, 8), 20, charge="0.1000", mismatch=True, carrier=None),
        # Carried by alfatel according to the exchange, rated to the incumbent: not billed.
        Call(
            at(2026, 11, 2, 8),
            45,
            expected="INCUMBENT",
            reason="DEFAULT",
            charge="0.0000",
            mismatch=True,
            carrier="alfatel",
        ),
        # Outside the period: no mismatch counted.
        Call(at(2026, 12, 2, 8), 45, charge="0.1000", mismatch=True, carrier=None),
    ]
    found = run([write_parquet(tmp_path / "r.parquet", calls)])
    alfatel = found.mismatches("alfatel")
    assert alfatel.billed_recorded_other == Usage(2, 90, Decimal("0.7500"))
    assert alfatel.billed_recorded_none == Usage(1, 20, Decimal("0.1000"))
    assert alfatel.recorded_not_billed == Usage(1, 45)
    betanett = found.mismatches("betanett")
    assert betanett.recorded_not_billed == Usage(1, 30)
    assert "INCUMBENT" in found.recorded_carriers  # not an operator: the job drops it
    assert "betanett" not in found.billed_operators


def test_parquet_and_csv_give_the_same_sums_and_carrier_is_optional(tmp_path: Path) -> None:
    calls = [Call(at(2026, 11, 2, h), 17 * h, charge=f"0.{h:04d}") for h in range(1, 20)]
    parquet = run([write_parquet(tmp_path / "r.parquet", calls, carrier=False)])
    csv = run([write_csv(tmp_path / "r.csv", calls)])
    assert parquet.lines == csv.lines


# ----------------------------------------------------------------------------- bad input


def test_a_missing_or_mistyped_column_names_the_file_and_column(tmp_path: Path) -> None:
    calls = [Call(at(2026, 11, 2, 8))]
    missing = write_parquet(tmp_path / "m.parquet", calls, drop=["time_band"])
    with pytest.raises(BadRatedFile, match=r"m\.parquet: column time_band: missing"):
        inspect(missing)
    floats = write_parquet(
        tmp_path / "f.parquet", calls, replace={"charge_nok": pa.array([0.1], pa.float64())}
    )
    with pytest.raises(BadRatedFile, match=r"f\.parquet: column charge_nok: is double, expected"):
        inspect(floats)
    naive = write_parquet(
        tmp_path / "n.parquet",
        calls,
        replace={
            "start_utc": pa.array([at(2026, 11, 2, 8).replace(tzinfo=None)], pa.timestamp("us"))
        },
    )
    with pytest.raises(BadRatedFile, match=r"column start_utc: is timestamp\[us\], expected"):
        inspect(naive)
    header = write_csv(tmp_path / "h.csv", calls)
    header.write_text(header.read_text().replace("mismatch", "mismatched", 1))
    with pytest.raises(
        BadRatedFile, match=r"h\.csv: row 1, column mismatch: missing from the header"
    ):
        inspect(header)
    with pytest.raises(BadRatedFile, match=r"x\.txt: not a rated CDR file"):
        inspect(tmp_path / "x.txt")
    with pytest.raises(BadRatedFile, match=r"gone\.parquet: no such file"):
        inspect(tmp_path / "gone.parquet")
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not parquet")
    with pytest.raises(BadRatedFile, match=r"junk\.parquet: not a readable Parquet file"):
        inspect(junk)


def test_a_file_given_twice_is_refused(tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "r.parquet", [Call(at(2026, 11, 2, 8))])
    with pytest.raises(BadRatedFile, match="given twice"):
        inspect_all([path, tmp_path / "." / "r.parquet"])


@pytest.mark.parametrize(
    ("column", "text", "why"),
    [
        ("start_utc", "2026-11-02T08:00:00", "not an instant"),  # no Z: which zone?
        ("duration_s", "-5", "negative"),
        ("charge_nok", "0.12345", "more than 4 decimal places"),
        ("time_band", "NIGHT", "must be one of PEAK, OFFPEAK, WEEKEND"),
        ("route_reason", "ROAMING", "must be one of"),
        ("mismatch", "maybe", "true or false"),
        ("call_class", "", "must be one of"),
    ],
)
def test_a_bad_value_in_a_csv_names_file_row_and_column(
    tmp_path: Path, column: str, text: str, why: str
) -> None:
    good = [Call(at(2026, 11, 2, 8)) for _ in range(3)]
    write_csv(tmp_path / "a-good.csv", good)
    bad = tmp_path / "b-bad.csv"
    write_csv(bad, good)
    lines = bad.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[3].split(",")
    cells[header.index(column)] = text
    lines[3] = ",".join(cells)
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(BadRatedFile) as caught:
        run([tmp_path / "a-good.csv", bad])
    assert str(caught.value).startswith(f"{bad}: row 4, column {column}: "), caught.value
    assert why in str(caught.value)


def test_a_bad_value_in_parquet_names_file_row_and_column(tmp_path: Path) -> None:
    calls = [Call(at(2026, 11, 2, 8)) for _ in range(5)]
    reasons = pa.array(["CPS", "CPS", "CPS", "CPS", None], pa.string())
    bad = write_parquet(tmp_path / "r.parquet", calls, replace={"route_reason": reasons})
    with pytest.raises(BadRatedFile, match=r"r\.parquet: row 5, column route_reason: must be"):
        run([bad])


def test_an_unreadable_csv_row_names_the_file(tmp_path: Path) -> None:
    bad = write_csv(tmp_path / "r.csv", [Call(at(2026, 11, 2, 8))])
    bad.write_text(bad.read_text() + 'c9,"2026-11-02T08:00:00Z,unclosed\n')
    with pytest.raises(BadRatedFile, match=r"r\.csv: cannot be read"):
        run([bad])


def test_rated_files_are_inspected_with_their_metadata(tmp_path: Path) -> None:
    path = write_parquet(
        tmp_path / "r.parquet",
        [Call(at(2026, 11, 2, 8))],
        metadata={"forvalg.tariff_version": "T-1", "other": "x"},
    )
    rated: RatedFile = inspect(path)
    assert rated.rating == {"forvalg.tariff_version": "T-1"}
    assert rated.has_carrier
