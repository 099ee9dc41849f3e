r"""Benchmark: what the wall and the ledger cost the order API, against the gateway bypassed.

Target (issue): "The wall plus ledger may cost at most 15% of the order API's throughput
against a build with the gateway bypassed, measured side by side."

Builds over the same database, in the same process, measured in alternating rounds:

  wall       the real app: `create_app(bootstrap(settings))`. Every `POST /v1/orders`
             asks the policy (`Guard.permit`), writes the decision to the ledger's inbox
             in the order's transaction (`Guard.record`: subject pseudonym, canonical
             JSON, one INSERT), and the ledger keeper integrates the inbox into the Merkle
             tree in the background (`LedgerKeeper.start`, as `forvalg serve` runs it).
  bypass     the same app over the same services, except that the order desk's `Wall`
             yields a `BypassGuard` (`Wall.guard_type`), whose `permit` returns the allow
             the policy would give (scope OWN for an operator) without asking it, whose
             `record` writes no ledger row, and which enters no database zone. Sign-in,
             validation, the order's own rows and the transaction are unchanged.
Optional builds (--builds), to split the wall's cost:
  wall/tick  the wall, with a trial keeper loop (`tick_keeper`: one batch per 0.2 s)
             instead of `LedgerKeeper.keep`'s (not in src/)
  wall/off   the wall, no background keeper: the round's entries are integrated after it
  no-insert  asks the policy and builds the ledger entry exactly as `Guard.record` does,
             but inserts nothing
Each build's keeper runs during its own rounds only (started before, stopped after); the
bypass runs `LedgerKeeper.start` too, idle, as a bypassed server would.

Each round sends --requests distinct valid PROVIDE orders (own number, own
Idempotency-Key, API keys of --operators operators in turn) through the ASGI app in
process (httpx.AsyncClient over httpx.ASGITransport: the real middleware, sign-in,
routing, validation and FastAPI's thread pool for the sync route; no sockets), with
N requests in flight (`http c=N`). The clock stops after the last response and after
`LedgerKeeper.integrate()` has integrated what the round left queued (a no-op for the
bypass), so the ledger's whole cost is in the wall's rounds. The mode `direct` calls
`OrderDesk.submit` in a loop (no HTTP): the use case alone, where the wall's share is
largest. The builds alternate, who goes first rotates, and each round of the wall is
compared with the bypass round run next to it. In HTTP modes a third round measures the
in-process client against an app that does nothing, so that its share can be taken out
(cost*). CPU per order (this process and its PostgreSQL backends) and the rest of the
machine's load are sampled from /proc for every round.

After the rounds, `--parts` times the wall's pieces one by one (the decision, the ledger
event, its canonical JSON, the INSERT, the keeper's integration per entry).

    .venv/bin/python benchmarks/wall_overhead.py                     # ~2.5 minutes
    # the split (~3.5 minutes):
    .venv/bin/python benchmarks/wall_overhead.py --rounds 9 --parts 0 \
        --builds wall,wall/tick,wall/off,no-insert,bypass
    .venv/bin/python benchmarks/wall_overhead.py --profile 25         # cProfile `direct`

Bounded: rounds x requests per backend, mode and build. The SQLite file lives in a
temporary directory and the PostgreSQL database (forvalg_bench_<random>) is dropped, on
success, failure, Ctrl-C and SIGTERM. Only 127.0.0.1:5432 (or --postgres-url) is used.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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

from forvalg.api.app import create_app
from forvalg.bootstrap import Services, bootstrap, initialise
from forvalg.domain.categories import Category
from forvalg.domain.orders import Authorisation, Option, OrderRequest, OrderType
from forvalg.settings import Settings
from forvalg.store import ledger as ledger_store
from forvalg.store.engine import make_engine, make_sessions
from forvalg.store.ledger import SqlAccessLog, canonical
from forvalg.wall import Wall
from forvalg.wall.guard import Guard, Permit
from forvalg.wall.policy import Action, Scope, View
from forvalg.wall.principals import Principal, PrincipalKind, Purpose, operator_principal
from forvalg.wholesale.orders import OrderDesk

DEFAULT_POSTGRES_URL = os.environ.get(
    "FORVALG_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TARGET_COST = 0.15  # the wall may cost at most 15% of the bypassed build's throughput
FIRST_NUMBER = 40_000_000


# --------------------------------------------------------------------------- the bypass


class BypassGuard(Guard):
    """Allows what the policy allows on this path, without asking it; logs nothing; and
    stays in the login's rights (no database zone: that is the wall's too)."""

    def _enter_zone(self) -> None:
        return None

    def permit(self, action: Action, category: Category) -> Permit:
        scope = Scope.OWN if self.principal.kind is PrincipalKind.OPERATOR else Scope.ALL
        return Permit(action, category, scope, View.FULL, False, "bypassed")

    def record(self, permit: Permit, subjects: Iterable[str]) -> None:
        return None


class NoInsertGuard(Guard):
    """For the decomposition (--builds): asks the policy and builds the ledger entry
    (pseudonym digest, `AccessEvent`, canonical JSON) exactly as `Guard.record` does,
    but does not insert it."""

    def record(self, permit: Permit, subjects: Iterable[str]) -> None:
        named = self.wall.pseudonymiser.subjects(subjects)
        event = self._event(permit.action, permit.category, True, permit.reason, named)
        canonical(event)


class NoZoneGuard(Guard):
    """For the decomposition (--builds): the whole wall but the database zone."""

    def _enter_zone(self) -> None:
        return None


GUARDS: dict[str, type[Guard]] = {
    "bypass": BypassGuard,
    "no-insert": NoInsertGuard,
    "no-zone": NoZoneGuard,
}


def rebuilt(svc: Services, build: str) -> Services:
    """The same services (same engine and pool) with the order desk behind a `Wall`
    whose guards are those of `build` (`Wall.guard_type`)."""
    if build == "wall":
        return svc
    wall = Wall(
        sessions=make_sessions(svc.engine),
        pseudonymiser=svc.wall.pseudonymiser,
        clock=svc.clock,
        policy=svc.wall.policy,
    )
    wall.guard_type = GUARDS[build]
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
    """(entries in the tree, batches integrated so far: one `ledger_heads` row each)."""
    with svc.engine.connect() as connection:
        size = ledger_store.head(connection).size
        batches = connection.execute(text("SELECT count(*) FROM ledger_heads")).scalar_one()
    return size, int(batches)


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
    build: str  # "wall", "bypass", "no-insert" or "client"
    index: int  # the round: builds of the same index ran back to back
    requests: int
    seconds: float  # requests and the drain
    drain: float  # the keeper's integrate() after the last response
    entries: int  # ledger entries the round added
    batches: int  # in how many integrated batches (transactions of the keeper)
    cpu: tuple[float, float, float]  # cores: this process, PostgreSQL, others

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_ms(self) -> float:
        """CPU per order, this process and its PostgreSQL backends, in ms."""
        return 1000 * (self.cpu[0] + self.cpu[1]) * self.seconds / self.requests


@dataclass
class Backend:
    name: str
    svc: Services
    apps: dict[str, object]
    services: dict[str, Services]
    tokens: list[str]
    principals: list[Principal]
    database: str | None  # the PostgreSQL database's name, for the CPU meter


def keeper_of(build: str) -> str:
    """The keeper a build runs with: `wall/tick` and `wall/off` are the wall with a trial
    keeper loop or none; every other build (the bypass too: a bypassed server would still
    run its idle keeper) runs `LedgerKeeper.start`, as `forvalg serve` does."""
    return build.partition("/")[2] or "serve"


@contextmanager
def keeper_running(svc: Services, kind: str) -> Iterator[None]:
    """The build's keeper for one round: started before it, stopped (and joined) after."""
    if kind in ("off", "none"):
        yield
        return
    before = set(threading.enumerate())
    if kind == "serve":
        # ASGITransport sends no lifespan events, so create_app's keeper (keep_ledger) is
        # started here, exactly as its lifespan starts it.
        stop = svc.keeper.start(sign_every_s=svc.settings.checkpoint_interval_s)
    else:
        stop = tick_keeper(svc)
    started = [t for t in threading.enumerate() if t not in before]
    try:
        yield
    finally:
        stop.set()
        for thread in started:
            thread.join(timeout=60)


