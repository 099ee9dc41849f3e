"""What the exchange records as the carrier of each call, for whole arrays of calls.

The rule is DOMAIN.md's, taken from `forvalg.domain.routing` (its `COVERS`, `SELECTABLE`
and `INCUMBENT`) and the plan's exclusion flags, turned into lookup arrays once:

1. excluded numbers stay with the incumbent;
2. a call behind an active `15NN` code goes to that code's operator if its class is
   selectable; otherwise the exchange refuses it (class INVALID, incumbent);
3. a line preselected at the call's start goes to its operator if the option covers
   the class;
4. everything else stays with the incumbent.

The preselection valid at a call's start is found for all calls at once: the periods are
sorted by one integer key (line index, start second) and each call's (line, second) is
looked up with `numpy.searchsorted`. Call starts are whole seconds, so comparing them
with period bounds rounded up to the second is exact: t >= from iff t >= ceil(from).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from forvalg.domain.numbering import CallClass
from forvalg.domain.orders import Option
from forvalg.domain.routing import COVERS, INCUMBENT, SELECTABLE, RouteReason
from forvalg.sim.dialling import CLASS_INDEX, CLASSES

OPTIONS: tuple[Option, ...] = tuple(Option)
REASONS: tuple[RouteReason, ...] = tuple(RouteReason)
_REASON = {r: i for i, r in enumerate(REASONS)}
# COVERS and SELECTABLE as arrays: COVERED[option, class], SELECTED[class].
COVERED = np.array([[c in COVERS[o] for c in CLASSES] for o in OPTIONS], dtype=np.bool_)
SELECTED = np.array([c in SELECTABLE for c in CLASSES], dtype=np.bool_)
NONE = -1
_FOREVER = 2**62

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Periods:
    """Preselection periods keyed for lookup. Seconds are relative to `base`, one second
    before the calls' first; `span` is one past the calls' last second."""

    key: IntArray  # line * span + start, sorted
    preselected: npt.NDArray[np.bool_]  # per line: has any period
    line: IntArray
    until: IntArray  # exclusive end, span when open or after the calls
    carrier: IntArray
    option: IntArray
    base: int
    span: int

    def at(self, line: IntArray, seconds: IntArray) -> tuple[IntArray, IntArray]:
        """(carrier, option) of each call's line at its start second, NONE if none."""
        carrier = np.full(len(line), NONE, dtype=np.int64)
        option = np.zeros(len(line), dtype=np.int64)
        some = np.flatnonzero(self.preselected[line])  # most lines have no period at all
        if len(some) == 0:
            return carrier, option
        rel = seconds[some] - self.base
        pos = np.searchsorted(self.key, line[some] * self.span + rel, side="right") - 1
        safe = np.maximum(pos, 0)
        valid = (pos >= 0) & (self.line[safe] == line[some]) & (rel < self.until[safe])
        carrier[some] = np.where(valid, self.carrier[safe], NONE)
        option[some] = np.where(valid, self.option[safe], 0)
        return carrier, option


