"""A kill -9 in the middle of a batch append leaves, after restart, a log whose size
equals its stored entries, whose root matches, with no acknowledged entry lost and no
half batch visible. A real subprocess (`ledger_appender.py`) appends batches of 1000
and is killed with SIGKILL at random moments, three times per database."""

from __future__ import annotations

import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from forvalg.ledger.entries import GENESIS_PREV, seal
from forvalg.ledger.merkle import MemoryTree, leaf_hash, root_at
from forvalg.store import ledger as ledger_store
from forvalg.store.engine import make_engine
from forvalg.store.ledger import Sequencer, StoredNodes
from forvalg.store.tables import ledger_entries, ledger_heads

from ..conftest import T0

APPENDER = Path(__file__).with_name("ledger_appender.py")
BATCH = 1000
WAIT_S = 30.0


def _events(batch: int) -> list[bytes]:
    return [b'{"batch":%d,"i":%d}' % (batch, i) for i in range(BATCH)]


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


class Appender:
    """The appender subprocess, its stdout read line by line in a thread."""

    def __init__(self, url: str, first: int, stderr: Path) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self._stderr_path = stderr
        self._stderr = stderr.open("w")
        self.process = subprocess.Popen(
            [sys.executable, str(APPENDER), url, str(first)],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=os.environ | {"PYTHONUNBUFFERED": "1"},
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def next_line(self) -> str:
        try:
            line = self.lines.get(timeout=WAIT_S)
        except queue.Empty:
            pytest.fail(f"the appender said nothing for {WAIT_S} s; {self.stderr()}")
        if line is None:
            pytest.fail(f"the appender ended by itself: {self.stderr()}")
        self.seen.append(line)
        return line

    def kill(self) -> list[str]:
        """SIGKILL, wait, and every line it printed (the rest of stdout included)."""
        self.process.send_signal(signal.SIGKILL)
        code = self.process.wait(timeout=WAIT_S)
        self._reader.join(timeout=WAIT_S)
        while (line := self.lines.get_nowait()) is not None:
            self.seen.append(line)
        assert self.process.stdout is not None
        self.process.stdout.close()
        self._stderr.close()
        assert code == -signal.SIGKILL, (code, self.stderr())
        return self.seen

    def stderr(self) -> str:
        self._stderr.flush()
        return self._stderr_path.read_text()[-3000:]


def _acks(lines: list[str]) -> dict[int, int]:
    found = {}
    for line in lines:
        if line.startswith("ACK "):
            _, batch, size = line.split()
            found[int(batch)] = int(size)
    return found


def _check(engine: Engine, acknowledged: dict[int, int]) -> int:
    """The log after a restart: whole batches, a matching root, every ACK present."""
    with engine.connect() as connection:
        head = ledger_store.head(connection)
        count = connection.execute(select(func.count()).select_from(ledger_entries)).scalar_one()
        rows = connection.execute(
            select(ledger_entries.c.idx, ledger_entries.c.entry, ledger_entries.c.leaf).order_by(
                ledger_entries.c.idx
            )
        ).all()
        heads = list(connection.execute(select(ledger_heads.c.size)).scalars())
        closes = select(func.sum(func.length(ledger_entries.c.closes)))
        nodes = int(connection.execute(closes).scalar_one() or 0) // 32
        stored_root = root_at(StoredNodes(connection), head.size)
    size = head.size
    assert count == size
    assert [r[0] for r in rows] == list(range(size))
    assert size % BATCH == 0, f"a half batch is visible: {size} entries"
    assert all(h % BATCH == 0 for h in heads), sorted(heads)
    assert max(heads, default=0) == size
    # Every complete subtree of the tree of `size`, and no node of a lost batch.
    assert nodes == sum(size >> level for level in range(1, size.bit_length()))
    # The entries are exactly batches 0 .. size/1000 - 1, sealed in a chain.
    prev = GENESIS_PREV
    entries = []
    for idx, entry, leaf in rows:
        expected = seal(b'{"batch":%d,"i":%d}' % divmod(idx, BATCH), idx, prev)
        assert entry.encode() == expected, idx
        prev = leaf_hash(expected)
        assert bytes(leaf) == prev, idx
        entries.append(expected)
    root = MemoryTree(entries).root()
    assert head.root == root
    assert stored_root == root
    for batch, acked_size in acknowledged.items():
        assert acked_size == (batch + 1) * BATCH, (batch, acked_size)
        assert acked_size <= size, f"acknowledged batch {batch} is lost: the log has {size}"
    return size


# How long after an ACK the kill comes, as a fraction of the time one batch takes:
# right after it (the next batch is being sealed), and at random moments, which on a
# fast disk are mostly inside the next batch's transaction.
KILLS = ["right-after-ack", "within-next-batch", "random"]


def test_kill_9_during_batch_appends_loses_nothing_acknowledged(
    database_url: str, db: Engine, tmp_path: Path
) -> None:
    seed = random.randrange(1 << 32)
    rng = random.Random(seed)
    acknowledged: dict[int, int] = {}
    size = _check(db, acknowledged)
    assert size == 0
    for round_, kill in enumerate(KILLS):
        appender = Appender(database_url, size // BATCH, tmp_path / f"appender-{round_}.err")
        assert appender.next_line() == "READY"
        wanted = rng.randint(2, 4)
        stamps = []
        for _ in range(wanted):
            assert appender.next_line().startswith("ACK ")
            stamps.append(time.monotonic())
        per_batch = max(0.005, (stamps[-1] - stamps[0]) / max(1, len(stamps) - 1))
        if kill == "within-next-batch":
            time.sleep(rng.uniform(0.2, 0.9) * per_batch)
        elif kill == "random":
            time.sleep(rng.uniform(0, 3) * per_batch)
        lines = appender.kill()
        acks = _acks(lines)
        assert len(acks) >= wanted, (seed, lines)
        acknowledged |= acks

        size = _check(db, acknowledged)

        assert size >= max(acks.values()), (seed, kill, size, acks)
    # After the last crash a new sequencer carries on, and the root still matches.
    head = Sequencer(db).append(_events(size // BATCH), at=T0)
    assert head.size == size + BATCH
    assert _check(db, acknowledged) == head.size
