"""The ledger's SQL storage on both databases: the inbox and the sequencer, the stored
tree against an in-memory reference, proofs from stored nodes, the append-only
triggers, concurrent sequencers, and the keeper's checkpoints."""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Iterator, Sequence

import pytest
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.exc import DBAPIError

from forvalg.bootstrap import Services
from forvalg.ledger.entries import GENESIS_PREV, seal
from forvalg.ledger.merkle import (
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_at,
    verify_consistency,
    verify_inclusion,
)
from forvalg.ledger.note import Checkpoint
from forvalg.store import ledger as ledger_store
from forvalg.store.engine import make_engine
from forvalg.store.ledger import Sequencer, StoredNodes
from forvalg.store.tables import (
    ledger_checkpoints,
    ledger_entries,
    ledger_heads,
    ledger_inbox,
)

from ..conftest import LEDGER_SIGNER, T0

LEDGER_TABLES = ("ledger_entries", "ledger_heads", "ledger_checkpoints")


def _sealed(events: Sequence[bytes], start: int = 0, prev: bytes = GENESIS_PREV) -> list[bytes]:
    """The entries the sequencer must store for `events`, computed here independently."""
    found = []
    for index, event in enumerate(events, start):
        entry = seal(event, index, prev)
        prev = leaf_hash(entry)
        found.append(entry)
    return found


