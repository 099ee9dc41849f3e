"""Properties of the Merkle log, checked against a reference written from RFC 6962 §2.1.

The reference (`Reference`) is the RFC's recursive definition of MTH, PATH and PROOF,
written out here with hashlib; it shares no code with `forvalg.ledger.merkle`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from functools import cache

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from forvalg.ledger.merkle import (
    CompactRange,
    MemoryTree,
    NodeId,
    ProofError,
    closed_by,
    consistency_proof,
    consistency_ranges,
    fold,
    inclusion_proof,
    inclusion_ranges,
    leaf_hash,
    root_at,
    subtrees,
    verify_consistency,
    verify_inclusion,
)

FEW = settings(max_examples=40, deadline=None)
SOME = settings(max_examples=75, deadline=None)

# Distinct entries, so that no two leaves (and so no two subtrees) share a hash.
entries = st.lists(st.binary(max_size=12), min_size=1, max_size=40, unique=True)


def split(n: int) -> int:
    """The largest power of two smaller than n (n > 1), by counting up as the RFC says."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class Reference:
    """RFC 6962 §2.1 MTH, PATH and PROOF over D[0:n], memoised by leaf range."""

    def __init__(self, data: Sequence[bytes]) -> None:
        self.data = list(data)
        self.mth = cache(self._mth)

    def _mth(self, lo: int, hi: int) -> bytes:
        if hi == lo:
            return hashlib.sha256(b"").digest()
        if hi - lo == 1:
            return hashlib.sha256(b"\x00" + self.data[lo]).digest()
        k = split(hi - lo)
        return hashlib.sha256(b"\x01" + self.mth(lo, lo + k) + self.mth(lo + k, hi)).digest()

    def path(self, m: int, lo: int, hi: int) -> list[bytes]:
        if hi - lo <= 1:
            return []
        k = split(hi - lo)
        if m < k:
            return [*self.path(m, lo, lo + k), self.mth(lo + k, hi)]
        return [*self.path(m - k, lo + k, hi), self.mth(lo, lo + k)]

    def subproof(self, m: int, lo: int, hi: int, whole: bool) -> list[bytes]:
        if m == hi - lo:
            return [] if whole else [self.mth(lo, hi)]
        k = split(hi - lo)
        if m <= k:
            return [*self.subproof(m, lo, lo + k, whole), self.mth(lo + k, hi)]
        return [*self.subproof(m - k, lo + k, hi, False), self.mth(lo, lo + k)]

    def proof(self, m: int, n: int) -> list[bytes]:
        return self.subproof(m, 0, n, True) if 0 < m < n else []


def path_shape(m: int, n: int) -> list[bool]:
    """For PATH(m, D[n]), bottom-up: is each sibling to the right of the leaf's subtree?"""
    if n <= 1:
        return []
    k = split(n)
    if m < k:
        return [*path_shape(m, k), True]
    return [*path_shape(m - k, n - k), False]


def proof_length(m: int, n: int) -> int:
    """len(PROOF(m, D[n])) per RFC 6962 §2.1.2; only the sizes matter."""

    def sub(m: int, n: int, whole: bool) -> int:
        if m == n:
            return 0 if whole else 1
        k = split(n)
        return 1 + (sub(m, k, whole) if m <= k else sub(m - k, n - k, False))

    return sub(m, n, True) if 0 < m < n else 0


def flip(value: bytes, bit: int) -> bytes:
    out = bytearray(value)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