def tick_keeper(svc: Services, every_s: float = 0.2) -> threading.Event:
    """The keeper of `wall/tick`, a trial of a change to `LedgerKeeper.keep` (not in src/):
    one `Sequencer.integrate` (one batch, up to its limit) per tick, instead of
    `integrate_all`, which under steady load keeps integrating two or three entries at a
    time and never waits."""
    stop = threading.Event()
    sequencer = ledger_store.Sequencer(svc.engine)

    def loop() -> None:
        while not stop.wait(every_s):
            sequencer.integrate(at=svc.clock.now())

    threading.Thread(target=loop, name="bench-keeper-tick", daemon=True).start()
    return stop


def one_round(b: Backend, mode: str, build: str, numbers: range, index: int) -> Round:
    signed = datetime.now(ZoneInfo("Europe/Oslo")).date() - timedelta(days=7)
    tag = f"{build}-{secrets.token_hex(3)}"
    before = ledger_size(b.svc)
    meter = Meter(b.database)
    runs = b.services.get(build.partition("/")[0])  # None for the client floor
    keeper = contextlib.ExitStack()
    keeper.enter_context(keeper_running(b.svc, keeper_of(build) if runs else "none"))
    try:
        if mode == "direct":
            assert runs is not None
            seconds, codes = direct_round(runs, numbers, b.principals, signed, tag)
        else:
            concurrency = int(mode.split("=")[1])
            app = b.apps[build.partition("/")[0]]
            seconds, codes = asyncio.run(
                http_round(app, numbers, b.tokens, concurrency, signed.isoformat(), tag)
            )
    finally:
        # Inside the timed window: stopping the keeper (it may be in a batch) and
        # integrating what the round left queued. The ledger's whole cost is in the round.
        t0 = time.perf_counter()
        keeper.close()
        b.svc.keeper.integrate()
        drain = time.perf_counter() - t0
    cpu = meter.read()
    after = ledger_size(b.svc)
    if codes.get(201, 0) != len(numbers):
        raise RuntimeError(f"{b.name} {mode} {build}: expected {len(numbers)} 201s, got {codes}")
    entries, batches = after[0] - before[0], after[1] - before[1]
    return Round(
        b.name, mode, build, index, len(numbers), seconds + drain, drain, entries, batches, cpu
    )


