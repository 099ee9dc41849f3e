"""`forvalg traffic rate`: route-check and rate a CDR file (INTERFACES.md §1, §3)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from forvalg.cli.common import Engine, console, fail, services
from forvalg.domain.numbering import InvalidExclusions, NumberingPlan, exclusions_from_toml
from forvalg.domain.tariffs import InvalidTariff, Tariff, tariff_from_toml
from forvalg.traffic.cdrs import CdrFileError, file_format
from forvalg.traffic.rating import EngineSettings, RatingFailed, RatingSummary
from forvalg.traffic.reference import SpanTooLong
from forvalg.traffic.spark_engine import SparkUnavailable

DEFAULT_TARIFF = "default.toml"


def _read(path: Path, option: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(
            f"{option} {path}: {exc.strerror if isinstance(exc, OSError) else exc}"
        ) from None


def load_tariff(path: Path | None) -> Tariff:
    """The tariff file given, or the one shipped with forvalg."""
    try:
        if path is None:
            shipped = files("forvalg.traffic") / "tariffs" / DEFAULT_TARIFF
            return tariff_from_toml(shipped.read_text(encoding="utf-8"), DEFAULT_TARIFF)
        return tariff_from_toml(_read(path, "--tariff"), str(path))
    except InvalidTariff as exc:
        raise fail(str(exc)) from None


def load_plan(exclusions: Path | None) -> NumberingPlan:
    if exclusions is None:
        return NumberingPlan()
    try:
        return NumberingPlan(
            exclusions=exclusions_from_toml(_read(exclusions, "--exclusions"), str(exclusions))
        )
    except InvalidExclusions as exc:
        raise fail(str(exc)) from None


def register(app: typer.Typer) -> None:
    traffic = typer.Typer(help="Calls: route-check and rate CDR files.", no_args_is_help=True)
    app.add_typer(traffic, name="traffic")

    @traffic.command("rate")
    def rate(
        cdrs: Annotated[Path, typer.Argument(help="CDR file, Parquet or CSV (INTERFACES §3)")],
        out: Annotated[Path, typer.Option("--out", help="Rated file (.parquet or .csv)")],
        tariff: Annotated[
            Path | None, typer.Option(help="Tariff TOML (default: the shipped tariff)")
        ] = None,
        rejects: Annotated[
            Path | None, typer.Option(help="Rejected rows, CSV (default: OUT.rejects.csv)")
        ] = None,
        exclusions: Annotated[
            Path | None, typer.Option(help="Exclusion list TOML (default: the shipped list)")
        ] = None,
        engine: Annotated[Engine, typer.Option(help="Query engine")] = Engine.DUCKDB,
        memory_limit: Annotated[
            str, typer.Option(help="Memory limit (DuckDB; Spark: the driver's memory)")
        ] = "2GB",
        threads: Annotated[
            int | None, typer.Option(min=1, help="Threads (Spark: local[N]; default: all)")
        ] = None,
    ) -> None:
        """Route-check and rate a CDR file: per call its class, the carrier it should have
        gone to and why, the order and routing table version behind that, the time band,
        the wholesale charge, and whether the exchange's carrier differs. Bad rows go to
        the rejects file with a reason each; a file whose schema is wrong changes nothing."""
        try:
            file_format(out)
        except CdrFileError as exc:
            raise fail(f"--out {exc}") from None
        if not out.parent.is_dir():
            raise fail(f"--out {out}: directory {out.parent} does not exist")
        chosen = load_tariff(tariff)
        plan = load_plan(exclusions)
        settings = EngineSettings(threads=threads, memory_limit=memory_limit)
        with services() as svc, console.status(f"rating {cdrs}"):
            try:
                summary = svc.rating.rate(
                    cdrs, out, chosen, plan=plan, rejects=rejects, settings=settings, engine=engine
                )
            except (CdrFileError, RatingFailed, SpanTooLong, SparkUnavailable) as exc:
                raise fail(str(exc)) from None
        _show(summary, chosen)


def _show(summary: RatingSummary, tariff: Tariff) -> None:
    table = Table(title=f"rated {summary.source} (tariff {tariff.version})")
    table.add_column("what")
    table.add_column("calls", justify="right")
    for reason, count in sorted(summary.by_reason.items()):
        table.add_row(f"route {reason}", f"{count:,}")
    for call_class, count in sorted(summary.by_class.items()):
        table.add_row(f"class {call_class}", f"{count:,}")
    table.add_row("mismatched carrier", f"{summary.mismatches:,}")
    for reason, count in sorted(summary.rejected.items()):
        table.add_row(f"rejected: {reason}", f"{count:,}")
    console.print(table)
    console.print(
        f"{summary.rows:,} rows, {summary.rated:,} rated, {sum(summary.rejected.values()):,} "
        f"rejected; charge NOK {summary.charge_nok:,}; {summary.seconds:.1f} s "
        f"({summary.rows_per_second:,.0f} rows/s)",
        highlight=False,
    )
    console.print(f"rated: {summary.out}", highlight=False)
    if summary.rejects is not None:
        console.print(f"rejects: {summary.rejects}", highlight=False)
    if summary.ignored_columns:
        console.print(f"ignored columns: {', '.join(summary.ignored_columns)}", highlight=False)