class CountingSource:
    """A NodeSource that records each call, to check that a proof is one round trip."""

    def __init__(self, tree: MemoryTree) -> None:
        self.tree = tree
        self.calls: list[list[NodeId]] = []

    def nodes(self, ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        self.calls.append(list(ids))
        return self.tree.nodes(ids)


class EmptySource:
    def nodes(self, ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        return {}


def ceil_log2(n: int) -> int:
    return (n - 1).bit_length()


# --- (a) inclusion ----------------------------------------------------------------------


@FEW
@given(entries)
def test_every_appended_leaf_verifies_at_every_later_size(data: list[bytes]) -> None:
    ref = Reference(data)
    tree = MemoryTree()
    proofs_when_appended: dict[tuple[int, int], list[bytes]] = {}
    for size, entry in enumerate(data, 1):
        tree.append(entry)
        assert tree.size == size
        assert tree.root() == ref.mth(0, size)
        for index in range(size):
            proof = inclusion_proof(tree, index, size)
            assert proof == ref.path(index, 0, size)
            verify_inclusion(leaf_hash(data[index]), index, size, proof, tree.root())
            proofs_when_appended[index, size] = proof
    # The grown tree answers for every past size exactly as it did back then.
    for (index, size), proof in proofs_when_appended.items():
        assert root_at(tree, size) == ref.mth(0, size)
        assert inclusion_proof(tree, index, size) == proof


# --- (b) consistency --------------------------------------------------------------------


@FEW
@given(entries)
def test_consistency_between_every_pair_of_sizes_verifies(data: list[bytes]) -> None:
    ref = Reference(data)
    tree = MemoryTree(data)
    for new in range(len(data) + 1):
        for old in range(new + 1):
            proof = consistency_proof(tree, old, new)
            assert proof == ref.proof(old, new)
            verify_consistency(old, new, ref.mth(0, old), ref.mth(0, new), proof)


# --- (c) every corruption is rejected -----------------------------------------------------


@st.composite
def inclusion_cases(draw: st.DrawFn, min_size: int = 1) -> tuple[list[bytes], int, int]:
    data = draw(entries.filter(lambda d: len(d) >= min_size))
    size = draw(st.integers(min_size, len(data)))
    index = draw(st.integers(0, size - 1))
    return data, index, size


@st.composite
def consistency_cases(draw: st.DrawFn) -> tuple[list[bytes], int, int]:
    """0 < old <= new: from the empty tree every roots pass, as in RFC 9162 and Go."""
    data = draw(entries)
    new = draw(st.integers(1, len(data)))
    old = draw(st.integers(1, new))
    return data, old, new


def inclusion_setup(data: list[bytes], index: int, size: int) -> tuple[bytes, list[bytes], bytes]:
    tree = MemoryTree(data)
    leaf = leaf_hash(data[index])
    proof = inclusion_proof(tree, index, size)
    root = root_at(tree, size)
    verify_inclusion(leaf, index, size, proof, root)  # the uncorrupted case passes
    return leaf, proof, root


def consistency_setup(data: list[bytes], old: int, new: int) -> tuple[bytes, bytes, list[bytes]]:
    tree = MemoryTree(data)
    old_root, new_root = root_at(tree, old), root_at(tree, new)
    proof = consistency_proof(tree, old, new)
    verify_consistency(old, new, old_root, new_root, proof)
    return old_root, new_root, proof


@SOME
@given(inclusion_cases(min_size=2), st.data())
def test_flipping_a_bit_in_an_inclusion_proof_hash_is_rejected(
    case: tuple[list[bytes], int, int], draw: st.DataObject
) -> None:
    data, index, size = case
    leaf, proof, root = inclusion_setup(data, index, size)
    k = draw.draw(st.integers(0, len(proof) - 1))
    bit = draw.draw(st.integers(0, 255))
    proof[k] = flip(proof[k], bit)
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, proof, root)


@SOME
@given(inclusion_cases(), st.integers(0, 255))
def test_flipping_a_bit_in_the_root_fails_inclusion(
    case: tuple[list[bytes], int, int], bit: int
) -> None:
    data, index, size = case
    leaf, proof, root = inclusion_setup(data, index, size)
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, proof, flip(root, bit))


@SOME
@given(inclusion_cases(), st.integers(0, 255))
def test_flipping_a_bit_in_the_leaf_hash_fails_inclusion(
    case: tuple[list[bytes], int, int], bit: int
) -> None:
    data, index, size = case
    leaf, proof, root = inclusion_setup(data, index, size)
    with pytest.raises(ProofError):
        verify_inclusion(flip(leaf, bit), index, size, proof, root)


