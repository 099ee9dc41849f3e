"""Benchmark: the ledger (issue 3) on SQLite, beside pymerkle.

Targets (issue), all on this machine:
  1. >= 100,000 durable appends/s on SQLite in batches of 1,000;
  2. inclusion and consistency proofs at 10 M entries <= 1 ms each, served from the store;
  3. `forvalg-verify` recomputes >= 500,000 entries/s.

Entries are realistic access events: canonical JSON (RFC 8785) of the shape
`AccessEvent.as_entry()` produces, 337-506 bytes (most name one subscriber pseudonym),
generated deterministically from their index, so every database and export built here
holds the same entries and their roots can be cross-checked.

What is timed:
  appends      a fresh database (`make_engine` + `upgrade`: WAL, synchronous=FULL), then
               `Sequencer.append(batch, at=...)` per batch: one durable transaction each
               (the events are generated beforehand, not timed);
  proofs       `inclusion_proof(StoredNodes(connection), index, size)` and
               `consistency_proof(StoredNodes(connection), old, new)` at random
               index/sizes on a database of --proof-size entries, built once with
               `Sequencer.append` in batches of 10,000 and kept in --cache-dir (reused,
               and resumed if a build was interrupted);
  verify       `verify_export` on entries.jsonl of --entries lines (in process), and the
               real console script `.venv/bin/forvalg-verify --export DIR` end to end.

Named baseline, side by side: pymerkle (`SqliteTree`, durable SQLite storage) given the
very entry bytes forvalg stored (sealed beforehand, not timed), so both build the same
RFC 6962 tree and their roots must agree:
  appends      `SqliteTree.append_entries(batch)` per batch of the same size (one
               transaction each), with pymerkle's own connection settings (rollback
               journal) and with WAL + synchronous=FULL like forvalg's engine;
  proofs       `prove_inclusion` / `prove_consistency` on a pymerkle database of the
               same entries (also cached), for the same index/sizes;
  verify       pymerkle `InmemoryTree` built from the same lines, then its root.
Floors, to show what is left for Python: the same rows written with bare `sqlite3`
`executemany` (appends), and leaf hashes alone without the tree (verify).
The RFC 6962 check: pymerkle's roots and proofs over the published 8-leaf test tree,
with its default configuration and with `disable_security=True`.

    .venv/bin/python benchmarks/ledger.py            # full run, ~5 min; the first run
                                                     # also builds the two 10 M databases
                                                     # (~11 min, 14 GB in /tmp/forvalg-bench)
    .venv/bin/python benchmarks/ledger.py --quick    # smoke run, < 30 s
    .venv/bin/python benchmarks/ledger.py --parts appends,verify --profile 25
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import hashlib
import io
import os
import pstats
import random
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import rfc8785
from pymerkle import InmemoryTree, InvalidProof, SqliteTree
from pymerkle import __version__ as pymerkle_version
from pymerkle import verify_consistency as pymerkle_verify_consistency
from sqlalchemy import Engine

from forvalg.ledger.audit import read_lines, verify_export
from forvalg.ledger.entries import GENESIS_PREV, seal
from forvalg.ledger.merkle import (
    CompactRange,
    MemoryTree,
    NodeId,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_at,
    verify_consistency,
    verify_inclusion,
)
from forvalg.ledger.note import Checkpoint, Signer
from forvalg.store.engine import make_engine
from forvalg.store.ledger import Sequencer, StoredNodes, head
from forvalg.store.ledger import entries as stored_entries
from forvalg.store.migrate import upgrade

TARGET_APPENDS_PER_S = 100_000
TARGET_PROOF_MS = 1.0
TARGET_VERIFY_PER_S = 500_000

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
GENERATOR = "v1"  # bump when `event()` changes: cached databases are named after it
LAYOUT = "closes"  # forvalg's storage layout (one row per entry, with the subtrees it closes)
BUILD_BATCH = 10_000
ORIGIN = "bench.forvalg.example/ledger"
ROOT = Path(__file__).resolve().parent.parent
VERIFY_SCRIPT = ROOT / ".venv" / "bin" / "forvalg-verify"

# The RFC 6962 test tree (certificate-transparency merkle_tree_test.cc kInputs and
# kSHA256Roots; transparency-dev/merkle). RFC_ROOTS[n - 1] is the root over RFC_LEAVES[:n].
RFC_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
RFC_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


# --------------------------------------------------------------------------- entries

# Kinds of decision, weighted as the order desk and processor produce them (out of 20):
# an operator reading or writing its own order (one subscriber), the processor writing
# an order (one subscriber), the processor reading a batch of lines (count and digest
# only), and a denial (no subjects).
_OPERATOR = {
    "organisation": "telia",
    "policy_version": "2026-11-29.ledger.1",
    "principal": "operator:telia",
    "purpose": "order_management",
    "roles": ["cps_operator"],
}
_PROCESSOR = {
    "organisation": "incumbent",
    "policy_version": "2026-11-29.ledger.1",
    "principal": "system:order-processor",
    "purpose": "provisioning",
    "roles": ["order_processor"],
}
_KINDS: list[dict[str, Any]] = [
    {**_OPERATOR, "action": "read", "resource": "cps.order", "decision": "allow",
     "reason": "granted", "subject_count": 1, "subjects": ["@SUBJECT@"],
     "subjects_digest": "@DIGEST@", "work_item": "@WORK@"},
    {**_OPERATOR, "action": "write", "resource": "cps.order", "decision": "allow",
     "reason": "granted", "subject_count": 1, "subjects": ["@SUBJECT@"],
     "subjects_digest": "@DIGEST@", "work_item": "@WORK@"},
    {**_PROCESSOR, "action": "write", "resource": "cps.order", "decision": "allow",
     "reason": "granted", "subject_count": 1, "subjects": ["@SUBJECT@"],
     "subjects_digest": "@DIGEST@", "work_item": "@WORK@"},
    {**_PROCESSOR, "action": "read", "resource": "line.inventory", "decision": "allow",
     "reason": "granted", "subject_count": 500, "subjects": [],
     "subjects_digest": "@DIGEST@", "work_item": "@WORK@"},
    {**_OPERATOR, "action": "read", "resource": "cps.routing", "decision": "deny",
     "reason": "no_grant", "subject_count": 0, "subjects": [],
     "subjects_digest": None, "work_item": None},
]  # fmt: skip
_KIND_OF = [0] * 10 + [1] * 4 + [2] * 3 + [3] * 2 + [4]  # index % 20 -> kind
_SENTINELS = {"@AT@": "at", "@SUBJECT@": "subject", "@DIGEST@": "digest", "@WORK@": "work"}


def _template(kind: dict[str, Any]) -> str:
    text = rfc8785.dumps({**kind, "at": "@AT@"}).decode()
    assert "%" not in text
    for sentinel, name in _SENTINELS.items():
        text = text.replace(sentinel, f"%({name})s")
    return text


_TEMPLATES = [_template(k).encode() for k in _KINDS]


def _fields(index: int) -> dict[bytes, bytes]:
    at = (T0 + timedelta(microseconds=index * 997)).isoformat()
    subject = hashlib.sha256(b"subscriber %d" % (index % 50_000)).hexdigest()
    order = base64.b32encode(hashlib.sha256(b"order %d" % (index // 3)).digest()).decode()
    return {
        b"at": at.encode(),
        b"subject": subject.encode(),
        b"digest": hashlib.sha256(subject.encode()).hexdigest().encode(),
        b"work": b"order:o01J" + order[:23].encode(),
    }


def event(index: int) -> bytes:
    """The canonical event for entry `index` (what the wall hands the ledger)."""
    return _TEMPLATES[_KIND_OF[index % 20]] % _fields(index)


def _event_dict(index: int) -> dict[str, Any]:
    """The same event as a dict, for checking the template against rfc8785."""
    values = {k.decode(): v.decode() for k, v in _fields(index).items()}
    kind = dict(_KINDS[_KIND_OF[index % 20]])
    kind["at"] = values["at"]
    for key, value in list(kind.items()):
        if isinstance(value, list):
            kind[key] = [values[_SENTINELS[v]] if v in _SENTINELS else v for v in value]
        elif isinstance(value, str) and value in _SENTINELS:
            kind[key] = values[_SENTINELS[value]]
    return kind


def check_generator() -> None:
    for index in range(2_000):
        if event(index) != rfc8785.dumps(_event_dict(index)):
            raise SystemExit(f"ledger: event({index}) is not canonical JSON")


def events(start: int, count: int) -> list[bytes]:
    return [event(i) for i in range(start, start + count)]


def sealed(start: int, count: int, prev: bytes) -> tuple[list[bytes], bytes]:
    """Entries start..start+count-1 as the sequencer seals them, and the last leaf hash."""
    out = []
    for index in range(start, start + count):
        entry = seal(event(index), index, prev)
        prev = leaf_hash(entry)
        out.append(entry)
    return out, prev


# --------------------------------------------------------------------------- timing


def _machine_busy() -> int:
    """Busy jiffies of all CPUs since boot."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    return sum(values[:8]) - values[3] - values[4]


