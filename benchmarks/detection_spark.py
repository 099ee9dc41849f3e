"""Benchmark: every detector on Spark local[1] and local[2] beside DuckDB (the baseline),
on the same input, in two parts:

- **contacts**: targeting, timing and honey-lines on the world of
  benchmarks/detection_targeting.py (by default a tenth of it: 1 M contacts, 100,000 CPS
  events, 200,000 lines, 200 honey-lines; `--fraction 1` for the full 10 M contacts,
  `--fraction 0` to leave the part out);
- **ledger**: access and unexplained access on a staff ledger of `--entries` entries
  (default 200,000; 0 leaves the part out) made here: 500 staff in four roles with
  workloads varying ±30%, each allowed read under a fault ticket naming its one to three
  lines (so as many work items as reads), 2% refusals, 0.1% break-glass reads (half never
  followed by a ticket), 0.05% reads naming no work item, and one curious colleague
  touching ten times the lines.

Each engine runs in a process of its own (a Spark session's cores are fixed when its JVM
starts), one after the other, on inputs generated from the same seed. Printed per engine
and part: the session start (Spark), the run (`detect(...)`, every test kept, from Arrow
inputs to results), the load average before and after, and a digest of the results; the
engines must agree (the script fails if the digests differ).

    .venv/bin/python benchmarks/detection_spark.py                          # both parts
    .venv/bin/python benchmarks/detection_spark.py --fraction 0             # the ledger only
    .venv/bin/python benchmarks/detection_spark.py --fraction 1 --entries 0 # 10 M contacts
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from detection_targeting import build
from forvalg.compliance.detectors import Finding, detect, findings_document
from forvalg.domain.statistics import Severity

DAY_US = 86_400_000_000
TS = pa.timestamp("us", tz="UTC")
ROLES = ("wholesale_ops",) * 7 + ("network_provisioning", "wholesale_billing", "compliance_officer")
CODES = ("E_FORBIDDEN", "E_WORK_ITEM_MISMATCH", "E_PURPOSE_REQUIRED")


def staff_ledger(entries: int, seed: int) -> tuple[pa.Table, pa.Table]:
    """(ledger entries, work items) as in the module's doc, vectorised."""
    rng = np.random.default_rng(seed)
    staff = 500
    workload = rng.gamma(1 / 0.09, 0.09, staff)
    workload[0] *= 10  # the curious colleague
    who = rng.choice(staff, size=entries, p=workload / workload.sum())
    t0 = 1_772_323_200_000_000  # 2026-03-01
    at = t0 + np.sort(rng.integers(0, 30 * DAY_US, entries))
    roll = rng.random(entries)
    denied = roll < 0.02
    glass = (roll >= 0.02) & (roll < 0.021)
    bare = (roll >= 0.021) & (roll < 0.0215)
    worked = ~(denied | glass | bare)
    counts = np.where(denied, 0, rng.integers(1, 4, entries))
    offsets = np.concatenate([[0], np.cumsum(counts)])
    lines = np.char.add("line-", np.arange(offsets[-1]).astype(str))
    subjects = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(lines))
    index = np.arange(entries)
    item_ids = np.char.add("FT-", index.astype(str))
    followed = glass & (rng.random(entries) < 0.5)
    has_item = worked | followed
    opened = np.where(worked, at - 300_000_000, at + 7_200_000_000)
    roles = np.array(ROLES)[np.arange(staff) % len(ROLES)]
    principals = np.char.add("user:s", np.arange(staff).astype(str))
    reason = np.where(
        denied,
        np.char.add(np.array(CODES)[index % 3], ": refused"),
        np.where(glass, np.char.add("granted; break-glass: fault ", index.astype(str)), "granted"),
    )
    ledger = pa.table(
        {
            "index": index,
            "at": pa.array(at).cast(TS),
            "principal": principals[who],
            "organisation": np.full(entries, "incumbent:wholesale"),
            "roles": pa.ListArray.from_arrays(
                pa.array(np.arange(entries + 1), pa.int32()), pa.array(roles[who])
            ),
            "purpose": np.where(
                roles[who] == "network_provisioning", "provisioning", "fault_repair"
            ),
            "work_item": pa.array(item_ids, mask=~worked),
            "action": np.full(entries, "read"),
            "resource": np.full(entries, "line.inventory"),
            "decision": np.where(denied, "deny", "allow"),
            "reason": reason,
            "subject_count": counts,
            "subjects": subjects,
            "break_glass": glass,
        }
    )
    items = pa.table(
        {
            "id": item_ids,
            "kind": np.full(entries, "fault_ticket"),
            "opened_by": principals[who],
            "opened_at": pa.array(opened).cast(TS),
            "closed_at": pa.array(opened + 3 * 3_600_000_000).cast(TS),
            "lines": subjects,
        }
    ).filter(pa.array(has_item))
    return ledger, items