@SOME
@given(inclusion_cases(min_size=2), st.data())
def test_an_inclusion_proof_for_another_index_is_rejected(
    case: tuple[list[bytes], int, int], draw: st.DataObject
) -> None:
    data, index, size = case
    leaf, proof, root = inclusion_setup(data, index, size)
    other = draw.draw(st.integers(-2, size + 2).filter(lambda i: i != index))
    with pytest.raises(ProofError):
        verify_inclusion(leaf, other, size, proof, root)


@SOME
@given(inclusion_cases(), st.data())
def test_an_inclusion_proof_for_another_size_is_rejected(
    case: tuple[list[bytes], int, int], draw: st.DataObject
) -> None:
    """The size is bound only through the path's shape (RFC 9162 §2.1.3.2): for a size
    where the leaf's path has the very same shape (index 0 in 3 and in 4 leaves) the
    proof *is* valid for that size and its root, which the signed checkpoint pins down.
    Every size that changes the shape must be rejected."""
    data, index, size = case
    leaf, proof, root = inclusion_setup(data, index, size)
    other = draw.draw(st.integers(-1, 2 * size + 2).filter(lambda n: n != size))
    assume(not 0 <= index < other or path_shape(index, other) != path_shape(index, size))
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, other, proof, root)


@SOME
@given(inclusion_cases(min_size=2), st.data())
def test_an_inclusion_proof_with_a_hash_removed_is_rejected(
    case: tuple[list[bytes], int, int], draw: st.DataObject
) -> None:
    data, index, size = case
    leaf, proof, root = inclusion_setup(data, index, size)
    del proof[draw.draw(st.integers(0, len(proof) - 1))]
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, proof, root)


@SOME
@given(inclusion_cases(), st.data())
def test_an_inclusion_proof_with_a_hash_added_is_rejected(
    case: tuple[list[bytes], int, int], draw: st.DataObject
) -> None:
    data, index, size = case
    leaf, proof, root = inclusion_setup(data, index, size)
    extra = draw.draw(st.sampled_from([*proof, leaf, root]) | st.binary(min_size=32, max_size=32))
    proof.insert(draw.draw(st.integers(0, len(proof))), extra)
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, proof, root)


@SOME
@given(consistency_cases(), st.data())
def test_flipping_a_bit_in_a_consistency_proof_hash_is_rejected(
    case: tuple[list[bytes], int, int], draw: st.DataObject
) -> None:
    data, old, new = case
    assume(old < new)
    old_root, new_root, proof = consistency_setup(data, old, new)
    k = draw.draw(st.integers(0, len(proof) - 1))
    proof[k] = flip(proof[k], draw.draw(st.integers(0, 255)))
    with pytest.raises(ProofError):
        verify_consistency(old, new, old_root, new_root, proof)


@SOME
@given(consistency_cases(), st.integers(0, 255), st.booleans())
def test_flipping_a_bit_in_either_root_fails_consistency(
    case: tuple[list[bytes], int, int], bit: int, in_old: bool
) -> None:
    data, old, new = case
    old_root, new_root, proof = consistency_setup(data, old, new)
    if in_old:
        old_root = flip(old_root, bit)
    else:
        new_root = flip(new_root, bit)
    with pytest.raises(ProofError):
        verify_consistency(old, new, old_root, new_root, proof)


@SOME
@given(consistency_cases(), st.data())
def test_a_consistency_proof_for_other_sizes_is_rejected(
    case: tuple[list[bytes], int, int], draw: st.DataObject
) -> None:
    """As for inclusion, sizes are bound through the proof's shape; any pair of sizes
    whose proof has another length must be rejected."""
    data, old, new = case
    old_root, new_root, proof = consistency_setup(data, old, new)
    other_old = draw.draw(st.integers(-1, 2 * new + 2))
    other_new = draw.draw(st.integers(-1, 2 * new + 2))
    assume((other_old, other_new) != (old, new))
    assume(not 0 <= other_old <= other_new or proof_length(other_old, other_new) != len(proof))
    with pytest.raises(ProofError):
        verify_consistency(other_old, other_new, old_root, new_root, proof)


