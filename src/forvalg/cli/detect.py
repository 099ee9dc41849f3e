"""`forvalg detect`: every detector over what is stored, findings to a file
(INTERFACES.md §1, §5; docs/DETECTION.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forvalg.cli.common import Engine, console, fail, progress_bar, services
from forvalg.compliance.detectors import spark_engine
from forvalg.domain.statistics import Severity


def register(app: typer.Typer) -> None:
    @app.command()
    def detect(
        out: Annotated[Path, typer.Option("--out", help="The findings file (JSON, §5)")],
        engine: Annotated[Engine, typer.Option("--engine", help="Query engine")] = Engine.DUCKDB,
        min_severity: Annotated[
            Severity, typer.Option("--min-severity", help="Leave out findings below this")
        ] = Severity.LOW,
    ) -> None:
        """Run every detector over the stored contacts, CPS events, honey-lines and ledger,
        and write the findings (most severe first). Exits 0 whatever is found: the
        findings are the result, not an error. `--engine spark` runs every detector's
        queries on Spark (local mode on every core; docs/DETECTION.md)."""
        make = spark_engine.spark_engine if engine is Engine.SPARK else None
        with services() as svc, progress_bar(counts=False) as bar:
            bar.add_task("detecting", total=None)
            try:
                report = svc.detection.run(out, min_severity=min_severity, engine=make)
            except spark_engine.SparkUnavailable as exc:
                raise fail(str(exc)) from None
        read = ", ".join(
            f"{count:,} {what.replace('_', ' ')}" for what, count in report.inputs.items()
        )
        console.print(f"read {read}", highlight=False, markup=False)
        counts = ", ".join(
            f"{report.by_severity[s.value]} {s.value}"
            for s in sorted(Severity, key=lambda s: -s.rank)
            if report.by_severity[s.value]
        )
        console.print(
            f"{len(report.findings)} finding(s){': ' + counts if counts else ''}",
            highlight=False,
            markup=False,
        )
        for finding in report.findings:
            if finding.severity.at_least(Severity.MEDIUM):
                console.print(
                    f"  {finding.severity.value:8} {finding.summary}", highlight=False, markup=False
                )
        opened = report.incidents
        console.print(
            f"incidents: {len(opened.opened)} opened, {len(opened.updated)} updated",
            highlight=False,
            markup=False,
        )
        console.print(f"findings: {report.path}", highlight=False, markup=False)
