"""Traffic in the synthetic world: the exchange's CDR export, streamed chunk by chunk.

`write_cdrs` writes `spec.calls` calls from `lines` over `spec.days` days to Parquet (one
row group per chunk) or CSV, never holding more than one chunk:

- when: the daily and weekly rhythm of `forvalg.sim.rhythm` (Oslo time), the file in
  time order;
- who: lines weighted by a capped Pareto draw, so a few lines (switchboards, call-centre
  numbers) make many calls and most make few;
- what: templates from the numbering plan (`forvalg.sim.dialling`): mostly national and
  mobile, some international (`00` and a real country code), a little freephone, shared
  cost and premium, a few short and emergency numbers and malformed strings; about half
  of the national calls stay in the caller's own area code;
- how long: log-normal by class (median 45-180 s, long tail, capped at 6 h), some calls
  answered and dropped at once (0 s), refused calls (class INVALID) 0 s;
- through whom: `spec.csc_share` of the calls behind an active `15NN` code, the rest by
  the line's preselection valid at the call's start (`history`); the exchange's record
  follows DOMAIN.md's routing rule (`forvalg.sim.exchange`) except for
  `spec.misrouted_share` of the calls, recorded with a wrong carrier.

`CdrSummary` keeps the ground truth (class, route reason and expected carrier of every
call as `forvalg.domain.routing.route` gives them) for comparison with the rating engine.
Everything is drawn from numpy generators seeded by (`spec.seed`, stream, chunk), so a
seed and a chunk size give the same file.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from forvalg.domain.numbering import CallClass, NumberingPlan
from forvalg.domain.numbers import CarrierSelectionCode
from forvalg.sim.dialling import CLASS_INDEX, CLASSES, MAX_DIGITS, dialling_table, local_prefixes
from forvalg.sim.digits import numbered, strings_from_digits
from forvalg.sim.exchange import (
    NONE,
    REASONS,
    Periods,
    carrier_names,
    index_periods,
    line_numbers,
    misroute,
    route_calls,
)
from forvalg.sim.population import synthetic_history, synthetic_lines
from forvalg.sim.rhythm import calls_per_slot, slot_weights, start_seconds
from forvalg.sim.sampling import GuideTable
from forvalg.sim.sink import open_sink
from forvalg.traffic.schemas import CDR_SCHEMA, HISTORY_SCHEMA

__all__ = [
    "CDR_SCHEMA",
    "HISTORY_SCHEMA",
    "CdrSummary",
    "TrafficSpec",
    "synthetic_history",
    "synthetic_lines",
    "write_cdrs",
]

WEIGHT_STREAM, SLOT_STREAM, CHUNK_STREAM = 0x3E16, 0x5107, 0xC4C4
PARETO_SHAPE = 1.5  # per-line volume: P(weight > x) ~ x**-1.5 ...
PARETO_CAP = 1000  # ... up to 1,000 times the median line
LOCAL_SHARE = 0.5  # national calls that stay in the caller's two-digit area
ANSWERED_AND_DROPPED = 0.03  # calls of 0 billable seconds
LONGEST_S = 6 * 3600
# Log-normal durations by class: (median seconds, sigma of the log).
DURATIONS: Mapping[CallClass, tuple[float, float]] = {
    CallClass.LOCAL_NATIONAL: (90, 1.1),
    CallClass.MOBILE: (60, 1.0),
    CallClass.INTERNATIONAL: (150, 1.2),
    CallClass.FREEPHONE: (180, 1.0),
    CallClass.SHARED_COST: (150, 1.0),
    CallClass.PREMIUM: (120, 1.1),
    CallClass.SHORT: (45, 0.9),
    CallClass.EMERGENCY: (80, 0.8),
    CallClass.INVALID: (1, 0.0),
}
_MU = np.log([DURATIONS[c][0] for c in CLASSES])
_SIGMA = np.array([DURATIONS[c][1] for c in CLASSES])
_INVALID = CLASS_INDEX[CallClass.INVALID]
_LOCAL = CLASS_INDEX[CallClass.LOCAL_NATIONAL]


@dataclass(frozen=True)
class TrafficSpec:
    calls: int
    start: datetime  # UTC, first instant of the period
    days: int
    seed: int = 2026
    csc_share: float = 0.02  # calls dialled with a 15NN prefix of an active code
    misrouted_share: float = 0.001  # calls the exchange recorded with a wrong carrier
    chunk_rows: int = 1_000_000

    def __post_init__(self) -> None:
        if self.calls < 0 or self.days < 1 or self.chunk_rows < 1:
            raise ValueError("calls >= 0, days >= 1 and chunk_rows >= 1 are needed")
        if not (0 <= self.csc_share <= 1 and 0 <= self.misrouted_share <= 1):
            raise ValueError("csc_share and misrouted_share are shares in [0, 1]")
        if self.start.tzinfo is None:
            raise ValueError("start must be timezone-aware (UTC)")

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)


@dataclass(frozen=True)
class CdrSummary:
    """What was written, and the ground truth of every call in it.

    by_class, by_reason and by_carrier / seconds_by_carrier are what
    `forvalg.domain.routing.route` says of the calls (rated class, route reason, expected
    carrier and its billable seconds); dialled_by_class is the plan's class of the number
    after any `15NN` code; recorded_by_carrier is the file's `carrier` column."""

    path: Path
    rows: int
    chunks: int
    by_class: Mapping[str, int]
    dialled_by_class: Mapping[str, int]
    by_reason: Mapping[str, int]
    by_carrier: Mapping[str, int]
    seconds_by_carrier: Mapping[str, int]
    recorded_by_carrier: Mapping[str, int]
    csc_calls: int
    misrouted: int
    bytes: int
    seconds: float  # wall-clock time to write