@SOME
@given(consistency_cases(), st.data())
def test_a_consistency_proof_with_a_hash_removed_is_rejected(
    case: tuple[list[bytes], int, int], draw: st.DataObject
) -> None:
    data, old, new = case
    assume(old < new)
    old_root, new_root, proof = consistency_setup(data, old, new)
    del proof[draw.draw(st.integers(0, len(proof) - 1))]
    with pytest.raises(ProofError):
        verify_consistency(old, new, old_root, new_root, proof)


@SOME
@given(consistency_cases(), st.data())
def test_a_consistency_proof_with_a_hash_added_is_rejected(
    case: tuple[list[bytes], int, int], draw: st.DataObject
) -> None:
    data, old, new = case
    old_root, new_root, proof = consistency_setup(data, old, new)
    extra = draw.draw(
        st.sampled_from([*proof, old_root, new_root]) | st.binary(min_size=32, max_size=32)
    )
    proof.insert(draw.draw(st.integers(0, len(proof))), extra)
    with pytest.raises(ProofError):
        verify_consistency(old, new, old_root, new_root, proof)


# --- (d) compact ranges -----------------------------------------------------------------


@FEW
@given(entries)
def test_compact_range_appended_leaf_by_leaf_matches_the_tree(data: list[bytes]) -> None:
    tree = MemoryTree(data)
    compact = CompactRange()
    for size, entry in enumerate(data, 1):
        created = compact.append(leaf_hash(entry))
        assert compact.size == size
        assert compact.hashes == [tree.node_map[i] for i in subtrees(0, size)]
        assert compact.root() == fold(compact.hashes) == root_at(tree, size)
        # The nodes it reports are exactly the complete subtrees that end at this leaf.
        assert [i for i, _ in created] == [
            NodeId(level, (size >> level) - 1)
            for level in range(size.bit_length())
            if size % (1 << level) == 0
        ]
        assert all(tree.node_map[i] == value for i, value in created)


@SOME
@given(entries, st.data())
def test_compact_range_loaded_at_a_size_has_that_root(
    data: list[bytes], draw: st.DataObject
) -> None:
    tree = MemoryTree(data)
    size = draw.draw(st.integers(0, len(data)))
    loaded = CompactRange.load(tree, size)
    assert loaded.size == size
    assert loaded.root() == root_at(tree, size) == Reference(data).mth(0, size)
    # Loading and then appending the rest lands on the whole tree's root.
    for entry in data[size:]:
        loaded.append(leaf_hash(entry))
    assert loaded.root() == tree.root()


