"""Benchmark: the targeting, timing and honey-line detectors (issue 6), 10 M contacts
against 1 M CPS events and 200 honey-lines, in memory. Prints the seconds of each step;
the issue's target is <= 60 s for the whole detection run on this machine.

The world: --lines lines; --events ORDER_RECEIVED events over a year (the letter can
arrive a day later); --contacts contacts, 5% inbound, the rest outbound spread over 50
campaigns and 2,000 agents, at random; --honey of the lines are honey-lines with decoy
orders at random times (ids and numbers are generated as integers and
cast to strings by the detectors' workspace, as any Arrow integer column would be).

    .venv/bin/python benchmarks/detection_targeting.py
    .venv/bin/python benchmarks/detection_targeting.py --contacts 1000000 --events 100000
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from forvalg.compliance.detectors.findings import finalise
from forvalg.compliance.detectors.honey import honey_tests
from forvalg.compliance.detectors.targeting import targeting_tests
from forvalg.compliance.detectors.timing import timing_tests
from forvalg.compliance.detectors.workspace import DetectionSettings, Workspace

DAY = 86_400_000_000
START = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()) * 1_000_000
TS = pa.timestamp("us", tz="UTC")


def build(
    lines: int, events: int, contacts: int, honey: int, seed: int
) -> tuple[pa.Table, pa.Table, pa.Array, pa.Table]:
    rng = np.random.default_rng(seed)
    first = 20_000_000
    span = 365 * DAY
    received = START + rng.integers(0, span, events)
    cps = pa.table(
        {
            "number": pa.array(first + rng.integers(0, lines, events)),
            "kind": pa.array(np.full(events, "ORDER_RECEIVED", dtype=object), pa.string()),
            "at": pa.array(received).cast(TS),
            "letter_earliest": pa.array(received + DAY).cast(TS),
        }
    )
    inbound = rng.random(contacts) < 0.05
    campaign = rng.integers(0, 50, contacts)
    table = pa.table(
        {
            "contact_id": pa.array(np.arange(contacts, dtype=np.int64)),
            "time_utc": pa.array(START + rng.integers(0, span, contacts)).cast(TS),
            "number": pa.array(first + rng.integers(0, lines, contacts)),
            "channel": pa.array(np.full(contacts, "PHONE", dtype=object), pa.string()),
            "direction": pa.array(np.where(inbound, "INBOUND", "OUTBOUND"), pa.string()),
            "agent_id": pa.array(rng.integers(0, 2_000, contacts)).cast(pa.string()),
            "campaign_id": pa.array(campaign, mask=campaign >= 40).cast(pa.string()),
            "outcome": pa.nulls(contacts, pa.string()),
        }
    )
    decoys = pa.table(
        {
            "number": pa.array(first + rng.choice(lines, honey, replace=False)).cast(pa.string()),
            "created_at": pa.array(START + rng.integers(0, span, honey)).cast(TS),
        }
    )
    return table, cps, pa.array(np.arange(first, first + lines)), decoys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=10_000_000)
    parser.add_argument("--honey", type=int, default=200)
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()

    t = time.perf_counter()
    contacts, events, population, honey = build(
        args.lines, args.events, args.contacts, args.honey, args.seed
    )
    print(
        f"generate   {time.perf_counter() - t:7.2f} s  ({contacts.num_rows:,} contacts, "
        f"{events.num_rows:,} events, {len(population):,} lines)"
    )
    total = time.perf_counter()
    t = time.perf_counter()
    ws = Workspace(contacts, events, population, DetectionSettings(), honey)
    print(f"workspace  {time.perf_counter() - t:7.2f} s  (counted contacts, inbound explanation)")
    t = time.perf_counter()
    targeting = targeting_tests(ws)
    print(f"targeting  {time.perf_counter() - t:7.2f} s  ({len(targeting):,} subjects tested)")
    t = time.perf_counter()
    timing = timing_tests(ws)
    print(f"timing     {time.perf_counter() - t:7.2f} s  ({len(timing):,} tests)")
    t = time.perf_counter()
    honeyed = honey_tests(ws)
    print(f"honey_line {time.perf_counter() - t:7.2f} s  ({len(honeyed):,} subjects hit one)")
    t = time.perf_counter()
    findings = finalise([*targeting, *timing, *honeyed])
    print(f"finalise   {time.perf_counter() - t:7.2f} s  ({len(findings)} findings >= low)")
    print(f"total      {time.perf_counter() - total:7.2f} s  (detection, without generation)")


if __name__ == "__main__":
    main()
