"""Interoperability with Certificate Transparency's reference tree (RFC 6962 / RFC 9162).

Every expected hash in this file is copied from the published test suites, never computed
with the code under test:

* google/certificate-transparency cpp/merkletree/merkle_tree_test.cc (kInputs,
  kSHA256Roots, kSHA256Paths, kSHA256Proofs) and transparency-dev/merkle
  proof/verify_test.go (the same vectors, plus the 6 -> 7 consistency proof);
* transparency-dev/merkle testonly/constants.go (NodeHashes, CompactTrees);
* transparency-dev/merkle proof/proof_test.go (the node IDs that make up each proof).

The published suites number leaves from 1 in their path vectors; here indices are 0-based.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from forvalg.ledger.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MemoryTree,
    NodeId,
    ProofError,
    consistency_proof,
    consistency_ranges,
    inclusion_proof,
    inclusion_ranges,
    leaf_hash,
    root_at,
    subtrees,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]

SHA256_EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

# ROOTS[n - 1] is the root of the tree over LEAVES[:n].
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

# NODES[level][index]: every complete subtree of the 8-leaf tree (testonly.NodeHashes).
NODES = [
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    [
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ],
]

# COMPACT[n]: the compact range (right edge, largest first) of the tree of size n,
# as (level, index) into NODES (testonly.CompactTrees).
COMPACT = [
    [],
    [(0, 0)],
    [(1, 0)],
    [(1, 0), (0, 2)],
    [(2, 0)],
    [(2, 0), (0, 4)],
    [(2, 0), (1, 2)],
    [(2, 0), (1, 2), (0, 6)],
    [(3, 0)],
]

# (0-based index, size, audit path): kSHA256Paths / inclusionProofs.
INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

# (old size, new size, proof): kSHA256Proofs / consistencyProofs.
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

# The node IDs that make up each proof, bottom-up, as transparency-dev/merkle's
# proof.Inclusion / proof.Consistency plan them (proof/proof_test.go). `rehash` is the
# [begin, end) slice of IDs that the proof carries folded into one hash (the smaller,
# right-hand node first), or None.
N = NodeId
INCLUSION_PLANS = [
    (0, 1, [], None),
    (0, 2, [N(0, 1)], None),
    (1, 2, [N(0, 0)], None),
    (1, 3, [N(0, 0), N(0, 2)], None),
    (0, 7, [N(0, 1), N(1, 1), N(0, 6), N(1, 2)], (2, 4)),
    (1, 7, [N(0, 0), N(1, 1), N(0, 6), N(1, 2)], (2, 4)),
    (2, 7, [N(0, 3), N(1, 0), N(0, 6), N(1, 2)], (2, 4)),
    (3, 7, [N(0, 2), N(1, 0), N(0, 6), N(1, 2)], (2, 4)),
    (4, 7, [N(0, 5), N(0, 6), N(2, 0)], None),
    (5, 7, [N(0, 4), N(0, 6), N(2, 0)], None),
    (6, 7, [N(1, 2), N(2, 0)], None),
    (2, 4, [N(0, 3), N(1, 0)], None),
    (3, 5, [N(0, 2), N(1, 0), N(0, 4)], None),
    (3, 6, [N(0, 2), N(1, 0), N(1, 2)], None),
    (4, 6, [N(0, 5), N(2, 0)], None),
    (10, 15, [N(0, 11), N(1, 4), N(0, 14), N(1, 6), N(3, 0)], (2, 4)),
    (24, 31, [N(0, 25), N(1, 13), N(0, 30), N(1, 14), N(3, 2), N(4, 0)], (2, 4)),
    (
        81,
        95,
        [N(0, 80), N(1, 41), N(2, 21), N(0, 94), N(1, 46), N(2, 22), N(4, 4), N(6, 0)],
        (3, 6),
    ),
]
CONSISTENCY_PLANS = [
    (1, 2, [N(0, 1)], None),
    (1, 4, [N(0, 1), N(1, 1)], None),
    (1, 6, [N(0, 1), N(1, 1), N(1, 2)], None),
    (2, 3, [N(0, 2)], None),
    (2, 8, [N(1, 1), N(2, 1)], None),
    (3, 7, [N(0, 2), N(0, 3), N(1, 0), N(0, 6), N(1, 2)], (3, 5)),
    (4, 7, [N(0, 6), N(1, 2)], (0, 2)),
    (5, 7, [N(0, 4), N(0, 5), N(0, 6), N(2, 0)], None),
    (6, 7, [N(1, 2), N(0, 6), N(2, 0)], None),
    (7, 8, [N(0, 6), N(0, 7), N(1, 2), N(2, 0)], None),
    (1, 1, [], None),
    (2, 2, [], None),
    (3, 3, [], None),
    (4, 4, [], None),
    (5, 5, [], None),
    (7, 7, [], None),
    (8, 8, [], None),
    (2, 4, [N(1, 1)], None),
    (3, 5, [N(0, 2), N(0, 3), N(1, 0), N(0, 4)], None),
    (3, 6, [N(0, 2), N(0, 3), N(1, 0), N(1, 2)], None),
    (4, 6, [N(1, 2)], None),
    (1, 7, [N(0, 1), N(1, 1), N(0, 6), N(1, 2)], (2, 4)),
    (10, 15, [N(1, 4), N(1, 5), N(0, 14), N(1, 6), N(3, 0)], (2, 4)),
    (24, 31, [N(3, 2), N(0, 30), N(1, 14), N(2, 6), N(4, 0)], (1, 4)),
    (
        81,
        95,
        [
            N(0, 80),
            N(0, 81),
            N(1, 41),
            N(2, 21),
            N(0, 94),
            N(1, 46),
            N(2, 22),
            N(4, 4),
            N(6, 0),
        ],
        (4, 7),
    ),
]

SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def h(hex_hashes: list[str]) -> list[bytes]:
    return [bytes.fromhex(x) for x in hex_hashes]


def published_node(node: NodeId) -> bytes:
    return bytes.fromhex(NODES[node.level][node.index])


def children(left: bytes, right: bytes) -> bytes:
    """RFC 6962 §2.1 interior node, written out here so expectations do not use the code."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def tree() -> MemoryTree:
    return MemoryTree(LEAVES)


