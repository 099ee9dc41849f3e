"""`forvalg demo`: the whole story on a synthetic world, through the real services, with
progress bars, ending with what detection found against the truth the story knows."""

from __future__ import annotations

import io
import json
import random
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from forvalg.bootstrap import bootstrap, initialise
from forvalg.cli.common import console
from forvalg.cli.traffic import load_tariff
from forvalg.domain.clock import FixedClock
from forvalg.ledger.verify import main as verify_main
from forvalg.ledger.wire import b64
from forvalg.settings import Settings
from forvalg.sim.month import MonthReport
from forvalg.sim.story import StorySpec, inquire, report_last_month, tell, verdicts
from forvalg.sim.world import seeded_ids
from forvalg.wall.principals import LEDGER_CLERK
from forvalg.wholesale.summary import summarise


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        out: Annotated[Path, typer.Option(help="Output directory")] = Path("forvalg-out"),
        small: Annotated[
            bool, typer.Option("--small", help="The one-minute version: a smaller world")
        ] = False,
        lines: Annotated[int | None, typer.Option(min=100)] = None,
        days: Annotated[int | None, typer.Option(min=1)] = None,
        orders_per_day: Annotated[int | None, typer.Option(min=1)] = None,
        seed: Annotated[int, typer.Option()] = 2026,
    ) -> None:
        """The whole story on a synthetic world in a fresh SQLite database under OUT: months
        of orders and traffic, settlement, honey-lines, retail's campaigns (one clean, one
        leaking), a leaking agent, a curious employee; then detection, the regulator's
        inquiry with its evidence bundle, the report, and a ledger export that verifies."""
        spec = StorySpec.small(seed) if small else StorySpec.full(seed)
        world = spec.world
        spec = replace(
            spec,
            world=replace(
                world,
                lines=lines or world.lines,
                days=days or world.days,
                orders_per_day=orders_per_day or world.orders_per_day,
            ),
        )
        summary = run_demo(spec, out)
        _show(summary, out)


class Bars:
    """The story's stages as progress bars that stay on the screen when done."""

    def __init__(self) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        self.task: TaskID | None = None
        self.total = 0
        self.name, self.began = "", 0.0
        self.seconds: dict[str, float] = {}  # stage -> wall seconds, for summary.json

    def begin(self, name: str, total: int) -> None:
        self.finish()
        self.task, self.total = self.progress.add_task(name, total=total), total
        self.name, self.began = name.split(":")[0], time.perf_counter()

    def advance(self, steps: int = 1) -> None:
        if self.task is not None:
            self.progress.advance(self.task, steps)

    def finish(self) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=self.total)
            self.seconds[self.name] = round(time.perf_counter() - self.began, 1)


