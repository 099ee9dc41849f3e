"""The RFC 6962 / RFC 9162 Merkle tree: hashing, compact ranges, proofs and their checks.

The tree over leaves D[0:n] is never held whole. What is stored is every *complete*
subtree: node `(level, index)` is the root of the 2**level leaves starting at
`index * 2**level`. Any hash a proof needs at any past size is a fold of O(log n) such
nodes, so a proof is planned as a list of leaf ranges (`inclusion_ranges`,
`consistency_ranges`), their nodes are fetched in one round trip from a `NodeSource`,
and each range's subtrees are folded into its hash. A `CompactRange` holds the right edge of the
tree (one node per set bit of the size) and appends in O(log n).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof, root or leaf does not check out; the message says which."""


class BeyondTree(ProofError):
    """A size (or range end) larger than the tree has grown."""


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || entry), RFC 6962 §2.1."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right), RFC 6962 §2.1."""
    return hashlib.sha256(b"\x01" + left + right).digest()


@dataclass(frozen=True, slots=True, order=True)
class NodeId:
    """The root of the complete subtree over leaves [index * 2**level, (index + 1) * 2**level)."""

    level: int
    index: int


class NodeSource(Protocol):
    """Where complete subtree hashes come from: the database, or a `MemoryTree` in tests.

    The line is drawn at "many nodes, one call" so that a proof costs one round trip."""

    def nodes(self, ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]: ...


class Range(NamedTuple):
    """Leaves [start, end) whose Merkle tree hash (MTH) a proof carries."""

    start: int
    end: int


def subtrees(start: int, end: int) -> list[NodeId]:
    """The complete subtrees that make up the range, largest first (RFC 6962's split)."""
    ids = []
    while start < end:
        width = 1 << ((end - start).bit_length() - 1)
        while start % width:
            width >>= 1
        level = width.bit_length() - 1
        ids.append(NodeId(level, start >> level))
        start += width
    return ids


def fold(hashes: Sequence[bytes]) -> bytes:
    """The root over consecutive complete subtrees, largest first."""
    if not hashes:
        return EMPTY_ROOT
    root = hashes[-1]
    for left in reversed(hashes[:-1]):
        root = node_hash(left, root)
    return root


def _fold_found(found: Mapping[NodeId, bytes], ids: Sequence[NodeId]) -> bytes:
    try:
        return fold([found[i] for i in ids])
    except KeyError as missing:
        raise ProofError(f"the store has no node {missing.args[0]}") from None


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges whose hashes form the audit path of leaf `index` in a tree of `size`
    (RFC 6962 §2.1.1 PATH), bottom-up."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is not in a tree of size {size}")
    path: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(Range(start + k, end))
            end = start + k
        else:
            path.append(Range(start, start + k))
            start += k
    path.reverse()
    return path


def consistency_ranges(old: int, new: int) -> list[Range]:
    """The ranges whose hashes prove that the tree of size `old` is a prefix of the tree
    of size `new` (RFC 6962 §2.1.2 PROOF / SUBPROOF), bottom-up."""
    if not 0 <= old <= new:
        raise ProofError(f"no consistency proof from size {old} to size {new}")
    if old in (0, new):
        return []
    proof: list[Range] = []
    start, end, whole = 0, new, True
    m = old
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            proof.append(Range(start + k, end))
            end = start + k
        else:
            proof.append(Range(start, start + k))
            start += k
            m -= k
            whole = False
    if not whole:
        proof.append(Range(start, end))
    proof.reverse()
    return proof


def _hashes(source: NodeSource, ranges: Sequence[Range]) -> list[bytes]:
    plans = [subtrees(*r) for r in ranges]
    wanted = list(dict.fromkeys(i for plan in plans for i in plan))
    found = source.nodes(wanted) if wanted else {}
    return [_fold_found(found, plan) for plan in plans]


def inclusion_proof(source: NodeSource, index: int, size: int) -> list[bytes]:
    return _hashes(source, inclusion_ranges(index, size))


def consistency_proof(source: NodeSource, old: int, new: int) -> list[bytes]:
    return _hashes(source, consistency_ranges(old, new))


def root_at(source: NodeSource, size: int) -> bytes:
    """The root of the tree of `size` leaves, from O(log size) stored nodes."""
    return _hashes(source, [Range(0, size)])[0] if size else EMPTY_ROOT


