"""Findings (INTERFACES §5): what a detector reports, and the document `forvalg detect` writes.

A detector first produces `Tested` results: one per hypothesis tested (a campaign or an
agent, under one test), each with its raw p-value. `finalise` adjusts the p-values of
everything tested in the run together (Benjamini–Hochberg), applies the severity rule
of `forvalg.domain.statistics` and keeps the results at or above a minimum severity as
`Finding`s. The finding's `statistics.p_value` is the adjusted p-value; the raw one is
in its evidence.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from forvalg.domain.statistics import Severity, benjamini_hochberg, severity

DETECTORS = ("targeting", "timing", "honey_line", "access", "unexplained_access")


@dataclass(frozen=True, slots=True)
class Tested:
    """One hypothesis tested, before the run's p-values are adjusted together.

    `summary` is one sentence with a `{p}` placeholder for the adjusted p-value.
    `escalate_to`: a result that reaches MEDIUM is raised to at least this severity
    (a contact before the customer could have told anyone is HIGH, never medium).
    `rule`: the severity is decided by a rule, not by the test (a targeted contact to a
    honey-line is CRITICAL every time): such a result takes no part in the adjustment and
    its `p_value` is reported as it is, the chance stated in its summary."""

    detector: str
    test: str
    subject: tuple[str, str]  # ("campaign_id" | "agent_id" | "principal", its id)
    p_value: float
    lift: float
    n: int
    hits: int
    summary: str
    evidence: Mapping[str, object] = field(default_factory=dict)
    escalate_to: Severity | None = None
    rule: Severity | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    id: str
    detector: str
    severity: Severity
    subject: Mapping[str, str]
    summary: str
    statistics: Mapping[str, float | int]
    evidence: Mapping[str, object]

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "detector": self.detector,
            "severity": self.severity.value,
            "subject": dict(self.subject),
            "summary": self.summary,
            "statistics": dict(self.statistics),
            "evidence": dict(self.evidence),
        }


def finding_id(detector: str, test: str, subject: tuple[str, str]) -> str:
    """Deterministic: the same detector, test and subject give the same id in every run,
    so a finding can be followed from run to run (and an incident opened once)."""
    key = json.dumps([detector, test, *subject], separators=(",", ":"))
    return f"{detector}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def finalise(tested: Sequence[Tested], *, min_severity: Severity = Severity.LOW) -> list[Finding]:
    """Benjamini–Hochberg across everything in `tested`, the severity rule, and the
    findings at or above `min_severity`, in the document's order."""
    tests = [t for t in tested if t.rule is None]
    q_values = benjamini_hochberg([t.p_value for t in tests])
    adjusted = dict(zip(map(id, tests), q_values, strict=True))
    findings = []
    for t in tested:
        q = adjusted.get(id(t), t.p_value)
        level = t.rule or severity(q=q, lift=t.lift, hits=t.hits)
        if t.escalate_to is not None and level.at_least(Severity.MEDIUM):
            level = max(level, t.escalate_to, key=lambda s: s.rank)
        if not level.at_least(min_severity):
            continue
        findings.append(
            Finding(
                id=finding_id(t.detector, t.test, t.subject),
                detector=t.detector,
                severity=level,
                subject={t.subject[0]: t.subject[1]},
                summary=t.summary.replace("{p}", _p(q)),
                statistics={"p_value": _round(q), "lift": round(t.lift, 3), "n": t.n},
                evidence={"test": t.test, "p_raw": _round(t.p_value), **t.evidence},
            )
        )
    return ordered(findings)


def ordered(findings: Iterable[Finding]) -> list[Finding]:
    """Most severe first, then by detector and id: the same findings, the same order."""
    return sorted(findings, key=lambda f: (-f.severity.rank, f.detector, f.id))


def findings_document(
    findings: Iterable[Finding],
    generated_at: datetime,
    examined: Mapping[str, Iterable[str]] | None = None,
) -> dict[str, object]:
    """The §5 document: `{"generated_at": ..., "findings": [...]}`, deterministic. With
    `examined` (subject kind -> the subjects the run tested) it also says whom the run
    looked at, so a subject without a finding is seen to be clean, not forgotten (an
    additive member, `"examined": {"campaign_id": [...], "agent_id": [...], ...}`)."""
    if generated_at.tzinfo is None:
        raise ValueError("generated_at must be timezone-aware")
    stamp = generated_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    document: dict[str, object] = {
        "generated_at": stamp,
        "findings": [f.as_json() for f in ordered(findings)],
    }
    if examined is not None:
        document["examined"] = {kind: sorted(set(ids)) for kind, ids in sorted(examined.items())}
    return document


def _round(p: float) -> float:
    return float(f"{p:.3g}")


def _p(q: float) -> str:
    return "p < 1e-300" if q == 0.0 else f"p = {q:.2g}"