def plan_of(ranges: list[tuple[int, int]]) -> tuple[list[NodeId], tuple[int, int] | None]:
    """Our ranges as transparency-dev/merkle's Nodes: IDs bottom-up, and the rehash slice."""
    ids: list[NodeId] = []
    rehash = None
    for r in ranges:
        parts = list(reversed(subtrees(*r)))
        if len(parts) > 1:
            assert rehash is None, "transparency-dev/merkle rehashes at most one run"
            rehash = (len(ids), len(ids) + len(parts))
        ids.extend(parts)
    return ids, rehash


def go_rehash(ids: list[NodeId], rehash: tuple[int, int] | None) -> list[bytes]:
    """The proof hashes transparency-dev/merkle's Nodes.Rehash makes from published nodes."""
    hashes = [published_node(i) for i in ids]
    if rehash is None:
        return hashes
    begin, end = rehash
    folded = hashes[begin]
    for left in hashes[begin + 1 : end]:
        folded = children(left, folded)
    return [*hashes[:begin], folded, *hashes[end:]]


# --- hashes -----------------------------------------------------------------------------


def test_empty_tree_hash_is_sha256_of_the_empty_string() -> None:
    assert EMPTY_ROOT.hex() == SHA256_EMPTY
    assert MemoryTree().root().hex() == SHA256_EMPTY
    assert root_at(tree(), 0).hex() == SHA256_EMPTY


def test_leaf_hash_of_the_empty_entry() -> None:
    assert (
        leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )


@pytest.mark.parametrize("size", range(1, 9))
def test_root_at_every_past_size_matches_the_published_root(size: int) -> None:
    assert root_at(tree(), size).hex() == ROOTS[size - 1]


@pytest.mark.parametrize("size", range(1, 9))
def test_root_of_a_tree_of_each_size_matches_the_published_root(size: int) -> None:
    assert MemoryTree(LEAVES[:size]).root().hex() == ROOTS[size - 1]


def test_every_complete_subtree_matches_the_published_node_hashes() -> None:
    expected = {
        NodeId(level, index): bytes.fromhex(value)
        for level, row in enumerate(NODES)
        for index, value in enumerate(row)
    }
    assert tree().node_map == expected


@pytest.mark.parametrize("size", range(9))
def test_compact_range_matches_the_published_compact_tree(size: int) -> None:
    grown = MemoryTree(LEAVES[:size]).compact
    loaded = CompactRange.load(tree(), size)
    expected = [bytes.fromhex(NODES[level][index]) for level, index in COMPACT[size]]
    assert grown.size == loaded.size == size
    assert grown.hashes == expected
    assert loaded.hashes == expected


