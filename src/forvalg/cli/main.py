"""`forvalg`: the commands of INTERFACES.md §1 that exist so far."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from forvalg.bootstrap import DatabaseUnavailable, initialise
from forvalg.cli import (
    canary,
    contacts,
    demo,
    detect,
    incidents,
    inquiries,
    keys,
    ledger,
    logs,
    report,
    routing,
    settlement,
    traffic,
)
from forvalg.cli.common import (
    console,
    errors,
    fail,
    parse_instant,
    progress_bar,
    services,
    settings,
)
from forvalg.domain.clock import SystemClock
from forvalg.settings import InvalidSetting, Settings
from forvalg.wall.availability import database_unavailable
from forvalg.wholesale.inventory import import_lines
from forvalg.wholesale.processing import ProcessReport


def create_cli() -> typer.Typer:
    app = typer.Typer(
        name="forvalg",
        help="Carrier preselection wholesale platform behind an information wall.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode="markdown",
    )
    lines = typer.Typer(help="The incumbent's line inventory.", no_args_is_help=True)
    operators = typer.Typer(help="CPS operators and their API keys.", no_args_is_help=True)
    orders = typer.Typer(help="Order processing.", no_args_is_help=True)
    app.add_typer(lines, name="lines")
    app.add_typer(operators, name="operators")
    app.add_typer(orders, name="orders")

    @app.command()
    def init() -> None:
        """Create or upgrade the database (FORVALG_DATABASE_URL, default ./forvalg.db) and
        create the key files that are missing (FORVALG_KEY_DIR, default ./.forvalg)."""
        try:
            done = initialise(settings())
        except DatabaseUnavailable as exc:
            raise fail(str(exc)) from None
        for line in done:
            console.print(line, highlight=False)

    @lines.command("import")
    def lines_import(
        file: Annotated[Path, typer.Argument(help="CSV: number,postcode,line_type,status")],
    ) -> None:
        """Load the line inventory: every row or, on the first bad row, none."""
        with services() as svc, progress_bar() as bar:
            task = bar.add_task("importing lines", total=None)

            def step(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            count = import_lines(svc.wall, file, progress=step)
        console.print(f"imported {count} lines from {file}", highlight=False)

    @operators.command("add")
    def operators_add(
        id: Annotated[str, typer.Option("--id", help="Operator id, e.g. telia")],
        name: Annotated[str, typer.Option("--name", help="Operator name")],
        csc: Annotated[str, typer.Option("--csc", help="Carrier selection code 1500-1549")],
    ) -> None:
        """Register a CPS operator with an active agreement; prints its API key once, last."""
        with services() as svc:
            registered = svc.operators.add(id, name, csc)
        console.print(
            f"operator {registered.operator.id} ({registered.operator.name}, csc "
            f"{registered.operator.csc}); API key {registered.key.key_id} follows, shown once:",
            highlight=False,
        )
        print(registered.key.token)

    @operators.command("list")
    def operators_list() -> None:
        """List operators and whether their agreement is active."""
        with services() as svc:
            for op in svc.operators.list():
                state = "active" if op.agreement_active else "suspended"
                console.print(f"{op.id}\t{op.csc}\t{state}\t{op.name}", highlight=False)

    @operators.command("new-key")
    def operators_new_key(id: Annotated[str, typer.Option("--id")]) -> None:
        """Issue another API key (for rotation); prints it once, last."""
        with services() as svc:
            key = svc.operators.new_key(id)
        console.print(f"API key {key.key_id} for {id} follows, shown once:", highlight=False)
        print(key.token)

    @operators.command("revoke-key")
    def operators_revoke_key(
        id: Annotated[str, typer.Option("--id")],
        key_id: Annotated[str, typer.Option("--key-id", help="The key id, e.g. k1a2b3c4d5e6")],
    ) -> None:
        """Revoke an API key at once."""
        with services() as svc:
            if not svc.operators.revoke_key(id, key_id):
                raise fail(f"--key-id {key_id}: no live key with that id for operator {id}")
        console.print(f"revoked {key_id}", highlight=False)

    @operators.command("agreement")
    def operators_agreement(
        id: Annotated[str, typer.Option("--id")],
        active: Annotated[bool, typer.Option("--active/--suspended")],
    ) -> None:
        """Activate or suspend an operator's agreement (new orders are then rejected)."""
        with services() as svc:
            svc.operators.set_agreement(id, active)
        console.print(f"{id}: agreement {'active' if active else 'suspended'}", highlight=False)

    @orders.command("process")
    def orders_process(
        as_of: Annotated[str, typer.Option("--as-of", help="ISO timestamp; no offset = Oslo")],
        batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = 500,
    ) -> None:
        """Advance every order whose next transition is due at that time."""
        instant = parse_instant(as_of, "--as-of")
        with services() as svc, progress_bar() as bar:
            task = bar.add_task("processing orders", total=None)

            def step(report: ProcessReport) -> None:
                bar.update(task, completed=report.transitions)

            report = svc.processor.process(instant, batch_size=batch_size, progress=step)
            svc.keeper.integrate()  # the decisions it made, from the queue into the tree
        _print_report(report)

    @app.command()
    def worker(
        interval: Annotated[float, typer.Option(help="Seconds between passes")] = 5.0,
        once: Annotated[bool, typer.Option(help="One pass, then exit")] = False,
    ) -> None:
        """Process orders continuously as of now; safe beside other workers."""
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        clock = SystemClock()
        with services() as svc:
            keeper = svc.keeper.start(sign_every_s=svc.settings.checkpoint_interval_s)
            try:
                while not stop.is_set():
                    try:
                        report = svc.processor.process(clock.now())
                    except Exception as error:
                        # A database restart: the batch rolled back; wait and retry.
                        if once or not database_unavailable(error):
                            raise
                        errors.print(
                            "worker: the database cannot be reached "
                            f"({str(error).splitlines()[0][:200]}); retrying in {interval:g}s",
                            highlight=False,
                        )
                        stop.wait(interval)
                        continue
                    if report.transitions:
                        _print_report(report)
                    if once:
                        break
                    stop.wait(interval)
            finally:
                keeper.set()
                svc.keeper.checkpoint()  # leave nothing queued and the tree head signed

    @app.command()
    def serve(
        host: Annotated[str, typer.Option()] = "127.0.0.1",
        port: Annotated[int, typer.Option()] = 8000,
        workers: Annotated[int, typer.Option(min=1)] = 1,
    ) -> None:
        """Serve the operator API (and /openapi.json)."""
        import uvicorn

        with services():
            pass  # fail early, with one line, if the database is not initialised
        level = settings().log_level or "info"  # uvicorn's default
        uvicorn.run(
            "forvalg.api.asgi:app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=logs.LEVELS[level],
            log_config=logs.config(level),
        )

    ledger.register(app)
    keys.register(app)
    traffic.register(app)
    settlement.register(app)
    routing.register(app)
    contacts.register(app)
    canary.register(app)
    detect.register(app)
    incidents.register(app)
    report.register(app)
    inquiries.register(app)
    demo.register(app)
    return app


def _print_report(report: ProcessReport) -> None:
    states = ", ".join(f"{k} {v}" for k, v in sorted(report.states.items())) or "nothing due"
    console.print(
        f"as of {report.as_of.isoformat()}: {report.transitions} transitions in "
        f"{report.batches} batches ({states})",
        highlight=False,
    )
    for code, count in sorted(report.rejections.items()):
        console.print(f"  rejected {code}: {count}", highlight=False)


def run() -> None:
    os.umask(Settings().umask)  # owner-only until the setting is read; kept if it is bad
    with contextlib.suppress(InvalidSetting):  # the command reports it, as one line
        settings = Settings.from_env()
        os.umask(settings.umask)
        logs.configure(settings.log_level)
    create_cli()()
