"""`forvalg demo`: the story so far on a synthetic world, through the real services."""

from __future__ import annotations

import io
import json
import random
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from forvalg.bootstrap import bootstrap, initialise
from forvalg.cli.common import console
from forvalg.cli.traffic import load_tariff
from forvalg.domain.clock import FixedClock
from forvalg.ledger.verify import main as verify_main
from forvalg.ledger.wire import b64
from forvalg.settings import Settings
from forvalg.sim.month import MonthReport, next_month, traffic_month
from forvalg.sim.world import WorldSpec, seeded_ids, simulate
from forvalg.wall.principals import LEDGER_CLERK
from forvalg.wholesale.summary import summarise


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        out: Annotated[Path, typer.Option(help="Output directory")] = Path("forvalg-out"),
        lines: Annotated[int, typer.Option(min=100)] = 20_000,
        operators: Annotated[int, typer.Option(min=2, max=5)] = 4,
        days: Annotated[int, typer.Option(min=1)] = 30,
        orders_per_day: Annotated[int, typer.Option(min=1)] = 120,
        seed: Annotated[int, typer.Option()] = 2026,
    ) -> None:
        """Build a synthetic world in a fresh SQLite database under OUT, run weeks of
        orders through the order desk, and summarise what happened."""
        spec = WorldSpec(lines, operators, days, orders_per_day, seed=seed)
        summary = run_demo(spec, out)
        _show(summary, out)


def run_demo(spec: WorldSpec, out: Path) -> dict[str, object]:
    out.mkdir(parents=True, exist_ok=True)
    database = out / "forvalg.db"
    for stale in (database, out / "forvalg.db-wal", out / "forvalg.db-shm"):
        stale.unlink(missing_ok=True)
    settings = Settings(database_url=f"sqlite:///{database}", key_dir=out / "keys")
    initialise(settings)
    clock = FixedClock(datetime.combine(spec.start, datetime.min.time(), UTC))
    svc = bootstrap(settings, clock=clock, ids=seeded_ids(random.Random(spec.seed + 1)))  # noqa: S311
    started = time.perf_counter()
    try:
        with console.status("simulating") as status:

            def step(day: int, days: int) -> None:
                status.update(f"simulating day {day} of {days}")

            world = simulate(svc, clock, spec, out, progress=step)
        month = next_month(spec.start)
        with console.status(f"a month of traffic: {month:%Y-%m}, generated, rated, settled"):
            traffic = traffic_month(
                svc,
                [number for number, _, _ in world.lines],
                world.operators,
                month,
                out,
                load_tariff(None),
                seed=spec.seed,
            )
        desk = summarise(svc.wall)
        status_line = "exporting the ledger and verifying it as the regulator would"
        with console.status(status_line):
            exported = svc.transparency.export(LEDGER_CLERK, out / "ledger")
            verified = verify_ledger_export(out / "ledger")
    finally:
        svc.close()
    summary: dict[str, object] = {
        "world": {k: str(v) for k, v in asdict(spec).items()},
        "orders_submitted": world.tally.submitted,
        "transitions": world.tally.transitions,
        "own_cancels": {
            "asked": world.tally.cancels_asked,
            "refused_too_late": world.tally.cancels_too_late,
        },
        "cancel_other_sent": world.tally.cancel_other_sent,
        **asdict(desk),
        "traffic": _traffic(traffic),
        "ledger": {
            "entries": exported.size,
            "root": b64(exported.root),
            "export": "ledger",
            "verified": verified,
        },
        "seconds": round(time.perf_counter() - started, 1),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary


def _traffic(report: MonthReport) -> dict[str, object]:
    rating = report.rating
    return {
        "month": report.month,
        "calls": report.calls,
        "rated": rating.rated,
        "rejected": sum(rating.rejected.values()),
        "routes": dict(sorted(rating.by_reason.items())),
        "mismatches": rating.mismatches,
        "charge_nok": str(rating.charge_nok),
        "rating_seconds": round(rating.seconds, 1),
        "statements": report.statements,
        "fetched_by_operator": report.fetched,
        "reconciled": report.reconciled,
    }


def _show(summary: dict[str, object], out: Path) -> None:
    table = Table(title="forvalg demo: the order desk")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key in (
        "orders_by_state",
        "rejections",
        "preselections_by_operator",
        "events_by_type",
        "access_decisions",
    ):
        counts = summary[key]
        assert isinstance(counts, dict)
        for name, count in sorted(counts.items()):
            table.add_row(f"{key.replace('_', ' ')}: {name}", str(count))
    table.add_row("customer letters", str(summary["customer_letters"]))
    table.add_row("orders submitted", str(summary["orders_submitted"]))
    console.print(table)
    traffic = summary["traffic"]
    assert isinstance(traffic, dict)
    statements = traffic["statements"]
    assert isinstance(statements, dict)
    console.print(
        f"Traffic {traffic['month']}: {traffic['calls']:,} calls rated in "
        f"{traffic['rating_seconds']} s, {traffic['mismatches']:,} misrouted; statements "
        + ", ".join(f"{op} NOK {t['charge_nok']}" for op, t in sorted(statements.items()))
        + f"; reconciled: {traffic['reconciled']}",
        highlight=False,
    )
    ledger = summary["ledger"]
    assert isinstance(ledger, dict)
    console.print(
        f"Ledger: {ledger['entries']} entries, root {ledger['root']}; "
        f"forvalg-verify --export {out / 'ledger'}: {ledger['verified']}",
        highlight=False,
    )
    console.print(
        f"Output: {out.resolve()} (forvalg.db, lines.csv, cdrs-*.parquet, rated-*.parquet, "
        "statements/, summary.json, ledger/); "
        f"{summary['seconds']} s",
        highlight=False,
    )


def verify_ledger_export(directory: Path) -> str:
    """What the regulator's `forvalg-verify --export DIR` says, run in-process."""
    said = io.StringIO()
    with redirect_stdout(said), redirect_stderr(said):
        code = verify_main(["--export", str(directory)])
    return said.getvalue().strip() if code == 0 else f"exit {code}: {said.getvalue().strip()}"