# --- published inclusion and consistency proofs -----------------------------------------


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_proof_equals_the_published_path(index: int, size: int, path: list[str]) -> None:
    assert [p.hex() for p in inclusion_proof(tree(), index, size)] == path


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_published_inclusion_path_verifies(index: int, size: int, path: list[str]) -> None:
    verify_inclusion(leaf_hash(LEAVES[index]), index, size, h(path), bytes.fromhex(ROOTS[size - 1]))


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_proof_equals_the_published_proof(old: int, new: int, proof: list[str]) -> None:
    assert [p.hex() for p in consistency_proof(tree(), old, new)] == proof


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_published_consistency_proof_verifies(old: int, new: int, proof: list[str]) -> None:
    verify_consistency(
        old, new, bytes.fromhex(ROOTS[old - 1]), bytes.fromhex(ROOTS[new - 1]), h(proof)
    )


# --- the proof plan against transparency-dev/merkle's node IDs --------------------------


@pytest.mark.parametrize(("index", "size", "ids", "rehash"), INCLUSION_PLANS)
def test_inclusion_plan_matches_transparency_dev(
    index: int, size: int, ids: list[NodeId], rehash: tuple[int, int] | None
) -> None:
    assert plan_of(inclusion_ranges(index, size)) == (ids, rehash)


@pytest.mark.parametrize(("old", "new", "ids", "rehash"), CONSISTENCY_PLANS)
def test_consistency_plan_matches_transparency_dev(
    old: int, new: int, ids: list[NodeId], rehash: tuple[int, int] | None
) -> None:
    assert plan_of(consistency_ranges(old, new)) == (ids, rehash)


@pytest.mark.parametrize(
    ("index", "size", "ids", "rehash"), [p for p in INCLUSION_PLANS if p[1] <= 8]
)
def test_inclusion_proof_equals_the_published_nodes_it_is_planned_from(
    index: int, size: int, ids: list[NodeId], rehash: tuple[int, int] | None
) -> None:
    assert inclusion_proof(tree(), index, size) == go_rehash(ids, rehash)


@pytest.mark.parametrize(
    ("old", "new", "ids", "rehash"), [p for p in CONSISTENCY_PLANS if p[1] <= 8]
)
def test_consistency_proof_equals_the_published_nodes_it_is_planned_from(
    old: int, new: int, ids: list[NodeId], rehash: tuple[int, int] | None
) -> None:
    assert consistency_proof(tree(), old, new) == go_rehash(ids, rehash)


# --- the reference suites' corruption probes --------------------------------------------


