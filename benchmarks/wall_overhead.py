"""Benchmark: what the wall and the ledger cost the order API, against the gateway bypassed.

Target (issue): "The wall plus ledger may cost at most 15% of the order API's throughput
against a build with the gateway bypassed, measured side by side."

Two builds over the same database, in the same process, measured in alternating rounds:

  wall     the real app: `create_app(bootstrap(settings))`. Every `POST /v1/orders` asks
           the policy (`Guard.permit`), writes the decision to the ledger's inbox in the
           order's transaction (`Guard.record`: subject pseudonym, canonical JSON), and
           the ledger keeper integrates the inbox into the Merkle tree in the background
           (`LedgerKeeper.start`, as `forvalg serve` runs it).
  bypass   the same app over the same services, except that the order desk's `Wall` is
           `BypassWall` (below, in this file only: no hook in src/): its `access()` is
           `Wall.access` yielding a `BypassGuard`, whose `permit` returns the allow the
           policy would give (scope OWN for an operator) without asking it, and whose
           `record` writes no ledger row. Sign-in, validation, the order's own rows and
           the transaction are unchanged.

Each round sends --requests distinct valid PROVIDE orders (own number, own
Idempotency-Key, API keys of --operators operators in turn) through the ASGI app in
process (httpx.AsyncClient over httpx.ASGITransport: the real middleware, routing,
validation and FastAPI's thread pool for the sync route, no sockets), with
--concurrency requests in flight. The clock stops after the last response and after the
keeper has integrated everything the round queued (`LedgerKeeper.integrate()` inside the
timed window; a no-op for the bypass), so the ledger's full cost is in the wall's rounds.
A third mode, `direct`, calls `OrderDesk.submit` itself in a loop (no HTTP): the use case
alone, where the wall's share is largest. The two builds alternate (the first of each
pair alternates too), so the tables grow evenly under both.

    .venv/bin/python benchmarks/wall_overhead.py                     # ~3 minutes
    .venv/bin/python benchmarks/wall_overhead.py --backends sqlite --rounds 3
    .venv/bin/python benchmarks/wall_overhead.py --profile 25        # cProfile `direct`

Bounded: rounds x requests per mode and build. The SQLite file lives in a temporary
directory and the PostgreSQL database (forvalg_bench_<random>) is dropped, on success,
failure and Ctrl-C. Only 127.0.0.1:5432 (or --postgres-url) is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import io
import os
import platform
import pstats
import secrets
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import make_url, text
from sqlalchemy.exc import IntegrityError, OperationalError

from forvalg.api.app import create_app
from forvalg.bootstrap import Services, bootstrap, initialise
from forvalg.domain.categories import Category
from forvalg.domain.orders import Authorisation, Option, OrderType
from forvalg.domain.work_items import WorkItemKind
from forvalg.settings import Settings
from forvalg.store import ledger as ledger_store
from forvalg.store.engine import make_engine, make_sessions
from forvalg.wall import Conflict, Wall
from forvalg.wall.gateway import Guard, Permit
from forvalg.wall.policy import Action, Scope, View
from forvalg.wall.principals import Principal, PrincipalKind, Purpose, operator_principal
from forvalg.wholesale.orders import OrderDesk, OrderRequest

DEFAULT_POSTGRES_URL = os.environ.get(
    "FORVALG_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TARGET_COST = 0.15  # the wall may cost at most 15% of the bypassed build's throughput
FIRST_NUMBER = 40_000_000


# --------------------------------------------------------------------------- the bypass


class BypassGuard(Guard):
    """Allows what the policy allows on this path, without asking it; logs nothing."""

    def permit(self, action: Action, category: Category) -> Permit:
        scope = Scope.OWN if self.principal.kind is PrincipalKind.OPERATOR else Scope.ALL
        return Permit(action, category, scope, View.FULL, False, "bypassed")

    def record(
        self, permit: Permit, subjects: Iterable[str], operators: Iterable[str] = ()
    ) -> None:
        return None


class BypassWall(Wall):
    """`Wall.access` with a `BypassGuard`: same session, same commit and rollback."""

    @contextmanager
    def access(
        self,
        principal: Principal,
        purpose: Purpose | None,
        work_item: str | None = None,
        *,
        break_glass: str | None = None,
        opening: WorkItemKind | None = None,
    ) -> Iterator[Guard]:
        session = self._sessions()
        guard = BypassGuard(
            self,
            session,
            self.policy,
            principal,
            purpose,
            work_item,
            break_glass=break_glass or None,
            opening=opening,
        )
        try:
            yield guard
            session.commit()
        except (IntegrityError, OperationalError) as exc:
            session.rollback()
            if isinstance(exc, IntegrityError):
                raise Conflict(str(exc.orig)) from exc
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


def bypassed(svc: Services) -> Services:
    """The same services (same engine and pool) with the order desk behind `BypassWall`."""
    wall = BypassWall(
        sessions=make_sessions(svc.engine),
        pseudonymiser=svc.wall.pseudonymiser,
        clock=svc.clock,
        policy=svc.wall.policy,
    )
    desk = OrderDesk(wall=wall, rules=svc.rules, clock=svc.clock)
    return dataclasses.replace(svc, wall=wall, desk=desk)


async def client_floor_app(scope: dict, receive: Any, send: Any) -> None:
    """The client's own cost: an ASGI app that reads the body and answers 201 `{}`."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 201, "headers": headers})
    await send({"type": "http.response.body", "body": b"{}"})


