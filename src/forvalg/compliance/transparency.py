"""The ledger's transparency interface: checkpoints, the verifier key, entries, proofs
and exports, for the regulator and compliance (INTERFACES §6).

Every read here is an access decision in the ledger itself. `checkpoint` signs after
the read's own decision is committed, so it covers that decision too; an export is
signed first and holds the log up to its checkpoint, so its own read comes after it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forvalg.ledger.wire import ConsistencyProof, InclusionProof
from forvalg.wall import Principal, Purpose, Wall
from forvalg.wall.ledger import LedgerKeeper, SignedCheckpoint
from forvalg.wall.principals import StaffRole

ENTRIES, CHECKPOINT, KEY = "entries.jsonl", "checkpoint", "key.pub"
MAX_ENTRIES_PER_READ = 1000


@dataclass(frozen=True, slots=True)
class Export:
    directory: Path
    size: int
    root: bytes


def purpose_of(principal: Principal) -> Purpose:
    """The regulator inspects; compliance (and its jobs) audit."""
    if StaffRole.REGULATOR in principal.roles:
        return Purpose.REGULATORY_INSPECTION
    return Purpose.COMPLIANCE_AUDIT


class TransparencyLog:
    def __init__(self, *, wall: Wall, keeper: LedgerKeeper) -> None:
        self._wall = wall
        self._keeper = keeper

    def checkpoint(self, principal: Principal) -> SignedCheckpoint:
        with self._wall.access(principal, purpose_of(principal)) as guard:
            guard.ledger.see_checkpoint()
        return self._keeper.checkpoint()

    def verifier_key(self, principal: Principal) -> str:
        with self._wall.access(principal, purpose_of(principal)) as guard:
            guard.ledger.see_checkpoint()
        return str(self._keeper.verifier)

    def entries(self, principal: Principal, start: int, end: int) -> list[dict[str, Any]]:
        """Entries [start, end) as objects; at most `MAX_ENTRIES_PER_READ` per call."""
        if not 0 <= start <= end or end - start > MAX_ENTRIES_PER_READ:
            raise ValueError(
                f"need 0 <= start <= end and at most {MAX_ENTRIES_PER_READ} entries per read"
            )
        self._keeper.integrate()
        with self._wall.access(principal, purpose_of(principal)) as guard:
            found = guard.ledger.entries(start=start, end=end)
        return [json.loads(e) for e in found]

    def inclusion(self, principal: Principal, index: int, size: int) -> InclusionProof:
        self._keeper.integrate()
        with self._wall.access(principal, purpose_of(principal)) as guard:
            leaf, path = guard.ledger.inclusion(index=index, size=size)
        return InclusionProof(index, size, leaf, path)

    def consistency(self, principal: Principal, old: int, new: int) -> ConsistencyProof:
        self._keeper.integrate()
        with self._wall.access(principal, purpose_of(principal)) as guard:
            path = guard.ledger.consistency(old=old, new=new)
        return ConsistencyProof(old, new, path)

    def export(self, principal: Principal, directory: Path) -> Export:
        """`entries.jsonl` (line i is exactly entry i), `checkpoint` and `key.pub`.

        Files appear only after the read's decision has committed; until then they are
        written under temporary names."""
        signed = self._keeper.checkpoint()
        size = signed.checkpoint.size
        directory.mkdir(parents=True, exist_ok=True)
        partial = directory / f".{ENTRIES}.partial"
        try:
            with (
                self._wall.access(principal, purpose_of(principal)) as guard,
                partial.open("w", encoding="utf-8", newline="\n") as out,
            ):
                for entry in guard.ledger.all_entries(end=size):
                    out.write(entry)
                    out.write("\n")
        except BaseException:
            partial.unlink(missing_ok=True)  # no decision in the ledger, no data on disk
            raise
        os.replace(partial, directory / ENTRIES)
        (directory / CHECKPOINT).write_text(signed.note, encoding="utf-8")
        (directory / KEY).write_text(str(self._keeper.verifier) + "\n", encoding="utf-8")
        return Export(directory, size, signed.checkpoint.root)