@contextmanager
def backend(name: str, args: argparse.Namespace) -> Iterator[Backend]:
    with (
        tempfile.TemporaryDirectory(prefix="forvalg-wall-bench-") as tmp,
        database(name, args.postgres_url, Path(tmp)) as url,
    ):
        settings = Settings(database_url=url, key_dir=Path(tmp) / "keys")
        initialise(settings)
        svc = bootstrap(settings)
        try:
            registered = [
                svc.operators.add(f"bench{i}", f"Bench Operator {i}", f"{1540 + i}")
                for i in range(args.operators)
            ]
            services = {b: rebuilt(svc, b) for b in {x.partition("/")[0] for x in args.builds}}
            apps: dict[str, object] = {k: create_app(v) for k, v in services.items()}
            apps["client"] = client_floor_app
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
            svc.close()


def measure(args: argparse.Namespace) -> list[Round]:
    rounds: list[Round] = []
    numbers = Numbers(FIRST_NUMBER)
    for name in args.backends:
        with backend(name, args) as b:
            for mode in args.modes:
                builds = [*args.builds, *(["client"] if mode != "direct" else [])]
                for build in builds:  # warm-up: imports, pools, caches
                    one_round(b, mode, build, numbers.take(args.warmup), -1)
                for r in range(args.rounds):
                    # Who goes first rotates; the client floor always runs last.
                    turn = args.builds[r % len(args.builds) :] + args.builds[: r % len(args.builds)]
                    for build in turn + builds[len(args.builds) :]:
                        found = one_round(b, mode, build, numbers.take(args.requests), r)
                        rounds.append(found)
                        print(
                            f"{name:10} {mode:8} round {r + 1} {build:9} "
                            f"{found.rate:8.1f} orders/s  drain {1000 * found.drain:6.1f} ms  "
                            f"ledger +{found.entries:<4} in {found.batches:3} batches  "
                            f"CPU self {100 * found.cpu[0]:3.0f}% "
                            f"pg {100 * found.cpu[1]:3.0f}% others {100 * found.cpu[2]:3.0f}%",
                            flush=True,
                        )
            if args.profile:
                profile(b, numbers, args)
            if args.parts:
                parts(b, numbers, args.parts)
    return rounds


