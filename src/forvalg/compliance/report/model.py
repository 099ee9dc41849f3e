"""The report as one JSON-able document: `report.json` is exactly it, and the HTML is
rendered from it and nothing else (render.py), so the two cannot disagree."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from forvalg.compliance.report.figures import Figures
from forvalg.compliance.report.findings import FindingsSummary
from forvalg.compliance.report.kpis import kpi_block
from forvalg.compliance.report.period import OSLO, Period
from forvalg.compliance.report.retail import RetailOrders
from forvalg.domain.access_activity import AccessActivity
from forvalg.domain.calendar import WorkingCalendar
from forvalg.domain.equivalence import tally
from forvalg.domain.incidents import Incident, IncidentState
from forvalg.domain.inquiries import Answer, DeadlineState, deadline
from forvalg.domain.statistics import Severity
from forvalg.domain.work_items import WorkItem

FORMAT = "forvalg-compliance-report/1"
COHORT = (
    "orders received in the period (Oslo time), as they stand when the report is made; "
    "decoy orders of honey-lines left out"
)
CUTOFF_SOURCE = (
    "forvalg: orders whose operator's own cancel was refused E_TOO_LATE, and CANCEL_OTHER "
    "orders refused E_TARGET_NOT_CANCELLABLE against a TRANSFER past its cut-off; each "
    "order once. Retail: rows with cutoff_missed=true."
)
NO_RETAIL = "No retail baseline was supplied (--retail-orders): only the operators are shown."


@dataclass(frozen=True)
class Report:
    """The compliance report of one period: `document` is what `report.json` holds."""

    document: dict[str, Any]

    @property
    def period(self) -> str:
        return str(self.document["report"]["period"])

    def to_json(self) -> str:
        return json.dumps(self.document, indent=2, ensure_ascii=False) + "\n"


def _iso(instant: datetime | None) -> str | None:
    return None if instant is None else instant.isoformat()


def _oslo(instant: datetime | None) -> str | None:
    """An instant as Oslo wall time, for people: `2026-11-30 12:00 (Oslo)`."""
    return None if instant is None else f"{instant.astimezone(OSLO):%Y-%m-%d %H:%M} (Oslo)"


def document(
    figures: Figures,
    period: Period,
    *,
    generated_at: datetime,
    calendar: WorkingCalendar,
    checkpoint: str | None,
    retail: RetailOrders | None = None,
    findings: FindingsSummary | None = None,
) -> dict[str, Any]:
    return {
        "report": {
            "format": FORMAT,
            "period": period.label,
            "start": _iso(period.start),
            "end": _iso(period.end),
            "timezone": "Europe/Oslo",
            "generated_at": _iso(generated_at),
            "generated_by": "system:reporter",
        },
        "equivalence": _equivalence(figures, calendar, retail),
        "access": _access(figures.activity),
        "incidents": _incidents(figures.incidents),
        "findings": _findings(findings),
        "routing_versions": {
            "count": len(figures.routing),
            "items": [
                {
                    "version": v.version,
                    "content_hash": v.content_hash,
                    "effective_at": _iso(v.effective_at),
                    "rows": v.rows,
                }
                for v in figures.routing
            ],
        },
        "inquiries": _inquiries(figures.inquiries, figures.answers, generated_at),
        "checkpoint": _checkpoint(checkpoint),
    }


def _equivalence(
    figures: Figures, calendar: WorkingCalendar, retail: RetailOrders | None
) -> dict[str, Any]:
    return {
        "cohort": COHORT,
        "cutoff_miss_source": CUTOFF_SOURCE,
        "operators": {op: kpi_block(figures.equivalence[op]) for op in sorted(figures.equivalence)},
        "retail": None if retail is None else kpi_block(tally(retail.outcomes, calendar)),
        "retail_source": None
        if retail is None
        else {
            "file": retail.file,
            "sha256": retail.sha256,
            "rows": retail.rows,
            "rows_in_period": len(retail.outcomes),
        },
        "retail_note": NO_RETAIL if retail is None else None,
    }


def _split(counts: Mapping[str, Counter[str]]) -> dict[str, dict[str, int]]:
    rows = {k: {"allow": c["allow"], "deny": c["deny"]} for k, c in counts.items()}
    return dict(sorted(rows.items(), key=lambda kv: (-(kv[1]["allow"] + kv[1]["deny"]), kv[0])))


def _access(found: AccessActivity) -> dict[str, Any]:
    return {
        "decisions": {"allow": found.decisions["allow"], "deny": found.decisions["deny"]},
        "by_kind": _split(found.by_kind),
        "by_role": _split(found.by_role),
        "by_purpose": _split(found.by_purpose),
        "by_category": _split(found.by_category),
        "denials": [
            {"code": code, "roles": roles, "category": category, "count": n}
            for (code, roles, category), n in sorted(
                found.denials.items(), key=lambda kv: (-kv[1], kv[0])
            )
        ],
        "break_glass": [
            {
                "at": _iso(use.at),
                "principal": use.principal,
                "roles": list(use.roles),
                "purpose": use.purpose,
                "category": use.category,
                "summary": (
                    f"{use.principal} ({', '.join(use.roles)}) read {use.category} for "
                    f"{use.purpose} under break-glass at {_oslo(use.at)}"
                ),
            }
            for use in sorted(found.break_glass, key=lambda u: (u.at, u.principal))
        ],
    }


def _incidents(found: list[Incident]) -> dict[str, Any]:
    states = Counter(i.state.value for i in found)
    severities = Counter(i.severity.value for i in found)
    return {
        "total": len(found),
        "by_state": {s.value: states[s.value] for s in IncidentState},
        "by_severity": {s.value: severities[s.value] for s in Severity if severities[s.value]},
        "items": [
            {
                "id": i.id,
                "state": i.state.value,
                "severity": i.severity.value,
                "detector": i.detector,
                "subject": dict(i.subject),
                "summary": i.summary,
                "opened_at": _iso(i.opened_at),
                "updated_at": _iso(i.updated_at),
            }
            for i in sorted(found, key=lambda i: (-i.severity.rank, i.opened_at, i.id))
        ],
    }


def _findings(found: FindingsSummary | None) -> dict[str, Any] | None:
    if found is None:
        return None
    shown = asdict(found)
    shown["serious"] = [asdict(f) for f in found.serious]
    shown["verdicts"] = [asdict(v) for v in found.verdicts]
    return shown


def _inquiries(found: list[WorkItem], answers: list[Answer], now: datetime) -> dict[str, Any]:
    """Each inquiry with its deadline status as the inquiry desk states it (domain
    `deadline`): answered on time or late by its first answer, else due or overdue."""
    items = []
    for item in found:
        given = sorted(a.answered_at for a in answers if a.inquiry_id == item.id)
        due = item.due_at or item.opened_at
        status = deadline(due, now=now, answered_at=given[0] if given else None)
        items.append(
            {
                "id": item.id,
                "question": item.summary,
                "period": item.period,
                "opened_at": _iso(item.opened_at),
                "deadline": _iso(due),
                "deadline_oslo": _oslo(due),
                "status": status.describe(),
                "answered": bool(given),
                "answers": len(given),
                "first_answered_at": _iso(given[0]) if given else None,
                "overdue": status.state is DeadlineState.OVERDUE,
                "answered_late": status.state is DeadlineState.ANSWERED_LATE,
            }
        )
    return {
        "total": len(items),
        "open": sum(not i["answered"] for i in items),
        "overdue": sum(bool(i["overdue"]) for i in items),
        "items": items,
    }


def _checkpoint(note: str | None) -> dict[str, Any] | None:
    if not note:
        return None
    lines = note.splitlines()
    size = int(lines[1]) if len(lines) > 2 and lines[1].isdigit() else None
    return {
        "note": note,
        "origin": lines[0] if lines else None,
        "tree_size": size,
        "root_hash": lines[2] if len(lines) > 2 else None,
        "verify": {
            "commands": [
                "forvalg ledger export --out ledger-export",
                "forvalg-verify --key ledger-export/key.pub --checkpoint ledger-export/checkpoint "
                "--entries ledger-export/entries.jsonl",
                "forvalg-verify --key ledger-export/key.pub --checkpoint ledger-export/checkpoint "
                "--entries ledger-export/entries.jsonl --previous OLD_CHECKPOINT",
            ],
            "http": [
                "GET /v1/log/checkpoint",
                "GET /v1/log/key",
                f"GET /v1/log/proof/consistency?from=OLD_SIZE&to={size}",
                f"GET /v1/log/proof/inclusion?index=I&size={size}",
                f"GET /v1/log/entries?start=0&end={min(size or 0, 1000)}",
            ],
        },
    }