@dataclass
class Timing:
    seconds: float = 0.0
    cpu: float = 0.0  # this process and its children, CPU-seconds
    busy: float = 0.0  # the whole machine, CPU-seconds

    @property
    def others(self) -> float:
        return max(0.0, self.busy - self.cpu)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def timed(profile: cProfile.Profile | None = None) -> Iterator[Timing]:
    timing = Timing()
    hz = os.sysconf("SC_CLK_TCK")
    busy, cpu, children = _machine_busy(), time.process_time(), _children_cpu()
    started = time.perf_counter()
    if profile is not None:
        profile.enable()
    try:
        yield timing
    finally:
        if profile is not None:
            profile.disable()
        timing.seconds = time.perf_counter() - started
        timing.cpu = time.process_time() - cpu + _children_cpu() - children
        timing.busy = (_machine_busy() - busy) / hz


def print_profile(profile: cProfile.Profile, title: str, top: int) -> None:
    for key in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).strip_dirs().sort_stats(key).print_stats(top)
        body = out.getvalue()
        body = body[body.find("   ncalls") :] if "   ncalls" in body else body
        print(f"\n--- cProfile {title}, top {top} by {key} ---\n{body}", flush=True)


@dataclass
class Row:
    """One measured line of the results table."""

    part: str  # appends, inclusion, consistency, verify
    impl: str
    count: int
    timing: Timing
    rate: float | None = None  # per second
    mean_ms: float | None = None
    p99_ms: float | None = None
    first_ms: float | None = None
    warm_ms: float | None = None  # mean of the second half (after a cache warmed up)
    note: str = ""


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)  # cross-checks that failed
    rfc: list[str] = field(default_factory=list)  # what the RFC 6962 check found

    def add(self, row: Row, say: Callable[[str], None]) -> Row:
        self.rows.append(row)
        say("  " + _line(row))
        return row


