"""`forvalg detect`: one detection run over what is stored (docs/DETECTION.md).

The run reads its inputs behind the wall as the detector job (one decision and one ledger
entry per input, in the compliance zone), runs every detector over them, writes the
findings document (INTERFACES §5) atomically (a run that fails leaves no file), and opens
or updates the incidents of the findings of severity medium or above, with their
evidence (docs/INCIDENTS.md).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from forvalg.compliance.detectors import (
    DetectionSettings,
    Finding,
    detect,
    examined,
    findings_document,
)
from forvalg.compliance.detectors.workspace import SqlEngine
from forvalg.compliance.incidents import IncidentDesk, OpenReport, evidence_from_tables
from forvalg.domain.calendar import WorkingCalendar
from forvalg.domain.clock import Clock
from forvalg.domain.statistics import Severity
from forvalg.wall import Purpose, Wall
from forvalg.wall.ledger import LedgerKeeper
from forvalg.wall.principals import DETECTOR


@dataclass(frozen=True, slots=True)
class DetectionReport:
    path: Path
    generated_at: datetime
    findings: list[Finding]
    inputs: Mapping[str, int]  # how many of each input were read
    by_severity: Counter[str] = field(default_factory=Counter)
    incidents: OpenReport = field(default_factory=OpenReport)


@dataclass(frozen=True, slots=True)
class Inputs:
    contacts: pa.Table
    events: pa.Table
    population: pa.Array
    honey: pa.Table
    ledger: pa.Table
    work_items: pa.Table


class DetectionDesk:
    def __init__(
        self,
        *,
        wall: Wall,
        keeper: LedgerKeeper,
        incidents: IncidentDesk,
        calendar: WorkingCalendar,
        clock: Clock,
        settings: DetectionSettings | None = None,
    ) -> None:
        self._wall = wall
        self._keeper = keeper
        self._incidents = incidents
        self._calendar = calendar
        self._clock = clock
        self.settings = settings or DetectionSettings()

    def read(self) -> Inputs:
        """Every input, read in one unit of work (one consistent snapshot), after the
        ledger's queue is integrated so that the ledger read reaches up to now."""
        self._keeper.integrate()
        label = f"detection-run:{self._clock.now():%Y%m%dT%H%M%SZ}"
        with self._wall.access(DETECTOR, Purpose.COMPLIANCE_AUDIT, label) as guard:
            contacts = guard.contacts.table()
            events = guard.detection.cps_events()
            population = guard.detection.population()
            honey = guard.honey_lines.table()
            ledger = guard.detection.ledger()
            work_items = guard.detection.work_items(ledger)
        return Inputs(
            contacts,
            with_letters(events, self._calendar),
            population,
            honey,
            ledger,
            work_items,
        )

    def run(
        self,
        out: Path,
        *,
        min_severity: Severity = Severity.LOW,
        engine: Callable[[], SqlEngine] | None = None,
    ) -> DetectionReport:
        """One run; `engine` makes the engine of the detectors' queries (DuckDB
        unless told, e.g. `spark_engine.spark_engine`), after the inputs are read."""
        inputs = self.read()
        generated_at = self._clock.now()
        findings = detect(
            inputs.contacts,
            inputs.events,
            inputs.population,
            self.settings,
            inputs.honey,
            ledger=inputs.ledger,
            work_items=inputs.work_items,
            min_severity=min_severity,
            engine=None if engine is None else engine(),
        )
        looked_at = examined(inputs.contacts, inputs.ledger)
        write_json(out, findings_document(findings, generated_at, looked_at))
        opened = self._incidents.open_from_findings(
            findings, evidence_for=evidence_from_tables(inputs.contacts, inputs.events)
        )
        return DetectionReport(
            path=out,
            generated_at=generated_at,
            findings=findings,
            inputs={
                "contacts": inputs.contacts.num_rows,
                "cps_events": inputs.events.num_rows,
                "lines": len(inputs.population),
                "honey_lines": inputs.honey.num_rows,
                "ledger_entries": inputs.ledger.num_rows,
                "work_items": inputs.work_items.num_rows,
            },
            by_severity=Counter(f.severity.value for f in findings),
            incidents=opened,
        )


def with_letters(events: pa.Table, calendar: WorkingCalendar) -> pa.Table:
    """`events` with `letter_earliest`: the earliest instant the customer letter of an
    order received can arrive (`WorkingCalendar.letter_earliest` of when it was posted);
    null where no letter was posted (yet)."""
    posted = events.column("letter_posted")
    days = {p: calendar.letter_earliest(p) for p in posted.unique().to_pylist() if p is not None}
    earliest = [None if p is None else days[p] for p in posted.to_pylist()]
    return events.append_column("letter_earliest", pa.array(earliest, pa.timestamp("us", "UTC")))


def write_json(path: Path, document: Mapping[str, object]) -> None:
    """Write `document` to `path` whole or not at all (a temporary file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    os.replace(partial, path)
