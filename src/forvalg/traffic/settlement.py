"""Monthly settlement: one statement per operator and period from rated CDR files
(`forvalg settle`), and an operator's read of its own statement (`GET /v1/statements`).

The job runs as the system principal `system:settlement` for purpose `settlement`, in one
unit of work naming the settlement run (`SR-…`) it opens for the period: the wall
decides the read of the rated traffic before a row is read and logs it once for the
whole run, naming the operators invoiced; the statements are filed as the next version
of each operator's statement for the period; the run is closed. Nothing is written
unless all of it succeeds: the files are staged in a temporary directory beside `DIR`
and renamed into place after the database has committed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import duckdb

from forvalg.domain.clock import Clock
from forvalg.domain.settlement import Period, period_run
from forvalg.domain.work_items import WorkItemKind
from forvalg.traffic.aggregate import (
    MEMORY_LIMIT,
    Scan,
    connect,
    first_bad_value,
    locate,
    scan,
)
from forvalg.traffic.sources import BadRatedFile, RatedFile, inspect_all, sha256
from forvalg.traffic.statement import Source, Statement, Usage
from forvalg.wall import Principal, Purpose, Wall
from forvalg.wall.principals import SETTLEMENT_JOB, UNSTATED
from forvalg.wall.principals import Statement as Stated
from forvalg.wall.work import new_work_item_id

# (stage, done, total): "hashing" counts bytes, "scanning" percent of the query.
Progress = Callable[[str, int, int], None]


class BadOutput(Exception):
    """`--out` cannot take the statements (a file, or not writable)."""


class StatementNotFound(Exception):
    """The operator has no statement for the period (or may not see one)."""


@dataclass(frozen=True, slots=True)
class Written:
    """One operator's statement as this run filed and wrote it."""

    statement: Statement
    version: int
    json_path: Path
    csv_path: Path


@dataclass(frozen=True, slots=True)
class Settled:
    run_id: str
    period: Period
    out: Path
    written: list[Written]
    rows: int
    rows_in_period: int
    rows_outside_period: int


class Settlement:
    def __init__(self, *, wall: Wall, clock: Clock, memory_limit: str = MEMORY_LIMIT) -> None:
        self._wall = wall
        self._clock = clock
        self._memory_limit = memory_limit

    def settle(
        self,
        month: str,
        files: Sequence[Path],
        out: Path,
        *,
        progress: Progress | None = None,
        engine: str = "duckdb",
        threads: int | None = None,
    ) -> Settled:
        """Raises `InvalidPeriod`, `BadOutput` or `BadRatedFile` (naming the file, and the
        row and column where it can) before anything is written. `engine` runs the scan on
        `duckdb` or `spark` (with `threads`: `local[N]`); the statements are the same."""
        if engine not in ("duckdb", "spark"):
            raise ValueError(f"engine {engine!r}: expected duckdb or spark")
        period = Period.parse(month)
        _check_out(out)
        rated = inspect_all(files)
        sources = _sources(rated, progress)
        if engine == "spark":  # started (or refused: no Java, no pyspark) before the access
            from forvalg.traffic.rating import EngineSettings
            from forvalg.traffic.spark_engine import session

            session(EngineSettings(threads=threads))
        run = period_run(
            new_work_item_id(WorkItemKind.SETTLEMENT_RUN),
            period,
            summary=f"settlement of {period.month} from {len(rated)} rated file(s)",
            opened_by=SETTLEMENT_JOB.id,
            opened_at=self._clock.now(),
        )
        staged: Path | None = None
        try:
            with (
                self._wall.access(SETTLEMENT_JOB, Purpose.SETTLEMENT, run.id) as guard,
                closing(connect(self._memory_limit)) as duck,
            ):
                reading = guard.settlement.read_traffic(run)  # decided before a row is read
                if engine == "spark":
                    found = _spark_scan(duck, rated, period, threads, progress)
                else:
                    found = scan(duck, rated, period, _percent(progress))
                guard.settlement.open_run(run)
                register = guard.operators.standing(
                    sorted(found.billed_operators | found.recorded_carriers)
                )
                unknown = sorted(found.billed_operators - set(register))
                if unknown:
                    raise _unregistered(duck, rated, unknown[0])
                invoiced = sorted(
                    found.billed_operators | (found.recorded_carriers & set(register))
                )
                guard.settlement.traffic_read(reading, run, invoiced)
                statements = [_statement(found, op, period, sources) for op in invoiced]
                rendered = {s.operator: (s.json_bytes(), s.csv_bytes()) for s in statements}
                filed = guard.settlement.file(
                    run,
                    [
                        (op, body.decode("utf-8"), _sha(body), _sha(table))
                        for op, (body, table) in rendered.items()
                    ],
                )
                staged = _stage(out, rendered)
                guard.settlement.close_run(run)
            try:
                _publish(staged, out)
            except OSError as exc:
                raise BadOutput(
                    f"--out {out}: {exc.strerror or exc}; the statements are filed (run "
                    f"{run.id}) but not written: run again to write them as the next version"
                ) from None
            staged = None
        finally:
            if staged is not None:
                shutil.rmtree(staged, ignore_errors=True)
        versions = {f.operator_id: f.version for f in filed}
        return Settled(
            run_id=run.id,
            period=period,
            out=out,
            written=[
                Written(
                    s, versions[s.operator], out / f"{s.operator}.json", out / f"{s.operator}.csv"
                )
                for s in statements
            ],
            rows=found.rows,
            rows_in_period=found.rows_in_period,
            rows_outside_period=found.rows_outside_period,
        )


