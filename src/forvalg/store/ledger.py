"""The ledger's SQL storage: the inbox, the sequencer, and what proofs and exports read.

An access decision is queued in `ledger_inbox` inside the transaction that made it, so
it is durable exactly when the data it describes is, and before any of that data can
leave the process. The sequencer then moves queued events into the Merkle tree in
batches (group commit): one transaction takes up to a batch of events in queue order,
seals each as entry `size + i`, stores the entries, every complete subtree they close,
and the new tree head, and deletes what it integrated from the inbox. A crash leaves
either the whole batch in the tree or the whole batch in the inbox, never half.

Only one sequencer writes at a time: SQLite's write lock, and on PostgreSQL an advisory
lock. Proofs read stored nodes only, O(log n) of them, in one query.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import rfc8785
from sqlalchemy import Connection, Engine, func, insert, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from forvalg.ledger.entries import GENESIS_PREV, seal
from forvalg.ledger.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    CompactRange,
    NodeId,
    ProofError,
    closed_by,
)
from forvalg.ledger.port import AccessEvent
from forvalg.store import zones
from forvalg.store.bulk import among, dialect_name, insert_values
from forvalg.store.tables import (
    ledger_checkpoints,
    ledger_entries,
    ledger_heads,
    ledger_inbox,
    ledger_subject_sets,
    ledger_subjects,
)
from forvalg.store.zones import Zone

SEQUENCER_LOCK = 0x66766C67  # "fvlg": one sequencer at a time on PostgreSQL
SETS_WRITTEN = "forvalg.subject_sets"  # Session.info: bulk sets recorded in this unit
BATCH = 1000

Db = Connection | Session


@dataclass(frozen=True, slots=True)
class TreeHead:
    size: int
    root: bytes


def canonical(event: AccessEvent) -> str:
    return rfc8785.dumps(event.as_entry()).decode()


class SqlAccessLog:
    """The `AccessLog` port: queue the event in the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def append(self, event: AccessEvent, members: Sequence[str] = ()) -> None:
        """Queue the event; `members` are a bulk decision's subjects (pseudonyms), kept
        for the subject index since the entry names only their count and digest."""
        self._session.execute(insert(ledger_inbox), {"event": canonical(event)})
        digest = event.subjects_digest
        written = self._session.info.setdefault(SETS_WRITTEN, set())
        if members and digest and digest not in written:
            _add_subject_set(self._session, digest, members)
            written.add(digest)  # one unit of work often decides on one set several times


