"""Rated CDR files for the settlement tests (INTERFACES §3), built with pyarrow, and a
pure-Python reference of what a statement must add up to."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

_IDS = itertools.count(1)


@dataclass(frozen=True)
class Call:
    start: datetime
    duration_s: int = 60
    expected: str = "alfatel"
    reason: str = "CPS"
    call_class: str = "LOCAL_NATIONAL"
    band: str = "PEAK"
    charge: str = "0.1000"
    mismatch: bool = False
    carrier: str | None = "same"  # "same": the expected carrier; None: none recorded
    a_number: str = "22334455"
    dialed: str = "22998877"
    call_id: str = field(default_factory=lambda: f"c{next(_IDS)}")

    @property
    def recorded(self) -> str | None:
        return self.expected if self.carrier == "same" else self.carrier

    @property
    def billed(self) -> bool:
        return self.reason in ("CSC", "CPS")


COLUMNS = (
    *("call_id", "start_utc", "duration_s", "a_number", "dialed", "carrier", "call_class"),
    *("expected_carrier", "route_reason", "order_id", "routing_version", "time_band"),
    *("charge_nok", "mismatch"),
)


def table(calls: Sequence[Call], *, carrier: bool = True) -> pa.Table:
    columns: dict[str, pa.Array] = {
        "call_id": pa.array([c.call_id for c in calls], pa.string()),
        "start_utc": pa.array([c.start for c in calls], pa.timestamp("us", tz="UTC")),
        "duration_s": pa.array([c.duration_s for c in calls], pa.int64()),
        "a_number": pa.array([c.a_number for c in calls], pa.string()),
        "dialed": pa.array([c.dialed for c in calls], pa.string()),
        "carrier": pa.array([c.recorded for c in calls], pa.string()),
        "call_class": pa.array([c.call_class for c in calls], pa.string()),
        "expected_carrier": pa.array([c.expected for c in calls], pa.string()),
        "route_reason": pa.array([c.reason for c in calls], pa.string()),
        "order_id": pa.array(["o1" if c.reason == "CPS" else None for c in calls], pa.string()),
        "routing_version": pa.array(["rv-1"] * len(calls), pa.string()),
        "time_band": pa.array([c.band for c in calls], pa.string()),
        "charge_nok": pa.array([Decimal(c.charge) for c in calls], pa.decimal128(18, 4)),
        "mismatch": pa.array([c.mismatch for c in calls], pa.bool_()),
    }
    if not carrier:
        del columns["carrier"]
    return pa.table(columns)


def write_parquet(
    path: Path,
    calls: Sequence[Call],
    *,
    metadata: dict[str, str] | None = None,
    carrier: bool = True,
    replace: dict[str, pa.Array] | None = None,
    drop: Iterable[str] = (),
) -> Path:
    found = table(calls, carrier=carrier)
    for name, array in (replace or {}).items():
        found = found.set_column(found.schema.get_field_index(name), name, array)
    found = found.drop_columns(list(drop))
    if metadata:
        found = found.replace_schema_metadata(metadata)
    pq.write_table(found, path)
    return path


def write_csv(path: Path, calls: Sequence[Call], **overrides: str) -> Path:
    """The calls as CSV (ISO 8601 with Z); `overrides` replace a column's text in every row."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for c in calls:
            row = {
                "call_id": c.call_id,
                "start_utc": c.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "duration_s": str(c.duration_s),
                "a_number": c.a_number,
                "dialed": c.dialed,
                "carrier": c.recorded or "",
                "call_class": c.call_class,
                "expected_carrier": c.expected,
                "route_reason": c.reason,
                "order_id": "o1" if c.reason == "CPS" else "",
                "routing_version": "rv-1",
                "time_band": c.band,
                "charge_nok": c.charge,
                "mismatch": "true" if c.mismatch else "false",
            } | overrides
            writer.writerow([row[k] for k in COLUMNS])
    return path


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def reference_total(
    calls: Iterable[Call], operator: str, start: datetime, end: datetime
) -> tuple[int, int, Decimal]:
    """(calls, seconds, charge) billed to `operator` in [start, end): one Python Decimal
    addition per row, nothing shared with the code under test."""
    n, seconds, charge = 0, 0, Decimal(0)
    for c in calls:
        if c.billed and c.expected == operator and start <= c.start < end:
            n += 1
            seconds += c.duration_s
            charge += Decimal(c.charge)
    return n, seconds, charge
