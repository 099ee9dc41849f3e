"""Detectors: find the effects of misuse in retail contacts (issue 6).

Pure functions over Arrow tables (layer 3: no store, no SQLAlchemy); DuckDB does the
bulk work, with no per-row Python. The CLI (`forvalg detect`) fetches the tables through
the wall, one access per job, and writes `findings_document(...)`.
"""

from forvalg.compliance.detectors.findings import Finding, Tested, finalise, findings_document
from forvalg.compliance.detectors.run import detect, examined
from forvalg.compliance.detectors.workspace import DetectionSettings

__all__ = [
    "DetectionSettings",
    "Finding",
    "Tested",
    "detect",
    "examined",
    "finalise",
    "findings_document",
]