# --------------------------------------------------------------------------- parts


def _median_us(samples: list[int]) -> float:
    return statistics.median(samples) / 1000


def parts(b: Backend, numbers: Numbers, n: int) -> None:
    """The wall's work per order, piece by piece, each timed on its own (--parts N): what
    `Guard.authorize` adds to `OrderDesk.submit`, and the keeper's work per entry."""
    svc, clock = b.svc, time.perf_counter_ns
    wall, principal = svc.wall, b.principals[0]
    sessions = make_sessions(svc.engine)
    probe = sessions()  # the guard enters its zone once (PostgreSQL); nothing is written
    guard = Guard(wall, probe, wall.policy, principal, Purpose.ORDER_MANAGEMENT, None).begin()
    nums = [f"{x:08d}" for x in numbers.take(n)]  # new numbers: the pseudonym cache misses

    def timed(fn: Any, args: Iterable[Any]) -> list[int]:
        out = []
        for a in args:
            t0 = clock()
            fn(a)
            out.append(clock() - t0)
        return out

    decide = timed(lambda _: guard.permit(Action.WRITE, Category.ORDER), range(n))
    probe.rollback()
    probe.close()
    events = []

    def event(number: str) -> None:
        events.append(
            wall.event(
                principal,
                Purpose.ORDER_MANAGEMENT,
                None,
                "write",
                "cps.order",
                allowed=True,
                reason="granted by operator-manages-own-orders",
                subjects=wall.pseudonymiser.subjects([number]),
                policy=wall.policy,
            )
        )

    build = timed(event, nums)
    json = timed(canonical, events)
    with sessions() as session:
        session.execute(text("SELECT 1"))  # the transaction is open: time the statement only
        append = timed(SqlAccessLog(session).append, events)
        session.rollback()
    per_entry = []
    batch = 60  # what the keeper finds every 0.2 s at 300 orders/s
    for start in range(0, n - batch + 1, batch):
        with sessions() as session, session.begin():
            log = SqlAccessLog(session)
            for e in events[start : start + batch]:
                log.append(e)
        t0 = clock()
        done = svc.keeper.integrate()
        per_entry.append((clock() - t0) // max(1, done))
    rows = [
        ("Guard.permit (question, cached decision, permit)", _median_us(decide)),
        ("Wall.event (pseudonym HMAC, AccessEvent)", _median_us(build)),
        ("canonical JSON (RFC 8785)", _median_us(json)),
        (
            "INSERT INTO ledger_inbox (SqlAccessLog.append less the JSON)",
            _median_us(append) - _median_us(json),
        ),
        (f"LedgerKeeper.integrate, per entry (batches of {batch})", _median_us(per_entry)),
    ]
    print(f"\n{b.name}: the wall's work per order, {n} of each, median µs")
    for label, us in rows:
        print(f"  {label:62} {us:8.1f}")
    print(f"  {'sum':62} {sum(us for _, us in rows):8.1f}")


def profile(b: Backend, numbers: Numbers, args: argparse.Namespace) -> None:
    """cProfile of `direct` rounds (the main thread does all the work there)."""
    signed = datetime.now(ZoneInfo("Europe/Oslo")).date() - timedelta(days=7)
    for build in args.builds:
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
        f"{'backend':10} {'mode':8} {'build':9} {'orders/s':>8} {'bypass/s':>8} {'cost':>6} "
        f"{'cost*':>6} {'+ms/order':>9} {'drain ms':>8} {'batch':>5} {'CPU ms':>6} {'bypass':>6} "
        f"{'CPU cost':>8} {'others':>6} {'target':>7}"
    )
    print(header)
    print("-" * len(header))
    lines = []
    for name in args.backends:
        for mode in args.modes:

            def pick(build: str, name: str = name, mode: str = mode) -> dict[int, Round]:
                return {
                    r.index: r
                    for r in rounds
                    if (r.backend, r.mode, r.build) == (name, mode, build)
                }

            bypass, client = pick("bypass"), pick("client")
            p = statistics.median(r.rate for r in bypass.values())
            # The client's own time per request (against an app that does nothing).
            c = statistics.median(1 / r.rate for r in client.values()) if client else 0.0
            for build in args.builds:
                if build == "bypass":
                    continue
                found = pick(build)
                rs = list(found.values())
                # Rounds of the same index ran back to back: the median of their ratios.
                pairs = [(found[i], bypass[i]) for i in sorted(found)]
                w = statistics.median(r.rate for r in found.values())
                cost = 1 - statistics.median(a.rate / b.rate for a, b in pairs)
                server_cost = 1 - statistics.median(
                    (1 / b.rate - c) / (1 / a.rate - c) for a, b in pairs
                )
                cpu_cost = 1 - statistics.median(b.cpu_ms / a.cpu_ms for a, b in pairs)
                others = statistics.median(r.cpu[2] for pair in pairs for r in pair)
                verdict = "met" if max(cost, server_cost) <= TARGET_COST else "MISSED"
                if mode == "direct" or build == "no-insert":
                    verdict = "-"  # the target is the API's throughput, with the wall
                elif build != "wall":
                    verdict = f"({verdict})"  # a trial, not the shipped wall
                print(
                    f"{name:10} {mode:8} {build:9} {w:8.1f} {p:8.1f} {100 * cost:5.1f}% "
                    f"{100 * server_cost:5.1f}% {1000 * (1 / w - 1 / p):9.3f} "
                    f"{statistics.median(1000 * r.drain / r.requests for r in rs):8.3f} "
                    f"{statistics.median(r.entries / max(1, r.batches) for r in rs):5.0f} "
                    f"{statistics.median(r.cpu_ms for r in found.values()):6.2f} "
                    f"{statistics.median(r.cpu_ms for r in bypass.values()):6.2f} "
                    f"{100 * cpu_cost:7.1f}% {100 * others:5.0f}% {verdict:>7}"
                )
                lines.append(
                    f"  {name} {mode} {build}/bypass: "
                    + " ".join(f"{a.rate:.0f}/{b.rate:.0f}" for a, b in pairs)
                )
    print(
        "\norders/s, bypass/s: medians over the rounds; cost: 1 - the median over rounds of "
        f"build/bypass, run back to back (target <= {100 * TARGET_COST:.0f}% for the wall); "
        "cost*: the same with the in-process client's time per request (against an app "
        "that does nothing) taken out of both; +ms/order: 1/build - 1/bypass; drain: the "
        "keeper's integrate() after the round, per order (inside orders/s); batch: entries "
        "per integrated batch (one keeper transaction each); CPU ms: this "
        "process and its PostgreSQL backends per order, the build and the bypass; CPU cost: "
        "1 - bypass/build of that; others: the rest of the machine's CPU (100% = one core); "
        "target: judged for the wall over HTTP (direct is the use case alone, for comparison)."
    )
    print("rounds, orders/s of the build/the bypass:\n" + "\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,postgresql", type=lambda s: s.split(","))
    parser.add_argument(
        "--modes",
        default="http c=1,http c=8,direct",
        type=lambda s: s.split(","),
        help="'http c=N' (N in flight) and/or 'direct'",
    )
    parser.add_argument(
        "--builds",
        default="wall,bypass",
        type=lambda s: s.split(","),
        help="of wall, bypass (both needed), wall/tick (the wall with a trial keeper loop, "
        "see tick_keeper), wall/off (no keeper: entries integrated after the round, timed), "
        "no-insert (decides and builds the ledger entry, inserts nothing)",
    )
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=200, help="orders per round")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--operators", type=int, default=4)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    parser.add_argument(
        "--parts",
        type=int,
        default=1200,
        metavar="N",
        help="time the wall's parts per order, N of each, after the rounds (0: skip)",
    )
    args = parser.parse_args(argv)
    known = {"wall", "wall/tick", "wall/off", *GUARDS}
    if not {"wall", "bypass"} <= set(args.builds) or not set(args.builds) <= known:
        parser.error(f"--builds: of {', '.join(sorted(known))}, with wall and bypass")
    for mode in args.modes:
        if mode != "direct" and not (mode.startswith("http c=") and mode[7:].isdigit()):
            parser.error(f"unknown mode {mode!r}")

    started = time.perf_counter()
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.2f}; {args.rounds} rounds of {args.requests} orders "
        f"per backend, mode and build; builds {','.join(args.builds)}",
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
