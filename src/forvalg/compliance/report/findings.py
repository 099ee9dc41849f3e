"""The findings of a detection run (`--findings`, the file `forvalg detect --out` writes,
INTERFACES §5), summarised for the report: counts by detector and severity, the
summaries of those of severity medium or above, and, when the file says whom the run
examined, which campaigns, agents and staff were flagged and which were not."""

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


# Subjects the report names in full when not flagged; beyond this, a count.
NAMED_CLEAN = 50
KINDS = {"campaign_id": "campaigns", "agent_id": "agents", "principal": "staff"}


@dataclass(frozen=True, slots=True)
class Verdicts:
    """Of one kind of subject: how many the run examined, those flagged (medium or
    above, with their worst severity) and those not."""

    kind: str  # campaign_id, agent_id or principal
    label: str
    examined: int
    flagged: tuple[tuple[str, str], ...]
    not_flagged: tuple[str, ...]  # at most NAMED_CLEAN, the rest counted
    not_flagged_count: int


@dataclass(frozen=True, slots=True)
class FindingsSummary:
    file: str
    sha256: str
    generated_at: str
    total: int
    by_detector: dict[str, int]
    by_severity: dict[str, int]
    serious: tuple[SeriousFinding, ...]  # medium or above, most severe first
    verdicts: tuple[Verdicts, ...] = ()  # when the file lists whom the run examined


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
    worst: dict[tuple[str, str], Severity] = {}
    for index, item in enumerate(document["findings"]):
        found = _finding(path, index, item)
        detectors[found.detector] += 1
        severity = Severity(found.severity)
        severities[found.severity] += 1
        if severity.at_least(Severity.MEDIUM):
            serious.append(found)
            subject = item.get("subject")
            for kind, value in subject.items() if isinstance(subject, dict) else ():
                known = worst.get((kind, str(value)))
                if known is None or severity.rank > known.rank:
                    worst[(kind, str(value))] = severity
    serious.sort(key=lambda f: (-Severity(f.severity).rank, f.detector, f.id))
    return FindingsSummary(
        file=path.name,
        sha256=hashlib.sha256(raw).hexdigest(),
        generated_at=str(document.get("generated_at") or ""),
        total=sum(detectors.values()),
        by_detector={d: detectors[d] for d in sorted(detectors)},
        by_severity={s.value: severities[s.value] for s in Severity if severities[s.value]},
        serious=tuple(serious),
        verdicts=_verdicts(path, document.get("examined"), worst),
    )


def _verdicts(
    path: Path, examined: Any, worst: dict[tuple[str, str], Severity]
) -> tuple[Verdicts, ...]:
    if examined is None:
        return ()
    if not isinstance(examined, dict):
        raise FindingsFileError(f"{path}: field examined: not an object")
    verdicts = []
    for kind, label in KINDS.items():
        subjects = examined.get(kind, [])
        if not isinstance(subjects, list) or not all(isinstance(x, str) for x in subjects):
            raise FindingsFileError(f"{path}: field examined.{kind}: not a list of strings")
        flagged = sorted(
            ((x, worst[(kind, x)]) for x in set(subjects) if (kind, x) in worst),
            key=lambda pair: (-pair[1].rank, pair[0]),
        )
        clean = sorted(x for x in set(subjects) if (kind, x) not in worst)
        verdicts.append(
            Verdicts(
                kind,
                label,
                len(set(subjects)),
                tuple((x, sev.value) for x, sev in flagged),
                tuple(clean[:NAMED_CLEAN]),
                len(clean),
            )
        )
    return tuple(verdicts)


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