class StoredNodes:
    """The `NodeSource` over the stored tree, in the caller's connection or session.
    A leaf is its entry's `leaf`; a node above is a slice of the `closes` of the entry
    that completed it (`merkle.closed_by`), so any set of nodes is one indexed read."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def nodes(self, ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        if not ids:
            return {}
        where = {i: closed_by(i) if i.level else (i.index, None) for i in ids}
        rows = sorted({row for row, _ in where.values()})
        # Straight through the driver: a proof is a handful of rows, and building the
        # statement cost more than running it.
        connection = self._db if isinstance(self._db, Connection) else self._db.connection()
        if connection.dialect.name == "postgresql":
            query = "SELECT idx, leaf, closes FROM ledger_entries WHERE idx = ANY(%s)"
            params: tuple[Any, ...] = (rows,)
        else:
            marks = ", ".join("?" * len(rows))  # only placeholders are interpolated
            query = f"SELECT idx, leaf, closes FROM ledger_entries WHERE idx IN ({marks})"  # noqa: S608
            params = tuple(rows)
        found = {
            idx: (bytes(leaf), bytes(closes))
            for idx, leaf, closes in connection.exec_driver_sql(query, params)
        }
        hashes = {}
        for node, (row, part) in where.items():
            if row in found:
                value = found[row][0] if part is None else found[row][1][part]
                if len(value) == HASH_SIZE:
                    hashes[node] = value
        return hashes


def head(db: Db) -> TreeHead:
    """The tree as of the last integrated batch."""
    row = db.execute(
        select(ledger_heads.c.size, ledger_heads.c.root)
        .order_by(ledger_heads.c.size.desc())
        .limit(1)
    ).first()
    return TreeHead(0, EMPTY_ROOT) if row is None else TreeHead(row[0], bytes(row[1]))


def pending(db: Db) -> int:
    """Events queued but not yet in the tree."""
    return int(db.execute(select(func.count()).select_from(ledger_inbox)).scalar_one())


def entries(db: Db, *, start: int, end: int) -> list[str]:
    rows = db.execute(
        select(ledger_entries.c.entry)
        .where(ledger_entries.c.idx >= start, ledger_entries.c.idx < end)
        .order_by(ledger_entries.c.idx)
    )
    return [r[0] for r in rows]


def entries_at(db: Db, *, indices: Sequence[int]) -> dict[int, str]:
    """The entries at the given indices that are in the tree."""
    if not indices:
        return {}
    rows = db.execute(
        select(ledger_entries.c.idx, ledger_entries.c.entry).where(
            among(db, ledger_entries.c.idx, list(indices))
        )
    )
    return {r[0]: r[1] for r in rows}


def iter_entries(db: Db, *, start: int = 0, end: int, chunk: int = 20_000) -> Iterator[str]:
    """Entries start..end-1 in order, a chunk at a time."""
    for first in range(start, end, chunk):
        yield from entries(db, start=first, end=min(end, first + chunk))


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    size: int
    signed_at: datetime
    note: str


def checkpoints(db: Db, *, limit: int) -> list[StoredCheckpoint]:
    """The latest `limit` signed checkpoints, newest first: the sizes a witness may have
    seen, for a consistency proof from one of them to now."""
    c = ledger_checkpoints.c
    rows = db.execute(select(c.size, c.signed_at, c.note).order_by(c.seq.desc()).limit(limit))
    return [StoredCheckpoint(r[0], r[1], r[2]) for r in rows]


def latest_checkpoint(db: Db) -> tuple[int, str] | None:
    row = db.execute(
        select(ledger_checkpoints.c.size, ledger_checkpoints.c.note)
        .order_by(ledger_checkpoints.c.seq.desc())
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1])


class Sequencer:
    """Moves queued events into the tree, a batch per transaction."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"

    def integrate(self, *, at: datetime, limit: int = BATCH) -> int:
        """Integrate up to `limit` queued events in one transaction; how many it did."""
        with self._engine.begin() as connection:
            self._lock(connection)
            rows = connection.execute(
                select(ledger_inbox.c.seq, ledger_inbox.c.event)
                .order_by(ledger_inbox.c.seq)
                .limit(limit)
            ).all()
            if not rows:
                return 0
            first = self._extend(connection, [r[1].encode() for r in rows], at).size - len(rows)
            keys = [
                (key, idx)
                for idx, (_, event) in enumerate(rows, first)
                for key in subject_keys(json.loads(event))
            ]
            insert_values(connection, ledger_subjects, ("key", "idx"), keys)
            seqs = [r[0] for r in rows]
            connection.execute(
                ledger_inbox.delete().where(among(connection, ledger_inbox.c.seq, seqs))
            )
            return len(rows)

    def integrate_all(self, *, at: datetime, limit: int = BATCH) -> int:
        total = 0
        while done := self.integrate(at=at, limit=limit):
            total += done
        return total

    def append(self, events: Sequence[bytes], *, at: datetime) -> TreeHead:
        """Seal and integrate canonical events directly, in one transaction."""
        with self._engine.begin() as connection:
            self._lock(connection)
            return self._extend(connection, events, at)

    def _lock(self, connection: Connection) -> None:
        if self._postgres:
            zones.enter(connection, Zone.COMPLIANCE)  # the ledger is compliance's zone
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEQUENCER_LOCK})
            connection.execute(text("SELECT set_config('forvalg.ledger_sequencer', 'on', true)"))

    def _extend(self, connection: Connection, events: Sequence[bytes], at: datetime) -> TreeHead:
        size = head(connection).size
        stored = StoredNodes(connection)
        compact = CompactRange.load(stored, size)
        prev = GENESIS_PREV
        if size:
            edge = NodeId(0, size - 1)
            prev = stored.nodes([edge]).get(edge) or _missing(edge)
        texts, leaves = [], []
        sha256 = hashlib.sha256
        for index, event in enumerate(events, size):
            entry = seal(event, index, prev)
            prev = sha256(b"\x00" + entry).digest()  # leaf_hash, inlined for speed
            texts.append(entry.decode())
            leaves.append(prev)
        closes = compact.extend(leaves)
        new = TreeHead(compact.size, compact.root())
        rows = list(zip(range(size, new.size), texts, leaves, closes, strict=True))
        insert_values(connection, ledger_entries, ("idx", "entry", "leaf", "closes"), rows)
        connection.execute(
            insert(ledger_heads), {"size": new.size, "root": new.root, "integrated_at": at}
        )
        return new


