"""Benchmark: `traffic rate` and `settle`'s scan on Spark local mode with 1 and 2 cores,
beside DuckDB (the named baseline) with 1 and 2 threads on the same input (issue 8, item 1).

Setup (not timed, cached under --data): --lines lines with --share of them preselected over
November 2026, one routing table version per day, and a CDR file of --rows calls spread
over the month (`forvalg.sim.traffic`).

Each (engine, cores) pair runs in its own process (a Spark session's master is fixed when
its JVM starts), one after the other, never side by side:

  rate     `RatingEngine.rate` / `SparkRatingEngine.rate`: CDR Parquet to a rated Parquet
           file, rejects and summary included (Spark: session start not included; it is
           printed as `start`)
  settle   the month's aggregation of that rated file (`aggregate.scan` /
           `spark_engine.spark_groups`): the statements' numbers

    .venv/bin/python benchmarks/spark_scaling.py                     # 5 M calls
    .venv/bin/python benchmarks/spark_scaling.py --rows 1000000      # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from forvalg.domain.settlement import Period
from forvalg.traffic.aggregate import connect, scan
from forvalg.traffic.rating import EngineSettings, RatingEngine
from forvalg.traffic.reference import RatingReference
from forvalg.traffic.sources import inspect_all
from traffic_rate import month

RUNS = (("duckdb", 1), ("duckdb", 2), ("spark", 1), ("spark", 2))


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def setup(args: argparse.Namespace) -> tuple[Path, RatingReference]:
    source, _, reference = month(
        args.data, rows=args.rows, lines=args.lines, share=args.share, seed=args.seed
    )
    return source, reference


def worker(args: argparse.Namespace) -> dict[str, Any]:
    """One (engine, cores) run: rate, then settle's scan; times in seconds."""
    source, reference = setup(args)
    settings = EngineSettings(threads=args.threads, memory_limit=args.memory_limit)
    rated = args.data / f"rated-{args.engine}-{args.threads}.parquet"
    period = Period.parse("2026-11")
    result: dict[str, Any] = {"engine": args.engine, "cores": args.threads}
    if args.engine == "spark":
        from forvalg.engines.spark import spark_session
        from forvalg.traffic.spark_engine import SparkRatingEngine, spark_groups

        t = time.perf_counter()
        spark_session(args.threads, args.memory_limit)
        result["start"] = time.perf_counter() - t
        summary = SparkRatingEngine(reference, settings).rate(source, rated)
        t = time.perf_counter()
        found, bad = spark_groups(inspect_all([rated]), period, settings)
        assert not bad
    else:
        summary = RatingEngine(reference, settings).rate(source, rated)
        t = time.perf_counter()
        with closing(connect()) as duck:
            duck.execute(f"SET threads = {args.threads}")
            found = scan(duck, inspect_all([rated]), period)
    result["settle"] = time.perf_counter() - t
    result["rate"] = summary.seconds
    result["rows"] = summary.rows
    result["charge"] = str(summary.charge_nok)
    result["in_period"] = found.rows_in_period
    result["billed"] = str(
        sum((u.charge for lines in found.lines.values() for u in lines.values()), start=0)
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--share", type=float, default=0.2)
    parser.add_argument("--data", type=Path, default=Path("/tmp/forvalg-bench"))
    parser.add_argument("--memory-limit", default="2GB")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--engine", choices=["duckdb", "spark"], help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    if args.engine:
        print(json.dumps(worker(args)))
        return
    print(f"cpus {os.cpu_count()}  load average at start {loadavg()}")
    t = time.perf_counter()
    source, _ = setup(args)
    print(f"setup      {args.rows:,} calls in {source}: {time.perf_counter() - t:.1f} s")
    common = [f"--{k.replace('_', '-')}={v}" for k, v in vars(args).items() if v is not None]
    results = []
    for engine, cores in RUNS:
        command = [sys.executable, __file__, *common, f"--engine={engine}", f"--threads={cores}"]
        before = loadavg()
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        results.append(result)
        start = f"  (session start {result['start']:.1f} s)" if "start" in result else ""
        print(
            f"{engine:7} {cores} core(s): rate {result['rate']:6.1f} s "
            f"({result['rows'] / result['rate']:9,.0f} calls/s), settle {result['settle']:5.1f} s"
            f"{start}; load before {before}"
        )
    assert len({(r["rows"], r["charge"], r["in_period"], r["billed"]) for r in results}) == 1, (
        "the engines disagree"
    )
    for engine in ("duckdb", "spark"):
        one, two = (r for r in results if r["engine"] == engine)
        print(
            f"{engine:7} 1 -> 2 cores: rate x{one['rate'] / two['rate']:.2f}, "
            f"settle x{one['settle'] / two['settle']:.2f}"
        )
    print(
        f"same totals on every run: {results[0]['rows']:,} rows, charge NOK {results[0]['charge']}"
    )
    print(f"load average at end {loadavg()}")


if __name__ == "__main__":
    main()
