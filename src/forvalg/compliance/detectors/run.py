"""One detection run: every detector over one workspace, BH across all their tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pyarrow as pa

from forvalg.compliance.detectors.findings import Finding, Tested, finalise
from forvalg.compliance.detectors.honey import honey_tests
from forvalg.compliance.detectors.targeting import targeting_tests
from forvalg.compliance.detectors.timing import timing_tests
from forvalg.compliance.detectors.workspace import DetectionSettings, Workspace
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
    min_severity: Severity = Severity.LOW,
    detectors: Sequence[Detector] = DETECTORS,
) -> list[Finding]:
    """The findings of `detectors` (all of them unless told) at or above `min_severity`,
    most severe first; `honey` are the honey-lines (number, created_at), if any. The
    p-values of every test of the run are adjusted together (Benjamini–Hochberg)."""
    ws = Workspace(contacts, events, population, settings or DetectionSettings(), honey)
    return finalise([t for d in detectors for t in d(ws)], min_severity=min_severity)