class StatementDesk:
    """What an operator reads over the API: its own statement for a period."""

    def __init__(self, wall: Wall) -> None:
        self._wall = wall

    def own(self, principal: Principal, month: str, stated: Stated = UNSTATED) -> bytes:
        """The JSON body of the operator's latest statement for the period, byte for byte
        as `forvalg settle` wrote it; `StatementNotFound` when there is none (raised
        after the unit of work, so the read stays in the ledger)."""
        Period.parse(month)
        with self._wall.access_for(principal, stated, Purpose.SETTLEMENT) as guard:
            found = guard.statements.own(month)
        if found is None:
            raise StatementNotFound(month)
        return found.body.encode("utf-8")


def _percent(progress: Progress | None) -> Callable[[float], None] | None:
    if progress is None:
        return None
    report = progress
    report("scanning", 0, 100)
    return lambda done: report("scanning", int(done), 100)


def _spark_scan(
    duck: duckdb.DuckDBPyConnection,
    rated: Sequence[RatedFile],
    period: Period,
    threads: int | None,
    progress: Progress | None,
) -> Scan:
    """The scan on Spark, its progress in Spark's tasks done; a bad value is named by
    DuckDB (`first_bad_value`)."""
    from forvalg.traffic.rating import EngineSettings
    from forvalg.traffic.spark_engine import spark_groups

    tasks = None if progress is None else partial(progress, "scanning")
    found, bad = spark_groups(rated, period, EngineSettings(threads=threads), tasks)
    if bad:
        raise first_bad_value(duck, rated)
    return found


def _sources(rated: Sequence[RatedFile], progress: Progress | None) -> tuple[Source, ...]:
    """Each file's name, SHA-256 and rating metadata; the same content given twice (two
    copies of one file) is refused, as its calls would be billed twice."""
    total = sum(f.path.stat().st_size for f in rated)
    done = 0

    def step(size: int) -> None:
        nonlocal done
        done += size
        if progress is not None:
            progress("hashing", done, total)

    seen: dict[str, Path] = {}
    sources = []
    for f in rated:
        digest = sha256(f.path, step)
        if digest in seen:
            raise BadRatedFile(f.path, f"the same content as {seen[digest]}: give each file once")
        seen[digest] = f.path
        sources.append(Source(f.name, digest, f.rating))
    return tuple(sources)


def _statement(
    found: Scan, operator: str, period: Period, sources: tuple[Source, ...]
) -> Statement:
    return Statement(
        operator=operator,
        period=period,
        lines=dict(found.lines.get(operator, {})),
        mismatches=found.mismatches(operator),
        outside_period=found.outside_period.get(operator, Usage()),
        sources=sources,
    )


def _unregistered(
    duck: duckdb.DuckDBPyConnection, rated: Sequence[RatedFile], operator: str
) -> BadRatedFile:
    where = locate(duck, rated, operator)
    message = f"bills operator {operator!r}, which is not registered (forvalg operators add)"
    if where is None:
        return BadRatedFile(rated[0].path, message, column="expected_carrier")
    path, row = where
    return BadRatedFile(path, message, column="expected_carrier", row=row)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise BadOutput(f"--out {out}: exists and is not a directory")


def _stage(out: Path, rendered: dict[str, tuple[bytes, bytes]]) -> Path:
    """Write every file into a new temporary directory on `out`'s file system."""
    home = out if out.is_dir() else out.parent
    try:
        home.mkdir(parents=True, exist_ok=True)
        staged = Path(tempfile.mkdtemp(prefix=f".{out.name}.settle-", dir=home))
    except OSError as exc:
        raise BadOutput(f"--out {out}: {exc.strerror or exc}") from None
    for operator, (body, table) in sorted(rendered.items()):
        for name, data in ((f"{operator}.json", body), (f"{operator}.csv", table)):
            with (staged / name).open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
    return staged


def _publish(staged: Path, out: Path) -> None:
    """A new `out` appears whole (one rename); into an existing one, each file is
    replaced whole (a rename per file)."""
    if not out.exists():
        staged.rename(out)
        return
    for entry in sorted(staged.iterdir()):
        entry.replace(out / entry.name)
    staged.rmdir()
