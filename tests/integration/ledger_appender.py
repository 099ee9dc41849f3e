"""Appends batches of 1000 events to the ledger until killed (for test_ledger_crash).

    python ledger_appender.py <database url> <first batch number>

Batch N holds the canonical events {"batch":N,"i":0} .. {"batch":N,"i":999}. After each
append has returned, that is after its transaction committed, prints `ACK <N> <size>`
and flushes, so a line on stdout means an acknowledged batch.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from forvalg.store.engine import make_engine
from forvalg.store.ledger import Sequencer

BATCH = 1000


def main(url: str, first: int) -> None:
    engine = make_engine(url)
    sequencer = Sequencer(engine)
    print("READY", flush=True)
    batch = first
    while True:
        events = [b'{"batch":%d,"i":%d}' % (batch, i) for i in range(BATCH)]
        head = sequencer.append(events, at=datetime.now(UTC))
        print(f"ACK {batch} {head.size}", flush=True)
        batch += 1


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
