"""Benchmark: the contact detectors (targeting, timing, honey-lines) on Spark local[1] and
local[2] beside DuckDB (the baseline), on the same input: the world of
benchmarks/detection_targeting.py (by default a tenth of it: 1 M contacts, 100,000 CPS
events, 200,000 lines, 200 honey-lines; `--fraction 1` for the full 10 M contacts).

Each engine runs in a process of its own (a Spark session's cores are fixed when its JVM
starts), one after the other, on the world generated from the same seed. Printed per
engine: the session start (Spark), the detection run (`detect(...)`, every test kept,
from Arrow inputs to results), the load average before and after, and a digest of the
results; the engines must agree (the script fails if the digests differ).

    .venv/bin/python benchmarks/detection_spark.py                 # a tenth
    .venv/bin/python benchmarks/detection_spark.py --fraction 1    # 10 M contacts
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

from detection_targeting import build
from forvalg.compliance.detectors import detect, findings_document
from forvalg.domain.statistics import Severity


def one(engine: str, threads: int, fraction: float, seed: int) -> dict[str, object]:
    """One engine's run, in this process."""
    contacts, events, population, honey = build(
        int(2_000_000 * fraction), int(1_000_000 * fraction), int(10_000_000 * fraction), 200, seed
    )
    load0 = os.getloadavg()[0]
    started = 0.0
    sql_engine = None
    if engine == "spark":
        from forvalg.compliance.detectors.spark_engine import spark_engine

        t = time.perf_counter()
        sql_engine = spark_engine(threads)
        sql_engine.session.sparkContext.setLogLevel("ERROR")
        started = time.perf_counter() - t
    t = time.perf_counter()
    found = detect(
        contacts, events, population, honey=honey, min_severity=Severity.INFO, engine=sql_engine
    )
    seconds = time.perf_counter() - t
    document = findings_document(found, datetime(2027, 1, 1, tzinfo=UTC))
    digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:16]
    return {
        "engine": engine if engine == "duckdb" else f"spark local[{threads}]",
        "contacts": contacts.num_rows,
        "start_s": round(started, 2),
        "detect_s": round(seconds, 2),
        "results": len(found),
        "digest": digest,
        "load_before": round(load0, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--one", choices=["duckdb", "spark"], help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.threads, args.fraction, args.seed)))
        return
    rows = []
    for engine, threads in (("duckdb", 0), ("spark", 1), ("spark", 2)):
        argv = [sys.executable, __file__, "--one", engine, "--threads", str(threads)]
        argv += ["--fraction", str(args.fraction), "--seed", str(args.seed)]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode:
            sys.exit(f"{engine} local[{threads}] failed:\n{done.stderr[-3000:]}")
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        r = rows[-1]
        print(
            f"{r['engine']:16} {r['contacts']:>11,} contacts  start {r['start_s']:6.2f} s  "
            f"detect {r['detect_s']:7.2f} s  {r['results']} results  {r['digest']}  "
            f"load {r['load_before']} -> {r['load_after']}",
            flush=True,
        )
    base = rows[0]["detect_s"]
    assert isinstance(base, float)
    for r in rows[1:]:
        spent = r["detect_s"]
        assert isinstance(spent, float)
        print(f"{r['engine']}: {spent / base:.1f}x DuckDB's time")
    if len({r["digest"] for r in rows}) != 1:
        sys.exit("the engines disagree")
    print("identical results on every engine")


if __name__ == "__main__":
    main()
