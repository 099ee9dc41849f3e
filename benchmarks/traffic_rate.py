"""Benchmark: `forvalg traffic rate` (and `settle`) on generated CDRs against 2 M lines,
beside the baseline a user would write: a per-row Python loop with `phonenumbers` and
dict lookups (issue 5, "Performance").

Setup (not timed): --lines lines with --share of them preselected over the month
(`forvalg.sim.traffic`), one routing table version per day at the Oslo switch instant,
and a CDR file of --rows calls, cached under --data (generated once, ~1 M rows/s).

  engine     `RatingEngine.rate` from the CDR Parquet file to a rated Parquet file: the
             checks, the route, the band, the charge, the write, and the summary's
             read-back; rows/s, and the process's peak RSS (setup included)
  floor      DuckDB copying the CDR file to another Parquet file, no logic at all: the
             read-and-write floor any engine producing a rated file stands on
  settle     `forvalg settle`'s aggregation of the rated file for the month (the
             statements' numbers; filing them in the database is not timed)
  baseline   the same judgement, row by row in Python on the first --baseline-rows
             calls: `phonenumbers.parse` + `number_type` (`shortnumberinfo` for short
             numbers), a dict of each line's periods, `zoneinfo` + `holidays` for the
             band, `Decimal` for the charge, rows appended to lists and written with
             pyarrow at the end; rows/s and the engine's ratio to it

    .venv/bin/python benchmarks/traffic_rate.py                         # 10 M calls
    .venv/bin/python benchmarks/traffic_rate.py --rows 100000000        # the issue's run
    .venv/bin/python benchmarks/traffic_rate.py --rows 2000000 --baseline-rows 200000
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import holidays
import phonenumbers
import pyarrow as pa
import pyarrow.parquet as pq
from phonenumbers import PhoneNumberType, shortnumberinfo

from forvalg.domain.calendar import WorkingCalendar
from forvalg.domain.settlement import Period
from forvalg.domain.tariffs import Tariff, tariff_from_toml
from forvalg.sim.traffic import TrafficSpec, synthetic_history, synthetic_lines, write_cdrs
from forvalg.traffic.aggregate import connect, scan
from forvalg.traffic.rating import EngineSettings, RatingEngine
from forvalg.traffic.reference import RatingReference
from forvalg.traffic.sources import inspect_all

OPERATORS = ("telia", "ice", "phonero", "nextgentel")
CODES = {"1505": "telia", "1510": "ice", "1520": "phonero", "1530": "nextgentel"}
START = datetime(2026, 10, 31, 23, tzinfo=UTC)  # 2026-11-01 00:00 in Oslo
TARIFF_FILE = Path(__file__).parents[1] / "src/forvalg/traffic/tariffs/default.toml"


@dataclass(frozen=True)
class Version:
    effective_at: datetime
    content_hash: str


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def daily_versions(days: int) -> list[Version]:
    calendar = WorkingCalendar()
    versions = [Version(datetime(1970, 1, 1, tzinfo=UTC), "0" * 64)]
    for day in range(days):
        at = calendar.switch_at(date(2026, 11, 1) + timedelta(days=day))
        versions.append(Version(at, f"{day + 1:064x}"))
    return versions


def month(
    data: Path, *, rows: int, lines: int, share: float, seed: int
) -> tuple[Path, pa.Table, RatingReference]:
    """A month of generated calls (the Parquet file in `data`, made once per size and
    seed), the lines they come from, and the reference they are rated by."""
    numbers = synthetic_lines(lines, seed=seed)
    history = synthetic_history(numbers, OPERATORS, share=share, start=START, days=30, seed=seed)
    source = data / f"cdrs-{rows}-{lines}-{seed}.parquet"
    if not source.exists():
        spec = TrafficSpec(calls=rows, start=START, days=30, seed=seed)
        write_cdrs(source, spec, lines=numbers, history=history, carrier_codes=CODES)
    tariff = tariff_from_toml(TARIFF_FILE.read_text(), str(TARIFF_FILE))
    return source, numbers, RatingReference(tariff, history, daily_versions(30), CODES)


# ---------------------------------------------------------------- the baseline

_TYPE_CLASS = {
    PhoneNumberType.FIXED_LINE: "LOCAL_NATIONAL",
    PhoneNumberType.MOBILE: "MOBILE",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "LOCAL_NATIONAL",
    PhoneNumberType.TOLL_FREE: "FREEPHONE",
    PhoneNumberType.SHARED_COST: "SHARED_COST",
    PhoneNumberType.PREMIUM_RATE: "PREMIUM",
    PhoneNumberType.PERSONAL_NUMBER: "LOCAL_NATIONAL",
    PhoneNumberType.VOIP: "LOCAL_NATIONAL",
    PhoneNumberType.UAN: "LOCAL_NATIONAL",
    PhoneNumberType.VOICEMAIL: "LOCAL_NATIONAL",
}
_CARRIED = {"LOCAL_NATIONAL", "MOBILE", "INTERNATIONAL", "FREEPHONE", "SHARED_COST", "PREMIUM"}
_OPTION = {
    "ALL": _CARRIED,
    "NATIONAL": _CARRIED - {"INTERNATIONAL"},
    "INTERNATIONAL": {"INTERNATIONAL"},
}


def baseline(source: Path, out: Path, rows: int, history: pa.Table, tariff: Tariff) -> int:
    """What a user would write first: one call at a time, with the reference library."""
    oslo = ZoneInfo("Europe/Oslo")
    red_days = holidays.country_holidays("NO")
    periods: dict[str, list[dict[str, Any]]] = {}
    for p in history.to_pylist():
        periods.setdefault(p["number"], []).append(p)
    rates = {(c.value, b.value): r for (c, b), r in tariff.rates.items()}
    minimum = tariff.minimum_charge
    result: dict[str, list[Any]] = {k: [] for k in ("call_class", "expected", "reason", "charge")}
    done = 0
    for batch in pq.ParquetFile(source).iter_batches(batch_size=65_536):
        for call in batch.to_pylist():
            dialled: str = call["dialed"]
            code = dialled[:4] if len(dialled) > 4 and "1500" <= dialled[:4] <= "1549" else None
            number = dialled[4:] if code else dialled
            if number.startswith("00"):
                call_class = "INTERNATIONAL"
            elif len(number) == 8:
                parsed = phonenumbers.parse(number, "NO")
                call_class = _TYPE_CLASS.get(phonenumbers.number_type(parsed), "INVALID")
            else:
                short = phonenumbers.parse(number, "NO")
                if shortnumberinfo.is_emergency_number(number, "NO"):
                    call_class = "EMERGENCY"
                elif shortnumberinfo.is_valid_short_number(short):
                    call_class = "SHORT"
                else:
                    call_class = "INVALID"
            start: datetime = call["start_utc"]
            expected, reason = "INCUMBENT", "DEFAULT"
            if call_class in ("EMERGENCY", "SHORT"):
                reason = "EXCLUDED"
            elif code:
                if code in CODES and call_class in _CARRIED:
                    expected, reason = CODES[code], "CSC"
                else:
                    call_class = "INVALID"
            else:
                for p in periods.get(call["a_number"], ()):
                    if p["valid_from"] <= start and (
                        p["valid_to"] is None or start < p["valid_to"]
                    ):
                        if call_class in _OPTION[p["option"]]:
                            expected, reason = p["operator_id"], "CPS"
                        break
            local = start.astimezone(oslo)
            if local.weekday() >= 5 or local.date() in red_days:
                band = "WEEKEND"
            elif tariff.peak_from <= local.time() < tariff.peak_to:
                band = "PEAK"
            else:
                band = "OFFPEAK"
            charge = Decimal("0.0000")
            if reason in ("CSC", "CPS") and call["duration_s"] > 0:
                per_minute = rates[(call_class, band)]
                charge = (per_minute * call["duration_s"] / 60).quantize(
                    Decimal("0.0001"), ROUND_HALF_UP
                )
                charge = max(charge, minimum)
            result["call_class"].append(call_class)
            result["expected"].append(expected)
            result["reason"].append(reason)
            result["charge"].append(charge)
            done += 1
            if done >= rows:
                break
        if done >= rows:
            break
    table = pa.table({**result, "charge": pa.array(result["charge"], pa.decimal128(18, 4))})
    pq.write_table(table, out)
    return done


# ---------------------------------------------------------------- the run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--share", type=float, default=0.2)
    parser.add_argument("--baseline-rows", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=Path("/tmp/forvalg-bench"))
    parser.add_argument("--memory-limit", default="2GB")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    print(f"cpus {os.cpu_count()}  load average at start {loadavg()}")

    t = time.perf_counter()
    source, lines, reference = month(
        args.data, rows=args.rows, lines=args.lines, share=args.share, seed=args.seed
    )
    history, tariff = reference.history, reference.tariff
    print(
        f"setup      {len(lines):,} lines, {history.num_rows:,} preselection periods, "
        f"{args.rows:,} calls in {source} ({source.stat().st_size / 2**20:,.0f} MiB): "
        f"{time.perf_counter() - t:.1f} s, peak RSS {peak_rss_mib():,.0f} MiB"
    )

    settings = EngineSettings(threads=args.threads, memory_limit=args.memory_limit)
    rated = args.data / "rated.parquet"
    summary = RatingEngine(reference, settings).rate(source, rated)
    engine_rate = summary.rows / summary.seconds
    print(
        f"engine     {summary.rows:,} calls in {summary.seconds:.1f} s: {engine_rate:,.0f} "
        f"calls/s; peak RSS {peak_rss_mib():,.0f} MiB; {dict(summary.by_reason)}; "
        f"charge NOK {summary.charge_nok:,}"
    )

    t = time.perf_counter()
    with closing(duckdb.connect()) as duck:
        duck.execute(f"SET memory_limit = '{args.memory_limit}'")
        duck.execute("SET enable_progress_bar = false")
        duck.execute(
            f"COPY (SELECT * FROM read_parquet('{source}')) TO '{args.data / 'copy.parquet'}' "
            "(FORMAT parquet)"
        )
    floor = time.perf_counter() - t
    print(
        f"floor      DuckDB rewriting the CDR file unchanged: {floor:.1f} s, "
        f"{args.rows / floor:,.0f} calls/s (the engine: {floor / summary.seconds:.0%} of that rate)"
    )

    t = time.perf_counter()
    with closing(connect()) as duck:
        found = scan(duck, inspect_all([rated]), Period.parse("2026-11"))
    settle_seconds = time.perf_counter() - t
    both = summary.seconds + settle_seconds
    print(
        f"settle     {found.rows_in_period:,} calls of 2026-11 aggregated for "
        f"{len(found.billed_operators)} operators in {settle_seconds:.1f} s; peak RSS "
        f"{peak_rss_mib():,.0f} MiB"
    )
    print(f"end to end {summary.rows:,} calls in {both:.1f} s: {summary.rows / both:,.0f} calls/s")

    t = time.perf_counter()
    done = baseline(source, args.data / "baseline.parquet", args.baseline_rows, history, tariff)
    seconds = time.perf_counter() - t
    base_rate = done / seconds
    print(f"baseline   {done:,} calls in {seconds:.1f} s: {base_rate:,.0f} calls/s")
    print(f"ratio      engine / baseline = {engine_rate / base_rate:,.0f}x")
    print(f"load average at end {loadavg()}")


if __name__ == "__main__":
    main()
