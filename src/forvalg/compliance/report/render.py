"""The report's HTML: one self-contained file rendered from the report's JSON document.

Only the document is passed to the template (after a JSON round trip, so nothing that is
not in `report.json` can reach the page); the charts are inline SVG made from the same
numbers (svg.py), each with its table beside it. No script, no stylesheet, font or image
from elsewhere: the file can be mailed, archived and opened offline.
"""

from __future__ import annotations

import json
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from forvalg.compliance.report import svg
from forvalg.compliance.report.model import Report

_ENV: Environment | None = None


def _environment() -> Environment:
    global _ENV  # built once, on first use, not at import
    if _ENV is None:
        _ENV = Environment(
            loader=PackageLoader("forvalg.compliance.report", "templates"),
            autoescape=select_autoescape(["html", "j2"], default=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        _ENV.filters["pct"] = pct
        _ENV.filters["num"] = num
    return _ENV


def pct(value: float | None) -> str:
    """A share as a percentage with one decimal; an em dash when there is none."""
    return "—" if value is None else f"{value * 100:.1f} %"


def num(value: object) -> str:
    return "—" if value is None else str(value)


def charts(doc: dict[str, Any]) -> dict[str, Markup]:
    """Every chart of the report, from the document's numbers."""
    eq = doc["equivalence"]
    parties = [(op, k) for op, k in eq["operators"].items()]
    if eq["retail"] is not None:
        parties.append(("incumbent retail", eq["retail"]))
    lead = [
        (
            name,
            k["lead_time_working_days"]["p10"],
            k["lead_time_working_days"]["p50"],
            k["lead_time_working_days"]["p90"],
        )
        for name, k in parties
    ]
    found: dict[str, str] = {
        "lead_times": svg.percentile_chart(
            "Order lead time, received to completed (p10, p50, p90)", lead, unit="working days"
        ),
        "rejection_rates": svg.bar_chart(
            "Rejection rate",
            [(name, round((k["rejection_rate"] or 0) * 100, 1)) for name, k in parties],
            unit=" %",
        ),
        "on_due_date": svg.bar_chart(
            "Completed on the due date",
            [(name, round((k["due_date"]["on_share"] or 0) * 100, 1)) for name, k in parties],
            unit=" %",
        ),
        "access_by_category": svg.bar_chart(
            "Access decisions by data category",
            [(c, v["allow"] + v["deny"]) for c, v in doc["access"]["by_category"].items()],
        ),
        "incidents_by_severity": svg.bar_chart(
            "Incidents by severity",
            list(doc["incidents"]["by_severity"].items()),
        ),
    }
    for name, k in parties:
        bins = [(int(d), n) for d, n in k["lead_time_working_days"]["histogram"].items()]
        found[f"histogram:{name}"] = svg.histogram(
            f"Lead time of {name}'s completed orders", bins, axis="working days"
        )
    return {key: Markup(value) for key, value in found.items()}  # noqa: S704 - escaped in svg.py


def render_html(report: Report) -> str:
    doc: dict[str, Any] = json.loads(report.to_json())
    template = _environment().get_template("report.html.j2")
    return template.render(doc=doc, charts=charts(doc))
