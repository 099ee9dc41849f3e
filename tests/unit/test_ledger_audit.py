"""The export check names the first bad index, whichever field of an entry was changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from forvalg.ledger.audit import ExportError, verify_export
from forvalg.ledger.entries import GENESIS_PREV, seal
from forvalg.ledger.merkle import MemoryTree, leaf_hash, root_at

SIZE = 20


def entries() -> list[bytes]:
    sealed, prev = [], GENESIS_PREV
    for i in range(SIZE):
        entry = seal(b'{"decision":"allow","i":%d}' % i, i, prev)
        sealed.append(entry)
        prev = leaf_hash(entry)
    return sealed


def write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def first_bad(path: Path, lines: list[bytes], previous: int | None = None) -> int | None:
    tree = MemoryTree(entries())
    old = None if previous is None else (previous, root_at(tree, previous))
    with pytest.raises(ExportError) as failed:
        verify_export(write(path, lines), SIZE, tree.root(), old)
    return failed.value.first_bad


def test_an_intact_export_verifies(tmp_path: Path) -> None:
    tree = MemoryTree(entries())
    verify_export(write(tmp_path / "e.jsonl", entries()), SIZE, tree.root(), (7, root_at(tree, 7)))


@pytest.mark.parametrize("k", [0, 1, 7, SIZE - 2])
def test_an_edited_event_is_named(tmp_path: Path, k: int) -> None:
    lines = entries()
    lines[k] = lines[k].replace(b"allow", b"deny!")
    assert first_bad(tmp_path / "e.jsonl", lines) == k


@pytest.mark.parametrize("k", [1, 7, SIZE - 2])
def test_an_edited_prev_blames_its_own_entry_not_the_one_before(tmp_path: Path, k: int) -> None:
    lines = entries()
    lines[k] = seal(b'{"decision":"allow","i":%d}' % k, k, bytes(32).replace(b"\0", b"\1"))
    assert first_bad(tmp_path / "e.jsonl", lines) == k


def test_a_fork_under_the_previous_checkpoint_is_called_a_fork(tmp_path: Path) -> None:
    other = MemoryTree([b"another history"] * 10)
    tree = MemoryTree(entries())
    with pytest.raises(ExportError, match="fork") as failed:
        verify_export(write(tmp_path / "e.jsonl", entries()), SIZE, tree.root(), (10, other.root()))
    assert failed.value.first_bad is None
