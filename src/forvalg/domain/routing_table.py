"""The routing table the exchanges load, its versions, its content hash and its deltas.

The routing table is the set of current preselections, one row per preselected line:
(number, operator_id, option). Every completed order that changes it (a PROVIDE,
TRANSFER, MODIFY or CEASE completion; never a CANCEL_OTHER) makes a new version,
numbered 1, 2, 3, ... in the order the processor completes orders, which is due order.
Version 0 is the empty table, in force since 1970-01-01T00:00Z.

The content hash is what anyone holding a full export can recompute (docs/ROUTING.md):

    row text       "number,operator_id,option\\n", UTF-8
    bucket         the rows whose numbers share their first 4 digits
    bucket digest  SHA-256 of the bucket's row texts, sorted by number, concatenated
    table hash     SHA-256 over, for each non-empty bucket in ascending order, its 4 ASCII
                   prefix bytes and then its 32-byte digest; the empty table hashes b""

`RoutingState` keeps the hash current one change at a time: a change re-hashes one
bucket and the list of bucket digests (at most 10,000 x 36 bytes), never the table, and
both from a cached SHA-256 midstate at or before the changed row (`_Chain`).
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from itertools import groupby
from typing import Any

from forvalg.domain.lifecycle import Effects
from forvalg.domain.orders import Option, OrderState

BUCKET_DIGITS = 4
EMPTY_HASH = hashlib.sha256(b"").hexdigest()
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EMPTY_DIGEST = hashlib.sha256(b"").digest()


class RoutingTableCorrupt(Exception):
    """The stored bucket digests do not match the rows they stand for: something wrote
    preselections around the processor. A fault to investigate, not to paper over."""


@dataclass(frozen=True, slots=True)
class RoutingRow:
    """One line's routing: its calls (those `option` covers) go to `operator_id`."""

    number: str
    operator_id: str
    option: Option

    @property
    def text(self) -> bytes:
        return row_text(self.number, self.operator_id, self.option)


@dataclass(frozen=True, slots=True)
class RoutingChange:
    """What one completed order did to the table: the line's row from `effective_at` on
    (None: the line is no longer preselected)."""

    order_id: str
    effective_at: datetime
    number: str
    row: RoutingRow | None


@dataclass(frozen=True, slots=True)
class RoutingVersion:
    """A version of the table: its content hash, the instant it is in force from, the
    order whose completion made it (None for version 0) and how many rows it has."""

    version: int
    content_hash: str
    effective_at: datetime
    order_id: str | None
    rows: int


VERSION_ZERO = RoutingVersion(0, EMPTY_HASH, EPOCH, None, 0)


@dataclass(frozen=True, slots=True)
class Bucket:
    """The digest and row count of the rows whose numbers start with `prefix`."""

    prefix: str
    digest: bytes
    rows: int


def row_text(number: str, operator_id: str, option: Option | str) -> bytes:
    return f"{number},{operator_id},{option}\n".encode()


def bucket_of(number: str) -> str:
    return number[:BUCKET_DIGITS]


def bucket_digest(rows: Iterable[RoutingRow]) -> bytes:
    """SHA-256 of the rows' texts, sorted by number, concatenated."""
    ordered = sorted(rows, key=lambda r: r.number)
    return hashlib.sha256(b"".join(r.text for r in ordered)).digest()


def table_hash(buckets: Iterable[Bucket]) -> str:
    """The table hash from its buckets' digests (empty buckets are left out)."""
    ordered = sorted((b for b in buckets if b.rows), key=lambda b: b.prefix)
    joined = b"".join(b.prefix.encode("ascii") + b.digest for b in ordered)
    return hashlib.sha256(joined).hexdigest()


def buckets_of(rows: Iterable[RoutingRow]) -> list[Bucket]:
    """Every non-empty bucket of a whole table."""
    ordered = sorted(rows, key=lambda r: r.number)
    found = []
    for prefix, group in groupby(ordered, key=lambda r: bucket_of(r.number)):
        members = list(group)
        found.append(Bucket(prefix, bucket_digest(members), len(members)))
    return found


def content_hash(rows: Iterable[RoutingRow]) -> str:
    """The hash of a whole table, from its rows: the recompute a regulator or an exchange
    runs over a full export."""
    return table_hash(buckets_of(rows))


