"""The compliance report (`forvalg report`, docs/REPORT.md): equivalence KPIs, access
statistics, denials and break-glass, findings and incidents, routing table versions,
the regulator's inquiries and the checkpoint, as one self-contained HTML file and the
same figures as JSON."""

from forvalg.compliance.report.build import build_report, report_files, write_report
from forvalg.compliance.report.model import Report
from forvalg.compliance.report.period import BadPeriod, Period, parse_period
from forvalg.compliance.report.render import render_html

__all__ = [
    "BadPeriod",
    "Period",
    "Report",
    "build_report",
    "parse_period",
    "render_html",
    "report_files",
    "write_report",
]
