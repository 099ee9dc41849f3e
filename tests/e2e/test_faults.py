"""The short fault run CI does (benchmarks/soak.py --faults is the long one).

For about a minute a small realistic load from three operators (orders of every kind with
Idempotency-Keys, cancels, reads, events, deliberately bad requests) runs against
`forvalg serve --workers 2` and two `forvalg worker`s on a private PostgreSQL cluster,
while each fault strikes once: `kill -9` of a uvicorn worker (its parent respawns it),
`kill -9` of an order worker (restarted), and a PostgreSQL restart. Clients retry
connection errors and 5xx with the same Idempotency-Key, as an operator's system does.

Afterwards: every acknowledged order exists exactly once (by id and by key), no key is
stored twice, no transition ran twice, acknowledged cancels hold, the ledger export
verifies with `forvalg-verify`, every acknowledged access has its ledger entry, and the
only 5xx are 503s while PostgreSQL was down (or just back).
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.loadlib import Soak, SoakConfig, report


def test_faults_under_load_lose_nothing_and_do_nothing_twice(tmp_path: Path) -> None:
    config = SoakConfig(
        seconds=60,
        rate=15,
        concurrency=32,
        operators=3,
        seeded_per_operator=30,
        faults=True,
        fault_at=(0.2, 0.45, 0.7),
        pg_down_seconds=3,
        workdir=tmp_path,
        quiet=True,
    )
    result = Soak(config).run()
    text = report(result)

    assert not result.problems, text
    assert [f.name for f in result.faults] == [
        "kill -9 API worker",
        "kill -9 order worker",
        "PostgreSQL restart",
    ], text
    assert all(f.recovered_after_s is not None for f in result.faults), text

    # A 5xx only while the database was down or just back, and then a 503, never a 500.
    assert result.pg_window is not None
    outside = result.statuses(result.pg_window, inside=False)
    inside = result.statuses(result.pg_window, inside=True)
    assert not [s for s in outside if s >= 500], text
    assert not [s for s in inside if s >= 500 and s != 503], text

    checks = result.checks
    acknowledged = checks["orders acknowledged (201, distinct)"]
    assert acknowledged >= 100, text  # the run did place orders through all three faults
    assert checks["acknowledged orders found exactly once by id"] == acknowledged, text
    assert checks["duplicated (operator, Idempotency-Key)"] == 0, text
    assert checks["orders with a state twice in their history"] == 0, text
    assert checks["forvalg-verify --export"][0] == 0, text
    assert checks["acknowledged orders without a ledger write naming their line"] == 0, text
