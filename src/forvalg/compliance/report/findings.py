"""The findings of a detection run (`--findings`, the file `forvalg detect --out` writes,
INTERFACES §5), summarised for the report: counts by detector and severity, and the
summaries of those of severity medium or above."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forvalg.domain.statistics import Severity

DETECTORS = ("targeting", "timing", "honey_line", "access", "unexplained_access")


class FindingsFileError(ValueError):
    """A findings file that cannot be used; the message names the file and the finding."""


@dataclass(frozen=True, slots=True)
class SeriousFinding:
    id: str
    detector: str
    severity: str
    summary: str


@dataclass(frozen=True, slots=True)
class FindingsSummary:
    file: str
    sha256: str
    generated_at: str
    total: int
    by_detector: dict[str, int]
    by_severity: dict[str, int]
    serious: tuple[SeriousFinding, ...]  # medium or above, most severe first


def read_findings(path: Path) -> FindingsSummary:
    try:
        raw = path.read_bytes()
        document = json.loads(raw)
    except OSError as exc:
        raise FindingsFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FindingsFileError(f"{path}: not a JSON document: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("findings"), list):
        raise FindingsFileError(f"{path}: no `findings` list (the file of `forvalg detect`)")
    detectors: Counter[str] = Counter()
    severities: Counter[str] = Counter()
    serious: list[SeriousFinding] = []
    for index, item in enumerate(document["findings"]):
        found = _finding(path, index, item)
        detectors[found.detector] += 1
        severities[found.severity] += 1
        if Severity(found.severity).at_least(Severity.MEDIUM):
            serious.append(found)
    serious.sort(key=lambda f: (-Severity(f.severity).rank, f.detector, f.id))
    return FindingsSummary(
        file=path.name,
        sha256=hashlib.sha256(raw).hexdigest(),
        generated_at=str(document.get("generated_at") or ""),
        total=sum(detectors.values()),
        by_detector={d: detectors[d] for d in sorted(detectors)},
        by_severity={s.value: severities[s.value] for s in Severity if severities[s.value]},
        serious=tuple(serious),
    )


def _finding(path: Path, index: int, item: Any) -> SeriousFinding:
    def bad(field: str, message: str) -> FindingsFileError:
        return FindingsFileError(f"{path}: findings[{index}], field {field}: {message}")

    if not isinstance(item, dict):
        raise bad("(finding)", "not an object")
    values = {}
    for field in ("id", "detector", "severity", "summary"):
        value = item.get(field)
        if not isinstance(value, str) or not value:
            raise bad(field, "missing or not a string")
        values[field] = value
    if values["detector"] not in DETECTORS:
        raise bad("detector", f"{values['detector']!r} is not one of {', '.join(DETECTORS)}")
    if values["severity"] not in {s.value for s in Severity}:
        raise bad("severity", f"{values['severity']!r} is not a severity")
    return SeriousFinding(**values)