def timed(run: Callable[[], list[Finding]]) -> dict[str, object]:
    load0 = os.getloadavg()[0]
    t = time.perf_counter()
    found = run()
    seconds = time.perf_counter() - t
    document = findings_document(found, datetime(2027, 1, 1, tzinfo=UTC))
    return {
        "seconds": round(seconds, 2),
        "results": len(found),
        "digest": hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:16],
        "load": f"{load0:.2f} -> {os.getloadavg()[0]:.2f}",
    }


def one(engine: str, threads: int, fraction: float, entries: int, seed: int) -> dict[str, object]:
    """One engine's runs, in this process."""
    # With no contacts' part a small world still gives the ledger's part its empty inputs.
    scale = fraction if fraction > 0 else 0.001
    contacts, events, population, honey = build(
        int(2_000_000 * scale), int(1_000_000 * scale), int(10_000_000 * scale), 200, seed
    )
    started = 0.0
    make: Callable[[], object | None] = lambda: None  # noqa: E731 - DuckDB: detect's own
    if engine == "spark":
        from forvalg.compliance.detectors.spark_engine import SparkEngine, spark_engine

        t = time.perf_counter()
        session = spark_engine(threads).session
        session.sparkContext.setLogLevel("ERROR")
        started = time.perf_counter() - t
        make = lambda: SparkEngine(session)  # noqa: E731
    parts: dict[str, object] = {}
    if fraction > 0:
        parts["contacts"] = timed(
            lambda: detect(
                contacts,
                events,
                population,
                honey=honey,
                min_severity=Severity.INFO,
                engine=make(),  # type: ignore[arg-type]
            )
        )
    if entries > 0:
        ledger, items = staff_ledger(entries, seed)
        none = contacts.slice(0, 0)
        parts["ledger"] = timed(
            lambda: detect(
                none,
                events.slice(0, 0),
                population.slice(0, 0),
                ledger=ledger,
                work_items=items,
                min_severity=Severity.INFO,
                engine=make(),  # type: ignore[arg-type]
            )
        )
    return {
        "engine": engine if engine == "duckdb" else f"spark local[{threads}]",
        "size": {"contacts": contacts.num_rows, "ledger": entries},
        "start_s": round(started, 2),
        "parts": parts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=0.1, help="of the contacts' world")
    parser.add_argument("--entries", type=int, default=200_000, help="staff ledger entries")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--one", choices=["duckdb", "spark"], help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.threads, args.fraction, args.entries, args.seed)))
        return
    rows = []
    for engine, threads in (("duckdb", 0), ("spark", 1), ("spark", 2)):
        argv = [sys.executable, __file__, "--one", engine, "--threads", str(threads)]
        argv += ["--fraction", str(args.fraction), "--entries", str(args.entries)]
        argv += ["--seed", str(args.seed)]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode:
            sys.exit(f"{engine} local[{threads}] failed:\n{done.stderr[-3000:]}")
        r = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append(r)
        for part, m in r["parts"].items():
            print(
                f"{r['engine']:16} {part:8} {r['size'][part]:>11,} rows  "
                f"start {r['start_s']:6.2f} s  detect {m['seconds']:7.2f} s  "
                f"{m['results']} results  {m['digest']}  load {m['load']}",
                flush=True,
            )
    agree = True
    for part in rows[0]["parts"]:
        base = rows[0]["parts"][part]
        for r in rows[1:]:
            m = r["parts"][part]
            print(f"{part}: {r['engine']} {m['seconds'] / base['seconds']:.1f}x DuckDB's time")
            agree &= m["digest"] == base["digest"]
    if not agree:
        sys.exit("the engines disagree")
    print("identical results on every engine")


if __name__ == "__main__":
    main()
