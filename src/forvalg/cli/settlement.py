"""`forvalg settle`: one statement per operator and period from rated CDR files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forvalg.cli.common import Engine, console, fail, progress_bar, services
from forvalg.domain.settlement import InvalidPeriod, Period
from forvalg.traffic.settlement import BadOutput, Settled
from forvalg.traffic.sources import BadRatedFile, inspect_all
from forvalg.traffic.spark_engine import SparkUnavailable
from forvalg.wall import AccessDenied, Conflict


def register(app: typer.Typer) -> None:
    @app.command("settle")
    def settle(
        period: Annotated[
            str, typer.Option("--period", help="The month, YYYY-MM (calls by Oslo time)")
        ],
        cdrs: Annotated[
            list[Path],
            typer.Option(
                "--cdrs",
                help="Rated CDR files, Parquet or CSV: `--cdrs a.parquet b.parquet ...`",
            ),
        ],
        out: Annotated[Path, typer.Option("--out", help="Directory for <operator>.json/.csv")],
        more: Annotated[
            list[Path] | None,
            typer.Argument(help="More rated files (what follows the first after --cdrs)"),
        ] = None,
        engine: Annotated[Engine, typer.Option("--engine", help="Query engine")] = Engine.DUCKDB,
        threads: Annotated[
            int | None, typer.Option(min=1, help="Spark threads, local[N] (default: all)")
        ] = None,
    ) -> None:
        """Write one statement per operator for the period, `OUT/<operator>.json` and
        `.csv` (calls, minutes and charge by call class and time band, mismatches, the
        source files), and file each in the database, where the operator fetches it
        (`GET /v1/statements`). The same input gives the same bytes."""
        files = [*cdrs, *(more or [])]
        try:
            Period.parse(period)
        except InvalidPeriod as exc:
            raise fail(f"--period: {exc}") from None
        try:
            inspect_all(files)  # every file's columns, before anything is opened
        except BadRatedFile as exc:
            raise fail(str(exc)) from None
        with services() as svc, progress_bar(counts=False) as bar:
            task = bar.add_task("hashing the rated files", total=None)
            doing = {"hashing": "hashing the rated files", "scanning": "reading the calls"}

            def step(stage: str, done: int, total: int) -> None:
                bar.update(task, description=doing[stage], completed=done, total=total)

            try:
                settled = svc.settlement.settle(
                    period, files, out, progress=step, engine=engine, threads=threads
                )
            except (BadRatedFile, BadOutput, SparkUnavailable) as exc:
                raise fail(str(exc)) from None
            except AccessDenied as exc:
                raise fail(f"refused by the wall: {exc.event.reason}") from None
            except Conflict:
                raise fail(
                    f"another settlement of {period} filed statements at the same time; run again"
                ) from None
            svc.keeper.integrate()  # the run's decisions, from the queue into the tree
        _report(settled)


def _report(settled: Settled) -> None:
    p = settled.period
    console.print(
        f"settlement run {settled.run_id} for {p.month} (Europe/Oslo: "
        f"{p.start:%Y-%m-%dT%H:%MZ} to {p.end:%Y-%m-%dT%H:%MZ})",
        highlight=False,
    )
    console.print(
        f"read {settled.rows:,} rated calls: {settled.rows_in_period:,} in the period, "
        f"{settled.rows_outside_period:,} outside it (not billed)",
        highlight=False,
    )
    if not settled.written:
        console.print("no operator is billed for calls in these files", highlight=False)
    for w in settled.written:
        totals = w.statement.totals
        console.print(
            f"{w.statement.operator}: {totals.calls:,} calls, {totals.minutes:,.2f} minutes, "
            f"NOK {totals.charge:,.4f} (version {w.version}) -> {w.json_path}, {w.csv_path}",
            highlight=False,
        )
