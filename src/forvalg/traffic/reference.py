"""What rating needs to know besides the calls, as small Arrow tables for DuckDB.

Everything here comes from one definition in the domain: the numbering plan's lookup
table (`NumberingPlan.rows`), the options' coverage (`routing.COVERS`), the tariff's
rates and time bands (`Tariff.rows`, `Tariff.band`), and, read through the wall in one
settlement access, the preselection history, the routing table versions and the active
carrier selection codes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from forvalg.domain.numbering import KEY_DIGITS, CallClass, NumberingPlan
from forvalg.domain.orders import Option
from forvalg.domain.preselection import Preselection
from forvalg.domain.routing import COVERS, SELECTABLE
from forvalg.domain.tariffs import Tariff, TimeBand
from forvalg.traffic.schemas import HISTORY_SCHEMA

_ENGINE_HISTORY = pa.schema(
    [
        pa.field("number", pa.int32(), nullable=False),
        *(HISTORY_SCHEMA.field(n) for n in ("operator_id", "option")),
        pa.field("valid_from", pa.int64(), nullable=False),
        pa.field("valid_to", pa.int64()),
        HISTORY_SCHEMA.field("order_id"),
    ]
)
PLAN_KEY: int = 10**KEY_DIGITS  # > every prefix of KEY_DIGITS digits


def plan_key(length: int, digits: str) -> int:
    """The plan's (length, first digits) as one integer: for one length the first digits
    have one length too, so the integer names them uniquely."""
    return length * PLAN_KEY + int(digits)


_MINUTES: dict[str, pa.DataType] = {
    "minute": pa.int64(),
    "band": pa.string(),
    "routing_version": pa.string(),
}
MINUTES_SCHEMA = pa.schema(_MINUTES)
MINUTE = timedelta(minutes=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_SPAN = timedelta(days=3661)  # a file of more than ten years of calls is refused


class Version(Protocol):
    """A routing table version as rating needs it."""

    @property
    def effective_at(self) -> datetime: ...

    @property
    def content_hash(self) -> str: ...


class SpanTooLong(ValueError):
    """The calls span more time than one rating run takes."""


@dataclass(frozen=True)
class RatingReference:
    """The plan, the tariff, and the state of the network the calls must be judged by."""

    tariff: Tariff
    history: pa.Table  # HISTORY_SCHEMA: one row per preselection period
    versions: Sequence[Version]  # in version order, version 0 first
    carrier_codes: Mapping[str, str]  # allocated and active 15NN code -> operator id
    plan: NumberingPlan = field(default_factory=NumberingPlan)

    def tables(self) -> dict[str, pa.Table]:
        """The small tables the engine joins, by name (everything but the minutes).

        `plan` is the numbering plan's lookup keyed by `plan_key`, each row carrying what
        the route and the charge need to know about its class: whether each option
        covers it, whether a carrier selection code can carry it, and the tariff's rate
        in each band (units per minute; null for a class no operator carries)."""
        rows = list(self.plan.rows())
        classes = [CallClass(r[2]) for r in rows]
        plan: dict[str, pa.Array[Any]] = {
            "plan_key": pa.array([plan_key(r[0], r[1]) for r in rows], pa.int64()),
            "call_class": pa.array([r[2] for r in rows], pa.string()),
            "excluded": pa.array([r[3] for r in rows], pa.bool_()),
            "selectable": pa.array([c in SELECTABLE for c in classes], pa.bool_()),
        }
        for option in Option:
            plan[f"covers_{option.lower()}"] = pa.array([c in COVERS[option] for c in classes])
        for band in TimeBand:
            rates = [self.tariff.rate_units(c, band) if c in SELECTABLE else None for c in classes]
            plan[f"rate_{band.lower()}"] = pa.array(rates, pa.int64())
        history = self.periods
        return {
            "plan": pa.table(plan),
            "codes": pa.table(
                {
                    "csc": pa.array(list(self.carrier_codes), pa.string()),
                    "operator_id": pa.array(list(self.carrier_codes.values()), pa.string()),
                }
            ),
            # Numbers as integers and times as microseconds: cheap to hash and compare.
            "history": history.cast(_ENGINE_HISTORY),
        }

    @cached_property
    def _version_minutes(self) -> tuple[np.ndarray, np.ndarray]:
        """The first whole minute each version is in force (its effective instant rounded
        up), ascending, and the versions' hashes in the same order."""
        effective = np.array(
            [-(-(v.effective_at - EPOCH) // MINUTE) for v in self.versions], dtype=np.int64
        )
        order = np.argsort(effective, kind="stable")
        hashes = np.array([v.content_hash for v in self.versions], dtype=object)
        return effective[order], hashes[order]

    def version_at(self, at: datetime) -> str:
        """The content hash of the routing table version in force at `at`."""
        effective, hashes = self._version_minutes
        index = int(np.searchsorted(effective, (at - EPOCH) // MINUTE, side="right")) - 1
        if index < 0:
            raise ValueError(f"no routing table version is in force at {at.isoformat()}")
        return str(hashes[index])

    @cached_property
    def periods(self) -> pa.Table:
        """The history with no two periods of a line overlapping: a period ends at the
        latest when the line's next one starts (the later period wins, as it did in the
        network). Both the engine and `preselection_at` read this."""
        table = self.history.cast(HISTORY_SCHEMA).sort_by(
            [("number", "ascending"), ("valid_from", "ascending")]
        )
        n = table.num_rows
        if n < 2:
            return table
        numbers, starts, ends = (
            table.column(c).combine_chunks() for c in ("number", "valid_from", "valid_to")
        )
        next_start, end = starts.slice(1), ends.slice(0, n - 1)
        runs_on = pc.or_kleene(pc.is_null(end), pc.greater(end, next_start))
        overlap = pc.fill_null(
            pc.and_(pc.equal(numbers.slice(0, n - 1), numbers.slice(1)), runs_on), False
        )
        if not pc.any(overlap).as_py():
            return table
        ended = pa.concat_arrays([pc.if_else(overlap, next_start, end), ends.slice(n - 1)])
        index = table.schema.get_field_index("valid_to")
        return table.set_column(index, HISTORY_SCHEMA.field("valid_to"), ended)

    @cached_property
    def _periods(self) -> dict[str, list[Preselection]]:
        periods: dict[str, list[Preselection]] = {}
        for row in self.periods.to_pylist():
            periods.setdefault(row["number"], []).append(
                Preselection(
                    row["number"],
                    row["operator_id"],
                    Option(row["option"]),
                    row["valid_from"],
                    row["order_id"],
                    row["valid_to"],
                )
            )
        return periods

    def preselection_at(self, number: str, at: datetime) -> Preselection | None:
        """The line's preselection valid at `at`, if any (periods never overlap)."""
        for p in self._periods.get(number, ()):
            if p.valid_from <= at and (p.valid_to is None or at < p.valid_to):
                return p
        return None

    def minutes(self, first: datetime | None, last: datetime | None) -> pa.Table:
        """One row per UTC minute from `first` to `last`: epoch minute, time band, and the
        content hash of the routing table version in force. Versions take effect on whole
        minutes (switch instants are times of day); a version effective inside a minute
        counts from the next one."""
        if first is None or last is None:
            return MINUTES_SCHEMA.empty_table()
        if last - first > MAX_SPAN:
            raise SpanTooLong(f"the calls span {last - first}; at most {MAX_SPAN} per run")
        start = first.astimezone(UTC).replace(second=0, microsecond=0)
        count = int((last - start) // MINUTE) + 1
        epoch_minute = int(start.timestamp()) // 60 + np.arange(count, dtype=np.int64)
        hours = list(self.tariff.bands_by_hour(start, last))
        hour_of = (epoch_minute - epoch_minute[0] + start.minute) // 60
        bands = np.array([b.value for _, b in hours], dtype=object)[hour_of]
        effective, hashes = self._version_minutes
        in_force = np.searchsorted(effective, epoch_minute, side="right") - 1
        if (in_force < 0).any():
            raise ValueError("no routing table version covers the first calls")
        return pa.table(
            [pa.array(epoch_minute), pa.array(bands, pa.string()), pa.array(hashes[in_force])],
            schema=MINUTES_SCHEMA,
        )
