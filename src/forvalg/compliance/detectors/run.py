"""One detection run: every detector over one workspace and the ledger, BH across all
their tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from forvalg.compliance.detectors.access import access_tests
from forvalg.compliance.detectors.findings import Finding, Tested, finalise
from forvalg.compliance.detectors.honey import honey_tests
from forvalg.compliance.detectors.ledger_input import STAFF_PREFIX, AccessSettings, Ledger
from forvalg.compliance.detectors.targeting import targeting_tests
from forvalg.compliance.detectors.timing import timing_tests
from forvalg.compliance.detectors.unexplained import unexplained_tests
from forvalg.compliance.detectors.workspace import DetectionSettings, SqlEngine, Workspace
from forvalg.domain.statistics import Severity

Detector = Callable[[Workspace], list[Tested]]
DETECTORS: tuple[Detector, ...] = (targeting_tests, timing_tests, honey_tests)


def detect(
    contacts: pa.Table,
    events: pa.Table,
    population: pa.Array | pa.ChunkedArray,
    settings: DetectionSettings | None = None,
    honey: pa.Table | None = None,
    *,
    ledger: pa.Table | None = None,
    work_items: pa.Table | None = None,
    access: AccessSettings | None = None,
    min_severity: Severity = Severity.LOW,
    detectors: Sequence[Detector] = DETECTORS,
    engine: SqlEngine | None = None,
) -> list[Finding]:
    """The findings of `detectors` (all of them unless told) at or above `min_severity`,
    most severe first; `honey` are the honey-lines (number, created_at), if any. With a
    `ledger` (ledger_input.ENTRY_SCHEMA) the access detector runs too, and with the
    `work_items` its entries name (WORK_ITEM_SCHEMA) unexplained access. The p-values of
    every test of the run are adjusted together (Benjamini–Hochberg).

    `engine` runs every detector's queries (an in-memory DuckDB unless told; e.g.
    `spark_engine.SparkEngine`), and is closed at the end."""
    ws = Workspace(
        contacts, events, population, settings or DetectionSettings(), honey, engine=engine
    )
    try:
        tested = [t for d in detectors for t in d(ws)]
        if ledger is not None:
            book = Ledger(ledger, work_items, engine=ws.engine)
            tested += access_tests(book, access)
            if work_items is not None:
                tested += unexplained_tests(book, settings=access)
    finally:
        ws.close()
    return finalise(tested, min_severity=min_severity)


def examined(contacts: pa.Table, ledger: pa.Table | None = None) -> dict[str, list[str]]:
    """Whom a run looks at: every campaign and agent with an outbound contact, and every
    staff principal in the ledger (the subjects of the §5 document's `examined`)."""
    outbound = contacts.filter(pc.equal(contacts["direction"].cast(pa.string()), "OUTBOUND"))
    subjects: dict[str, list[str]] = {}
    for kind in ("campaign_id", "agent_id"):
        ids = pc.unique(outbound[kind].cast(pa.string())).to_pylist()
        subjects[kind] = sorted(i for i in ids if i)
    if ledger is not None:
        principals = pc.unique(ledger["principal"]).to_pylist()
        subjects["principal"] = sorted(p for p in principals if p.startswith(STAFF_PREFIX))
    return subjects
