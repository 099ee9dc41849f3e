"""Soak and faults: the operator API on PostgreSQL under a steady, realistic load.

`forvalg serve --workers 2` on a scratch database of a private PostgreSQL cluster
(initdb + pg_ctl in /tmp, on a free port: never the shared server), two `forvalg worker`s
advancing the orders, and an open-loop httpx/asyncio load generator on 127.0.0.1 offering
`--rate` requests/s from four operators: PROVIDE / TRANSFER / MODIFY / CEASE orders with
Idempotency-Keys, cancels of own orders, reads of own orders, lists and events, and
deliberately bad requests (each expects its 4xx). A client retries a connection error or
a 5xx with the same Idempotency-Key, backing off 0.2 s doubling to 2 s, as an operator's
order system does.

With `--faults`: `kill -9` of one uvicorn worker at 25% of the run (the uvicorn parent
must respawn it), `kill -9` of one `forvalg worker` at 50% (restarted 1 s later), and a
restart of the PostgreSQL cluster at 75% (`pg_ctl stop -m immediate`, 5 s down, start).

Afterwards, checked: every acknowledged order exists exactly once by id and by
Idempotency-Key, no key is stored twice, no order has a state twice in its history, every
acknowledged cancel is CANCELLED, `forvalg ledger export` verifies with `forvalg-verify`,
and every acknowledged access has its ledger entry. Exit 1 if any check fails.

Named baseline: the target rate is half the capacity of this mix on a quiet machine,
measured with this script (`--minutes 1 --rate 200` achieved 100.5 and 121.0 requests/s,
about 110; docs/PERFORMANCE.md "Soak and faults"), so --rate 55.

    .venv/bin/python benchmarks/soak.py                      # 10 minutes, no faults
    .venv/bin/python benchmarks/soak.py --faults --minutes 5 # the long fault run
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from loadlib import Soak, SoakConfig, interrupt_on_signals, load_average, report

CAPACITY = 110.0  # requests/s of this mix, quiet machine, docs/PERFORMANCE.md "Soak and faults"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Soak the operator API (and inject faults) on a private PostgreSQL.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the load")
    parser.add_argument(
        "--rate", type=float, default=CAPACITY / 2, help="logical requests offered per second"
    )
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight, max")
    parser.add_argument("--api-workers", type=int, default=2, help="uvicorn workers")
    parser.add_argument("--order-workers", type=int, default=2, help="`forvalg worker`s")
    parser.add_argument("--operators", type=int, default=4)
    parser.add_argument(
        "--seeded", type=int, default=300, help="lines each operator serves before the load"
    )
    parser.add_argument("--faults", action="store_true", help="inject the three faults")
    parser.add_argument("--pg-down", type=float, default=5.0, help="seconds PostgreSQL is down")
    parser.add_argument("--seed", type=int, default=8, help="random seed of the mix")
    parser.add_argument("--workdir", type=Path, default=None, help="parent of the work dir")
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.rate <= 0 or args.concurrency < 1:
        parser.error("--minutes, --rate and --concurrency must be positive")
    if not 1 <= args.operators <= 10 or args.api_workers < 1 or args.order_workers < 1:
        parser.error("--operators 1-10, --api-workers and --order-workers >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    interrupt_on_signals()
    config = SoakConfig(
        seconds=args.minutes * 60,
        rate=args.rate,
        concurrency=args.concurrency,
        api_workers=args.api_workers,
        order_workers=args.order_workers,
        operators=args.operators,
        seeded_per_operator=args.seeded,
        faults=args.faults,
        pg_down_seconds=args.pg_down,
        seed=args.seed,
        workdir=args.workdir,
    )
    print(
        f"soak: {args.minutes:g} min at {args.rate:g} requests/s (capacity {CAPACITY:g} "
        f"requests/s), faults {'on' if args.faults else 'off'}; load average {load_average()}",
        flush=True,
    )
    try:
        result = Soak(config).run()
    except KeyboardInterrupt:
        print("\nsoak: interrupted; processes stopped, cluster removed", file=sys.stderr)
        return 130
    print(report(result), flush=True)
    return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main())