def _stored(engine: Engine) -> list[tuple[int, bytes, bytes]]:
    """(idx, entry, leaf) of every stored entry, in index order."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(ledger_entries.c.idx, ledger_entries.c.entry, ledger_entries.c.leaf).order_by(
                ledger_entries.c.idx
            )
        ).all()
    return [(r[0], r[1].encode(), bytes(r[2])) for r in rows]


def _inbox(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(
            connection.execute(select(ledger_inbox.c.event).order_by(ledger_inbox.c.seq)).scalars()
        )


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def _head(engine: Engine) -> ledger_store.TreeHead:
    with engine.connect() as connection:
        return ledger_store.head(connection)


# The inbox and integration.


def test_queued_events_wait_in_the_inbox_until_integrated(
    services: Services, engine: Engine
) -> None:
    services.operators.add("alfatel", "Alfa Telecom AS", "1501")
    services.operators.add("betanett", "Beta Nett AS", "1502")
    services.users.add("Nkom", "regulator")
    queued = _inbox(engine)
    assert len(queued) >= 3
    assert _count(engine, "ledger_entries") == 0
    assert _head(engine) == ledger_store.TreeHead(0, MemoryTree().root())

    assert services.keeper.integrate() == len(queued)

    assert _inbox(engine) == []
    stored = _stored(engine)
    assert [idx for idx, _, _ in stored] == list(range(len(queued)))
    expected = _sealed([e.encode() for e in queued])
    assert [entry for _, entry, _ in stored] == expected
    for (_, entry, leaf), event in zip(stored, queued, strict=True):
        assert leaf == leaf_hash(entry)
        assert json.loads(entry)["event"] == json.loads(event)
    head = _head(engine)
    assert head.size == len(queued)
    assert head.root == MemoryTree(expected).root()
    principals = [json.loads(e)["event"]["principal"] for e in expected]
    assert principals[0] == "system:wholesale-admin"
    assert principals[-1] == "system:user-admin"
    # Nothing queued: nothing more to do, and the head stays.
    assert services.keeper.integrate() == 0
    assert _head(engine) == head


def test_events_queued_after_integration_extend_the_same_chain(
    services: Services, engine: Engine
) -> None:
    services.operators.add("alfatel", "Alfa Telecom AS", "1501")
    services.keeper.integrate()
    first = _stored(engine)
    services.operators.add("betanett", "Beta Nett AS", "1502")
    later = _inbox(engine)

    services.keeper.integrate()

    stored = _stored(engine)
    assert stored[: len(first)] == first
    assert [idx for idx, _, _ in stored] == list(range(len(first) + len(later)))
    entries = [entry for _, entry, _ in stored]
    assert entries[len(first) :] == _sealed([e.encode() for e in later], len(first), first[-1][2])
    assert _head(engine).root == MemoryTree(entries).root()


# Batches through Sequencer.append, against MemoryTree.

BATCHES = (1, 2, 7, 64, 1000)


def _batch_events(batch: int, n: int) -> list[bytes]:
    return [b'{"batch":%d,"i":%d}' % (batch, i) for i in range(n)]


@pytest.fixture
def appended(engine: Engine) -> list[bytes]:
    """The sealed entries of batches of 1, 2, 7, 64 and 1000 events, appended in turn;
    each head is checked against the reference as it is made."""
    sequencer = Sequencer(engine)
    events: list[bytes] = []
    for number, n in enumerate(BATCHES):
        batch = _batch_events(number, n)
        head = sequencer.append(batch, at=T0)
        events += batch
        reference = MemoryTree(_sealed(events))
        assert head == ledger_store.TreeHead(len(events), reference.root())
        assert _head(engine) == head
    sealed = _sealed(events)
    assert [entry for _, entry, _ in _stored(engine)] == sealed
    return sealed


def test_batches_of_every_size_give_the_reference_root(
    engine: Engine, appended: list[bytes]
) -> None:
    tree = MemoryTree(appended)
    assert _head(engine) == ledger_store.TreeHead(len(appended), tree.root())
    for _, entry, leaf in _stored(engine):
        assert leaf == leaf_hash(entry)
    with engine.connect() as connection:
        sizes = list(connection.execute(select(ledger_heads.c.size).order_by("size")).scalars())
        closes = select(func.sum(func.length(ledger_entries.c.closes)))
        nodes = int(connection.execute(closes).scalar_one() or 0) // 32
    assert sizes == [1, 3, 10, 74, 1074]
    # Every complete subtree above the leaves, and nothing else, is stored.
    n = len(appended)
    assert nodes == sum(n >> level for level in range(1, n.bit_length()))


def _reference_roots(entries: Sequence[bytes]) -> list[bytes]:
    """roots[k] is the root of the first k entries."""
    tree = MemoryTree()
    roots = [tree.root()]
    for entry in entries:
        tree.append(entry)
        roots.append(tree.root())
    return roots


def test_stored_nodes_prove_inclusion_at_every_kind_of_size(
    engine: Engine, appended: list[bytes]
) -> None:
    n = len(appended)
    tree = MemoryTree(appended)
    roots = _reference_roots(appended)
    rng = random.Random(6962)
    boundaries = [1, 3, 10, 74, 1074]
    sizes = {*boundaries, 2, 4, 5, 8, 9, 11, 63, 64, 65, 73, 75, 127, 128, 129, 512, 1023, 1024}
    sizes |= {rng.randint(1, n) for _ in range(40)}
    pairs = [(0, s) for s in sizes] + [(s - 1, s) for s in sizes]
    pairs += [(rng.randrange(s), s) for s in sizes for _ in range(3)]
    with engine.connect() as connection:
        stored = StoredNodes(connection)
        for index, size in pairs:
            proof = inclusion_proof(stored, index, size)
            assert proof == inclusion_proof(tree, index, size), (index, size)
            verify_inclusion(leaf_hash(appended[index]), index, size, proof, roots[size])


def test_stored_nodes_prove_consistency_between_any_two_sizes(
    engine: Engine, appended: list[bytes]
) -> None:
    n = len(appended)
    tree = MemoryTree(appended)
    roots = _reference_roots(appended)
    rng = random.Random(9162)
    pairs = [(0, n), (n, n), (1, n), (3, 10), (10, 74), (74, 1074), (5, 6), (64, 65), (63, 1073)]
    for _ in range(80):
        a, b = rng.randint(0, n), rng.randint(0, n)
        pairs.append((min(a, b), max(a, b)))
    with engine.connect() as connection:
        stored = StoredNodes(connection)
        for old, new in pairs:
            proof = consistency_proof(stored, old, new)
            assert proof == consistency_proof(tree, old, new), (old, new)
            verify_consistency(old, new, roots[old], roots[new], proof)


def test_root_at_any_past_size_is_the_reference_root(engine: Engine, appended: list[bytes]) -> None:
    roots = _reference_roots(appended)
    sample = [0, 1, 2, 3, 4, 9, 10, 11, 33, 74, 100, 511, 512, 513, 1000, 1073, 1074]
    sample += random.Random(1).sample(range(len(appended) + 1), 60)
    with engine.connect() as connection:
        stored = StoredNodes(connection)
        for size in sample:
            assert root_at(stored, size) == roots[size], size


# The append-only triggers.


@pytest.fixture
def filled(services: Services, engine: Engine) -> Engine:
    """A row in every ledger table, and one event still in the inbox."""
    Sequencer(engine).append(_batch_events(0, 5), at=T0)
    services.keeper.checkpoint()
    services.operators.add("alfatel", "Alfa Telecom AS", "1501")
    for table in (*LEDGER_TABLES, "ledger_inbox"):
        assert _count(engine, table) > 0, table
    return engine


def _snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as connection:
        return {
            t: [tuple(r) for r in connection.execute(text(f"SELECT * FROM {t} ORDER BY 1"))]
            for t in (*LEDGER_TABLES, "ledger_inbox")
        }


CHANGES = {
    "ledger_entries": "UPDATE ledger_entries SET entry = entry || ' '",
    "ledger_heads": "UPDATE ledger_heads SET size = size + 1000",
    "ledger_checkpoints": "UPDATE ledger_checkpoints SET note = 'forged'",
}


@pytest.mark.parametrize("table", LEDGER_TABLES)
def test_ledger_tables_refuse_update(filled: Engine, table: str) -> None:
    before = _snapshot(filled)
    with pytest.raises(DBAPIError, match="append-only"), filled.begin() as connection:
        connection.execute(text(CHANGES[table]))
    assert _snapshot(filled) == before


@pytest.mark.parametrize("table", LEDGER_TABLES)
@pytest.mark.parametrize("where", ["", " WHERE 1 = 1"], ids=["all", "where"])
def test_ledger_tables_refuse_delete(filled: Engine, table: str, where: str) -> None:
    before = _snapshot(filled)
    with pytest.raises(DBAPIError, match="append-only"), filled.begin() as connection:
        connection.execute(text(f"DELETE FROM {table}{where}"))
    assert _snapshot(filled) == before


def test_the_last_entry_cannot_be_deleted_either(filled: Engine) -> None:
    before = _snapshot(filled)
    size = _head(filled).size
    for table, column, value in [
        ("ledger_entries", "idx", size - 1),
        ("ledger_heads", "size", size),
    ]:
        with pytest.raises(DBAPIError, match="append-only"), filled.begin() as connection:
            connection.execute(text(f"DELETE FROM {table} WHERE {column} = :v"), {"v": value})
    assert _snapshot(filled) == before


def test_the_inbox_refuses_update(filled: Engine) -> None:
    before = _snapshot(filled)
    with pytest.raises(DBAPIError, match="append-only"), filled.begin() as connection:
        connection.execute(text("UPDATE ledger_inbox SET event = '{}'"))
    assert _snapshot(filled) == before


# SQLite has no TRUNCATE, and no session setting to guard the inbox's DELETE with.
postgres_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@postgres_only
@pytest.mark.parametrize("table", [*LEDGER_TABLES, "ledger_inbox"])
def test_postgres_refuses_truncate(filled: Engine, table: str) -> None:
    before = _snapshot(filled)
    with pytest.raises(DBAPIError, match="append-only"), filled.begin() as connection:
        connection.execute(text(f"TRUNCATE {table}"))
    assert _snapshot(filled) == before


@postgres_only
def test_postgres_inbox_refuses_delete_outside_the_sequencer(
    services: Services, filled: Engine
) -> None:
    before = _snapshot(filled)
    for statement in ("DELETE FROM ledger_inbox", "UPDATE ledger_inbox SET event = event"):
        with pytest.raises(DBAPIError, match="append-only"), filled.begin() as connection:
            connection.execute(text(statement))
    assert _snapshot(filled) == before
    queued = _inbox(filled)
    size = _head(filled).size

    # The sequencer itself still deletes what it integrates.
    assert services.keeper.integrate() == len(queued)

    assert _inbox(filled) == []
    stored = _stored(filled)
    assert [json.loads(e)["event"] for _, e, _ in stored[size:]] == [json.loads(e) for e in queued]
    assert _head(filled).root == MemoryTree(e for _, e, _ in stored).root()


# Two sequencers at once.

QUEUED = 3000


@pytest.fixture
def queue(engine: Engine) -> list[str]:
    events = [json.dumps({"n": i, "who": f"thread-test-{i % 7}"}) for i in range(QUEUED)]
    with engine.begin() as connection:
        connection.execute(insert(ledger_inbox), [{"event": e} for e in events])
    return events


@pytest.fixture
def second_engine(database_url: str) -> Iterator[Engine]:
    other = make_engine(database_url)
    yield other
    other.dispose()


@pytest.mark.parametrize("engines", ["one-engine", "two-engines"])
def test_concurrent_sequencers_integrate_each_event_once(
    engine: Engine, second_engine: Engine, queue: list[str], engines: str
) -> None:
    pool = [engine, engine if engines == "one-engine" else second_engine]
    start = threading.Barrier(len(pool))
    done: list[int] = []
    errors: list[BaseException] = []

    def run(on: Engine, limit: int) -> None:
        sequencer = Sequencer(on)
        start.wait()
        total = 0
        try:
            while n := sequencer.integrate(at=T0, limit=limit):
                total += n
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        done.append(total)

    threads = [
        threading.Thread(target=run, args=(on, limit))
        for on, limit in zip(pool, (97, 250), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert sum(done) == QUEUED

    assert _inbox(engine) == []
    stored = _stored(engine)
    assert [idx for idx, _, _ in stored] == list(range(QUEUED))
    found = [json.dumps(json.loads(e)["event"]) for _, e, _ in stored]
    assert Counter(found) == Counter(queue)
    # The chain is unbroken: every entry names its predecessor's leaf.
    prev = GENESIS_PREV
    for idx, entry, leaf in stored:
        assert json.loads(entry)["prev"] == prev.hex(), idx
        assert json.loads(entry)["index"] == idx
        assert leaf == leaf_hash(entry)
        prev = leaf
    head = _head(engine)
    assert head == ledger_store.TreeHead(QUEUED, MemoryTree(e for _, e, _ in stored).root())
    with engine.connect() as connection:
        assert root_at(StoredNodes(connection), QUEUED) == head.root


# The keeper's checkpoints.


def test_keeper_signs_a_checkpoint_once_per_tree_size(services: Services, engine: Engine) -> None:
    services.operators.add("alfatel", "Alfa Telecom AS", "1501")

    first = services.keeper.checkpoint()

    opened = Checkpoint.open(first.note, LEDGER_SIGNER.verifier, services.settings.ledger_origin)
    head = _head(engine)
    assert head.size > 0
    assert (opened.size, opened.root) == (head.size, head.root)
    assert first.checkpoint == opened
    assert _count(engine, "ledger_checkpoints") == 1

    again = services.keeper.checkpoint()

    assert again.note == first.note
    assert _count(engine, "ledger_checkpoints") == 1
    with engine.connect() as connection:
        assert ledger_store.latest_checkpoint(connection) == (head.size, first.note)

    services.operators.add("betanett", "Beta Nett AS", "1502")
    later = services.keeper.checkpoint()

    grown = Checkpoint.open(later.note, LEDGER_SIGNER.verifier)
    assert grown.size > head.size
    assert (grown.size, grown.root) == (_head(engine).size, _head(engine).root)
    assert _count(engine, "ledger_checkpoints") == 2
    with engine.connect() as connection:
        stored = StoredNodes(connection)
        proof = consistency_proof(stored, opened.size, grown.size)
    verify_consistency(opened.size, grown.size, opened.root, grown.root, proof)
    with engine.connect() as connection:
        assert [r[0] for r in connection.execute(select(ledger_checkpoints.c.size))] == [
            opened.size,
            grown.size,
        ]


def test_checkpoint_without_fresh_returns_the_stored_note(
    services: Services, engine: Engine
) -> None:
    services.operators.add("alfatel", "Alfa Telecom AS", "1501")
    signed = services.keeper.checkpoint()
    services.operators.add("betanett", "Beta Nett AS", "1502")

    stale = services.keeper.checkpoint(fresh=False)

    assert stale.note == signed.note
    assert _count(engine, "ledger_checkpoints") == 1
    with engine.connect() as connection:
        assert ledger_store.pending(connection) > 0  # fresh=False neither integrates nor signs