def inclusion_probes(
    index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes
) -> list[tuple[str, int, int, list[bytes], bytes, bytes]]:
    """transparency-dev/merkle corruptInclusionProof: every probe must be rejected."""
    probes = [
        ("index - 1", index - 1, size, proof, root, leaf),
        ("index + 1", index + 1, size, proof, root, leaf),
        ("index ^ 2", index ^ 2, size, proof, root, leaf),
        ("size * 2", index, size * 2, proof, root, leaf),
        ("size // 2", index, size // 2, proof, root, leaf),
        ("wrong leaf", index, size, proof, root, b"WrongLeaf"),
        ("empty root", index, size, proof, EMPTY_ROOT, leaf),
        ("random root", index, size, proof, SOME_HASH, leaf),
        ("trailing garbage", index, size, [*proof, b""], root, leaf),
        ("trailing root", index, size, [*proof, root], root, leaf),
        ("preceding garbage", index, size, [b"", *proof], root, leaf),
        ("preceding root", index, size, [root, *proof], root, leaf),
    ]
    for i in range(len(proof)):
        flipped = [*proof]
        flipped[i] = bytes([proof[i][0] ^ 8]) + proof[i][1:]
        probes.append((f"proof[{i}] bit 3", index, size, flipped, root, leaf))
    if proof:
        probes.append(("removed component", index, size, proof[:-1], root, leaf))
    if len(proof) > 1:
        inserted = [proof[0], SOME_HASH, *proof[1:]]
        probes.append(("inserted component", index, size, inserted, root, leaf))
    return probes


def consistency_probes(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> list[tuple[str, int, int, bytes, bytes, list[bytes]]]:
    """transparency-dev/merkle corruptConsistencyProof: every probe must be rejected."""
    probes = [
        ("old - 1", old - 1, new, old_root, new_root, proof),
        ("old + 1", old + 1, new, old_root, new_root, proof),
        ("old ^ 2", old ^ 2, new, old_root, new_root, proof),
        ("new * 2", old, new * 2, old_root, new_root, proof),
        ("new // 2", old, new // 2, old_root, new_root, proof),
        ("wrong old root", old, new, b"WrongRoot", new_root, proof),
        ("wrong new root", old, new, old_root, b"WrongRoot", proof),
        ("swapped roots", old, new, new_root, old_root, proof),
        ("empty proof", old, new, old_root, new_root, []),
        ("trailing garbage", old, new, old_root, new_root, [*proof, b""]),
        ("trailing old root", old, new, old_root, new_root, [*proof, old_root]),
        ("trailing new root", old, new, old_root, new_root, [*proof, new_root]),
        ("preceding garbage", old, new, old_root, new_root, [b"", *proof]),
        ("preceding old root", old, new, old_root, new_root, [old_root, *proof]),
        ("preceding new root", old, new, old_root, new_root, [new_root, *proof]),
        ("preceding proof[0]", old, new, old_root, new_root, [proof[0], *proof]),
        ("truncated", old, new, old_root, new_root, proof[:-1]),
    ]
    for i in range(len(proof)):
        flipped = [*proof]
        flipped[i] = bytes([proof[i][0] ^ 16]) + proof[i][1:]
        probes.append((f"proof[{i}] bit 4", old, new, old_root, new_root, flipped))
    return probes


def accepted(probes: Iterable[tuple[Any, ...]], verify: Callable[..., None]) -> list[str]:
    """The names of the corrupted probes `verify` lets through (each probe: name, args)."""
    through = []
    for name, *args in probes:
        try:
            verify(*args)
        except ProofError:
            continue
        through.append(name)
    return through


@pytest.mark.parametrize(("index", "size", "path"), [v for v in INCLUSION if v[2]])
def test_published_inclusion_path_rejects_every_corruption(
    index: int, size: int, path: list[str]
) -> None:
    probes = inclusion_probes(
        index, size, h(path), bytes.fromhex(ROOTS[size - 1]), leaf_hash(LEAVES[index])
    )
    assert (
        accepted(probes, lambda i, n, proof, root, leaf: verify_inclusion(leaf, i, n, proof, root))
        == []
    )


@pytest.mark.parametrize(("old", "new", "proof"), [v for v in CONSISTENCY if v[2]])
def test_published_consistency_proof_rejects_every_corruption(
    old: int, new: int, proof: list[str]
) -> None:
    probes = consistency_probes(
        old, new, bytes.fromhex(ROOTS[old - 1]), bytes.fromhex(ROOTS[new - 1]), h(proof)
    )
    assert accepted(probes, verify_consistency) == []


# transparency-dev/merkle TestVerifyConsistency: (old, new, old root, new root, proof, ok).
# Stand-ins of hash size: forvalg also refuses any "hash" that is not 32 bytes.
DONT_CARE_1 = hashlib.sha256(b"don't care 1").digest()
DONT_CARE_2 = hashlib.sha256(b"don't care 2").digest()
EMPTY = bytes.fromhex(SHA256_EMPTY)
CONSISTENCY_EDGE_CASES = [
    (0, 0, DONT_CARE_1, DONT_CARE_2, [], False),
    (1, 1, DONT_CARE_1, DONT_CARE_2, [], False),
    (0, 0, DONT_CARE_1, DONT_CARE_1, [], True),
    (0, 1, DONT_CARE_1, DONT_CARE_2, [], True),
    (1, 1, DONT_CARE_2, DONT_CARE_2, [], True),
    (1, 0, DONT_CARE_1, DONT_CARE_2, [], False),
    (2, 1, DONT_CARE_1, DONT_CARE_2, [], False),
    (1, 2, DONT_CARE_1, DONT_CARE_2, [], False),
    (0, 0, EMPTY, DONT_CARE_2, [], False),
    (1, 1, EMPTY, DONT_CARE_2, [], False),
    (0, 0, EMPTY, EMPTY, [EMPTY], False),
    (0, 1, EMPTY, EMPTY, [EMPTY], False),
    (1, 1, EMPTY, EMPTY, [EMPTY], False),
]


@pytest.mark.parametrize(
    ("old", "new", "old_root", "new_root", "proof", "ok"), CONSISTENCY_EDGE_CASES
)
def test_consistency_edge_cases_match_transparency_dev(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes], ok: bool
) -> None:
    if ok:
        verify_consistency(old, new, old_root, new_root, proof)
    else:
        with pytest.raises(ProofError):
            verify_consistency(old, new, old_root, new_root, proof)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (0, 1), (1, 0), (2, 1)])
