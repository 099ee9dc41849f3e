"""Benchmark: order submission over HTTP (`POST /v1/orders`) against PostgreSQL.

Target (issue): with 32 concurrent clients, at least 1,000 orders/s accepted (201) and
p99 latency under 50 ms.

Set-up (not timed): a scratch PostgreSQL database (forvalg_bench_<random>) initialised by
`forvalg.bootstrap.initialise`, enough eligible lines imported through the real
`import_lines`, and a few CPS operators registered through the real `OperatorAdmin` (the
32 clients are spread over them, as several operators' systems would be).

The set-up, the server process helper and the percentiles are `loadlib.py`'s, shared with
`soak.py` (the soak and fault runs) and tests/e2e/test_faults.py.

Timed: `forvalg serve --workers W` as a real server process on 127.0.0.1 and a free port,
driven by a load generator in a separate process with 32 concurrent connections. Every
request is a distinct valid PROVIDE (its own line, its own Idempotency-Key). A short
warm-up run precedes each measured run. Load generators:
  wrk     wrk (C) with a generated Lua script; the default when `wrk` is installed
          (Debian: apt-get install wrk). Cheap enough to leave the CPUs to the server.
  httpx   httpx.AsyncClient on uvloop, 32 tasks, in a child Python process. On 2 cores it
          competes with the server for CPU and is itself the ceiling of the framework
          baseline: run `--client both` to see by how much.

Named baseline, side by side: the same load generator against a minimal FastAPI app with
one sync POST endpoint that parses the same body with the same Pydantic model
(`forvalg.api.schemas.OrderCreate`) and returns it, touching no database: the framework
ceiling on this machine. It is served by uvicorn exactly as `forvalg serve` serves the real
app (`uvicorn.run` defaults, same worker count). The ratio shows what the database work,
authentication and the access log cost.

    .venv/bin/python benchmarks/order_submission.py                # ~2 minutes
    .venv/bin/python benchmarks/order_submission.py --workers 1 --duration 5 --client both

Bounded: each run lasts --duration seconds and at most --max-rate * duration requests; only
127.0.0.1 is contacted. The server processes and the scratch database are removed on
success, failure and Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Body, FastAPI, Header

from forvalg.api.schemas import OrderCreate
from loadlib import (
    DEFAULT_ADMIN_URL,
    HOST,
    Server,
    World,
    children,
    free_port,
    interrupt_on_signals,
    percentile,
)
from loadlib import scratch_world as loadlib_world

TARGET_RATE = 1_000.0
TARGET_P99_MS = 50.0
FIRST_NUMBER = 30_000_000
BASELINE_FIRST_NUMBER = 80_000_000  # the baseline stores nothing: no lines needed
HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
CLIENT_FLAG = "--load-client-spec"


# --------------------------------------------------------------------------- baseline app


def baseline_app() -> FastAPI:
    """The framework ceiling: same route, same body model, no database, no auth.

    Served with `uvicorn --factory order_submission:baseline_app`.
    """
    app = FastAPI(title="baseline", docs_url=None, redoc_url=None)

    @app.post("/v1/orders", status_code=201)
    def place_order(
        body: Annotated[OrderCreate, Body()],
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    ) -> OrderCreate:
        return body

    return app


# --------------------------------------------------------------------------- load generators

LUA = r"""
-- args: first_number per_thread signed_at tag tokens_file (one API key a line)
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  local first = tonumber(args[1])
  per_thread = tonumber(args[2])
  signed_at = args[3]
  tag = args[4]
  tokens = {}
  for line in io.lines(args[5]) do tokens[#tokens + 1] = "Bearer " .. line end
  next_n = first + tid * per_thread
  last_n = next_n + per_thread
  codes = {}
  capped = 0
end

function request()
  local n = next_n
  next_n = n + 1
  local body = string.format(
    '{"type":"PROVIDE","number":"%08d","postcode":"%04d","option":"ALL",' ..
    '"authorisation":{"reference":"LOA-%d","signed_at":"%s","channel":"web"},' ..
    '"requested_date":null}',
    n, 1000 + n % 9000, n, signed_at)
  return wrk.format("POST", "/v1/orders", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = tokens[n % #tokens + 1],
    ["Idempotency-Key"] = tag .. "-" .. n,
  }, body)
end

function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
  if next_n >= last_n then
    capped = 1
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local merged, capped_any = {}, 0
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("codes")) do merged[k] = (merged[k] or 0) + v end
    capped_any = capped_any + t:get("capped")
  end
  local parts = {}
  for k, v in pairs(merged) do parts[#parts + 1] = string.format('"%d":%d', k, v) end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"seconds":%.6f,"codes":{%s},"p50":%d,"p95":%d,"p99":%d,"max":%d,' ..
    '"mean":%.1f,"capped":%d,"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d}}\n',
    summary.duration / 1e6, table.concat(parts, ","),
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    latency.mean, capped_any, e.connect, e.read, e.write, e.timeout))
end
"""


def body_for(n: int, signed_at: str) -> bytes:
    """The same body the Lua script builds (ASCII, compact)."""
    return (
        f'{{"type":"PROVIDE","number":"{n:08d}","postcode":"{1000 + n % 9000:04d}",'
        f'"option":"ALL","authorisation":{{"reference":"LOA-{n}","signed_at":"{signed_at}",'
        f'"channel":"web"}},"requested_date":null}}'
    ).encode()


def httpx_client(spec: dict[str, Any]) -> dict[str, Any]:
    """The pure-Python load generator (runs in its own process, see CLIENT_FLAG)."""
    import httpx

    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()

    first, cap = int(spec["first"]), int(spec["cap"])
    tokens = [f"Bearer {t}" for t in spec["tokens"]]
    latencies: list[float] = []
    codes: Counter[int] = Counter()
    errors = Counter[str]()
    state = {"next": first}

    async def worker(client: httpx.AsyncClient, deadline: float) -> None:
        while time.perf_counter() < deadline and state["next"] < first + cap:
            n = state["next"]
            state["next"] = n + 1
            headers = {
                "Content-Type": "application/json",
                "Authorization": tokens[n % len(tokens)],
                "Idempotency-Key": f"{spec['tag']}-{n}",
            }
            started = time.perf_counter()
            try:
                response = await client.post(
                    "/v1/orders", content=body_for(n, spec["signed_at"]), headers=headers
                )
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] += 1
                continue
            latencies.append(time.perf_counter() - started)
            codes[response.status_code] += 1

    async def run() -> float:
        limits = httpx.Limits(
            max_connections=spec["connections"], max_keepalive_connections=spec["connections"]
        )
        async with httpx.AsyncClient(base_url=spec["url"], limits=limits, timeout=10) as client:
            started = time.perf_counter()
            deadline = started + spec["duration"]
            await asyncio.gather(*(worker(client, deadline) for _ in range(spec["connections"])))
            return time.perf_counter() - started

    seconds = asyncio.run(run())
    latencies.sort()
    us = [x * 1e6 for x in latencies]
    return {
        "seconds": seconds,
        "codes": {str(k): v for k, v in codes.items()},
        "p50": percentile(us, 50),
        "p95": percentile(us, 95),
        "p99": percentile(us, 99),
        "max": us[-1] if us else math.nan,
        "mean": sum(us) / len(us) if us else math.nan,
        "capped": int(state["next"] >= first + cap),
        "errors": dict(errors),
    }


# --------------------------------------------------------------------------- CPU accounting


def _ticks(pid: int) -> int:
    """utime + stime of one process, in clock ticks (0 if it has gone)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


