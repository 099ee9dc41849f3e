"""Benchmark: settlement's one pass over rated CDRs (DuckDB), at scale.

Writes N synthetic rated calls to one Parquet file (DuckDB's own writer: fast, no Python
rows), then times `forvalg.traffic.aggregate.scan` over it for a month and renders the
statements, and reports rows/s and the process's peak resident memory. The database
side of `forvalg settle` (a handful of statements) is not timed here: it does not grow
with the rows.

    .venv/bin/python benchmarks/settlement.py --rows 100_000_000   # ~1.6 GB of Parquet
    .venv/bin/python benchmarks/settlement.py --rows 10_000_000 --keep /tmp/rated

Bounded: one file of --rows rows in a temporary directory (removed unless --keep).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from forvalg.domain.settlement import Period
from forvalg.traffic.aggregate import MEMORY_LIMIT, connect, scan
from forvalg.traffic.sources import inspect_all
from forvalg.traffic.statement import Source, Statement, Usage

GENERATE = """
COPY (SELECT 'c' || i AS call_id,
  TIMESTAMPTZ '2026-10-31 20:00:00+00' + to_seconds(i % (31 * 86400)) AS start_utc,
  (i % 3600)::BIGINT AS duration_s,
  '2233' || lpad((i % 10000)::VARCHAR, 4, '0') AS a_number,
  '22998877' AS dialed,
  CASE WHEN i % 50 = 0 THEN 'INCUMBENT' ELSE 'alfatel' END AS carrier,
  ['LOCAL_NATIONAL', 'MOBILE', 'INTERNATIONAL'][1 + i % 3] AS call_class,
  CASE i % 4 WHEN 1 THEN 'betanett' WHEN 3 THEN 'INCUMBENT' ELSE 'alfatel' END
    AS expected_carrier,
  CASE i % 4 WHEN 3 THEN 'DEFAULT' ELSE 'CPS' END AS route_reason,
  NULL::VARCHAR AS order_id, 'rv1' AS routing_version,
  ['PEAK', 'OFFPEAK', 'WEEKEND'][1 + (i // 7) % 3] AS time_band,
  ((i % 10000) / 10000.0)::DECIMAL(18, 4) AS charge_nok,
  i % 50 = 0 AS mismatch
FROM range($rows) t(i)) TO '{path}' (FORMAT parquet)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=lambda s: int(s.replace("_", "")), default=10_000_000)
    parser.add_argument("--period", default="2026-11")
    parser.add_argument("--memory-limit", default=MEMORY_LIMIT)
    parser.add_argument("--keep", type=Path, help="write the file here and keep it")
    args = parser.parse_args()
    print(
        f"python {platform.python_version()}, duckdb {duckdb.__version__}, "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    home = args.keep or Path(tempfile.mkdtemp(prefix="forvalg-settle-bench-"))
    home.mkdir(parents=True, exist_ok=True)
    path = home / "rated.parquet"
    try:
        if not path.exists():
            t0 = time.perf_counter()
            with duckdb.connect() as gen:
                gen.execute(GENERATE.format(path=path), {"rows": args.rows})
            print(f"wrote {args.rows:,} rows, {path.stat().st_size / 1e9:.2f} GB, "
                  f"in {time.perf_counter() - t0:.1f} s", flush=True)  # fmt: skip
        period = Period.parse(args.period)
        files = inspect_all([path])
        t0 = time.perf_counter()
        with connect(args.memory_limit) as duck:
            found = scan(duck, files, period)
        took = time.perf_counter() - t0
        sources = (Source(path.name, "0" * 64),)
        for operator in sorted(found.billed_operators):
            statement = Statement(
                operator,
                period,
                dict(found.lines[operator]),
                found.mismatches(operator),
                found.outside_period.get(operator, Usage()),
                sources,
            )
            statement.json_bytes()
            t = statement.totals
            print(f"  {operator}: {t.calls:,} calls, {t.minutes:,} minutes, NOK {t.charge:,}")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"scan of {found.rows:,} rows ({found.rows_in_period:,} in {period.month}): "
            f"{took:.1f} s, {found.rows / took / 1e6:.1f} M rows/s; "
            f"peak RSS {peak:,.0f} MB (memory limit {args.memory_limit})"
        )
    finally:
        if args.keep is None:
            shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
