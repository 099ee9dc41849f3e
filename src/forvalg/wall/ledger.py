"""The ledger keeper: integrates queued access events and signs checkpoints.

The wall queues every decision in the ledger's inbox inside the unit of work that made
it; the keeper moves queued events into the Merkle tree (the store's sequencer) and
signs the tree head as a C2SP checkpoint, on demand and, in long-running processes,
periodically. Integration and signing expose no protected data, so they are not
themselves access decisions.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from forvalg.domain.clock import Clock
from forvalg.ledger.note import Checkpoint, NoteError, Signer, Verifier
from forvalg.store import ledger as ledger_store
from forvalg.store.ledger import StoredCheckpoint as StoredCheckpoint  # for the services
from forvalg.wall.availability import database_unavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    note: str


class LedgerKeeper:
    def __init__(
        self, *, engine: Engine, signers: Sequence[Signer], origin: str, clock: Clock
    ) -> None:
        if not signers:
            raise ValueError("the ledger needs a signing key")
        self._engine = engine
        self._sequencer = ledger_store.Sequencer(engine)
        self.signers = tuple(signers)
        self.origin = origin
        self.clock = clock
        self._lock = threading.Lock()

    @property
    def verifier(self) -> Verifier:
        """The current key; during a rotation checkpoints also carry the previous key's."""
        return self.signers[0].verifier

    def integrate(self) -> int:
        """Move everything queued into the tree; how many entries that was."""
        return self._sequencer.integrate_all(at=self.clock.now())

    def checkpoint(self, *, fresh: bool = True) -> SignedCheckpoint:
        """The latest checkpoint; with `fresh`, first integrate and sign the current tree
        if no checkpoint covers it yet."""
        with self._lock:
            if fresh:
                self.integrate()
            with self._engine.connect() as connection:
                head = ledger_store.head(connection)
                latest = ledger_store.latest_checkpoint(connection)
            if latest is not None and (latest[0] == head.size or not fresh):
                stored = self._signed_with_current_key(latest[1])
                if stored is not None:
                    return stored
            checkpoint = Checkpoint(self.origin, head.size, head.root)
            note = checkpoint.sign(*self.signers)
            with self._engine.begin() as connection:
                ledger_store.save_checkpoint(
                    connection, size=head.size, note=note, at=self.clock.now()
                )
            return SignedCheckpoint(checkpoint, note)

    def _signed_with_current_key(self, note: str) -> SignedCheckpoint | None:
        """A stored checkpoint, or None if it was signed before a key rotation (the
        head is then signed again, with the current keys)."""
        try:
            return SignedCheckpoint(Checkpoint.open(note, self.verifier), note)
        except NoteError:
            return None

    def keep(self, stop: threading.Event, *, integrate_every_s: float, sign_every_s: float) -> None:
        """Integrate and sign until `stop` is set: the loop of `serve` and `worker`."""
        signed_at = time.monotonic()
        while not stop.wait(integrate_every_s):
            try:
                self._integrate_tick()
                if time.monotonic() - signed_at >= sign_every_s:
                    self.checkpoint()
                    signed_at = time.monotonic()
            except Exception as error:  # a database hiccup must not end the keeper
                if database_unavailable(error):  # a restart: one line, not a traceback a tick
                    log.warning("ledger keeper: the database cannot be reached; retrying")
                else:
                    log.exception("ledger keeper: integration or signing failed; retrying")

    def _integrate_tick(self) -> None:
        """One batch a tick, more only while batches come full. Draining to empty under
        load integrated a handful of entries per transaction back to back, holding the
        GIL and the database from the requests (benchmarks/wall_overhead.py)."""
        done = ledger_store.BATCH
        while done == ledger_store.BATCH:
            done = self._sequencer.integrate(at=self.clock.now())

    def start(
        self, *, integrate_every_s: float = 0.2, sign_every_s: float = 60.0
    ) -> threading.Event:
        """Run `keep` in a daemon thread; set the returned event to stop it."""
        stop = threading.Event()
        thread = threading.Thread(
            target=self.keep,
            args=(stop,),
            kwargs={"integrate_every_s": integrate_every_s, "sign_every_s": sign_every_s},
            name="ledger-keeper",
            daemon=True,
        )
        thread.start()
        return stop