def test_inclusion_with_an_empty_proof_and_a_bad_root_or_leaf_is_rejected(
    index: int, size: int
) -> None:
    """transparency-dev/merkle TestVerifyInclusion's probes."""
    for leaf, root in [(SOME_HASH, b""), (b"", EMPTY), (SOME_HASH, EMPTY)]:
        with pytest.raises(ProofError):
            verify_inclusion(leaf, index, size, [], root)


@pytest.mark.parametrize(
    ("leaf", "root"),
    [
        (leaf_hash(b"data"), b""),
        (b"", leaf_hash(b"data")),
        (b"", b""),  # both the wrong size for SHA-256, yet equal
    ],
    ids=["empty root", "empty leaf", "both empty"],
)
def test_single_entry_inclusion_rejects_a_leaf_or_root_of_the_wrong_size(
    leaf: bytes, root: bytes
) -> None:
    """transparency-dev/merkle TestVerifyInclusionSingleEntry: for a one-leaf tree the leaf
    hash is the root and the proof is empty, so only a hash-size check can reject two
    equal hashes that are not 32 bytes long."""
    with pytest.raises(ProofError):
        verify_inclusion(leaf, 0, 1, [], root)


def test_single_entry_inclusion_accepts_the_leaf_as_the_root() -> None:
    verify_inclusion(leaf_hash(b"data"), 0, 1, [], leaf_hash(b"data"))


# --- self-consistency over every size of the reference tree -----------------------------

ALL_INCLUSIONS = [(i, n) for n in range(1, 9) for i in range(n)]
ALL_CONSISTENCIES = [(m, n) for n in range(1, 9) for m in range(n + 1)]


@pytest.mark.parametrize(("index", "size"), ALL_INCLUSIONS)
def test_every_generated_inclusion_proof_verifies(index: int, size: int) -> None:
    proof = inclusion_proof(tree(), index, size)
    verify_inclusion(leaf_hash(LEAVES[index]), index, size, proof, bytes.fromhex(ROOTS[size - 1]))


@pytest.mark.parametrize(("index", "size"), ALL_INCLUSIONS)
def test_every_past_inclusion_proof_equals_the_proof_from_a_tree_of_that_size(
    index: int, size: int
) -> None:
    assert inclusion_proof(tree(), index, size) == inclusion_proof(
        MemoryTree(LEAVES[:size]), index, size
    )


@pytest.mark.parametrize(("index", "size"), ALL_INCLUSIONS)
def test_every_generated_inclusion_proof_rejects_every_corruption(index: int, size: int) -> None:
    proof = inclusion_proof(tree(), index, size)
    probes = inclusion_probes(
        index, size, proof, bytes.fromhex(ROOTS[size - 1]), leaf_hash(LEAVES[index])
    )
    accepted = []
    for name, i, n, p, root, leaf in probes:
        try:
            verify_inclusion(leaf, i, n, p, root)
        except ProofError:
            continue
        accepted.append(name)
    assert accepted == []


@pytest.mark.parametrize(("old", "new"), ALL_CONSISTENCIES)
def test_every_generated_consistency_proof_verifies(old: int, new: int) -> None:
    old_root = bytes.fromhex(ROOTS[old - 1]) if old else EMPTY
    proof = consistency_proof(tree(), old, new)
    verify_consistency(old, new, old_root, bytes.fromhex(ROOTS[new - 1]), proof)


@pytest.mark.parametrize(("old", "new"), [(m, n) for m, n in ALL_CONSISTENCIES if 0 < m < n])
def test_every_generated_consistency_proof_rejects_every_corruption(old: int, new: int) -> None:
    proof = consistency_proof(tree(), old, new)
    probes = consistency_probes(
        old, new, bytes.fromhex(ROOTS[old - 1]), bytes.fromhex(ROOTS[new - 1]), proof
    )
    assert accepted(probes, verify_consistency) == []
