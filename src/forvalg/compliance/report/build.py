"""`build_report` and `write_report`: what `forvalg report`, the evidence bundle and the
regulator's page call, so that all three show the same report."""

from __future__ import annotations

import os
from pathlib import Path

from forvalg.compliance.report.figures import gather
from forvalg.compliance.report.findings import FindingsSummary
from forvalg.compliance.report.model import Report, document
from forvalg.compliance.report.period import Period, parse_period
from forvalg.compliance.report.render import render_html
from forvalg.compliance.report.retail import RetailOrders
from forvalg.domain.calendar import WorkingCalendar
from forvalg.wall import Wall
from forvalg.wall.ledger import LedgerKeeper

HTML, JSON = "report.html", "report.json"


def build_report(
    wall: Wall,
    keeper: LedgerKeeper | None,
    period: Period | str,
    *,
    calendar: WorkingCalendar | None = None,
    retail: RetailOrders | None = None,
    findings: FindingsSummary | None = None,
) -> Report:
    """The report of `period` (a `Period` or `YYYY-MM`; `BadPeriod` otherwise). With the
    ledger `keeper` the checkpoint is signed after the report's own reads are committed,
    so it covers them; without, the report shows the latest checkpoint signed before."""
    month = parse_period(period) if isinstance(period, str) else period
    calendar = calendar or WorkingCalendar()
    figures = gather(wall, month, calendar, checkpoint=keeper is None)
    note = keeper.checkpoint().note if keeper is not None else figures.checkpoint
    return Report(
        document(
            figures,
            month,
            generated_at=wall.clock.now(),
            calendar=calendar,
            checkpoint=note,
            retail=retail,
            findings=findings,
        )
    )


def report_files(report: Report) -> dict[str, bytes]:
    """The report as the files it is published in: `report.html` and `report.json`."""
    return {HTML: render_html(report).encode(), JSON: report.to_json().encode()}


def write_report(report: Report, out_dir: Path) -> list[Path]:
    """`out_dir/report.html` and `out_dir/report.json`, each whole or not at all: both are
    rendered first, written under temporary names, then renamed into place."""
    files = report_files(report)
    out_dir.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for name, text in files.items():
            partial = out_dir / f".{name}.partial"
            partial.write_bytes(text)
            staged.append((partial, out_dir / name))
    except BaseException:
        for partial, _ in staged:
            partial.unlink(missing_ok=True)
        raise
    for partial, final in staged:
        os.replace(partial, final)
    return [final for _, final in staged]
