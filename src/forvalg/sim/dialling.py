"""What synthetic callers dial: number templates drawn from the numbering plan.

A template is a prefix and a total length; the digits after the prefix are random. The
plan classifies a number by its length and first `KEY_DIGITS` digits only, so a template
whose every expansion to `KEY_DIGITS` digits has one verdict gives that verdict for every
number drawn from it. `dialling_table` builds the national templates from the plan's own
lookup table and adds international numbers (`00` and a real country code) and a few
malformed strings; it checks every template with `NumberingPlan.classify` and refuses
any whose expansions disagree or that could be read as a `15NN` carrier selection prefix.

A template is drawn per call by a binary search of a cumulative weight array; the
digits are written by `forvalg.sim.digits` without a Python loop per call.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from forvalg.domain.numbering import (
    KEY_DIGITS,
    CallClass,
    NumberingPlan,
    national_form,
    split_carrier_code,
)
from forvalg.sim.digits import ZERO
from forvalg.sim.sampling import GuideTable

CLASSES: tuple[CallClass, ...] = tuple(CallClass)
CLASS_INDEX = {c: i for i, c in enumerate(CLASSES)}
MAX_DIGITS = 17  # 00 + up to 15 digits of E.164

C = CallClass
# Share of calls by the class of the number dialled: mostly national and mobile.
CALL_MIX: Mapping[CallClass, float] = {
    C.LOCAL_NATIONAL: 0.50,
    C.MOBILE: 0.37,
    C.INTERNATIONAL: 0.05,
    C.FREEPHONE: 0.03,
    C.SHARED_COST: 0.012,
    C.PREMIUM: 0.004,
    C.SHORT: 0.025,
    C.EMERGENCY: 0.001,
    C.INVALID: 0.008,
}
# Behind a carrier selection code: call-by-call was bought for international calls.
CSC_MIX: Mapping[CallClass, float] = {
    C.INTERNATIONAL: 0.55,
    C.LOCAL_NATIONAL: 0.21,
    C.MOBILE: 0.18,
    C.FREEPHONE: 0.01,
    C.PREMIUM: 0.005,
    C.SHORT: 0.025,  # mostly excluded numbers: the code must be ignored
    C.EMERGENCY: 0.01,
    C.INVALID: 0.01,
}
# Country codes Norwegian fixed lines call, with a weight and the national significant
# number's length (the number after the country code).
COUNTRIES: tuple[tuple[str, float, int], ...] = (
    ("46", 20, 9),  # Sweden
    ("45", 9, 8),  # Denmark
    ("44", 10, 10),  # United Kingdom
    ("48", 9, 9),  # Poland
    ("49", 8, 11),  # Germany
    ("1", 7, 10),  # USA and Canada
    ("34", 6, 9),  # Spain
    ("358", 4, 9),  # Finland
    ("370", 4, 8),  # Lithuania
    ("33", 3, 9),  # France
    ("39", 3, 10),  # Italy
    ("31", 2, 9),  # Netherlands
    ("63", 3, 10),  # Philippines
    ("66", 3, 9),  # Thailand
    ("92", 3, 10),  # Pakistan
    ("91", 2, 10),  # India
    ("90", 2, 10),  # Turkey
    ("252", 2, 8),  # Somalia
    ("84", 2, 9),  # Vietnam
    ("7", 2, 10),  # Russia
    ("86", 2, 11),  # China
    ("354", 1, 7),  # Iceland
    ("964", 1, 10),  # Iraq
)
# Strings no plan range matches: too short, too long, no such service.
MALFORMED: tuple[tuple[str, int], ...] = (("22", 7), ("9", 9), ("2", 3), ("0", 4), ("01", 5))


class TemplateError(ValueError):
    """A template whose numbers the plan would not all classify the same way."""


@dataclass(frozen=True)
class DiallingTable:
    """Templates as arrays: row i is prefix `prefix[i, :prefix_len[i]]`, `length[i]`
    digits in all, of class `CLASSES[call_class[i]]`, excluded or not. `cdf` and
    `behind_code` draw a template for an ordinary call and for one behind a `15NN` code."""

    prefix: npt.NDArray[np.uint8]
    prefix_len: npt.NDArray[np.int64]
    length: npt.NDArray[np.int64]
    call_class: npt.NDArray[np.int64]
    excluded: npt.NDArray[np.bool_]
    plain: GuideTable
    behind_code: GuideTable

    def draw(
        self, uniform: npt.NDArray[np.float64], csc: npt.NDArray[np.bool_]
    ) -> npt.NDArray[np.int64]:
        """Template indices for uniform variates in [0, 1)."""
        template = self.plain.draw(uniform)
        template[csc] = self.behind_code.draw(uniform[csc])
        return template

    def digits(
        self, template: npt.NDArray[np.int64], rng: np.random.Generator
    ) -> npt.NDArray[np.uint8]:
        """(calls, MAX_DIGITS) ASCII digits: each template's prefix, then random digits;
        the number is the first `length[template]` of them."""
        out = rng.integers(ZERO, ZERO + 10, (len(template), MAX_DIGITS), dtype=np.uint8)
        keep = np.arange(MAX_DIGITS) < self.prefix_len[template][:, None]
        np.copyto(out, self.prefix[template], where=keep)
        return out


def verdict(plan: NumberingPlan, prefix: str, length: int) -> tuple[CallClass, bool]:
    """The class and exclusion the plan gives every number of `length` digits that starts
    with `prefix`; raises `TemplateError` if they differ or a number reads as a CSC."""
    free = max(0, min(length, KEY_DIGITS) - len(prefix))
    found = set()
    for tail in itertools.product("0123456789", repeat=free):
        number = (prefix + "".join(tail)).ljust(length, "0")
        if split_carrier_code(number)[0] is not None:
            raise TemplateError(f"{prefix!r}/{length} can be read as a carrier selection code")
        c = plan.classify(number)
        found.add((c.call_class, c.excluded))
    if len(found) != 1:
        raise TemplateError(f"{prefix!r}/{length}: the plan gives {sorted(found)}")
    return found.pop()


@cache
def dialling_table(plan: NumberingPlan) -> DiallingTable:
    """The templates for `plan`: its own ranges for national and short numbers (each key of
    the plan's lookup table is a template), `COUNTRIES` behind `00`, and `MALFORMED`."""
    wanted: list[tuple[str, int, CallClass]] = [
        (key, length, found.call_class)
        for (length, key), found in plan.table.items()
        if found.call_class is not C.INTERNATIONAL
        # `0047` + 8 digits is dialled as a national number: not a key `classify` reads
        and national_form(key.ljust(length, "0")) == key.ljust(length, "0")
    ]
    wanted += [("00" + code, 2 + len(code) + n, C.INTERNATIONAL) for code, _, n in COUNTRIES]
    wanted += [(prefix, length, C.INVALID) for prefix, length in MALFORMED]
    rows: list[tuple[str, int, CallClass, bool]] = []
    for prefix, length, intended in wanted:
        call_class, excluded = verdict(plan, prefix, length)
        if call_class is not intended:
            raise TemplateError(f"{prefix!r}/{length} is {call_class}, meant {intended}")
        rows.append((prefix, length, call_class, excluded))
    rows.sort()
    groups = Counter((call_class, length, excluded) for _, length, call_class, excluded in rows)
    per_class = Counter(call_class for call_class, _, _ in groups)
    country = {"00" + code: weight for code, weight, _ in COUNTRIES}
    within = np.empty(len(rows))
    for i, (prefix, length, call_class, excluded) in enumerate(rows):
        if call_class is C.INTERNATIONAL:
            within[i] = country[prefix] / sum(country.values())
        else:  # each (length, exclusion) group of a class alike, keys alike within it
            within[i] = 1 / (per_class[call_class] * groups[(call_class, length, excluded)])
    classes = np.array([CLASS_INDEX[r[2]] for r in rows], dtype=np.int64)
    prefixes = np.full((len(rows), MAX_DIGITS), ZERO, dtype=np.uint8)
    for i, (prefix, *_) in enumerate(rows):
        prefixes[i, : len(prefix)] = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    return DiallingTable(
        prefix=prefixes,
        prefix_len=np.array([len(r[0]) for r in rows], dtype=np.int64),
        length=np.array([r[1] for r in rows], dtype=np.int64),
        call_class=classes,
        excluded=np.array([r[3] for r in rows], dtype=np.bool_),
        plain=_weighted(within, classes, CALL_MIX),
        behind_code=_weighted(within, classes, CSC_MIX),
    )


def _weighted(
    within: npt.NDArray[np.float64], classes: npt.NDArray[np.int64], mix: Mapping[CallClass, float]
) -> GuideTable:
    share = np.array([mix.get(c, 0.0) for c in CLASSES])
    return GuideTable(within * share[classes])


@cache
def local_prefixes(plan: NumberingPlan) -> npt.NDArray[np.bool_]:
    """Two-digit prefixes (index 0-99) under which every 8-digit number is an ordinary
    national number, not excluded: a caller may dial its own area's prefix there."""
    table = plan.table
    allowed = np.zeros(100, dtype=np.bool_)
    for head in range(10, 100):
        allowed[head] = all(
            (found := table.get((8, f"{head}{tail:03d}"))) is not None
            and found.call_class is C.LOCAL_NATIONAL
            and not found.excluded
            for tail in range(1000)
        )
    return allowed