@SOME
@given(entries, st.data())
def test_extend_equals_appending_leaf_by_leaf(data: list[bytes], draw: st.DataObject) -> None:
    """`extend` builds level by level; it must land where `append` does and report, for
    each leaf, the complete nodes above the leaves that appending it creates."""
    start = draw.draw(st.integers(0, len(data)))
    end = draw.draw(st.integers(start, len(data)))
    tree = MemoryTree(data)
    leaves = [leaf_hash(e) for e in data[start:end]]
    batched = CompactRange.load(tree, start)
    closes = batched.extend(leaves)
    one_by_one = CompactRange.load(tree, start)
    expected = [
        b"".join(value for node, value in one_by_one.append(leaf) if node.level > 0)
        for leaf in leaves
    ]
    assert batched.size == one_by_one.size == end
    assert batched.hashes == one_by_one.hashes
    assert batched.root() == root_at(tree, end)
    assert closes == expected
    for index, closed in enumerate(closes, start):
        for level in range(1, len(closed) // 32 + 1):
            node = NodeId(level, (index + 1 >> level) - 1)
            row, part = closed_by(node)
            assert row == index
            assert closed[part] == tree.node_map[node]
    unrecorded = CompactRange.load(tree, start)
    assert unrecorded.extend(leaves, record=False) == []
    assert unrecorded.hashes == one_by_one.hashes


@pytest.mark.parametrize(("size", "count"), [(0, 1), (1, 0), (3, 1), (4, 2), (7, 2)])
def test_compact_range_needs_one_hash_per_set_bit(size: int, count: int) -> None:
    with pytest.raises(ValueError, match="a compact range of size"):
        CompactRange(size, [bytes(32)] * count)


@pytest.mark.parametrize("size", [1, 2, 5])
def test_loading_from_a_store_without_the_nodes_is_a_proof_error(size: int) -> None:
    with pytest.raises(ProofError, match="no node"):
        CompactRange.load(EmptySource(), size)


def test_a_proof_from_a_store_without_the_nodes_is_a_proof_error() -> None:
    with pytest.raises(ProofError, match="no node"):
        inclusion_proof(EmptySource(), 0, 2)
    with pytest.raises(ProofError, match="no node"):
        consistency_proof(EmptySource(), 1, 3)
    with pytest.raises(ProofError, match="no node"):
        root_at(EmptySource(), 3)


# --- (f) planning limits ----------------------------------------------------------------

big = st.integers(1, 1 << 48)


@SOME
@given(big, st.data())
def test_inclusion_ranges_refuse_an_index_outside_the_tree(size: int, draw: st.DataObject) -> None:
    index = draw.draw(st.integers(size, size + (1 << 20)) | st.integers(-(1 << 20), -1))
    with pytest.raises(ProofError):
        inclusion_ranges(index, size)


def test_inclusion_ranges_refuse_the_empty_tree() -> None:
    with pytest.raises(ProofError):
        inclusion_ranges(0, 0)


@SOME
@given(big, st.integers(1, 1 << 20))
def test_consistency_ranges_refuse_an_old_size_beyond_the_new(new: int, beyond: int) -> None:
    with pytest.raises(ProofError):
        consistency_ranges(new + beyond, new)


@SOME
@given(big)
def test_consistency_ranges_refuse_a_negative_old_size(new: int) -> None:
    with pytest.raises(ProofError):
        consistency_ranges(-1, new)


@SOME
@given(big, st.data())
def test_an_inclusion_proof_is_logarithmic(size: int, draw: st.DataObject) -> None:
    index = draw.draw(st.integers(0, size - 1))
    ranges = inclusion_ranges(index, size)
    assert len(ranges) == len(path_shape(index, size)) <= ceil_log2(size)
    nodes = sum(len(subtrees(*r)) for r in ranges)
    assert nodes <= 2 * ceil_log2(size)


@SOME
@given(big, st.data())
def test_a_consistency_proof_is_logarithmic(new: int, draw: st.DataObject) -> None:
    old = draw.draw(st.integers(0, new))
    ranges = consistency_ranges(old, new)
    assert len(ranges) == proof_length(old, new) <= 2 * ceil_log2(new)
    nodes = sum(len(subtrees(*r)) for r in ranges)
    assert nodes <= 2 * ceil_log2(new)


@FEW
@given(entries, st.data())
def test_a_proof_is_one_round_trip_of_logarithmically_many_nodes(
    data: list[bytes], draw: st.DataObject
) -> None:
    size = draw.draw(st.integers(1, len(data)))
    index = draw.draw(st.integers(0, size - 1))
    old = draw.draw(st.integers(0, size))
    source = CountingSource(MemoryTree(data))
    inclusion_proof(source, index, size)
    consistency_proof(source, old, size)
    root_at(source, size)
    assert len(source.calls) <= 3
    assert all(len(ids) == len(set(ids)) <= max(1, 2 * ceil_log2(size)) for ids in source.calls)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 100, (1 << 40) + 3])
def test_proof_sizes_match_the_rfc_depth(n: int) -> None:
    assert math.ceil(math.log2(n)) == ceil_log2(n)  # the bound this file relies on
    assert max(len(inclusion_ranges(i, n)) for i in {0, n // 2, n - 1}) == ceil_log2(n)
