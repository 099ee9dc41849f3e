"""Benchmark: `forvalg orders process` over many due orders, on PostgreSQL and SQLite.

Target (issue): at least 10,000 transitions/s over 100,000 due orders. A PROVIDE taken
from RECEIVED to COMMITTED is 2 transitions (VALIDATED, COMMITTED); completion is 1 more.

Set-up (not timed): a scratch database per backend, migrated by `forvalg.bootstrap.initialise`,
one operator registered through the real `OperatorAdmin`, then N eligible lines and N valid
RECEIVED PROVIDE orders (one per line, each with its RECEIVED history row) bulk-inserted
with SQLAlchemy Core straight into the tables. Going through `OrderDesk.submit` would take
minutes and measure the desk, not the processor.

Timed: the real `OrderProcessor.process(as_of, batch_size=...)` from `bootstrap()`, twice:
  intake      as_of = after the last receipt: RECEIVED -> VALIDATED -> COMMITTED (2N)
  completion  as_of = the switch instant of the due date: COMMITTED -> COMPLETED   (N)
Each phase is checked afterwards (every order in the expected state, nothing rejected).

Named baseline, side by side: the same processor with batch_size=1 (one order per
transaction) over a smaller sample of fresh orders added to the same database afterwards,
so the tables are the same size. The table shows batched/baseline ratios.

    .venv/bin/python benchmarks/order_processing.py            # defaults, ~4-5 minutes
    .venv/bin/python benchmarks/order_processing.py --orders 20000 --backends sqlite

The PostgreSQL scratch database (forvalg_bench_<random>) and the SQLite file live only for
the run: they are dropped/removed on success, on failure and on Ctrl-C.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.engine import make_url

from forvalg.bootstrap import Services, bootstrap, initialise
from forvalg.domain.ids import new_order_id
from forvalg.domain.orders import OrderState
from forvalg.settings import Settings
from forvalg.store.engine import make_engine
from forvalg.store.tables import lines, order_history, orders
from forvalg.wholesale.processing import ProcessReport

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGET_PER_S = 10_000
OPERATOR = "benchtel"
# A Monday morning; the whole main sample is received within the following minutes.
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
# The baseline sample is received a day later, after the main sample is completed.
T1 = T0 + timedelta(days=1)
MAIN_FIRST_NUMBER = 20_000_000
BASELINE_FIRST_NUMBER = 40_000_000
INSERT_CHUNK = 10_000


@dataclass
class Phase:
    backend: str
    run: str  # "batched" or "baseline"
    phase: str  # "intake" or "completion"
    orders: int
    batch_size: int
    transitions: int
    seconds: float
    batches: int
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def per_s(self) -> float:
        return self.transitions / self.seconds if self.seconds else 0.0


# --------------------------------------------------------------------------- databases


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A scratch database on the server of `admin_url`, dropped afterwards (even on error)."""
    name = f"forvalg_bench_{secrets.token_hex(5)}"
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def sqlite_database(workdir: Path) -> Iterator[str]:
    path = workdir / "bench.db"
    try:
        yield f"sqlite:///{path}"
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


# --------------------------------------------------------------------------- set-up


def seed(engine: Engine, *, first_number: int, count: int, received_from: datetime) -> datetime:
    """`count` eligible lines and one valid RECEIVED PROVIDE on each; returns the last receipt.

    Core inserts straight into the tables (the benchmark is not subject to the layering
    rule); rows are exactly what `OrderDesk.submit` would have written.
    """
    signed = (received_from - timedelta(days=3)).date()
    last = received_from
    for start in range(0, count, INSERT_CHUNK):
        line_rows, order_rows, history_rows = [], [], []
        for i in range(start, min(start + INSERT_CHUNK, count)):
            number = f"{first_number + i:08d}"
            postcode = f"{(i % 9000) + 1000:04d}"
            at = received_from + timedelta(milliseconds=i)
            order_id = new_order_id(at)
            last = at
            line_rows.append(
                {
                    "number": number,
                    "postcode": postcode,
                    "line_type": "PSTN" if i % 4 else "ISDN_BRA",
                    "status": "ACTIVE",
                    "updated_at": received_from,
                }
            )
            order_rows.append(
                {
                    "id": order_id,
                    "type": "PROVIDE",
                    "number": number,
                    "operator_id": OPERATOR,
                    "option": ("ALL", "NATIONAL", "INTERNATIONAL")[i % 3],
                    "postcode": postcode,
                    "auth_reference": f"LOA-{i}",
                    "auth_signed_at": signed,
                    "auth_channel": "web",
                    "requested_date": None,
                    "target_order": None,
                    "cancel_reason": None,
                    "state": "RECEIVED",
                    "reason_code": None,
                    "due_date": None,
                    "next_due_at": at,
                    "idempotency_key": f"bench-{first_number + i}",
                    "request_hash": "0" * 64,
                    "created_at": at,
                    "updated_at": at,
                }
            )
            history_rows.append(
                {
                    "order_id": order_id,
                    "state": "RECEIVED",
                    "at": at,
                    "reason_code": None,
                    "recorded_at": at,
                }
            )
        with engine.begin() as connection:
            connection.execute(insert(lines), line_rows)
            connection.execute(insert(orders), order_rows)
            connection.execute(insert(order_history), history_rows)
    # Planner statistics for the tables just filled, as autovacuum would have gathered by
    # the time this many orders are due. Only these: ANALYZE of a still-empty table (e.g.
    # preselections) records "0 rows" and PostgreSQL then plans sequential scans of it
    # even once completion has filled it, which autovacuum (if on) would correct later.
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in (lines, orders, order_history):
            connection.exec_driver_sql(f"ANALYZE {table.name}")
        connection.commit()
    return last