@dataclass(frozen=True)
class _World:
    """Everything drawn once, before the chunks."""

    spec: TrafficSpec
    plan: NumberingPlan
    lines: pa.Array
    line_weights: GuideTable
    line_head: npt.NDArray[np.uint8]  # (lines, 2): the area code's digits
    line_local: npt.NDArray[np.bool_]  # the area code is one a caller may dial locally
    calls_until_slot: npt.NDArray[np.int64]
    periods: Periods
    carriers: tuple[str, ...]
    codes: npt.NDArray[np.uint8]  # (codes, 4) ASCII
    code_carrier: npt.NDArray[np.int64]
    t0: int

    @property
    def call_prefix(self) -> str:
        """Call ids are C<first day>-<12-digit index>: unique across months of one exchange."""
        return f"C{self.spec.start:%Y%m%d}-"


def write_cdrs(
    path: Path,
    spec: TrafficSpec,
    *,
    lines: pa.Array,
    history: pa.Table,
    carrier_codes: Mapping[str, str],
    plan: NumberingPlan | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CdrSummary:
    """Stream `spec.calls` CDRs (CDR_SCHEMA) to `path`: Parquet, or CSV (start_utc as
    ISO 8601 with Z) when the name ends in .csv. `carrier_codes` maps the active `15NN`
    codes to operator ids; `history` holds the lines' preselection periods."""
    began = time.perf_counter()
    world = _prepare(spec, lines, history, carrier_codes, plan or NumberingPlan())
    tally = _Tally(len(world.carriers))
    chunks = -(-spec.calls // spec.chunk_rows)
    with open_sink(Path(path), CDR_SCHEMA) as sink:
        for k in range(chunks):
            first = k * spec.chunk_rows
            rows = min(spec.chunk_rows, spec.calls - first)
            sink.write(_chunk(world, k, first, rows, tally))
            if progress is not None:
                progress(first + rows, spec.calls)
    return tally.summary(Path(path), spec.calls, chunks, world.carriers, began)


def _prepare(
    spec: TrafficSpec,
    lines: pa.Array,
    history: pa.Table,
    carrier_codes: Mapping[str, str],
    plan: NumberingPlan,
) -> _World:
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    if len(lines) == 0:
        raise ValueError("no lines to call from")
    if not pc.all(pc.match_substring_regex(lines, r"^[0-9]{8}$")).as_py():
        raise ValueError("lines must be 8-digit national numbers")
    for code in carrier_codes:
        CarrierSelectionCode(code)  # raises InvalidCarrierCode
    numbers = line_numbers(lines)
    t0 = int(spec.start.timestamp())
    end = t0 + spec.days * 86_400
    if len(lines) * (end - t0 + 2) >= 2**62:
        raise ValueError("too many lines for so long a period")
    carriers = carrier_names(history, carrier_codes)
    index = {name: i for i, name in enumerate(carriers)}
    periods = index_periods(history, numbers, index, t0, end)
    rng = np.random.default_rng([spec.seed, WEIGHT_STREAM])
    weights = rng.pareto(PARETO_SHAPE, len(lines)) + 1
    weights = np.minimum(weights, PARETO_CAP * np.median(weights))
    head = numbers // 10**6
    codes = sorted(carrier_codes)
    return _World(
        spec=spec,
        plan=plan,
        lines=lines,
        line_weights=GuideTable(weights),
        line_head=np.stack([head // 10 + 48, head % 10 + 48], axis=1).astype(np.uint8),
        line_local=local_prefixes(plan)[head],
        calls_until_slot=calls_per_slot(
            slot_weights(spec.start, spec.days),
            spec.calls,
            np.random.default_rng([spec.seed, SLOT_STREAM]),
        ),
        periods=periods,
        carriers=carriers,
        codes=np.array([list(c.encode("ascii")) for c in codes], dtype=np.uint8).reshape(-1, 4),
        code_carrier=np.array([index[carrier_codes[c]] for c in codes], dtype=np.int64),
        t0=t0,
    )


def _chunk(world: _World, k: int, first: int, rows: int, tally: _Tally) -> pa.Table:
    spec, table = world.spec, dialling_table(world.plan)
    rng = np.random.default_rng([spec.seed, CHUNK_STREAM, k])
    start = world.t0 + start_seconds(world.calls_until_slot, first, rows, spec.seed)
    line = world.line_weights.draw(rng.random(rows))
    csc = rng.random(rows) < spec.csc_share if len(world.codes) else np.zeros(rows, np.bool_)
    template = table.draw(rng.random(rows), csc)
    call_class = table.call_class[template]

    # The digits: the template's prefix, then random digits; local calls take the line's
    # own area code; calls behind a code get its four digits in front.
    number = np.empty((rows, MAX_DIGITS + 4), dtype=np.uint8)
    body = number[:, 4:]
    body[:] = table.digits(template, rng)
    local = (call_class == _LOCAL) & world.line_local[line] & (rng.random(rows) < LOCAL_SHARE)
    body[local, :2] = world.line_head[line[local]]
    code = rng.integers(0, max(len(world.codes), 1), rows)
    if len(world.codes):
        number[csc, :4] = world.codes[code[csc]]
    skip = np.where(csc, 0, 4)  # without a code the string starts at the number
    dialled = strings_from_digits(number, table.length[template] + 4 - skip, skip)

    csc_carrier = np.where(csc, world.code_carrier[code] if len(world.codes) else 0, NONE)
    pre_carrier, pre_option = world.periods.at(line, start)
    expected, reason, rated = route_calls(
        call_class, table.excluded[template], csc_carrier, pre_carrier, pre_option
    )
    recorded, flipped = misroute(expected, len(world.carriers), spec.misrouted_share, rng)
    duration = np.floor(np.exp(_MU[rated] + _SIGMA[rated] * rng.standard_normal(rows)))
    duration = np.minimum(duration, LONGEST_S).astype(np.int64)
    duration[(rated == _INVALID) | (rng.random(rows) < ANSWERED_AND_DROPPED)] = 0

    tally.add(call_class, rated, reason, expected, recorded, duration, csc, flipped)
    return pa.Table.from_arrays(
        [
            numbered(world.call_prefix, np.arange(first, first + rows, dtype=np.int64), 12),
            pa.array(start * 1_000_000, type=CDR_SCHEMA.field("start_utc").type),
            pa.array(duration, type=pa.int64()),
            pc.take(world.lines, pa.array(line)),
            dialled,
            pc.take(pa.array(world.carriers, pa.string()), pa.array(recorded)),
        ],
        schema=CDR_SCHEMA,
    )


class _Tally:
    def __init__(self, carriers: int) -> None:
        n = len(CLASSES)
        self.dialled = np.zeros(n, np.int64)
        self.rated = np.zeros(n, np.int64)
        self.reason = np.zeros(len(REASONS), np.int64)
        self.expected = np.zeros(carriers, np.int64)
        self.recorded = np.zeros(carriers, np.int64)
        self.seconds = np.zeros(carriers, np.int64)
        self.csc = 0
        self.misrouted = 0

    def add(
        self,
        dialled: npt.NDArray[np.int64],
        rated: npt.NDArray[np.int64],
        reason: npt.NDArray[np.int64],
        expected: npt.NDArray[np.int64],
        recorded: npt.NDArray[np.int64],
        duration: npt.NDArray[np.int64],
        csc: npt.NDArray[np.bool_],
        flipped: npt.NDArray[np.bool_],
    ) -> None:
        self.dialled += np.bincount(dialled, minlength=len(self.dialled))
        self.rated += np.bincount(rated, minlength=len(self.rated))
        self.reason += np.bincount(reason, minlength=len(self.reason))
        self.expected += np.bincount(expected, minlength=len(self.expected))
        self.recorded += np.bincount(recorded, minlength=len(self.recorded))
        for carrier in np.unique(expected):
            self.seconds[carrier] += int(duration[expected == carrier].sum())
        self.csc += int(csc.sum())
        self.misrouted += int(flipped.sum())

    def summary(
        self, path: Path, rows: int, chunks: int, carriers: tuple[str, ...], began: float
    ) -> CdrSummary:
        def named(names: tuple[str, ...], counts: npt.NDArray[np.int64]) -> dict[str, int]:
            return {name: int(n) for name, n in zip(names, counts, strict=True) if n}

        classes = tuple(c.value for c in CLASSES)
        return CdrSummary(
            path=path,
            rows=rows,
            chunks=chunks,
            by_class=named(classes, self.rated),
            dialled_by_class=named(classes, self.dialled),
            by_reason=named(tuple(r.value for r in REASONS), self.reason),
            by_carrier=named(carriers, self.expected),
            seconds_by_carrier=named(carriers, self.seconds),
            recorded_by_carrier=named(carriers, self.recorded),
            csc_calls=self.csc,
            misrouted=self.misrouted,
            bytes=path.stat().st_size,
            seconds=time.perf_counter() - began,
        )