def line_numbers(lines: pa.Array) -> IntArray:
    """8-digit numbers as integers (for sorting and matching)."""
    return np.asarray(pc.cast(lines, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


def index_periods(
    history: pa.Table,
    numbers: IntArray,
    carriers: Mapping[str, int],
    first_s: int,
    end_s: int,
) -> Periods:
    """Periods of `history` (HISTORY_SCHEMA) for lines `numbers` (as integers), for calls
    starting in [first_s, end_s). Rows for numbers not among the lines are dropped; the
    periods of one line must not overlap (the latest start before a call wins)."""
    if len(numbers) == 0:
        raise ValueError("no lines")
    base, span = first_s - 1, end_s - first_s + 2
    wanted = np.asarray(pc.cast(history.column("number"), pa.int64()).to_numpy(), dtype=np.int64)
    sorter = np.argsort(numbers, kind="stable")
    found = sorter[np.minimum(np.searchsorted(numbers, wanted, sorter=sorter), len(numbers) - 1)]
    known = numbers[found] == wanted
    line = found[known].astype(np.int64)
    names = history.column("operator_id").unique()
    carrier_of = np.array([carriers[n] for n in names.to_pylist()], dtype=np.int64)
    operator = _ints(pc.index_in(history.column("operator_id"), value_set=names))
    option = pc.index_in(history.column("option"), value_set=pa.array([o.value for o in OPTIONS]))
    if option.null_count:
        raise ValueError("history: option must be one of " + ", ".join(OPTIONS))
    start_us = _micros(history.column("valid_from"))[known]
    end_us = _micros(history.column("valid_to"))[known]
    order = np.lexsort((start_us, line))
    line = line[order]
    start = np.clip(_ceil_seconds(start_us[order]) - base, 0, span)
    until = np.clip(_ceil_seconds(end_us[order]) - base, 0, span)
    return Periods(
        key=line * span + start,
        preselected=np.bincount(line, minlength=len(numbers)) > 0,
        line=line,
        until=until,
        carrier=carrier_of[operator[known][order]] if len(names) else line * 0,
        option=_ints(option)[known][order],
        base=base,
        span=span,
    )


def route_calls(
    call_class: IntArray,
    excluded: npt.NDArray[np.bool_],
    csc_carrier: IntArray,
    pre_carrier: IntArray,
    pre_option: IntArray,
) -> tuple[IntArray, IntArray, IntArray]:
    """(expected carrier, route reason, rated class) per call; carrier 0 is the incumbent,
    csc_carrier / pre_carrier are NONE where there is no code / no preselection."""
    csc = csc_carrier != NONE
    selectable = SELECTED[call_class]
    by_code = csc & ~excluded & selectable
    by_line = ~csc & ~excluded & (pre_carrier != NONE) & COVERED[pre_option, call_class]
    carrier = np.where(by_code, csc_carrier, np.where(by_line, pre_carrier, 0))
    reason = np.full(len(call_class), _REASON[RouteReason.DEFAULT], dtype=np.int64)
    reason[by_code] = _REASON[RouteReason.CSC]
    reason[by_line] = _REASON[RouteReason.CPS]
    reason[excluded] = _REASON[RouteReason.EXCLUDED]
    refused = csc & ~excluded & ~selectable
    rated = np.where(refused, CLASS_INDEX[CallClass.INVALID], call_class)
    return carrier.astype(np.int64), reason, rated.astype(np.int64)


def misroute(
    expected: IntArray, carriers: int, share: float, rng: np.random.Generator
) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """The carrier the exchange recorded: `share` of the calls (at random) get another
    carrier than expected, an operator or the incumbent."""
    flipped = rng.random(len(expected)) < share if carriers > 1 else np.zeros(len(expected), bool)
    shift = rng.integers(1, max(carriers, 2), len(expected))
    recorded = np.where(flipped, (expected + shift) % max(carriers, 1), expected)
    return recorded.astype(np.int64), flipped


def carrier_names(history: pa.Table, carrier_codes: Mapping[str, str]) -> tuple[str, ...]:
    """The incumbent first, then every operator of the history or the codes, sorted."""
    operators = set(history.column("operator_id").unique().to_pylist())
    operators |= set(carrier_codes.values())
    operators.discard(INCUMBENT)
    return (INCUMBENT, *sorted(operators))


def _micros(column: pa.ChunkedArray) -> IntArray:
    """Timestamps as microseconds since the epoch; null (open) as far in the future."""
    values = pc.fill_null(pc.cast(column, pa.int64()), _FOREVER)
    return np.asarray(values.to_numpy(), dtype=np.int64)


def _ceil_seconds(micros: IntArray) -> IntArray:
    return -(-micros // 1_000_000)


def _ints(indices: pa.ChunkedArray) -> IntArray:
    return np.asarray(pc.fill_null(indices, 0).to_numpy(), dtype=np.int64)