def _descendants(root: int) -> list[int]:
    """`root` and every process below it (loadlib.children, level by level)."""
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children(pid)
    return found


def _machine() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return total - idle, total


class CpuMeter(threading.Thread):
    """CPU seconds of the server's process tree and of the PostgreSQL backends serving the
    scratch database, sampled from /proc every 0.2 s while a run lasts (backends that the
    pool opens and closes during the run are counted too, up to their last sample)."""

    def __init__(self, server_pid: int, database: str | None) -> None:
        super().__init__(daemon=True)
        self.server_pid, self.database = server_pid, database
        self.first: dict[str, dict[int, int]] = {"server": {}, "postgres": {}}
        self.last: dict[str, dict[int, int]] = {"server": {}, "postgres": {}}
        self.halt = threading.Event()
        self.started_at = time.perf_counter()
        self.machine = _machine()
        self._sample(initial=True)

    def _sample(self, initial: bool = False) -> None:
        groups = {"server": _descendants(self.server_pid), "postgres": self._backends()}
        for group, pids in groups.items():
            for pid in pids:
                ticks = _ticks(pid)
                if ticks:
                    # A backend first seen later was opened during the run: count all of it.
                    self.first[group].setdefault(pid, ticks if initial else 0)
                    self.last[group][pid] = ticks

    def _backends(self) -> list[int]:
        if not self.database:
            return []
        found = []
        needle = f" {self.database} ".encode()
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/cmdline", "rb") as handle:
                        title = handle.read(200)
                except OSError:
                    continue
                if title.startswith(b"postgres:") and needle in title:
                    found.append(int(entry))
        return found

    def run(self) -> None:
        while not self.halt.wait(0.2):
            self._sample()

    def finish(self) -> dict[str, float]:
        self.halt.set()
        self.join()
        self._sample()
        hz = os.sysconf("SC_CLK_TCK")
        machine = _machine()
        used = {
            group: sum(self.last[group][p] - self.first[group][p] for p in self.last[group]) / hz
            for group in ("server", "postgres")
        }
        return {
            "wall": time.perf_counter() - self.started_at,
            "machine_busy": (machine[0] - self.machine[0]) / hz,
            "machine_total": (machine[1] - self.machine[1]) / hz,
            **used,
        }