def changes_of(effects: Effects) -> list[RoutingChange]:
    """The routing changes of a batch's effects, one per completion that opened or closed
    a preselection, in the order the orders were completed."""
    opened = {o.preselection.order_id: o.preselection for o in effects.opened}
    closed = {c.order_id: c for c in effects.closed}
    found = []
    for order_id, change in effects.history:
        if change.state is not OrderState.COMPLETED:
            continue
        started = opened.get(order_id)
        if started is not None:
            row = RoutingRow(started.number, started.operator_id, started.option)
            found.append(RoutingChange(order_id, started.valid_from, started.number, row))
        elif (ended := closed.get(order_id)) is not None:
            found.append(RoutingChange(order_id, ended.valid_to, ended.number, None))
    return found


LEDGER_FIELDS = ("version", "content_hash", "effective_at", "order_id")


def ledger_detail(versions: Sequence[RoutingVersion]) -> dict[str, Any]:
    """What the ledger entry of a batch's routing write names: every version it made, as
    `[version, content_hash, effective_at, order_id]` (`LEDGER_FIELDS`; arrays, not
    objects: half the canonical JSON to write per version)."""
    return {
        "routing_versions": [
            [v.version, v.content_hash, v.effective_at.isoformat(), v.order_id] for v in versions
        ]
    }