def _pct(seconds: float, wall: float) -> str:
    return f"{100 * seconds / wall:.0f}%" if wall else "-"


def _line(r: Row) -> str:
    value = f"{r.rate:>11,.0f}/s" if r.rate is not None else " " * 13
    lat = ""
    if r.mean_ms is not None:
        lat = f"mean {r.mean_ms:7.3f} ms  p99 {r.p99_ms:7.3f} ms"
        if r.first_ms is not None and r.warm_ms is not None:
            lat += f"  first {r.first_ms:8.1f} warm {r.warm_ms:7.1f}"
    return (
        f"{r.part:11} {r.impl:34} {r.count:>10,} {r.timing.seconds:8.2f}s {value} {lat:52} "
        f"cpu {_pct(r.timing.cpu, r.timing.seconds):>4} others "
        f"{_pct(r.timing.others, r.timing.seconds):>4} {r.note}"
    ).rstrip()


def latency_row(
    part: str, impl: str, times: Sequence[float], timing: Timing, note: str = ""
) -> Row:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return Row(
        part,
        impl,
        len(times),
        timing,
        rate=len(times) / sum(times),
        mean_ms=1000 * sum(times) / len(times),
        p99_ms=1000 * p99,
        first_ms=1000 * times[0],
        warm_ms=1000 * sum(times[len(times) // 2 :]) / len(times[len(times) // 2 :]),
        note=note,
    )


# --------------------------------------------------------------------------- RFC 6962


def rfc6962_check(say: Callable[[str], None]) -> list[str]:
    """Does pymerkle reproduce the RFC 6962 test tree (roots and proofs)?"""
    reference = MemoryTree(RFC_LEAVES)  # forvalg, checked against the published vectors
    assert reference.root().hex() == RFC_ROOTS[-1]
    found = []
    for label, opts in (("default", {}), ("disable_security=True", {"disable_security": True})):
        for backend in ("InmemoryTree", "SqliteTree"):
            tree = (
                InmemoryTree(**opts)
                if backend == "InmemoryTree"
                else SqliteTree(":memory:", **opts)
            )
            tree.append_entries(RFC_LEAVES)
            roots = sum(tree.get_root(n).hex() == RFC_ROOTS[n - 1] for n in range(1, 9))
            inclusion = total_inclusion = 0
            for size in range(1, 9):
                for index in range(size):
                    total_inclusion += 1
                    path = tree.prove_inclusion(index + 1, size).path
                    rfc = inclusion_proof(reference, index, size)
                    leaf = leaf_hash(RFC_LEAVES[index])
                    inclusion += path[0] == leaf and path[1:] == rfc
            same = own = accepted = total_consistency = 0
            for new in range(2, 9):
                for old in range(1, new):
                    total_consistency += 1
                    proof = tree.prove_consistency(old, new)
                    old_root, new_root = (bytes.fromhex(RFC_ROOTS[m - 1]) for m in (old, new))
                    rfc = consistency_proof(reference, old, new)
                    same += proof.path == rfc or proof.path == [old_root, *rfc]
                    own += _accepts(pymerkle_verify_consistency, old_root, new_root, proof)
                    # An RFC 9162 verifier, given pymerkle's hashes (without the old root,
                    # which RFC proofs leave out when the old size is a power of two)?
                    accepted += _accepts(
                        verify_consistency, old, new, old_root, new_root, proof.path
                    ) or _accepts(
                        verify_consistency,
                        old,
                        new,
                        old_root,
                        new_root,
                        [h for h in proof.path if h != old_root],
                    )
            line = (
                f"pymerkle {pymerkle_version} {backend} ({label}): roots {roots}/8 match "
                f"RFC 6962; 8-leaf root {tree.get_root(8).hex()[:16]}... "
                f"({'matches' if tree.get_root(8).hex() == RFC_ROOTS[-1] else 'DIFFERS'}); "
                f"inclusion paths {inclusion}/{total_inclusion} equal RFC 6962's; consistency "
                f"proofs {same}/{total_consistency} equal RFC 6962's, {accepted}/"
                f"{total_consistency} accepted by an RFC 9162 verifier, {own}/"
                f"{total_consistency} by pymerkle's own against the RFC roots"
            )
            say("  " + line)
            found.append(line)
            if backend == "SqliteTree":
                tree.close()
    return found


def _accepts(check: Callable[..., None], *args: Any) -> bool:
    try:
        check(*args)
    except (ValueError, InvalidProof):
        return False
    return True


# --------------------------------------------------------------------------- appends


def fresh_engine(path: Path) -> Engine:
    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine


def wal(tree: SqliteTree) -> SqliteTree:
    """pymerkle's connection with forvalg's durability settings (WAL, synchronous=FULL)."""
    tree.con.execute("PRAGMA journal_mode=WAL")
    tree.con.execute("PRAGMA synchronous=FULL")
    return tree


def run_appends(
    args: argparse.Namespace, workdir: Path, results: Results, say: Callable[[str], None]
) -> None:
    n, batch = args.appends, args.batch
    batches = [events(i, min(batch, n - i)) for i in range(0, n, batch)]
    entries, _ = sealed(0, n, GENESIS_PREV)  # what forvalg will store: pymerkle's input
    entry_batches = [entries[i : i + batch] for i in range(0, n, batch)]
    say(f"  {n:,} events generated, mean {sum(map(len, entries)) / n:.0f} bytes sealed")

    profile = cProfile.Profile() if args.profile else None
    forvalg_root = b""
    for attempt in range(args.runs):
        engine = fresh_engine(workdir / "appends.db")
        sequencer = Sequencer(engine)
        with timed(profile if attempt == 0 else None) as t:
            for chunk in batches:
                sequencer.append(chunk, at=T0)
        with engine.connect() as connection:
            stored = head(connection)
        engine.dispose()
        if stored.size != n:
            raise SystemExit(f"ledger: appended {n}, the head says {stored.size}")
        forvalg_root = stored.root
        impl = f"forvalg Sequencer.append b={batch}"
        results.add(Row("appends", impl, n, t, n / t.seconds, note=f"run {attempt + 1}"), say)
    if profile is not None:
        print_profile(profile, "Sequencer.append", args.profile)

    for label, setup in (
        ("pymerkle SqliteTree (own journal)", None),
        ("pymerkle SqliteTree WAL+FULL", wal),
    ):
        for attempt in range(args.runs):
            path = workdir / "pymerkle-appends.db"
            for stale in path.parent.glob(path.name + "*"):
                stale.unlink()
            tree = SqliteTree(str(path))
            if setup is not None:
                setup(tree)
            with timed() as t:
                for chunk in entry_batches:
                    tree.append_entries(chunk)
            same = tree.get_root() == forvalg_root
            tree.close()
            note = f"run {attempt + 1}; " + ("root = forvalg's" if same else "ROOT DIFFERS")
            results.add(Row("appends", f"{label} b={batch}", n, t, n / t.seconds, note=note), say)
            if not same:
                results.checks.append(f"appends: {label} root differs from forvalg's")

    # Floor: the rows forvalg writes (entry, leaf hash, the subtrees it closes),
    # precomputed, written with bare sqlite3 in one transaction per batch, WAL and
    # synchronous=FULL.
    compact, rows = CompactRange(), []
    for chunk in entry_batches:
        leaves = [leaf_hash(e) for e in chunk]
        first = compact.size
        closes = compact.extend(leaves)
        rows.append([(first + i, e.decode(), leaves[i], closes[i]) for i, e in enumerate(chunk)])
    for attempt in range(args.runs):
        path = workdir / "floor.db"
        for stale in path.parent.glob(path.name + "*"):
            stale.unlink()
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute(
            "CREATE TABLE e (idx INTEGER PRIMARY KEY, entry TEXT, leaf BLOB, closes BLOB)"
        )
        with timed() as t:
            for entry_rows in rows:
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany("INSERT INTO e VALUES (?, ?, ?, ?)", entry_rows)
                connection.execute("COMMIT")
        connection.close()
        impl = f"floor: sqlite3 executemany b={batch}"
        results.add(Row("appends", impl, n, t, n / t.seconds, note=f"run {attempt + 1}"), say)


# --------------------------------------------------------------------------- proof stores


def _progress(what: str, done: int, total: int, started: float, say: Callable[[str], None]) -> None:
    took = time.perf_counter() - started
    say(f"  {what}: {done:>11,} / {total:,} entries, {took:6.0f}s")


def forvalg_store(args: argparse.Namespace, say: Callable[[str], None]) -> tuple[Engine, bytes]:
    """The cached forvalg database of --proof-size entries (built or resumed here)."""
    n = args.proof_size
    path = args.cache_dir / f"ledger-{n}-{GENERATOR}-{LAYOUT}.db"
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as connection:
        size = head(connection).size
        if size and stored_entries(connection, start=0, end=1)[0].encode() != seal(
            event(0), 0, GENESIS_PREV
        ):
            raise SystemExit(f"ledger: {path} holds other entries; delete it")
    if size > n:
        raise SystemExit(f"ledger: {path} holds {size:,} entries, more than {n:,}")
    if size < n:
        say(f"  building {path} from {size:,} to {n:,} entries (batches of {BUILD_BATCH:,})")
        sequencer, started, last = Sequencer(engine), time.perf_counter(), time.perf_counter()
        for start in range(size, n, BUILD_BATCH):
            sequencer.append(events(start, min(BUILD_BATCH, n - start)), at=T0)
            if time.perf_counter() - last > 15:
                last = time.perf_counter()
                _progress("forvalg", min(n, start + BUILD_BATCH), n, started, say)
        _progress("forvalg built", n, n, started, say)
    else:
        say(f"  reusing {path} ({n:,} entries, {path.stat().st_size / 1e9:.1f} GB)")
    with engine.connect() as connection:
        return engine, head(connection).root


def pymerkle_store(args: argparse.Namespace, say: Callable[[str], None]) -> SqliteTree:
    """The cached pymerkle database of the same --proof-size entries."""
    n = args.proof_size
    path = args.cache_dir / f"pymerkle-{n}-{GENERATOR}.db"
    tree = SqliteTree(str(path))
    size = tree.get_size()
    if size > n:
        raise SystemExit(f"ledger: {path} holds {size:,} entries, more than {n:,}")
    if size:
        if tree.get_entry(1) != seal(event(0), 0, GENESIS_PREV):
            raise SystemExit(f"ledger: {path} holds other entries; delete it")
    if size < n:
        say(f"  building {path} from {size:,} to {n:,} entries (batches of {BUILD_BATCH:,})")
        prev = tree.get_leaf(size) if size else GENESIS_PREV
        started, last = time.perf_counter(), time.perf_counter()
        for start in range(size, n, BUILD_BATCH):
            chunk, prev = sealed(start, min(BUILD_BATCH, n - start), prev)
            tree.append_entries(chunk)
            if time.perf_counter() - last > 15:
                last = time.perf_counter()
                _progress("pymerkle", min(n, start + BUILD_BATCH), n, started, say)
        _progress("pymerkle built", n, n, started, say)
    else:
        say(f"  reusing {path} ({n:,} entries, {path.stat().st_size / 1e9:.1f} GB)")
    return tree


# --------------------------------------------------------------------------- proofs


def challenges(
    n: int, count: int, seed: int
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Random (index, size) with index < size <= n, and (old, new) with 0 < old < new <= n."""
    rng = random.Random(seed)
    inclusion = []
    for _ in range(count):
        index = rng.randrange(n)
        inclusion.append((index, rng.randint(index + 1, n)))
    consistency = []
    for _ in range(count):
        old = rng.randint(1, n - 1)
        consistency.append((old, rng.randint(old + 1, n)))
    return inclusion, consistency


def run_proofs(
    args: argparse.Namespace, results: Results, say: Callable[[str], None]
) -> tuple[Engine | None, int]:
    n = args.proof_size
    engine, root = forvalg_store(args, say)
    inclusion, consistency = challenges(n, args.proofs, seed=6962)
    found: dict[str, list[list[bytes]]] = {"inclusion": [], "consistency": []}
    profile = cProfile.Profile() if args.profile else None
    with engine.connect() as connection:
        nodes = StoredNodes(connection)
        inclusion_proof(nodes, 0, n)  # the first query opens the transaction
        for part, pairs, prove in (
            ("inclusion", inclusion, inclusion_proof),
            ("consistency", consistency, consistency_proof),
        ):
            times = []
            with timed(profile) as t:
                for a, b in pairs:
                    started = time.perf_counter()
                    found[part].append(prove(StoredNodes(connection), a, b))
                    times.append(time.perf_counter() - started)
            results.add(latency_row(part, "forvalg StoredNodes, one connection", times, t), say)
        if profile is not None:
            print_profile(profile, "proofs from StoredNodes", args.profile)
        # Correctness (not timed): the proofs check against roots from the store.
        if root_at(nodes, n) != root:
            results.checks.append("proofs: root_at(size) differs from the head's root")
        for (index, size), proof in list(zip(inclusion, found["inclusion"], strict=True))[:50]:
            leaf = nodes.nodes([NodeId(0, index)])[NodeId(0, index)]
            verify_inclusion(leaf, index, size, proof, root_at(nodes, size))
        for (old, new), proof in list(zip(consistency, found["consistency"], strict=True))[:50]:
            verify_consistency(old, new, root_at(nodes, old), root_at(nodes, new), proof)

    # As a request sees it: a pooled connection and a transaction (BEGIN IMMEDIATE) each.
    times = []
    with timed() as t:
        for index, size in inclusion[: args.proofs // 2]:
            started = time.perf_counter()
            with engine.connect() as connection:
                inclusion_proof(StoredNodes(connection), index, size)
            times.append(time.perf_counter() - started)
    results.add(latency_row("inclusion", "forvalg, connection+transaction each", times, t), say)

    if args.pymerkle_proofs:
        tree = pymerkle_store(args, say)
        count = min(args.pymerkle_proofs, args.proofs)
        kept = []
        for part, pairs, prove in (
            ("inclusion", inclusion[:count], lambda a, b: tree.prove_inclusion(a + 1, b)),
            ("consistency", consistency[:count], tree.prove_consistency),
        ):
            times, same = [], 0
            with timed() as t:
                for k, (a, b) in enumerate(pairs):
                    started = time.perf_counter()
                    proof = prove(a, b)
                    times.append(time.perf_counter() - started)
                    if part == "inclusion":
                        same += proof.path[1:] == found[part][k]
                    elif k < 50:
                        kept.append(proof)
            if part == "inclusion":
                note = f"{same}/{count} paths = forvalg's"
            else:  # a layout of its own (see the RFC check): verify against forvalg's roots
                with engine.connect() as connection:
                    nodes = StoredNodes(connection)
                    same = sum(
                        _accepts(
                            pymerkle_verify_consistency, root_at(nodes, a), root_at(nodes, b), p
                        )
                        for (a, b), p in zip(consistency, kept, strict=False)
                    )
                note = f"{same}/{len(kept)} verify against forvalg's roots"
            results.add(latency_row(part, "pymerkle SqliteTree (LRU cache)", times, t, note), say)
        with timed() as t:
            same_root = tree.get_root(n) == root
        say(
            f"  pymerkle root at {n:,}: {'= forvalg' if same_root else 'DIFFERS'} "
            f"(get_root: {t.seconds:.1f}s)"
        )
        if not same_root:
            results.checks.append("proofs: pymerkle's root differs from forvalg's")
        tree.close()
    return engine, n


# --------------------------------------------------------------------------- verify


def write_export(
    directory: Path, count: int, store: tuple[Engine | None, int], say: Callable[[str], None]
) -> bytes:
    """entries.jsonl of `count` entries, a signed checkpoint and key.pub, as `forvalg
    ledger export` writes them; the root comes from the proof store when it covers them."""
    directory.mkdir(parents=True)
    compact, prev, started = CompactRange(), GENESIS_PREV, time.perf_counter()
    with (directory / "entries.jsonl").open("wb") as out:
        for start in range(0, count, 100_000):
            chunk, prev = sealed(start, min(100_000, count - start), prev)
            compact.extend([leaf_hash(e) for e in chunk], record=False)
            out.write(b"\n".join(chunk) + b"\n")
    root = compact.root()
    engine, size = store
    if engine is not None and count <= size:
        with engine.connect() as connection:
            if root_at(StoredNodes(connection), count) != root:
                raise SystemExit("ledger: the export's root differs from the store's")
        say(f"  export root = the proof store's root_at({count:,})")
    signer = Signer.generate("bench.forvalg.example")
    (directory / "checkpoint").write_text(Checkpoint(ORIGIN, count, root).sign(signer))
    (directory / "key.pub").write_text(str(signer.verifier) + "\n")
    megabytes = (directory / "entries.jsonl").stat().st_size / 1e6
    took = time.perf_counter() - started
    say(f"  wrote {count:,} entries ({megabytes:,.0f} MB) in {took:.1f}s (not timed)")
    return root


def run_verify(
    args: argparse.Namespace,
    workdir: Path,
    store: tuple[Engine | None, int],
    results: Results,
    say: Callable[[str], None],
) -> None:
    n = args.entries
    directory = workdir / "export"
    root = write_export(directory, n, store, say)
    entries = directory / "entries.jsonl"

    profile = cProfile.Profile() if args.profile else None
    for attempt in range(args.runs):
        with timed(profile if attempt == 0 else None) as t:
            verify_export(entries, n, root)
        results.add(
            Row("verify", "forvalg verify_export", n, t, n / t.seconds, note=f"run {attempt + 1}"),
            say,
        )
    if profile is not None:
        print_profile(profile, "verify_export", args.profile)

    command = [str(VERIFY_SCRIPT), "--export", str(directory)]
    for attempt in range(args.runs):
        with timed() as t:
            done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not done.stdout.startswith("OK"):
            raise SystemExit(f"ledger: forvalg-verify failed: {done.stdout}{done.stderr}")
        results.add(
            Row("verify", "forvalg-verify --export", n, t, n / t.seconds,
                note=f"run {attempt + 1}; {done.stdout.strip()[:40]}"),
            say,
        )  # fmt: skip

    # Floor: read the lines and hash the leaves, no tree.
    with timed() as t, entries.open("rb") as handle:
        for lines in read_lines(handle):
            for line in lines:
                hashlib.sha256(b"\x00" + line).digest()
    results.add(Row("verify", "floor: read + leaf hashes only", n, t, n / t.seconds), say)

    count = min(n, args.pymerkle_verify)
    if count:
        with timed() as t, entries.open("rb") as handle:
            tree = InmemoryTree()
            left = count
            for lines in read_lines(handle):
                tree.append_entries(lines[:left])
                left -= min(left, len(lines))
                if not left:
                    break
            pymerkle_root = tree.get_root()
        del tree
        same = count != n or pymerkle_root == root
        results.add(
            Row("verify", "pymerkle InmemoryTree from the lines", count, t, count / t.seconds,
                note="root = checkpoint" if count == n and same else
                ("ROOT DIFFERS" if not same else f"first {count:,} lines")),
            say,
        )  # fmt: skip


# --------------------------------------------------------------------------- report


def summary(results: Results, args: argparse.Namespace) -> str:
    def best(part: str, impl: str) -> Row | None:
        rows = [r for r in results.rows if r.part == part and r.impl.startswith(impl)]
        return max(rows, key=lambda r: r.rate or 0.0) if rows else None

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    out = [
        f"{'target':40} {'forvalg':>22} {'pymerkle':>36} {'forvalg/pymerkle':>17}  verdict",
        "-" * 128,
    ]
    runs = f"best of {args.runs}"
    a = best("appends", "forvalg")
    for impl, label in (
        ("pymerkle SqliteTree (own", "own journal"),
        ("pymerkle SqliteTree WAL", "WAL"),
    ):
        p = best("appends", impl)
        if a is None or a.rate is None:
            break
        theirs, ratio = (
            (f"{p.rate:,.0f}/s {label}", f"{a.rate / p.rate:.2f}x") if p and p.rate else ("-", "-")
        )
        out.append(
            f"{'1 appends/s, b=' + f'{args.batch:,}' + ' (' + runs + ') >= 100,000':40} "
            f"{a.rate:>20,.0f}/s {theirs:>36} {ratio:>17}  "
            f"{verdict(a.rate >= TARGET_APPENDS_PER_S)}"
        )
    size = f"{args.proof_size / 1e6:g} M" if args.proof_size >= 1e6 else f"{args.proof_size:,}"
    for part in ("inclusion", "consistency"):
        f = best(part, "forvalg StoredNodes")
        if f is None or f.mean_ms is None or f.p99_ms is None:
            continue
        p = best(part, "pymerkle")
        theirs = ratio = "-"
        if p is not None and p.mean_ms is not None and p.warm_ms is not None:
            theirs = f"{p.mean_ms:.1f} (warm {p.warm_ms:.1f}) / p99 {p.p99_ms:.0f} ms"
            ratio = f"{p.mean_ms / f.mean_ms:,.0f}x (warm {p.warm_ms / f.mean_ms:,.0f}x)"
        out.append(
            f"{'2 ' + part + ' at ' + size + ', mean/p99 <= 1 ms':40} "
            f"{f'{f.mean_ms:.3f} / p99 {f.p99_ms:.3f} ms':>22} {theirs:>36} {ratio:>17}  "
            f"{verdict(f.mean_ms <= TARGET_PROOF_MS and f.p99_ms <= TARGET_PROOF_MS)}"
        )
    v, c, p = (
        best("verify", "forvalg verify_export"),
        best("verify", "forvalg-verify"),
        best("verify", "pymerkle"),
    )
    if v is not None and v.rate is not None:
        theirs, ratio = (
            (f"{p.rate:,.0f}/s InmemoryTree", f"{v.rate / p.rate:.1f}x")
            if p and p.rate
            else ("-", "-")
        )
        out.append(
            f"{'3 verify_export (' + runs + ') >= 500,000/s':40} {v.rate:>20,.0f}/s "
            f"{theirs:>36} {ratio:>17}  {verdict(v.rate >= TARGET_VERIFY_PER_S)}"
        )
    if c is not None and c.rate is not None:
        out.append(
            f"{'3 forvalg-verify --export (' + runs + ')':40} {c.rate:>20,.0f}/s {'':>36} "
            f"{'':>17}  {verdict(c.rate >= TARGET_VERIFY_PER_S)}"
        )
    out.append(
        "forvalg/pymerkle: speed ratio (rate over rate, or pymerkle's mean time over forvalg's; "
        "warm: pymerkle's second half, its subtree cache filled); > 1: forvalg is faster."
    )
    return "\n".join(out)


def full_table(results: Results) -> str:
    head_ = f"{'part':11} {'implementation':34} {'count':>10} {'wall':>9} {'rate':>13}"
    return "\n".join([head_, "-" * 150, *(_line(r) for r in results.rows)]) + (
        "\ncpu: CPU-seconds per wall-second of this process (and forvalg-verify's), 100% = one "
        "core; others: the rest of the machine (other users' load slows a run down)."
    )


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            "Time the ledger on SQLite (appends, proofs from the store, forvalg-verify) "
            "beside pymerkle over the same entries."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--appends", type=int, default=300_000, help="entries appended, fresh DB")
    parser.add_argument("--batch", type=int, default=1_000, help="entries per append transaction")
    parser.add_argument(
        "--runs",
        type=int,
        default=3,
        help="repetitions of the append and verify runs (best counts)",
    )
    parser.add_argument(
        "--proof-size", type=int, default=10_000_000, help="entries in the proof database"
    )
    parser.add_argument("--proofs", type=int, default=5_000, help="proofs of each kind (forvalg)")
    parser.add_argument(
        "--pymerkle-proofs",
        type=int,
        default=100,
        help="proofs of each kind for pymerkle (the first of the same challenges; 0: skip)",
    )
    parser.add_argument(
        "--entries", type=int, default=2_000_000, help="entries in the export for verify"
    )
    parser.add_argument(
        "--pymerkle-verify",
        type=int,
        default=500_000,
        help="lines pymerkle's InmemoryTree recomputes (memory-hungry; 0: skip)",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "forvalg-bench",
        help="where the proof databases are kept between runs",
    )
    parser.add_argument(
        "--parts", default="rfc,appends,proofs,verify", help="comma-separated parts to run"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run (< 30 s)")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="cProfile appends, proofs and verify_export and print the top N functions",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.appends, args.proof_size, args.proofs = 20_000, 100_000, 500
        args.pymerkle_proofs, args.entries, args.pymerkle_verify = 50, 50_000, 20_000
    args.parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    if args.parts - {"rfc", "appends", "proofs", "verify"}:
        parser.error("--parts: rfc, appends, proofs, verify")
    if min(args.appends, args.batch, args.proofs, args.entries) < 1 or args.proof_size < 2:
        parser.error("sizes must be positive (and --proof-size at least 2)")
    return args


def _terminate(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)

    def say(message: str) -> None:
        print(message, flush=True)

    say(
        f"ledger: appends {args.appends:,} (batch {args.batch:,}), proofs at "
        f"{args.proof_size:,} entries ({args.proofs:,} each; pymerkle {args.pymerkle_proofs:,}), "
        f"verify {args.entries:,} entries; pymerkle {pymerkle_version}; SQLite "
        f"{sqlite3.sqlite_version}; {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.2f}"
    )
    check_generator()
    results = Results()
    workdir = Path(tempfile.mkdtemp(prefix="forvalg-bench-ledger-"))
    store: tuple[Engine | None, int] = (None, 0)
    started = time.perf_counter()
    try:
        if "rfc" in args.parts:
            say("\n[RFC 6962 test tree]")
            results.rfc = rfc6962_check(say)
        if "appends" in args.parts:
            say("\n[appends: fresh databases]")
            run_appends(args, workdir, results, say)
        if "proofs" in args.parts:
            say(f"\n[proofs at {args.proof_size:,} entries]")
            store = run_proofs(args, results, say)
        if "verify" in args.parts:
            say("\n[verify]")
            run_verify(args, workdir, store, results, say)
    except KeyboardInterrupt:
        print("\nledger: interrupted; scratch files removed", file=sys.stderr)
        return 130
    finally:
        if store[0] is not None:
            store[0].dispose()
        shutil.rmtree(workdir, ignore_errors=True)
    say(f"\n{full_table(results)}\n\n{summary(results, args)}")
    say("\nRFC 6962 test tree:\n" + "\n".join("  " + line for line in results.rfc))
    say(f"\nload {os.getloadavg()[0]:.2f}; {time.perf_counter() - started:.0f}s in all")
    for failure in results.checks:
        say(f"CHECK FAILED: {failure}")
    return 1 if results.checks else 0


if __name__ == "__main__":
    sys.exit(main())