# --------------------------------------------------------------------------- databases


@contextmanager
def database(backend: str, postgres_url: str, workdir: Path) -> Iterator[str]:
    """A fresh database URL; a PostgreSQL scratch database is dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'forvalg.db'}"
        return
    name = f"forvalg_bench_{secrets.token_hex(5)}"
    admin = make_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield admin.url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def ledger_size(svc: Services) -> tuple[int, int]:
    """(entries in the tree, events still queued in the inbox)."""
    with svc.engine.connect() as connection:
        size = ledger_store.head(connection).size
        queued = connection.execute(text("SELECT count(*) FROM ledger_inbox")).scalar_one()
    return size, int(queued)


# --------------------------------------------------------------------------- CPU


def _jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    return sum(values[:8]) - values[3] - values[4], sum(values[:8])


def _backend_ticks(database: str | None) -> int:
    """utime + stime of the PostgreSQL backends serving `database` (0 for SQLite)."""
    if not database:
        return 0
    total, needle = 0, f" {database} ".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                if not (title := handle.read(200)).startswith(b"postgres:") or needle not in title:
                    continue
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total


class Meter:
    """Where the CPU went during a round, in cores: this process, its PostgreSQL
    backends, and everything else on the machine (other sessions' load)."""

    def __init__(self, database: str | None) -> None:
        self.database = database
        self.hz = os.sysconf("SC_CLK_TCK")
        self.at = time.perf_counter()
        self.own = time.process_time()
        self.pg = _backend_ticks(database)
        self.machine = _jiffies()

    def read(self) -> tuple[float, float, float]:
        wall = time.perf_counter() - self.at
        own = (time.process_time() - self.own) / wall
        pg = (_backend_ticks(self.database) - self.pg) / self.hz / wall
        busy = (_jiffies()[0] - self.machine[0]) / self.hz / wall
        return own, pg, max(0.0, busy - own - pg)


# --------------------------------------------------------------------------- load


class Numbers:
    """Hands out distinct numbers, so that every request is a new order on its own line."""

    def __init__(self, first: int) -> None:
        self.next = first

    def take(self, count: int) -> range:
        start = self.next
        self.next += count
        return range(start, start + count)


def body(n: int, signed_at: str) -> bytes:
    return (
        f'{{"type":"PROVIDE","number":"{n:08d}","postcode":"{1000 + n % 9000:04d}",'
        f'"option":"ALL","authorisation":{{"reference":"LOA-{n}","signed_at":"{signed_at}",'
        f'"channel":"web"}},"requested_date":null}}'
    ).encode()


async def http_round(
    app: object, numbers: range, tokens: list[str], concurrency: int, signed_at: str, tag: str
) -> tuple[float, Counter[int]]:
    """Send one POST per number with `concurrency` in flight; (seconds, status codes)."""
    codes: Counter[int] = Counter()
    todo = iter(numbers)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

        async def worker() -> None:
            for n in todo:
                response = await client.post(
                    "/v1/orders",
                    content=body(n, signed_at),
                    headers={
                        "Content-Type": "application/json",
                        "Authorization": f"Bearer {tokens[n % len(tokens)]}",
                        "Idempotency-Key": f"{tag}-{n}",
                    },
                )
                codes[response.status_code] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, codes


def direct_round(
    svc: Services, numbers: range, principals: list[Principal], signed_at: date, tag: str
) -> tuple[float, Counter[int]]:
    """`OrderDesk.submit` in a loop, no HTTP: the use case alone."""
    codes: Counter[int] = Counter()
    desk = svc.desk
    started = time.perf_counter()
    for n in numbers:
        request = OrderRequest(
            OrderType.PROVIDE,
            f"{n:08d}",
            option=Option.ALL,
            postcode=f"{1000 + n % 9000:04d}",
            authorisation=Authorisation(f"LOA-{n}", signed_at, "web"),
        )
        submitted = desk.submit(
            principals[n % len(principals)], request, idempotency_key=f"{tag}-{n}"
        )
        codes[200 if submitted.replayed else 201] += 1
    return time.perf_counter() - started, codes


# --------------------------------------------------------------------------- runs


@dataclass
class Round:
    backend: str
    mode: str  # "http c=N" or "direct"
    build: str  # "wall" or "bypass"
    requests: int
    seconds: float  # requests and the drain
    drain: float  # the keeper's integrate() after the last response
    entries: int  # ledger entries the round added
    cpu: tuple[float, float, float]  # cores: this process, PostgreSQL, others

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


@dataclass
class Backend:
    name: str
    svc: Services
    apps: dict[str, object]
    services: dict[str, Services]
    tokens: list[str]
    principals: list[Principal]
    database: str | None  # the PostgreSQL database's name, for the CPU meter


def one_round(
    b: Backend, mode: str, build: str, numbers: range, args: argparse.Namespace, record: bool
) -> Round | None:
    signed = datetime.now(ZoneInfo("Europe/Oslo")).date() - timedelta(days=7)
    tag = f"{build}-{secrets.token_hex(3)}"
    before = ledger_size(b.svc)
    meter = Meter(b.database)
    if mode == "direct":
        seconds, codes = direct_round(b.services[build], numbers, b.principals, signed, tag)
    else:
        concurrency = int(mode.split("=")[1])
        seconds, codes = asyncio.run(
            http_round(b.apps[build], numbers, b.tokens, concurrency, signed.isoformat(), tag)
        )
    t0 = time.perf_counter()
    b.svc.keeper.integrate()  # inside the timed window: the ledger's whole cost
    drain = time.perf_counter() - t0
    cpu = meter.read()
    after = ledger_size(b.svc)
    if codes.get(201, 0) != len(numbers):
        raise RuntimeError(f"{b.name} {mode} {build}: expected {len(numbers)} 201s, got {codes}")
    if not record:
        return None
    entries = after[0] - before[0]
    return Round(b.name, mode, build, len(numbers), seconds + drain, drain, entries, cpu)


@contextmanager
def backend(name: str, args: argparse.Namespace) -> Iterator[Backend]:
    with (
        tempfile.TemporaryDirectory(prefix="forvalg-wall-bench-") as tmp,
        database(name, args.postgres_url, Path(tmp)) as url,
    ):
        settings = Settings(database_url=url, key_dir=Path(tmp) / "keys")
        initialise(settings)
        svc = bootstrap(settings)
        stop: threading.Event | None = None
        try:
            registered = [
                svc.operators.add(f"bench{i}", f"Bench Operator {i}", f"{1540 + i}")
                for i in range(args.operators)
            ]
            services = {"wall": svc, "bypass": bypassed(svc)}
            apps: dict[str, object] = {k: create_app(v) for k, v in services.items()}
            apps["client"] = client_floor_app
            # The keeper runs as under `forvalg serve` (create_app's lifespan with
            # keep_ledger); ASGITransport sends no lifespan events, so it is started here.
            if args.keeper:
                stop = svc.keeper.start(sign_every_s=settings.checkpoint_interval_s)
            yield Backend(
                name,
                svc,
                apps,
                services,
                [r.key.token for r in registered],
                [operator_principal(r.operator.id) for r in registered],
                make_url(url).database if name == "postgresql" else None,
            )
        finally:
            if stop is not None:
                stop.set()
            svc.close()


def measure(args: argparse.Namespace) -> list[Round]:
    rounds: list[Round] = []
    numbers = Numbers(FIRST_NUMBER)
    for name in args.backends:
        with backend(name, args) as b:
            for mode in args.modes:
                warm = ("wall", "bypass") if mode == "direct" else ("wall", "bypass", "client")
                for build in warm:  # warm-up: imports, pools, caches
                    one_round(b, mode, build, numbers.take(args.warmup), args, record=False)
                for r in range(args.rounds):
                    pair = ("wall", "bypass") if r % 2 == 0 else ("bypass", "wall")
                    if mode != "direct":
                        pair += ("client",)
                    for build in pair:
                        found = one_round(b, mode, build, numbers.take(args.requests), args, True)
                        assert found is not None
                        rounds.append(found)
                        print(
                            f"{name:10} {mode:8} round {r + 1} {build:6} "
                            f"{found.rate:8.1f} orders/s  drain {1000 * found.drain:6.1f} ms  "
                            f"ledger +{found.entries:<4} CPU self {100 * found.cpu[0]:3.0f}% "
                            f"pg {100 * found.cpu[1]:3.0f}% others {100 * found.cpu[2]:3.0f}%",
                            flush=True,
                        )
            if args.profile:
                profile(b, numbers, args)
    return rounds


def profile(b: Backend, numbers: Numbers, args: argparse.Namespace) -> None:
    """cProfile of `direct` rounds (the main thread does all the work there)."""
    signed = datetime.now(ZoneInfo("Europe/Oslo")).date() - timedelta(days=7)
    for build in ("wall", "bypass"):
        profiler = cProfile.Profile()
        profiler.enable()
        direct_round(b.services[build], numbers.take(args.requests), b.principals, signed, build)
        b.svc.keeper.integrate()
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(args.profile)
        stats.sort_stats("cumulative").print_stats(args.profile)
        print(f"--- cProfile {b.name} direct {build}, {args.requests} orders\n{out.getvalue()}")


def summarise(rounds: list[Round], args: argparse.Namespace) -> None:
    print()
    header = (
        f"{'backend':10} {'mode':8} {'wall/s':>8} {'bypass/s':>9} {'ratio':>6} {'cost':>6} "
        f"{'per order':>10} {'drain':>8} {'client':>8} {'cost*':>6} {'target':>7}  "
        "rounds (wall/bypass orders/s)"
    )
    print(header)
    print("-" * len(header))
    for name in args.backends:
        for mode in args.modes:

            def pick(build: str, name: str = name, mode: str = mode) -> list[Round]:
                return [r for r in rounds if (r.backend, r.mode, r.build) == (name, mode, build)]

            wall, bypass, client = pick("wall"), pick("bypass"), pick("client")
            w = statistics.median(r.rate for r in wall)
            p = statistics.median(r.rate for r in bypass)
            # The ratio of each pair of rounds run back to back, then the median of those.
            ratio = statistics.median(a.rate / b.rate for a, b in zip(wall, bypass, strict=True))
            cost = 1 - ratio
            extra_ms = 1000 * (1 / w - 1 / p)
            drain = statistics.median(1000 * r.drain / r.requests for r in wall)
            # Without the in-process client's own time per request (measured against an
            # app that does nothing), as a server with a client elsewhere would see it.
            c = statistics.median(1 / r.rate for r in client) if client else 0.0
            server_cost = 1 - statistics.median(
                (1 / b.rate - c) / (1 / a.rate - c) for a, b in zip(wall, bypass, strict=True)
            )
            verdict = "met" if max(cost, server_cost) <= TARGET_COST else "MISSED"
            each = " ".join(f"{a.rate:.0f}/{b.rate:.0f}" for a, b in zip(wall, bypass, strict=True))
            print(
                f"{name:10} {mode:8} {w:8.1f} {p:9.1f} {ratio:6.3f} {100 * cost:5.1f}% "
                f"{extra_ms:7.3f} ms {drain:5.3f} ms {1000 * c:5.3f} ms {100 * server_cost:5.1f}% "
                f"{verdict:>7}  {each}"
            )
    print(
        f"\nratio: median over rounds of wall/bypass, each pair run back to back; cost = "
        f"1 - ratio (target <= {100 * TARGET_COST:.0f}%); per order: 1/wall - 1/bypass; "
        "drain: the keeper's integrate() after the round, per order (inside wall/s); "
        "client: the in-process client's time per request against an app that does "
        "nothing; cost*: the cost with that time taken out of both builds"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,postgresql", type=lambda s: s.split(","))
    parser.add_argument(
        "--modes",
        default="http c=1,http c=8,direct",
        type=lambda s: s.split(","),
        help="'http c=N' (N in flight) and/or 'direct'",
    )
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=300, help="orders per round")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--operators", type=int, default=4)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument(
        "--no-keeper",
        dest="keeper",
        action="store_false",
        help="no background keeper: a round's entries are integrated only after it (timed)",
    )
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args(argv)
    for mode in args.modes:
        if mode != "direct" and not (mode.startswith("http c=") and mode[7:].isdigit()):
            parser.error(f"unknown mode {mode!r}")

    started = time.perf_counter()
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.2f}; {args.rounds} rounds of {args.requests} orders "
        f"per backend, mode and build",
        flush=True,
    )
    # SIGTERM unwinds like Ctrl-C: the scratch database and directory are removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rounds = measure(args)
    summarise(rounds, args)
    print(f"total {time.perf_counter() - started:.0f} s, load {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
