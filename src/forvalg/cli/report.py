"""`forvalg report --period YYYY-MM --out DIR`: the compliance report, one self-contained
HTML file and the same figures as JSON (INTERFACES.md §1; docs/REPORT.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forvalg.cli.common import console, fail, services
from forvalg.compliance.report import BadPeriod, build_report, parse_period, write_report
from forvalg.compliance.report.findings import FindingsFileError, read_findings
from forvalg.compliance.report.retail import RetailFileError, read_retail_orders


def register(app: typer.Typer) -> None:
    @app.command()
    def report(
        period: Annotated[str, typer.Option("--period", help="Calendar month YYYY-MM (Oslo)")],
        out: Annotated[Path, typer.Option("--out", help="Directory for report.html and .json")],
        retail_orders: Annotated[
            Path | None,
            typer.Option("--retail-orders", help="The incumbent's retail orders (CSV, REPORT.md)"),
        ] = None,
        findings: Annotated[
            Path | None,
            typer.Option("--findings", help="The findings file of `forvalg detect --out`"),
        ] = None,
    ) -> None:
        """Write the compliance report of a month: equivalence KPIs per operator against
        the incumbent's own retail, access statistics, denials and break-glass, findings
        and incidents, routing table versions, inquiries and their deadlines, and the
        signed checkpoint with how to verify it. Every input is checked before anything
        is read or written."""
        try:
            month = parse_period(period)
            retail = None if retail_orders is None else read_retail_orders(retail_orders, month)
            found = None if findings is None else read_findings(findings)
        except (BadPeriod, RetailFileError, FindingsFileError) as exc:
            raise fail(str(exc)) from None
        if out.exists() and not out.is_dir():
            raise fail(f"--out {out}: exists and is not a directory")
        with services() as svc:
            made = build_report(
                svc.wall,
                svc.keeper,
                month,
                calendar=svc.rules.calendar,
                retail=retail,
                findings=found,
            )
            written = write_report(made, out)
        doc = made.document
        operators = len(doc["equivalence"]["operators"])
        decisions = sum(doc["access"]["decisions"].values())
        console.print(
            f"report {month.label}: {operators} operator(s), {decisions} access decision(s), "
            f"{doc['incidents']['total']} incident(s), "
            f"{doc['routing_versions']['count']} routing version(s), "
            f"{doc['inquiries']['total']} inquiry(ies)",
            highlight=False,
            markup=False,
        )
        if doc["equivalence"]["retail"] is None:
            console.print("no retail baseline supplied", highlight=False, markup=False)
        for path in written:
            console.print(f"wrote {path}", highlight=False, markup=False)