def _hash_sizes(*hashes: bytes) -> None:
    if any(len(h) != HASH_SIZE for h in hashes):
        raise ProofError(f"every hash in a proof, leaf and root has {HASH_SIZE} bytes")


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2; raises `ProofError` unless the leaf hash is at `index`."""
    _hash_sizes(leaf, root, *proof)
    if not 0 <= index < size:
        raise ProofError(f"index {index} is beyond a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the inclusion proof is too short for the tree size")
    if r != root:
        raise ProofError(f"inclusion proof for index {index} does not lead to the root")


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2; raises `ProofError` unless tree `old` is a prefix of tree `new`."""
    _hash_sizes(old_root, new_root, *proof)
    if not 0 <= old <= new:
        raise ProofError(f"size {new} cannot extend size {old}")
    if old == new:
        if proof:
            raise ProofError("a proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError(f"two different roots for the same size {old}")
        return
    if old == 0:
        if proof:
            raise ProofError("a proof from the empty tree must be empty")
        return
    path = list(proof)
    if old & (old - 1) == 0:  # a power of two: the old root is itself on the path
        path.insert(0, old_root)
    if not path:
        raise ProofError("the consistency proof is empty")
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the consistency proof is too short for the tree sizes")
    if fr != old_root:
        raise ProofError(f"the proof does not lead to the root of size {old}")
    if sr != new_root:
        raise ProofError(f"the proof does not lead to the root of size {new}")


class CompactRange:
    """The right edge of a tree: the roots of its complete subtrees, largest first.

    `append` adds one leaf in O(log n) and says which complete nodes it created, so a
    store can keep every complete node without ever recomputing the tree."""

    __slots__ = ("hashes", "size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if len(hashes) != size.bit_count():
            raise ValueError(f"a compact range of size {size} has {size.bit_count()} hashes")
        self.size = size
        self.hashes = list(hashes)

    @classmethod
    def load(cls, source: NodeSource, size: int) -> CompactRange:
        ids = subtrees(0, size)
        found = source.nodes(ids) if ids else {}
        try:
            return cls(size, [found[i] for i in ids])
        except KeyError as missing:
            raise ProofError(f"the store has no node {missing.args[0]}") from None

    def append(self, leaf: bytes) -> list[tuple[NodeId, bytes]]:
        index = self.size
        created = [(NodeId(0, index), leaf)]
        level, h = 0, leaf
        while index & 1:
            h = node_hash(self.hashes.pop(), h)
            level, index = level + 1, index >> 1
            created.append((NodeId(level, index), h))
        self.hashes.append(h)
        self.size += 1
        return created

    def extend(self, leaves: Sequence[bytes], *, record: bool = True) -> list[bytes]:
        """Append many leaves level by level (one list pass per level, not a loop per
        leaf). With `record`, returns for each leaf what `closes` it: the hashes of the
        complete subtrees that end with it, levels 1, 2, ... concatenated (leaf i closes
        as many as i has trailing one bits). Stored beside the leaf, they make every
        complete node findable from the entry that completed it."""
        if not leaves:
            return []
        start, size = self.size, self.size + len(leaves)
        edge = dict(zip((n.level for n in subtrees(0, start)), self.hashes, strict=True))
        rows = {0: (start, list(leaves))}
        row, first, level = list(leaves), start, 0
        sha256 = hashlib.sha256
        while True:
            if first & 1:
                row = [edge[level], *row]
                first -= 1
            # node_hash, inlined: this line is most of the time a batch takes
            pairs = zip(row[::2], row[1::2], strict=False)
            row = [sha256(b"\x01" + a + b).digest() for a, b in pairs]
            if not row:
                break
            first, level = first >> 1, level + 1
            rows[level] = (first, row)
        hashes = []
        for node in subtrees(0, size):
            first, row = rows.get(node.level, (0, []))
            offset = node.index - first
            hashes.append(row[offset] if 0 <= offset < len(row) else edge[node.level])
        self.hashes, self.size = hashes, size
        if not record:
            return []
        closes = [b""] * len(leaves)
        for level in range(1, len(rows)):  # ascending, so each leaf's hashes are in order
            first, row = rows[level]
            for index, h in enumerate(row, first):
                closes[((index + 1) << level) - 1 - start] += h
        return closes

    def root(self) -> bytes:
        return fold(self.hashes)


def closed_by(node: NodeId) -> tuple[int, slice]:
    """Which leaf completes `node` (level >= 1), and where in that leaf's `closes`."""
    at = (node.level - 1) * HASH_SIZE
    return ((node.index + 1) << node.level) - 1, slice(at, at + HASH_SIZE)


class MemoryTree:
    """A whole tree in memory: the `NodeSource` fake for tests, and a reference."""

    def __init__(self, entries: Iterable[bytes] = ()) -> None:
        self.compact = CompactRange()
        self.node_map: dict[NodeId, bytes] = {}
        for entry in entries:
            self.append(entry)

    def append(self, entry: bytes) -> None:
        self.node_map.update(self.compact.append(leaf_hash(entry)))

    @property
    def size(self) -> int:
        return self.compact.size

    def root(self) -> bytes:
        return self.compact.root()

    def nodes(self, ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        return {i: self.node_map[i] for i in ids if i in self.node_map}