def states(engine: Engine, first_number: int, count: int) -> dict[str, int]:
    lo, hi = f"{first_number:08d}", f"{first_number + count - 1:08d}"
    with engine.connect() as connection:
        rows = connection.execute(
            select(orders.c.state, func.count())
            .where(orders.c.number.between(lo, hi))
            .group_by(orders.c.state)
        ).all()
    return {r[0]: r[1] for r in rows}


def check(engine: Engine, first_number: int, count: int, expected: OrderState) -> None:
    found = states(engine, first_number, count)
    if found != {expected.value: count}:
        raise SystemExit(f"order_processing: expected {count} {expected.value}, found {found}")


# --------------------------------------------------------------------------- timing


def _machine() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    return sum(values[:8]) - values[3] - values[4], sum(values[:8])


def _ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


def _backends(engine: Engine) -> list[int]:
    """PostgreSQL backend pids serving this database (the processor's pooled connection)."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).all()
    return [int(r[0]) for r in rows]


def timed(
    svc: Services,
    as_of: datetime,
    batch_size: int,
    profile: cProfile.Profile | None,
) -> tuple[ProcessReport, float, dict[str, float]]:
    """Run the processor; wall seconds and CPU seconds: ours, PostgreSQL's, the machine's."""
    pids = _backends(svc.engine)
    pg_before = {p: _ticks(p) for p in pids}
    machine_before, cpu_before = _machine(), time.process_time()
    started = time.perf_counter()
    if profile is not None:
        profile.enable()
    try:
        report = svc.processor.process(as_of, batch_size=batch_size)
    finally:
        if profile is not None:
            profile.disable()
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    machine_after = _machine()
    hz = os.sysconf("SC_CLK_TCK")
    postgres = sum(max(0, _ticks(p) - t) for p, t in pg_before.items()) / hz
    busy = (machine_after[0] - machine_before[0]) / hz
    return report, seconds, {"client": cpu, "postgres": postgres, "machine_busy": busy}


def run_backend(
    backend: str,
    url: str,
    workdir: Path,
    args: argparse.Namespace,
    say: Callable[[str], None],
) -> list[Phase]:
    settings = Settings(database_url=url, key_dir=workdir / "keys")
    initialise(settings)
    svc = bootstrap(settings)
    results: list[Phase] = []
    try:
        svc.operators.add(OPERATOR, "Bench Telecom AS", "1549")
        calendar = svc.rules.calendar

        def one_run(run: str, first: int, count: int, received: datetime, batch: int) -> None:
            started = time.perf_counter()
            last = seed(svc.engine, first_number=first, count=count, received_from=received)
            took = time.perf_counter() - started
            say(f"  seeded {count:,} lines and RECEIVED orders in {took:.1f}s (not timed)")
            due = calendar.due_date(last)
            phases = (
                ("intake", last + timedelta(seconds=1), OrderState.COMMITTED, 2),
                ("completion", calendar.switch_at(due), OrderState.COMPLETED, 1),
            )
            for name, as_of, expected, per_order in phases:
                profile = None
                if args.profile and run == "batched" and name in args.profile_phases:
                    profile = cProfile.Profile()
                report, seconds, cpu = timed(svc, as_of, batch, profile)
                check(svc.engine, first, count, expected)
                if report.transitions != per_order * count:
                    raise SystemExit(
                        f"order_processing: {backend} {run} {name}: expected "
                        f"{per_order * count} transitions, got {report.transitions}"
                    )
                phase = Phase(
                    backend,
                    run,
                    name,
                    count,
                    batch,
                    report.transitions,
                    seconds,
                    report.batches,
                    cpu,
                )
                results.append(phase)
                say(
                    f"  {run:8} {name:10} batch={batch:<4} {phase.transitions:>7,} transitions "
                    f"in {seconds:6.2f}s = {phase.per_s:>8,.0f}/s"
                )
                if profile is not None:
                    print_profile(profile, f"{backend} {run} {name}", args.profile)

        one_run("batched", MAIN_FIRST_NUMBER, args.orders, T0, args.batch_size)
        if args.baseline_orders:
            one_run("baseline", BASELINE_FIRST_NUMBER, args.baseline_orders, T1, 1)
    finally:
        svc.close()
    return results


def print_profile(profile: cProfile.Profile, title: str, top: int) -> None:
    for key in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        stats.strip_dirs().sort_stats(key).print_stats(top)
        body = out.getvalue()
        body = body[body.find("   ncalls") :] if "   ncalls" in body else body
        print(f"\n--- cProfile {title}, top {top} by {key} ---\n{body}", flush=True)


# --------------------------------------------------------------------------- report


def table(results: list[Phase]) -> str:
    head = (
        f"{'backend':10} {'run':8} {'phase':10} {'orders':>8} {'batch':>5} "
        f"{'transitions':>11} {'seconds':>8} {'trans/s':>9} {'vs baseline':>11} {'target':>7} "
        f"{'py CPU':>6} {'pg CPU':>6} {'others':>6}"
    )
    out = [head, "-" * len(head)]
    base = {(r.backend, r.phase): r.per_s for r in results if r.run == "baseline"}
    for r in results:
        ratio = ""
        if r.run == "batched" and base.get((r.backend, r.phase)):
            ratio = f"{r.per_s / base[(r.backend, r.phase)]:.1f}x"
        target = ("met" if r.per_s >= TARGET_PER_S else "MISSED") if r.run == "batched" else ""
        py, pg = r.cpu.get("client", 0.0), r.cpu.get("postgres", 0.0)
        others = max(0.0, r.cpu.get("machine_busy", 0.0) - py - pg)
        out.append(
            f"{r.backend:10} {r.run:8} {r.phase:10} {r.orders:>8,} {r.batch_size:>5} "
            f"{r.transitions:>11,} {r.seconds:>8.2f} {r.per_s:>9,.0f} {ratio:>11} {target:>7} "
            f"{_pct(py, r.seconds):>6} {_pct(pg, r.seconds):>6} {_pct(others, r.seconds):>6}"
        )
    for backend in dict.fromkeys(r.backend for r in results):
        for run in ("batched", "baseline"):
            rows = [r for r in results if r.backend == backend and r.run == run]
            if len(rows) == 2:
                total_t = sum(r.transitions for r in rows)
                total_s = sum(r.seconds for r in rows)
                out.append(
                    f"{backend:10} {run:8} {'both':10} {rows[0].orders:>8,} "
                    f"{rows[0].batch_size:>5} {total_t:>11,} {total_s:>8.2f} "
                    f"{total_t / total_s:>9,.0f}"
                )
    out.append(
        "CPU columns: CPU-seconds per wall-second (100% = one core): this Python process (the "
        "processor), the PostgreSQL backend(s) of the scratch database, and everything else "
        "on the machine ('others': other users' load slows the run down)."
    )
    return "\n".join(out)


def _pct(seconds: float, wall: float) -> str:
    return f"{100 * seconds / wall:.0f}%" if wall else "-"


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            "Time OrderProcessor.process over N due PROVIDE orders (intake: 2N transitions, "
            "completion: N) on PostgreSQL and SQLite, beside a batch_size=1 baseline."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--orders", type=int, default=100_000, help="orders in the main run")
    parser.add_argument(
        "--baseline-orders",
        type=int,
        default=3_000,
        help="orders in the batch_size=1 baseline (0: skip the baseline)",
    )
    parser.add_argument(
        "--batch-size", type=int, default=500, help="batch size of the main run (CLI default)"
    )
    parser.add_argument(
        "--backends",
        default="postgresql,sqlite",
        help="comma-separated: postgresql, sqlite",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("FORVALG_BENCH_POSTGRES_URL", DEFAULT_ADMIN_URL),
        help="a maintenance database on the PostgreSQL server (env FORVALG_BENCH_POSTGRES_URL)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="cProfile the batched run's phases and print the top N functions (slows it down)",
    )
    parser.add_argument(
        "--profile-phases",
        default="intake,completion",
        help="which phases --profile covers",
    )
    args = parser.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    args.profile_phases = {p.strip() for p in args.profile_phases.split(",")}
    unknown = set(args.backends) - {"postgresql", "sqlite"}
    if unknown:
        parser.error(f"--backends: unknown {', '.join(sorted(unknown))}")
    if args.orders < 1 or args.baseline_orders < 0 or args.batch_size < 1:
        parser.error("--orders and --batch-size must be positive, --baseline-orders >= 0")
    return args


def _terminate(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)  # clean up on `kill` as on Ctrl-C
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started ignoring it

    def say(message: str) -> None:
        print(message, flush=True)

    say(
        f"order_processing: {args.orders:,} orders, batch {args.batch_size}, baseline "
        f"{args.baseline_orders:,} orders at batch 1; backends {', '.join(args.backends)}; "
        f"{os.cpu_count()} CPUs"
    )
    results: list[Phase] = []
    workdir = Path(tempfile.mkdtemp(prefix="forvalg-bench-"))
    try:
        for backend in args.backends:
            say(f"\n[{backend}]")
            database = (
                postgres_database(args.postgres_url)
                if backend == "postgresql"
                else sqlite_database(workdir)
            )
            with database as url:
                results += run_backend(backend, url, workdir, args, say)
    except KeyboardInterrupt:
        print("\norder_processing: interrupted; scratch databases removed", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    say("\n" + table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
