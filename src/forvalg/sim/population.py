"""The lines that call and their preselection history, as Arrow arrays.

`synthetic_lines` draws unique 8-digit geographic numbers (under two-digit prefixes whose
every number the plan calls an ordinary national number). `synthetic_history` gives a
share of them preselection periods in `HISTORY_SCHEMA`: most were preselected before the
period and stay so, others are provided, ceased, transferred to another operator or
modified to another option inside it, a few come and go inside it, and a few lapsed
before it began. Periods of one line never overlap; a transfer or modification closes
one period at the instant the next opens.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import IntEnum

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from forvalg.domain.numbering import NumberingPlan
from forvalg.domain.orders import Option
from forvalg.sim.dialling import local_prefixes
from forvalg.sim.digits import numbered
from forvalg.traffic.schemas import HISTORY_SCHEMA, UTC_US

LINES_STREAM, HISTORY_STREAM = 0x11E5, 0x4157
DAY_S = 86_400
OPTIONS: tuple[Option, ...] = (Option.ALL, Option.NATIONAL, Option.INTERNATIONAL)
OPTION_WEIGHTS = (0.7, 0.2, 0.1)


class Story(IntEnum):
    """What happens to a preselected line around the period."""

    STABLE = 0  # preselected before, all through
    PROVIDED = 1  # preselected from an instant inside
    CEASED = 2  # preselected before, ends inside
    TRANSFERRED = 3  # to another operator inside
    MODIFIED = 4  # to another option inside
    BRIEF = 5  # provided and ceased inside (or soon after)
    LAPSED = 6  # ceased before the period began


STORY_WEIGHTS = (0.70, 0.09, 0.06, 0.08, 0.03, 0.02, 0.02)


def synthetic_lines(count: int, seed: int, *, plan: NumberingPlan | None = None) -> pa.Array:
    """`count` unique geographic 8-digit numbers, sorted, as an Arrow string array."""
    heads = np.flatnonzero(local_prefixes(plan or NumberingPlan())).astype(np.int64)
    space = len(heads) * 10**6
    if not 0 <= count <= space:
        raise ValueError(f"count must be 0-{space}, not {count}")
    rng = np.random.default_rng([seed, LINES_STREAM])
    picked = np.empty(0, dtype=np.int64)
    while len(picked) < count:
        more = rng.integers(0, space, count - len(picked) + count // 20 + 16, dtype=np.int64)
        picked = np.union1d(picked, more)
    if len(picked) > count:
        picked = np.sort(rng.choice(picked, count, replace=False))
    numbers = heads[picked // 10**6] * 10**6 + picked % 10**6
    return pc.cast(pa.array(numbers, type=pa.int64()), pa.string())


def synthetic_history(
    lines: pa.Array,
    operators: Sequence[str],
    *,
    share: float,
    start: datetime,
    days: int,
    seed: int,
) -> pa.Table:
    """Preselection periods for round(share * len(lines)) of `lines`, sorted by number and
    valid_from. Bigger operators (earlier in `operators`) win more lines."""
    if not operators:
        raise ValueError("at least one operator is needed")
    if not 0 <= share <= 1 or days < 1:
        raise ValueError("share must be in [0, 1] and days >= 1")
    t0 = _epoch_seconds(start)
    rng = np.random.default_rng([seed, HISTORY_STREAM])
    n_ops = len(operators)
    chosen = np.sort(rng.choice(len(lines), round(share * len(lines)), replace=False))
    k = len(chosen)
    story = rng.choice(len(Story), k, p=STORY_WEIGHTS)
    earlier = t0 - rng.integers(DAY_S, 3 * 365 * DAY_S, k)
    inside = t0 + rng.integers(0, days * DAY_S, k)
    market = 1 / np.arange(1, n_ops + 1) ** 0.8
    op = rng.choice(n_ops, k, p=market / market.sum())
    option = rng.choice(len(OPTIONS), k, p=OPTION_WEIGHTS)
    other_op = (op + rng.integers(1, max(n_ops, 2), k)) % n_ops
    other_option = (option + rng.integers(1, len(OPTIONS), k)) % len(OPTIONS)
    brief_end = inside + rng.integers(3600, 21 * DAY_S, k)
    lapsed_from = earlier - rng.integers(30 * DAY_S, 2 * 365 * DAY_S, k)

    s = Story
    open_end = np.full(k, -1, dtype=np.int64)
    first_from = _pick(story, {s.PROVIDED: inside, s.BRIEF: inside, s.LAPSED: lapsed_from}, earlier)
    first_to = _pick(
        story,
        {
            s.CEASED: inside,
            s.TRANSFERRED: inside,
            s.MODIFIED: inside,
            s.BRIEF: brief_end,
            s.LAPSED: earlier,
        },
        open_end,
    )
    second = np.flatnonzero((story == s.TRANSFERRED) | (story == s.MODIFIED))
    transferred = story[second] == s.TRANSFERRED
    line = np.concatenate([chosen, chosen[second]])
    valid_from = np.concatenate([first_from, inside[second]])
    valid_to = np.concatenate([first_to, open_end[second]])
    operator = np.concatenate([op, np.where(transferred, other_op[second], op[second])])
    opt = np.concatenate([option, np.where(transferred, option[second], other_option[second])])
    order = np.lexsort((valid_from, line))
    return pa.Table.from_arrays(
        [
            pc.take(lines, pa.array(line[order])),
            pc.take(pa.array(list(operators), pa.string()), pa.array(operator[order])),
            pc.take(pa.array([o.value for o in OPTIONS]), pa.array(opt[order])),
            _timestamps(valid_from[order]),
            _timestamps(valid_to[order]),
            numbered(f"sim-{seed}-", np.arange(len(order), dtype=np.int64), 9),
        ],
        schema=HISTORY_SCHEMA,
    )


def _pick(
    story: npt.NDArray[np.int64],
    cases: dict[Story, npt.NDArray[np.int64]],
    default: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    out = default.copy()
    for case, values in cases.items():
        hit = story == case
        out[hit] = values[hit]
    return out


def _timestamps(seconds: npt.NDArray[np.int64]) -> pa.Array:
    """Epoch seconds as UTC microsecond timestamps; negative means null (still open)."""
    return pa.array(seconds * 1_000_000, type=UTC_US, mask=seconds < 0)


def _epoch_seconds(instant: datetime) -> int:
    if instant.tzinfo is None:
        raise ValueError("start must be timezone-aware (UTC)")
    return int(instant.timestamp())
