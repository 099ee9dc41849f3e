"""The ledger's transparency interface: checkpoints, the verifier key, entries, proofs
and exports, for the regulator and compliance (INTERFACES §6).

Every read here is an access decision in the ledger itself. `checkpoint` signs after
the read's own decision is committed, so it covers that decision too; an export is
signed first and holds the log up to its checkpoint, so its own read comes after it.
"""

from __future__ import annotations

import json
import os
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forvalg.ledger.wire import ConsistencyProof, InclusionProof
from forvalg.wall import Principal, Purpose, Wall
from forvalg.wall.guard import Guard
from forvalg.wall.ledger import LedgerKeeper, SignedCheckpoint, StoredCheckpoint
from forvalg.wall.principals import UNSTATED, Statement

ENTRIES, CHECKPOINT, KEY = "entries.jsonl", "checkpoint", "key.pub"
MAX_ENTRIES_PER_READ = 1000


@dataclass(frozen=True, slots=True)
class Export:
    directory: Path
    size: int
    root: bytes


class TransparencyLog:
    def __init__(self, *, wall: Wall, keeper: LedgerKeeper) -> None:
        self._wall = wall
        self._keeper = keeper

    def _access(self, principal: Principal, stated: Statement) -> AbstractContextManager[Guard]:
        # Staff (compliance, the regulator) state their own purpose and work item; the
        # ledger clerk and the reporter audit.
        return self._wall.access_for(principal, stated, Purpose.COMPLIANCE_AUDIT)

    def checkpoint(self, principal: Principal, stated: Statement = UNSTATED) -> SignedCheckpoint:
        with self._access(principal, stated) as guard:
            guard.ledger.see_checkpoint()
        return self._keeper.checkpoint()

    def verifier_key(self, principal: Principal, stated: Statement = UNSTATED) -> str:
        with self._access(principal, stated) as guard:
            guard.ledger.see_checkpoint()
        return str(self._keeper.verifier)

    def checkpoints(
        self, principal: Principal, stated: Statement = UNSTATED, *, limit: int = 20
    ) -> list[StoredCheckpoint]:
        """The latest signed checkpoints, newest first (the first is the current one,
        signed now if none covers the tree): what a witness may hold, to ask for a
        consistency proof from."""
        self._keeper.checkpoint()
        with self._access(principal, stated) as guard:
            return guard.ledger.checkpoints(limit=limit)

    def entries(
        self, principal: Principal, start: int, end: int, stated: Statement = UNSTATED
    ) -> list[dict[str, Any]]:
        """Entries [start, end) as objects; at most `MAX_ENTRIES_PER_READ` per call."""
        if not 0 <= start <= end or end - start > MAX_ENTRIES_PER_READ:
            raise ValueError(
                f"need 0 <= start <= end and at most {MAX_ENTRIES_PER_READ} entries per read"
            )
        self._keeper.integrate()
        with self._access(principal, stated) as guard:
            found = guard.ledger.entries(start=start, end=end)
        return [json.loads(e) for e in found]

    def inclusion(
        self, principal: Principal, index: int, size: int, stated: Statement = UNSTATED
    ) -> InclusionProof:
        self._keeper.integrate()
        with self._access(principal, stated) as guard:
            leaf, path = guard.ledger.inclusion(index=index, size=size)
        return InclusionProof(index, size, leaf, path)

    def consistency(
        self, principal: Principal, old: int, new: int, stated: Statement = UNSTATED
    ) -> ConsistencyProof:
        self._keeper.integrate()
        with self._access(principal, stated) as guard:
            path = guard.ledger.consistency(old=old, new=new)
        return ConsistencyProof(old, new, path)

    def export(self, principal: Principal, directory: Path, stated: Statement = UNSTATED) -> Export:
        """`entries.jsonl` (line i is exactly entry i), `checkpoint` and `key.pub`.

        Files appear only after the read's decision has committed; until then they are
        written under temporary names."""
        signed = self._keeper.checkpoint()
        size = signed.checkpoint.size
        directory.mkdir(parents=True, exist_ok=True)
        partial = directory / f".{ENTRIES}.partial"
        try:
            with (
                self._access(principal, stated) as guard,
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
