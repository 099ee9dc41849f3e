"""Checking an export: recompute the root from the entries, and if it does not match,
find the first entry that is out of place.

`entries.jsonl` holds one entry per line, exactly the leaf data. The root is recomputed
in chunks (one hash per leaf, one per node, no parsing), which is what makes the check
fast; only a mismatch pays for parsing every entry to name the first bad index.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from forvalg.ledger.entries import GENESIS_PREV, read_seal
from forvalg.ledger.merkle import CompactRange

CHUNK_BYTES = 1 << 24


class ExportError(ValueError):
    """The export does not match its checkpoint; the message names the first bad index."""

    def __init__(self, message: str, first_bad: int | None = None) -> None:
        super().__init__(message)
        self.first_bad = first_bad


def read_lines(handle: BinaryIO) -> Iterator[list[bytes]]:
    """The file's lines without their newline, a chunk of whole lines at a time."""
    rest = b""
    while chunk := handle.read(CHUNK_BYTES):
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        yield lines
    if rest:
        raise ExportError("the last entry is not terminated by a newline (truncated file?)")


@dataclass
class Recomputed:
    size: int = 0
    roots: dict[int, bytes] = field(default_factory=dict)  # at the sizes asked for


def recompute(chunks: Iterable[list[bytes]], at_sizes: Iterable[int]) -> Recomputed:
    """Stream leaves into a compact range, noting the root at each size in `at_sizes`."""
    marks = sorted(set(at_sizes))
    found = Recomputed()
    tree = CompactRange()
    sha256 = hashlib.sha256
    for lines in chunks:
        leaves = [sha256(b"\x00" + line).digest() for line in lines]
        start = 0
        while marks and tree.size + len(leaves) - start >= marks[0]:
            cut = marks.pop(0) - tree.size + start
            tree.extend(leaves[start:cut], record=False)
            found.roots[tree.size] = tree.root()
            start = cut
        tree.extend(leaves[start:], record=False)
    if tree.size in marks:  # the last mark falls on the end of the entries
        found.roots[tree.size] = tree.root()
    found.size = tree.size
    return found


def first_broken_seal(chunks: Iterable[list[bytes]]) -> ExportError | None:
    """Walk the entries' seals (index and predecessor hash) to the first that is wrong;
    None if every seal holds.

    When entry i records a different hash for entry i-1, either entry i-1 was altered
    or entry i's own `prev` was: in the second case entry i's hash changed too, so
    entry i+1 disagrees with it as well. One entry of look-ahead tells them apart."""
    prev, index, suspect = GENESIS_PREV, 0, None
    for lines in chunks:
        for line in lines:
            seal = read_seal(line)
            if suspect is not None:
                altered = suspect if seal is None or seal.prev != prev.hex() else suspect - 1
                return _altered(altered, suspect)
            if seal is None:
                return ExportError(f"entry {index} is not a ledger entry (not its JSON)", index)
            if seal.index != index:
                return ExportError(
                    f"first bad index {index}: line {index} holds entry {seal.index}; "
                    "entries were deleted, inserted or reordered",
                    index,
                )
            if index > 0 and seal.prev != prev.hex():
                suspect = index
            prev = hashlib.sha256(b"\x00" + line).digest()
            index += 1
    if suspect is not None:  # the last entry: it or its predecessor
        return ExportError(
            f"first bad index {suspect - 1}: entry {suspect - 1} was altered, or the last "
            f"entry's record of it",
            suspect - 1,
        )
    return None


def _altered(altered: int, witness: int) -> ExportError:
    how = (
        f"entry {witness} records a different hash for it"
        if altered < witness
        else f"its record of entry {witness - 1} was changed"
    )
    return ExportError(f"first bad index {altered}: entry {altered} was altered ({how})", altered)


def verify_export(
    entries: Path, size: int, root: bytes, previous: tuple[int, bytes] | None = None
) -> None:
    """Raise `ExportError` unless the file holds exactly `size` entries with `root` (and
    the first `previous[0]` of them have `previous[1]`), naming the first bad index."""
    sizes = [size] + ([previous[0]] if previous else [])
    with entries.open("rb") as handle:
        found = recompute(read_lines(handle), sizes)
    bad_old = previous is not None and found.roots.get(previous[0]) != previous[1]
    if found.size == size and found.roots.get(size) == root and not bad_old:
        return
    with entries.open("rb") as handle:
        broken = first_broken_seal(read_lines(handle))
    if found.size != size:
        where = min(found.size, size)
        if broken is not None and broken.first_bad is not None and broken.first_bad < where:
            where = broken.first_bad
        missing = "ends early" if found.size < size else "has entries beyond it"
        detail = f"; {broken}" if broken is not None else f"; first bad index {where}"
        raise ExportError(
            f"{entries.name} has {found.size} entries but the checkpoint covers {size}: "
            f"it {missing}{detail}",
            where,
        )
    if broken is None:
        last = (previous[0] if bad_old and previous else size) - 1
        broken = ExportError(
            f"first bad index {last}: every entry's seal is intact, so the last entry was "
            "altered, or the entries were rewritten from some point on with new seals",
            last,
        )
    if bad_old and previous is not None:
        if found.roots.get(size) == root:
            raise ExportError(
                f"the entries match the checkpoint, but their first {previous[0]} do not "
                "match the previous checkpoint: the two checkpoints are of different "
                "histories (a fork)"
            )
        raise ExportError(
            f"the first {previous[0]} entries do not match the previous checkpoint; {broken}",
            broken.first_bad,
        )
    raise ExportError(
        f"the root of {entries.name} does not match the checkpoint; {broken}", broken.first_bad
    )
