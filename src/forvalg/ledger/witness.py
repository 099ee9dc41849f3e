"""The witness: keep the last verified checkpoint, accept only checkpoints that extend it.

The regulator (or an auditor) runs this on every checkpoint it is shown. A log that
showed one party a different history than another would have to present two roots
that no consistency proof joins, and the witness refuses the second. The state is a
directory with the last accepted signed checkpoint and a history of every one accepted.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from forvalg.ledger.audit import read_lines, recompute
from forvalg.ledger.merkle import ProofError, verify_consistency
from forvalg.ledger.note import Checkpoint, Verifier
from forvalg.ledger.wire import b64

LATEST, HISTORY, LOCK = "checkpoint", "history", ".lock"

# Establishes that `new` extends `old` (raising `ProofError` if not): by a consistency
# proof from wherever it comes (`by_proof`), or by recomputing both roots (`by_entries`).
Extension = Callable[[Checkpoint, Checkpoint], None]


def by_proof(fetch: Callable[[int, int], list[bytes]]) -> Extension:
    def check(old: Checkpoint, new: Checkpoint) -> None:
        proof = fetch(old.size, new.size)
        verify_consistency(old.size, new.size, old.root, new.root, proof)

    return check


def by_entries(entries: Path) -> Extension:
    """The same entries reproduce both roots, so the new tree has the old as its prefix."""

    def check(old: Checkpoint, new: Checkpoint) -> None:
        with entries.open("rb") as handle:
            found = recompute(read_lines(handle), [old.size, new.size])
        for checkpoint in (old, new):
            if found.roots.get(checkpoint.size) != checkpoint.root:
                raise ProofError(
                    f"{entries.name} does not reproduce the root at size {checkpoint.size}"
                )

    return check


@dataclass(frozen=True)
class Witnessed:
    previous: Checkpoint | None
    current: Checkpoint

    def describe(self) -> str:
        if self.previous is None:
            return f"first checkpoint pinned: size {self.current.size}"
        if self.previous.size == self.current.size:
            return f"unchanged: size {self.current.size}, same root"
        return f"size {self.current.size} extends size {self.previous.size}"


class Witness:
    def __init__(self, state: Path, verifier: Verifier, origin: str | None = None) -> None:
        self.state = state
        self.verifier = verifier
        self.origin = origin

    def last(self) -> Checkpoint | None:
        path = self.state / LATEST
        if not path.exists():
            return None
        return Checkpoint.open(path.read_bytes(), self.verifier, self.origin)

    def observe(self, note: bytes, extension: Extension) -> Witnessed:
        """Accept `note` if it is signed and extends the last accepted checkpoint;
        otherwise raise (`NoteError`, `ProofError`) and keep the state as it was.
        Runs under a lock on the state directory, so two witnesses sharing it (a
        scheduled job and a person) cannot each accept a different extension."""
        self.state.mkdir(parents=True, exist_ok=True)
        with (self.state / LOCK).open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return self._observe(note, extension)

    def _observe(self, note: bytes, extension: Extension) -> Witnessed:
        current = Checkpoint.open(note, self.verifier, self.origin)
        previous = self.last()
        if previous is not None:
            if previous.origin != current.origin:
                raise ProofError(f"log {current.origin!r} is not the witnessed {previous.origin!r}")
            if current.size < previous.size:
                raise ProofError(
                    f"refused: size {current.size} is smaller than the witnessed size "
                    f"{previous.size}; the log does not extend what it showed before"
                )
            try:
                if current.size == previous.size:
                    verify_consistency(current.size, current.size, previous.root, current.root, [])
                else:
                    extension(previous, current)
            except ProofError as exc:
                raise ProofError(
                    f"refused: size {current.size} does not extend the witnessed size "
                    f"{previous.size} ({exc}); the log has forked or was rewritten"
                ) from None
        self._save(note, current)
        return Witnessed(previous, current)

    def _save(self, note: bytes, checkpoint: Checkpoint) -> None:
        partial = self.state / f".{LATEST}.partial"
        with partial.open("wb") as handle:
            handle.write(note)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, self.state / LATEST)
        at = datetime.now(UTC).isoformat(timespec="seconds")
        with (self.state / HISTORY).open("a", encoding="utf-8") as history:
            history.write(f"{at} {checkpoint.size} {b64(checkpoint.root)}\n")