def run_demo(spec: StorySpec, out: Path) -> dict[str, object]:
    out.mkdir(parents=True, exist_ok=True)
    database = out / "forvalg.db"
    for stale in (database, out / "forvalg.db-wal", out / "forvalg.db-shm"):
        stale.unlink(missing_ok=True)
    settings = Settings(database_url=f"sqlite:///{database}", key_dir=out / "keys")
    initialise(settings)
    seed = spec.world.seed
    clock = FixedClock(datetime.combine(spec.world.start, datetime.min.time(), UTC))
    svc = bootstrap(settings, clock=clock, ids=seeded_ids(random.Random(seed + 1)))  # noqa: S311
    started = time.perf_counter()
    bars = Bars()
    try:
        with bars.progress:
            story = tell(svc, clock, spec, out, load_tariff(None), bars)
            answer = report_last_month(svc, story, out, bars)
            inquiry = inquire(svc, clock, story, out, bars)
            desk = summarise(svc.wall)  # before the export, so that it holds every entry
            bars.begin("ledger: exported and verified as the regulator would", 2)
            exported = svc.transparency.export(LEDGER_CLERK, out / "ledger")
            bars.advance()
            verified = regulators_verifier("--export", str(out / "ledger"))
            bundle_verified = regulators_verifier(
                "bundle", str(inquiry.bundle), "--key", str(out / "ledger" / "key.pub")
            )
            bars.advance()
            bars.finish()
    finally:
        svc.close()
    world = story.world
    summary: dict[str, object] = {
        "world": {k: str(v) for k, v in asdict(spec.world).items()},
        "orders_submitted": world.tally.submitted,
        "transitions": world.tally.transitions,
        "own_cancels": {
            "asked": world.tally.cancels_asked,
            "done": world.tally.cancels_done,
            "refused_too_late": world.tally.cancels_too_late,
        },
        "cancel_other_sent": world.tally.cancel_other_sent,
        **asdict(desk),
        "traffic": [_traffic(month) for month in story.traffic],
        "honey_lines": len(story.honey),
        "staff": {
            "tickets": story.staff.tickets,
            "reads": story.staff.reads,
            "refused": story.staff.refused,
            "break_glass": len(story.staff.broke_glass),
        },
        "contacts": {
            "file": story.contacts_file.name,
            "rows": len(story.crm.contacts),
            "leaked": story.crm.leaked,
            "honey_reached": {k: len(v) for k, v in story.crm.honey_reached.items()},
        },
        "detection": {
            "findings": len(story.detection.findings),
            "by_severity": dict(sorted(story.detection.by_severity.items())),
            "incidents_opened": len(story.detection.incidents.opened),
            "file": "findings.json",
        },
        "verdicts": [asdict(v) | {"right": v.right} for v in verdicts(story, spec)],
        "report": {
            "period": answer.period,
            "files": [str(p.relative_to(out)) for p in answer.report],
            "retail_orders": answer.retail_orders.name,
        },
        "inquiry": {
            "id": inquiry.id,
            "question": inquiry.question,
            "period": inquiry.period,
            "due_at": inquiry.due_at.isoformat(),
            "bundle": inquiry.bundle.name,
            "entries": inquiry.entries,
            "verified": bundle_verified,
        },
        "ledger": {
            "entries": exported.size,
            "root": b64(exported.root),
            "export": "ledger",
            "verified": verified,
        },
        "seconds": round(time.perf_counter() - started, 1),
        "stage_seconds": bars.seconds,
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


def _show(summary: dict[str, Any], out: Path) -> None:
    table = Table(title="forvalg demo: the order desk")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key in ("orders_by_state", "rejections", "preselections_by_operator"):
        for name, count in sorted(summary[key].items()):
            table.add_row(f"{key.replace('_', ' ')}: {name}", str(count))
    table.add_row("orders submitted", str(summary["orders_submitted"]))
    table.add_row("customer letters", str(summary["customer_letters"]))
    table.add_row("honey-lines planted", str(summary["honey_lines"]))
    console.print(table)
    for month in summary["traffic"]:
        console.print(
            f"Traffic {month['month']}: {month['calls']:,} calls rated in "
            f"{month['rating_seconds']} s, {month['mismatches']:,} misrouted; statements "
            + ", ".join(
                f"{op} NOK {t['charge_nok']}" for op, t in sorted(month["statements"].items())
            )
            + f"; reconciled: {month['reconciled']}",
            highlight=False,
        )
    found = Table(title="What detection found (the story knows the truth)")
    for column in ("subject", "truth", "detection", "strongest finding"):
        found.add_column(column)
    for v in summary["verdicts"]:
        truth = "leaking" if v["leaking"] else "clean"
        said = "[bold]flagged[/bold]" if v["flagged"] else "not flagged"
        mark = "" if v["right"] else " [red](wrong)[/red]"
        found.add_row(v["subject"], truth, said + mark, v["strongest"] or "none")
    console.print(found)
    detection = summary["detection"]
    console.print(
        f"Detection: {detection['findings']} finding(s) "
        + ", ".join(f"{k} {n}" for k, n in detection["by_severity"].items())
        + f"; {detection['incidents_opened']} incident(s) opened; {out / detection['file']}",
        highlight=False,
    )
    ledger = summary["ledger"]
    console.print(
        f"Ledger: {ledger['entries']} entries, root {ledger['root']}; "
        f"forvalg-verify --export {out / 'ledger'}: {ledger['verified']}",
        highlight=False,
    )
    inquiry = summary["inquiry"]
    console.print(
        f"Inquiry {inquiry['id']} ({inquiry['period']}, due {inquiry['due_at'][:10]}): "
        f"answered with {out / inquiry['bundle']}, {inquiry['entries']} ledger entries; "
        f"forvalg-verify bundle: {inquiry['verified']}",
        highlight=False,
    )
    report = summary["report"]
    console.print(
        f"Report for {report['period']}: "
        + ", ".join(str((out / f).resolve()) for f in report["files"]),
        highlight=False,
    )
    console.print(
        f"Output: {out.resolve()} (forvalg.db, lines.csv, crm-contacts.csv, cdrs-*.parquet, "
        "rated-*.parquet, statements/, findings.json, report/, evidence-*.zip, summary.json, "
        "ledger/); "
        f"{summary['seconds']} s",
        highlight=False,
    )


def regulators_verifier(*args: str) -> str:
    """What the regulator's `forvalg-verify ARGS` says, run in-process."""
    said = io.StringIO()
    with redirect_stdout(said), redirect_stderr(said):
        code = verify_main(list(args))
    return said.getvalue().strip() if code == 0 else f"exit {code}: {said.getvalue().strip()}"