class _Chain:
    """SHA-256 over the values of a sorted mapping, concatenated in key order, kept cheap
    to recompute after one key changes: the midstate after every `STRIDE` values is
    cached, and a change invalidates only the midstates after it. Changing the last rows
    (numbers completed in ascending order) costs O(STRIDE); any row, O(rows after it)."""

    STRIDE = 64
    __slots__ = ("_keys", "_states", "_values")

    def __init__(self, items: Iterable[tuple[str, bytes]] = ()) -> None:
        pairs = sorted(items)
        self._keys = [k for k, _ in pairs]
        self._values = [v for _, v in pairs]
        self._states = [hashlib.sha256()]  # _states[j]: after the first j * STRIDE values

    def __len__(self) -> int:
        return len(self._keys)

    def set(self, key: str, value: bytes | None) -> None:
        """Set `key` to `value`; None removes it."""
        keys, values = self._keys, self._values
        i = bisect_left(keys, key)
        if i < len(keys) and keys[i] == key:
            if value is None:
                del keys[i]
                del values[i]
            else:
                values[i] = value
        elif value is not None:
            keys.insert(i, key)
            values.insert(i, value)
        else:
            return
        del self._states[i // self.STRIDE + 1 :]

    def digest(self) -> bytes:
        states, values, stride = self._states, self._values, self.STRIDE
        at = (len(states) - 1) * stride
        running = states[-1].copy()
        while at + stride <= len(values):
            running.update(b"".join(values[at : at + stride]))
            at += stride
            states.append(running.copy())
        running.update(b"".join(values[at:]))
        return running.digest()


class RoutingState:
    """The table as the hash sees it, kept current one change at a time.

    Built from the head version and every non-empty bucket's stored digest and count;
    the rows of a bucket must be `load`ed (and are checked against its digest) before a
    change touches it. `apply` returns the next version; `changed` the buckets changed
    since the last `mark_saved`, to store. A state may outlive a batch (the store keeps
    it while the head it has reached is the database's), so loaded buckets are loaded
    once.

    A version's `effective_at` is its change's switch instant, never earlier than its
    predecessor's: versions are made in due order, so that only bites when orders were
    processed ahead of real time and a later receipt completes earlier (docs/ROUTING.md).
    """

    def __init__(self, head: RoutingVersion, buckets: Iterable[Bucket]) -> None:
        self.head = head
        stored = {b.prefix: b for b in buckets if b.rows}
        self._top = _Chain((p, p.encode("ascii") + b.digest) for p, b in stored.items())
        self._current = {p: (b.digest, b.rows) for p, b in stored.items()}
        self._total = sum(b.rows for b in stored.values())
        if self._total != head.rows:
            raise RoutingTableCorrupt(
                f"the buckets hold {self._total} rows, version {head.version} {head.rows}"
            )
        self._buckets: dict[str, _Chain] = {}
        self._changed: set[str] = set()

    @property
    def loaded(self) -> frozenset[str]:
        return frozenset(self._buckets)

    @property
    def loaded_rows(self) -> int:
        return sum(len(b) for b in self._buckets.values())

    def load(self, prefix: str, rows: Iterable[tuple[str, bytes]]) -> None:
        """The rows of bucket `prefix` as (number, row text); refused unless they match
        the bucket's digest and count."""
        chain = _Chain(rows)
        expected = self._current.get(prefix, (_EMPTY_DIGEST, 0))
        if (chain.digest(), len(chain)) != expected:
            raise RoutingTableCorrupt(
                f"bucket {prefix}: its rows do not match the stored digest and count"
            )
        self._buckets[prefix] = chain

    def forget_rows(self) -> None:
        """Drop the loaded buckets' rows (they are loaded again when needed)."""
        self._buckets.clear()

    def apply(self, change: RoutingChange) -> RoutingVersion:
        prefix = bucket_of(change.number)
        try:
            bucket = self._buckets[prefix]
        except KeyError:
            raise ValueError(f"bucket {prefix} was not loaded") from None
        before = len(bucket)
        bucket.set(change.number, None if change.row is None else change.row.text)
        count = len(bucket)
        digest = bucket.digest()
        self._total += count - before
        self._current[prefix] = (digest, count)
        self._top.set(prefix, prefix.encode("ascii") + digest if count else None)
        self._changed.add(prefix)
        self.head = RoutingVersion(
            self.head.version + 1,
            self._top.digest().hex(),
            max(change.effective_at, self.head.effective_at),
            change.order_id,
            self._total,
        )
        return self.head

    def changed(self) -> list[Bucket]:
        """The buckets changed since the last `mark_saved` (0 rows: now empty)."""
        return [Bucket(p, *self._current[p]) for p in sorted(self._changed)]

    def mark_saved(self) -> None:
        self._changed.clear()


def replay(changes: Iterable[RoutingChange]) -> tuple[list[RoutingVersion], list[Bucket]]:
    """The versions a sequence of changes makes from the empty table, and the buckets
    after the last: the full recompute of every version (migration 0007, the tests)."""
    changes = list(changes)
    state = RoutingState(VERSION_ZERO, ())
    for prefix in {bucket_of(c.number) for c in changes}:
        state.load(prefix, ())
    versions = [state.apply(c) for c in changes]
    return versions, state.changed()


class DeltaAction(StrEnum):
    ADD = "ADD"  # a line preselected at N that was not at M
    CHANGE = "CHANGE"  # a line preselected at both, with another operator or option at N
    REMOVE = "REMOVE"  # a line preselected at M that is not at N (its row at M is given)


@dataclass(frozen=True, slots=True)
class DeltaRow:
    action: DeltaAction
    row: RoutingRow


def delta(before: Iterable[RoutingRow], after: Iterable[RoutingRow]) -> list[DeltaRow]:
    """What turns the table `before` into `after`, by number: rows the same in both are
    left out; a removed line carries its row from `before`."""
    old = {r.number: r for r in before}
    new = {r.number: r for r in after}
    found = []
    for number in sorted(old.keys() | new.keys()):
        was, now = old.get(number), new.get(number)
        if was == now:
            continue
        if now is None:
            assert was is not None
            found.append(DeltaRow(DeltaAction.REMOVE, was))
        else:
            found.append(DeltaRow(DeltaAction.ADD if was is None else DeltaAction.CHANGE, now))
    return found


class DeltaMismatch(ValueError):
    """A delta that does not fit the table it is applied to."""


def apply_delta(rows: Iterable[RoutingRow], changes: Iterable[DeltaRow]) -> list[RoutingRow]:
    """The table after the delta, sorted by number; what an exchange does with a delta
    file. Refuses an ADD of a present line, a CHANGE or REMOVE of an absent one."""
    table = {r.number: r for r in rows}
    for change in changes:
        number = change.row.number
        present = number in table
        if present != (change.action is not DeltaAction.ADD):
            state = "there" if present else "not there"
            raise DeltaMismatch(f"{change.action} {number}: the line is {state}")
        if change.action is DeltaAction.REMOVE:
            del table[number]
        else:
            table[number] = change.row
    return [table[n] for n in sorted(table)]