# --------------------------------------------------------------------------- processes


# --------------------------------------------------------------------------- profiling


@dataclass
class Spy:
    process: subprocess.Popen[bytes]
    output: Path


def start_py_spy(args: argparse.Namespace, server: Server, tag: str) -> Spy:
    """py-spy samples the server (all its worker processes) during the measured run."""
    output = Path(args.profile_dir) / f"{tag}.txt"
    output.parent.mkdir(parents=True, exist_ok=True)
    argv = [
        args.py_spy,
        "record",
        "--pid",
        str(server.process.pid),
        "--subprocesses",
        "--gil",  # only the thread holding the GIL: where the Python CPU goes
        "--rate",
        "100",
        "--format",
        "raw",
        "--duration",
        str(max(1, round(args.duration))),
        "--output",
        str(output),
    ]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)  # let it attach before the load starts
    return Spy(process, output)


def finish_py_spy(spy: Spy, args: argparse.Namespace) -> None:
    try:
        spy.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        spy.process.terminate()
        spy.process.wait()
    if spy.output.exists():
        print(summarise_stacks(spy.output, args.profile_top), flush=True)


def summarise_stacks(path: Path, top: int) -> str:
    """Top frames by own and by inclusive samples, from py-spy's raw (collapsed) output."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = [_frame(f) for f in stack.split(";") if not f.startswith("process ")]
        if not frames:
            continue
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    if not total:
        return f"py-spy: no samples in {path}"
    out = [f"py-spy {path.name}: {total} samples of the GIL holder in the server"]
    for title, counter in (("own time", own), ("inclusive", inclusive)):
        out.append(f"  top {top} by {title}:")
        out += [f"    {100 * v / total:5.1f}%  {k}" for k, v in counter.most_common(top)]
    return "\n".join(out)


def _frame(text: str) -> str:
    """'func (path/to/file.py:123)' -> 'func (file.py)'."""
    name, _, where = text.partition(" (")
    file = where.rstrip(")").rsplit(":", 1)[0].rsplit("/", 1)[-1]
    return f"{name} ({file})" if file else name


# --------------------------------------------------------------------------- set-up


@contextlib.contextmanager
def scratch_world(args: argparse.Namespace, workdir: Path, lines_needed: int) -> Iterator[World]:
    """The shared scratch world (loadlib) with the keys also in a private file for wrk."""
    with loadlib_world(
        args.postgres_url,
        workdir,
        first_number=FIRST_NUMBER,
        lines=lines_needed,
        operators=args.operators,
        prefix="bench",
    ) as world:
        # The keys go to wrk in a file of the private work dir, not on its command line.
        fd = os.open(workdir / "tokens.txt", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write("\n".join(world.tokens) + "\n")
        yield world


def count_orders(world: World) -> tuple[int, int]:
    """(orders, distinct numbers) in the scratch database."""
    from sqlalchemy import text

    from forvalg.store.engine import make_engine

    engine = make_engine(world.url)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                text("SELECT count(*), count(DISTINCT number) FROM orders")
            ).one()
            return int(row[0]), int(row[1])
    finally:
        engine.dispose()


def pg_sessions(world: World) -> int:
    """Sessions ever opened on the scratch database (pg_stat_database.sessions, PG 14+)."""
    from sqlalchemy import text

    from forvalg.store.engine import make_engine

    engine = make_engine(world.admin_url)
    try:
        with engine.connect() as connection:
            value = connection.execute(
                text("SELECT sessions FROM pg_stat_database WHERE datname = :d"),
                {"d": world.database},
            ).scalar()
        return int(value or 0)
    except Exception:  # older servers have no such column; the number is only a hint
        return 0
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- runs


@dataclass
class Result:
    target: str  # "forvalg" or "baseline"
    workers: int
    client: str
    seconds: float
    codes: dict[str, int]
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    capped: bool
    errors: dict[str, int]
    cpu: dict[str, float] = field(default_factory=dict)
    client_cpu: float = 0.0
    new_sessions: int = 0  # PostgreSQL connections opened during the run

    @property
    def accepted(self) -> int:
        return self.codes.get("201", 0)

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0


class Ranges:
    """Hands out disjoint number ranges, so every request ever sent is a distinct order."""

    def __init__(self, first: int) -> None:
        self.next = first

    def take(self, count: int) -> int:
        start = self.next
        self.next += count
        return start


def run_load(
    client: str,
    server: Server,
    *,
    first: int,
    cap: int,
    duration: float,
    args: argparse.Namespace,
    tokens: list[str],
    signed_at: str,
    tag: str,
    lua: Path,
) -> tuple[dict[str, Any], float]:
    """One load run in a child process; returns its JSON result and its CPU seconds."""
    if client == "wrk":
        per_thread = cap // args.wrk_threads
        argv = [
            args.wrk,
            f"-t{args.wrk_threads}",
            f"-c{args.connections}",
            f"-d{max(1, round(duration))}s",
            "--timeout",
            "10s",
            "-s",
            str(lua),
            server.url,
            "--",
            str(first),
            str(per_thread),
            signed_at,
            tag,
            str(lua.with_name("tokens.txt")),
        ]
        marker = "WRK_JSON "
    else:
        spec = {
            "url": server.url,
            "first": first,
            "cap": cap,
            "duration": duration,
            "connections": args.connections,
            "tokens": tokens,
            "signed_at": signed_at,
            "tag": tag,
        }
        argv = [sys.executable, str(Path(__file__).resolve()), CLIENT_FLAG, json.dumps(spec)]
        marker = "CLIENT_JSON "
    # Only this child is reaped in between, so the difference is its CPU time.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = process.communicate(timeout=duration + 60)
    except BaseException:
        process.kill()
        process.wait()
        raise
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    rusage = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    text_out = out.decode(errors="replace")
    for line in text_out.splitlines():
        if line.startswith(marker):
            return json.loads(line.removeprefix(marker)), rusage
    raise RuntimeError(
        f"{client} printed no result (exit {process.returncode}):\n{text_out}\n"
        f"{err.decode(errors='replace')}"
    )


def server_argv(target: str, port: int, workers: int, factory: str | None) -> list[str]:
    if target == "forvalg" and factory is None:
        forvalg = shutil.which("forvalg", path=str(VENV_BIN)) or "forvalg"
        return [forvalg, "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)]
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        factory if target == "forvalg" and factory else "order_submission:baseline_app",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


def measure(
    target: str,
    workers: int,
    clients: list[str],
    world: World,
    ranges: Ranges,
    args: argparse.Namespace,
    workdir: Path,
    lua: Path,
) -> tuple[list[Result], int]:
    """Start the server, warm up, measure each client; returns results and all 201s."""
    port = free_port()
    env = dict(os.environ)
    env.update(
        FORVALG_DATABASE_URL=world.url,
        FORVALG_KEY_DIR=str(world.key_dir),
        PYTHONPATH=os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH", "")])),
    )
    log = workdir / f"{target}-w{workers}.log"
    server = Server(server_argv(target, port, workers, args.app_factory), env, log, port)
    signed_at = (datetime.now(ZoneInfo("Europe/Oslo")).date() - timedelta(days=7)).isoformat()
    results = []
    accepted = 0
    try:
        server.wait_ready()
        for client in clients:
            tag = f"{target}-w{workers}-{client}"
            common = {
                "args": args,
                "tokens": world.tokens,
                "signed_at": signed_at,
                "lua": lua,
            }
            if args.warmup > 0:
                cap = math.ceil(args.max_rate * args.warmup)
                warm, _ = run_load(
                    client,
                    server,
                    first=ranges.take(cap),
                    cap=cap,
                    duration=args.warmup,
                    tag=tag + "-warmup",
                    **common,
                )
                accepted += int(warm["codes"].get("201", 0))
            cap = math.ceil(args.max_rate * args.duration)
            sessions_before = pg_sessions(world)
            spy = start_py_spy(args, server, tag) if args.profile_dir else None
            meter = CpuMeter(server.process.pid, world.database if target == "forvalg" else None)
            meter.start()
            found, client_cpu = run_load(
                client,
                server,
                first=ranges.take(cap),
                cap=cap,
                duration=args.duration,
                tag=tag,
                **common,
            )
            cpu = meter.finish()
            new_sessions = pg_sessions(world) - sessions_before
            if spy is not None:
                finish_py_spy(spy, args)
            result = Result(
                target=target,
                workers=workers,
                client=client,
                seconds=float(found["seconds"]),
                codes={str(k): int(v) for k, v in found["codes"].items()},
                p50_ms=float(found["p50"]) / 1000,
                p95_ms=float(found["p95"]) / 1000,
                p99_ms=float(found["p99"]) / 1000,
                max_ms=float(found["max"]) / 1000,
                capped=bool(found["capped"]),
                errors={k: int(v) for k, v in found["errors"].items() if v},
                cpu=cpu,
                client_cpu=client_cpu,
                new_sessions=new_sessions if target == "forvalg" else 0,
            )
            results.append(result)
            accepted += result.accepted
            print(line_for(result), flush=True)
    finally:
        server.stop()
    return results, accepted


# --------------------------------------------------------------------------- report


def line_for(r: Result) -> str:
    others = {k: v for k, v in r.codes.items() if k != "201"}
    note = ""
    if others:
        note += f" other statuses {others}"
    if r.errors:
        note += f" errors {r.errors}"
    if r.new_sessions:
        note += f" ({r.new_sessions} new PostgreSQL connections)"
    if r.capped:
        note += " (request cap reached: rate is a lower bound)"
    return (
        f"  {r.target:8} workers={r.workers} client={r.client:5} {r.accepted:>7,} x 201 in "
        f"{r.seconds:5.1f}s = {r.rate:>7,.0f}/s  p50 {r.p50_ms:6.1f} ms  p95 {r.p95_ms:6.1f} ms  "
        f"p99 {r.p99_ms:6.1f} ms  max {r.max_ms:7.1f} ms{note}"
    )


def table(results: list[Result], ncpu: int) -> str:
    head = (
        f"{'target':8} {'wrk':>3} {'client':6} {'201s':>7} {'orders/s':>8} {'p50 ms':>7} "
        f"{'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'srv CPU':>7} {'pg CPU':>6} "
        f"{'cli CPU':>7} {'others':>6} {'vs base':>7} {'target':>7}"
    )
    out = [head, "-" * len(head)]
    base = {(r.workers, r.client): r.rate for r in results if r.target == "baseline"}
    for r in results:
        wall = r.cpu.get("wall") or r.seconds

        def pct(seconds: float, wall: float = wall) -> str:
            return f"{100 * seconds / wall:.0f}%" if wall else "-"

        ours = r.cpu.get("server", 0) + r.cpu.get("postgres", 0) + r.client_cpu
        others = pct(max(0.0, r.cpu.get("machine_busy", 0) - ours))
        ratio = ""
        if r.target == "forvalg" and base.get((r.workers, r.client)):
            ratio = f"{r.rate / base[(r.workers, r.client)]:.2f}"
        verdict = ""
        if r.target == "forvalg":
            ok = r.rate >= TARGET_RATE and r.p99_ms < TARGET_P99_MS
            verdict = "met" if ok else "MISSED"
        out.append(
            f"{r.target:8} {r.workers:>3} {r.client:6} {r.accepted:>7,} {r.rate:>8,.0f} "
            f"{r.p50_ms:>7.1f} {r.p95_ms:>7.1f} {r.p99_ms:>7.1f} {r.max_ms:>7.1f} "
            f"{pct(r.cpu.get('server', 0)):>7} "
            f"{pct(r.cpu.get('postgres', 0)) if r.target == 'forvalg' else '-':>6} "
            f"{pct(r.client_cpu):>7} {others:>6} {ratio:>7} {verdict:>7}"
        )
    out.append(
        f"CPU columns: CPU-seconds per wall-second (100% = one of the {ncpu} cores): the "
        "server's processes, the PostgreSQL backends of the scratch database, the load "
        "generator, and everything else on the machine ('others': other users' load makes "
        "the numbers worse than the code). 'wrk' = uvicorn worker processes. Target: "
        f">= {TARGET_RATE:,.0f} orders/s and p99 < {TARGET_P99_MS:.0f} ms."
    )
    return "\n".join(out)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            "Drive `forvalg serve` (PostgreSQL) with 32 concurrent clients posting distinct "
            "valid PROVIDE orders, beside a no-database FastAPI baseline; reports accepted "
            "orders/s and p50/p95/p99 latency."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--workers", default="1,2", help="comma-separated uvicorn worker counts to try"
    )
    parser.add_argument("--connections", type=int, default=32, help="concurrent clients")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per run")
    parser.add_argument(
        "--client",
        choices=["auto", "wrk", "httpx", "both"],
        default="auto",
        help="load generator; auto = wrk if installed, else httpx",
    )
    parser.add_argument("--wrk", default=shutil.which("wrk") or "wrk", help="the wrk binary")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--max-rate",
        type=float,
        default=5_000.0,
        help="request bound per run = max-rate x seconds (also sizes the line inventory)",
    )
    parser.add_argument("--operators", type=int, default=4, help="operators the clients share")
    parser.add_argument(
        "--skip-baseline", action="store_true", help="do not run the no-database baseline"
    )
    parser.add_argument(
        "--profile-dir",
        default=None,
        help="sample the servers with py-spy during measured runs; raw stacks go here "
        "(sampling slows the server: do not quote those runs' numbers)",
    )
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or "py-spy")
    parser.add_argument(
        "--app-factory",
        default=None,
        metavar="MODULE:FUNC",
        help="serve this ASGI app factory with uvicorn instead of `forvalg serve`, e.g. to "
        "try a change (same environment; PYTHONPATH is passed through)",
    )
    parser.add_argument("--profile-top", type=int, default=25, help="frames to print")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("FORVALG_BENCH_POSTGRES_URL", DEFAULT_ADMIN_URL),
        help="a maintenance database on the PostgreSQL server (env FORVALG_BENCH_POSTGRES_URL)",
    )
    args = parser.parse_args(argv)
    try:
        args.workers = [int(w) for w in args.workers.split(",") if w.strip()]
    except ValueError:
        parser.error("--workers: comma-separated integers, e.g. 1,2")
    if not args.workers or min(args.workers) < 1:
        parser.error("--workers: at least one positive count")
    if args.client == "auto":
        args.clients = ["wrk"] if shutil.which(args.wrk) else ["httpx"]
    elif args.client == "both":
        args.clients = ["wrk", "httpx"]
    else:
        args.clients = [args.client]
    if "wrk" in args.clients and not shutil.which(args.wrk):
        parser.error(f"--client {args.client}: no wrk at {args.wrk!r} (apt-get install wrk)")
    if args.profile_dir and not shutil.which(args.py_spy):
        parser.error(f"--profile-dir: no py-spy at {args.py_spy!r} (pip install py-spy)")
    if not 1 <= args.operators <= 10:
        parser.error("--operators: 1-10")
    if args.duration <= 0 or args.warmup < 0 or args.connections < 1:
        parser.error("--duration and --connections must be positive, --warmup >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    interrupt_on_signals()
    ncpu = os.cpu_count() or 1
    with open("/proc/loadavg") as handle:
        load = handle.read().split()[:3]
    print(
        f"order_submission: {args.connections} clients, {args.duration:g}s runs after "
        f"{args.warmup:g}s warm-up, workers {args.workers}, client {'+'.join(args.clients)}; "
        f"{ncpu} CPUs, load average {' '.join(load)}",
        flush=True,
    )
    invocations = len(args.clients) * (2 if args.warmup > 0 else 1)
    per_run = math.ceil(args.max_rate * args.duration) + math.ceil(args.max_rate * args.warmup)
    lines_needed = per_run * len(args.workers) * len(args.clients)
    workdir = Path(tempfile.mkdtemp(prefix="forvalg-bench-"))
    lua = workdir / "orders.lua"
    lua.write_text(LUA)
    results: list[Result] = []
    try:
        with scratch_world(args, workdir, lines_needed) as world:
            ranges = {"forvalg": Ranges(FIRST_NUMBER), "baseline": Ranges(BASELINE_FIRST_NUMBER)}
            accepted = 0
            for workers in args.workers:
                for target in ("forvalg", "baseline"):
                    if target == "baseline" and args.skip_baseline:
                        continue
                    found, total = measure(
                        target, workers, args.clients, world, ranges[target], args, workdir, lua
                    )
                    results += found
                    accepted += total if target == "forvalg" else 0
            stored, distinct = count_orders(world)
            # A run that ends with requests in flight leaves up to `connections` orders
            # stored whose 201 nobody counted.
            in_flight = args.connections * invocations * len(args.workers)
            ok = stored == distinct and accepted <= stored <= accepted + in_flight
            print(
                f"check: {accepted:,} 201s counted by the forvalg runs (warm-ups included), "
                f"{stored:,} orders stored on {distinct:,} distinct lines"
                + ("" if ok else "  <-- MISMATCH"),
                flush=True,
            )
    except KeyboardInterrupt:
        print("\norder_submission: interrupted; servers stopped, database dropped", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("\n" + table(results, ncpu))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == CLIENT_FLAG:
        print("CLIENT_JSON " + json.dumps(httpx_client(json.loads(sys.argv[2]))), flush=True)
        sys.exit(0)
    sys.exit(main())
