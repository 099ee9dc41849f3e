"""What every command shares: settings, bootstrapping, errors as one line on stderr."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from forvalg.bootstrap import DatabaseUnavailable, NotInitialised, Services, bootstrap
from forvalg.domain.operators import InvalidOperator
from forvalg.settings import InvalidSetting, Settings
from forvalg.wall.policy import PolicyInvalid
from forvalg.wholesale.inventory import BadInput
from forvalg.wholesale.operators import OperatorExists, UnknownOperator

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)
OSLO = ZoneInfo("Europe/Oslo")


class Engine(StrEnum):
    """`--engine` of `traffic rate`, `settle` and `detect` (INTERFACES §1)."""

    DUCKDB = "duckdb"
    SPARK = "spark"


def duckdb_only(engine: Engine) -> None:
    if engine is not Engine.DUCKDB:
        raise fail(f"--engine {engine}: not available in this build; use duckdb")


def progress_bar(*, counts: bool = True) -> Progress:
    """A transient bar on the console: done of total (`counts`) or a percentage."""
    done = MofNCompleteColumn() if counts else TaskProgressColumn()
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        done,
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"forvalg: {message}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def settings() -> Settings:
    try:
        return Settings.from_env()
    except InvalidSetting as exc:
        raise fail(str(exc)) from None


@contextmanager
def services() -> Iterator[Services]:
    """Bootstrapped services from the environment; known errors become one stderr line."""
    try:
        svc = bootstrap(settings())
        svc.check()
    except (NotInitialised, DatabaseUnavailable, PolicyInvalid) as exc:
        raise fail(" ".join(str(exc).split())) from None
    try:
        yield svc
    except BadInput as exc:
        raise fail(str(exc)) from None
    except InvalidOperator as exc:
        raise fail(f"--{exc.field}: {exc}") from None
    except (OperatorExists, UnknownOperator) as exc:
        raise fail(str(exc) if isinstance(exc, OperatorExists) else f"no operator {exc}") from None
    finally:
        svc.close()


def parse_instant(text: str, option: str) -> datetime:
    """ISO 8601; without an offset the time is Oslo local time."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        example = "e.g. 2026-12-01T12:00:00Z"
        raise fail(f"{option} {text!r}: not an ISO 8601 timestamp ({example})") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=OSLO)
