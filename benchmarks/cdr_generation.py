"""Benchmark: synthetic CDR generation (issue 5, item 5), rows/s and peak memory.

Builds a synthetic network of --lines lines (`synthetic_lines`) with --share of them
preselected over the period (`synthetic_history`, 4 operators with active 15NN codes),
then times `write_cdrs` streaming --rows CDRs to Parquet (zstd, one row group per chunk)
or CSV. Reported:

  setup      lines and history: seconds, and the process's peak RSS after it
  write      rows, seconds, rows/s, the process's CPU seconds (user + sys) over the write
             and CPU/wall (above 1.0: pyarrow's writer threads; well below 1.0 on a busy
             machine: others took the cores), bytes per row
  memory     peak RSS of the whole process (`resource.getrusage(RUSAGE_SELF).ru_maxrss`),
             which includes the setup, and pyarrow's own peak (`MemoryPool.max_memory`)
  100 M      a projection from the measured rate (rows/s and bytes/row are flat in the
             number of rows: every chunk costs the same and memory does not grow)

Afterwards the file's row count and row groups are read back from its metadata.

    .venv/bin/python benchmarks/cdr_generation.py                      # 10 M rows, 2 M lines
    .venv/bin/python benchmarks/cdr_generation.py --rows 100000000     # the 100 M run, once
    .venv/bin/python benchmarks/cdr_generation.py --rows 1000000 --format csv
    .venv/bin/python benchmarks/cdr_generation.py --rows 2000000 --profile 25
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from forvalg.sim.traffic import TrafficSpec, synthetic_history, synthetic_lines, write_cdrs

OPERATORS = ("telia", "ice", "phonero", "nextgentel")
CODES = {"1505": "telia", "1510": "ice", "1520": "phonero", "1530": "nextgentel"}
HUNDRED_MILLION = 100_000_000


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--share", type=float, default=0.2, help="lines preselected")
    parser.add_argument("--chunk-rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    parser.add_argument("--out-dir", type=Path, default=Path("/tmp/forvalg-bench"))
    parser.add_argument("--keep", action="store_true", help="keep the file written")
    parser.add_argument("--profile", type=int, default=0, help="cProfile: print top N")
    args = parser.parse_args(argv)

    start = datetime(2026, 11, 1, tzinfo=UTC)
    print(f"cpus {os.cpu_count()}  load average at start {loadavg()}  pyarrow {pa.__version__}")
    began = time.perf_counter()
    lines = synthetic_lines(args.lines, args.seed)
    history = synthetic_history(
        lines, OPERATORS, share=args.share, start=start, days=args.days, seed=args.seed
    )
    setup_s = time.perf_counter() - began
    setup_rss = peak_rss_mib()
    print(
        f"setup      {args.lines:,} lines, {history.num_rows:,} preselection periods: "
        f"{setup_s:.1f} s, peak RSS {setup_rss:,.0f} MiB"
    )

    args.out_dir.mkdir(parents=True, exist_ok=True)
    path = args.out_dir / f"cdrs-{args.rows}.{args.format}"
    spec = TrafficSpec(
        calls=args.rows, start=start, days=args.days, seed=args.seed, chunk_rows=args.chunk_rows
    )
    step = max(spec.calls // 10, 1)

    def progress(done: int, total: int) -> None:
        if done % step < spec.chunk_rows or done == total:
            rate = done / (time.perf_counter() - write_began)
            print(f"  {done:>13,} / {total:,}  {rate:,.0f} rows/s", file=sys.stderr)

    profiler = cProfile.Profile() if args.profile else None
    cpu_began, write_began = cpu_seconds(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    summary = write_cdrs(path, spec, lines=lines, history=history, carrier_codes=CODES,
                         progress=progress)  # fmt: skip
    if profiler is not None:
        profiler.disable()
    wall = time.perf_counter() - write_began
    cpu = cpu_seconds() - cpu_began
    rate = summary.rows / wall
    per_row = summary.bytes / max(summary.rows, 1)
    print(
        f"write      {summary.rows:,} rows in {summary.chunks} chunks of {spec.chunk_rows:,}: "
        f"{wall:.1f} s, {rate:,.0f} rows/s, CPU {cpu:.1f} s (CPU/wall {cpu / wall:.2f}), "
        f"{summary.bytes / 2**20:,.0f} MiB ({per_row:.1f} bytes/row)"
    )
    print(
        f"memory     peak RSS {peak_rss_mib():,.0f} MiB (after setup {setup_rss:,.0f} MiB); "
        f"pyarrow pool peak {pa.default_memory_pool().max_memory() / 2**20:,.0f} MiB"
    )
    if summary.rows < HUNDRED_MILLION:
        print(
            f"100 M      projected {HUNDRED_MILLION / rate:,.0f} s "
            f"({HUNDRED_MILLION / rate / 60:.1f} min), "
            f"{HUNDRED_MILLION * per_row / 2**30:.1f} GiB, same peak memory"
        )
    print(f"load average at end {loadavg()}")
    shares = ", ".join(f"{k} {v / summary.rows:.2%}" for k, v in summary.by_class.items())
    print(f"classes    {shares}")
    print(
        f"routes     {dict(summary.by_reason)}; csc calls {summary.csc_calls:,}, "
        f"misrouted {summary.misrouted:,}"
    )
    if args.format == "parquet":
        meta = pq.ParquetFile(path).metadata
        assert meta.num_rows == summary.rows, meta.num_rows
        assert meta.num_row_groups == summary.chunks, meta.num_row_groups
        print(f"read back  {meta.num_rows:,} rows in {meta.num_row_groups} row groups")
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(args.profile)
    if not args.keep:
        path.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