def subject_keys(event: Mapping[str, Any]) -> set[str]:
    """The subject index's keys for an event: the pseudonyms it names, and the digest of
    its subjects when it is a bulk decision (more than it names)."""
    keys = set(event.get("subjects") or ())
    digest = event.get("subjects_digest")
    if digest and event.get("subject_count", 0) > len(keys):
        keys.add(digest)
    return keys


def subject_entries(db: Db, *, pseudonym: str | Sequence[str], size: int) -> list[tuple[int, str]]:
    """(index, entry) of every entry below `size` that touched the subject: naming its
    pseudonym, or deciding on a bulk set it is a member of. `pseudonym` may be several:
    the subject's pseudonyms under the current and the retired pseudonym keys."""
    indices = select(ledger_subjects.c.idx).where(
        touched_by(pseudonym), ledger_subjects.c.idx < size
    )
    rows = db.execute(
        select(ledger_entries.c.idx, ledger_entries.c.entry)
        .where(ledger_entries.c.idx.in_(indices))
        .order_by(ledger_entries.c.idx)
    )
    return [(r[0], r[1]) for r in rows]


def touched_by(pseudonym: str | Sequence[str]) -> Any:
    """The subject index's condition for entries touching a subject known by
    `pseudonym` (or any of several): naming it, or a bulk set it is a member of."""
    names = [pseudonym] if isinstance(pseudonym, str) else list(pseudonym)
    digests = select(ledger_subject_sets.c.digest).where(ledger_subject_sets.c.pseudonym.in_(names))
    return ledger_subjects.c.key.in_(names) | ledger_subjects.c.key.in_(digests)


def _add_subject_set(session: Session, digest: str, members: Sequence[str]) -> None:
    """Record the members of a bulk decision's subject set, unless already there: on
    PostgreSQL one statement over an array (a row per member, set-based), on SQLite an
    executemany (in process, cheap)."""
    if dialect_name(session) == "postgresql":
        session.execute(
            text(
                "INSERT INTO ledger_subject_sets (pseudonym, digest) "
                "SELECT unnest(CAST(:members AS text[])), :digest ON CONFLICT DO NOTHING"
            ),
            {"members": list(members), "digest": digest},
        )
        return
    rows = [{"pseudonym": m, "digest": digest} for m in members]
    session.execute(sqlite.insert(ledger_subject_sets).on_conflict_do_nothing(), rows)


def _missing(node: NodeId) -> bytes:
    raise ProofError(f"the store has no node {node}: the tree head and entries disagree")


def save_checkpoint(db: Db, *, size: int, note: str, at: datetime) -> None:
    db.execute(insert(ledger_checkpoints), {"size": size, "note": note, "signed_at": at})


def events(db: Db, *, after: int = 0) -> list[dict[str, Any]]:
    """Every access event from position `after` on: the tree's entries, then the queue.
    Positions are stable while nothing is integrated in between (always on SQLite; on
    PostgreSQL a queued event may commit after later ones were integrated). For counts
    in reports and for tests; the regulator reads entries and proofs."""
    size = head(db).size
    found = [json.loads(e)["event"] for e in iter_entries(db, start=after, end=size)]
    queued = db.execute(
        select(ledger_inbox.c.event).order_by(ledger_inbox.c.seq).offset(max(0, after - size))
    )
    found.extend(json.loads(r[0]) for r in queued)
    return found


def count_decisions(db: Db) -> dict[str, int]:
    return dict(Counter(e["decision"] for e in events(db)))
