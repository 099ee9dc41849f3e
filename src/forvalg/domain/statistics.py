"""The statistics behind detection: one-sided tests, lift, Benjamini–Hochberg, severity.

Every detector reduces a suspicion to a count of "exposed" events among `n` and asks
whether that count is higher than chance allows. The two tests are

- **Fisher's exact test, one-sided (greater)**, on a 2×2 table
  (exposed / unexposed units × contacted / not): the probability, with both margins
  fixed, of a table at least as extreme towards "contacted more when exposed";
- **the binomial test, one-sided (greater)**: `k` of `n` contacts fell in exposed
  line-time when a fraction `share` of the line-time was exposed. It is Fisher's test in
  the limit of a population much larger than the sample, used where exposure is a
  fraction of continuous time rather than a count of units.

Both are exact and conservative for discrete data: under the null hypothesis
`P(p <= alpha) <= alpha` for every alpha. The p-values of everything tested in one run
are adjusted together by Benjamini–Hochberg (the step-up adjusted p-values, "q");
an adjusted p-value is never smaller than the raw one.

Severity (see `severity`) is a documented rule over (adjusted p, lift, exposed count).

scipy.stats is imported inside the functions that use it. It takes a second or
more to import, and this module (for `Severity`) is reachable from every `forvalg`
command; the commands that never test anything should not pay for it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


_RANK = {s: i for i, s in enumerate(Severity)}


@dataclass(frozen=True, slots=True)
class Table2x2:
    """Units by exposure and outcome: `a` exposed and contacted, `b` exposed and not,
    `c` unexposed and contacted, `d` unexposed and not."""

    a: int
    b: int
    c: int
    d: int

    def __post_init__(self) -> None:
        if min(self.a, self.b, self.c, self.d) < 0:
            raise ValueError(f"a 2×2 table of counts cannot hold a negative count: {self}")

    @classmethod
    def from_margins(
        cls, *, exposed: int, unexposed: int, exposed_hit: int, unexposed_hit: int
    ) -> Table2x2:
        return cls(exposed_hit, exposed - exposed_hit, unexposed_hit, unexposed - unexposed_hit)

    @property
    def exposed(self) -> int:
        return self.a + self.b

    @property
    def unexposed(self) -> int:
        return self.c + self.d


def fisher_greater(table: Table2x2) -> float:
    """One-sided Fisher's exact p-value: P(X >= a) for X hypergeometric with the table's
    margins (the alternative: exposed units are contacted more often)."""
    if table.a == 0:
        return 1.0
    from scipy.stats import fisher_exact  # imported late: module docstring

    _, p = fisher_exact([[table.a, table.b], [table.c, table.d]], alternative="greater")
    return _probability(float(p))


def binomial_greater(k: int, n: int, share: float) -> float:
    """One-sided binomial p-value: P(X >= k) for X ~ Binomial(n, share)."""
    if not 0 <= k <= n:
        raise ValueError(f"k={k} must lie in [0, n={n}]")
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share={share} is not a probability")
    if k == 0:
        return 1.0
    from scipy.stats import binom  # imported late: module docstring

    return _probability(float(binom.sf(k - 1, n, share)))


def lift(*, hits: int, units: float, other_hits: int, other_units: float) -> float:
    """The rate among exposed units over the rate among comparable unexposed ones,
    `(hits / units) / (other_hits / other_units)`. With no unexposed hit the ratio is
    unbounded; half a hit stands in (the usual continuity correction), so the lift stays
    finite and errs low. 0 when nothing exposed was hit or nothing is exposed."""
    if hits == 0 or units <= 0:
        return 0.0
    if other_units <= 0:
        raise ValueError("no comparable unexposed units to compare with")
    return (hits / units) / (max(other_hits, 0.5) / other_units)


def rate_lift(*, hits: int, n: int, share: float) -> float:
    """The observed exposed fraction `hits / n` over the expected one, `share`."""
    if hits == 0 or n == 0:
        return 0.0
    if share <= 0.0:
        raise ValueError("an exposed share of 0 cannot be hit")
    return (hits / n) / share


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (step-up, monotone, capped at 1), in the order
    given: the smallest false discovery rate at which each hypothesis is rejected."""
    if not p_values:
        return []
    for p in p_values:
        if not 0.0 <= p <= 1.0 or math.isnan(p):
            raise ValueError(f"{p} is not a p-value")
    from scipy.stats import false_discovery_control  # imported late: module docstring

    adjusted = false_discovery_control(list(p_values), method="bh")
    return [_probability(float(q)) for q in adjusted]


# The severity rule. Every level above LOW needs all three: an adjusted p-value below
# the level's threshold, a lift at least the level's floor, and at least `min_hits`
# exposed hits (so that a handful of coincidences cannot carry a finding).
@dataclass(frozen=True, slots=True)
class Level:
    severity: Severity
    max_q: float
    min_lift: float
    min_hits: int


LEVELS = (
    Level(Severity.CRITICAL, 1e-9, 5.0, 20),
    Level(Severity.HIGH, 1e-5, 2.0, 10),
    Level(Severity.MEDIUM, 1e-2, 1.5, 5),
    Level(Severity.LOW, 5e-2, 1.0, 1),
)


def severity(*, q: float, lift: float, hits: int) -> Severity:
    """The severity of a test's result: the first level of `LEVELS` whose thresholds are
    all met, else INFO.

    Why a clean subject stays below MEDIUM with probability >= 99%: MEDIUM needs
    `q < 0.01`; the BH-adjusted p-value is never below the raw one, and the raw one is
    from an exact, conservative test, so under the null hypothesis (the subject picks
    lines without regard to CPS events) `P(q < 0.01) <= P(p < 0.01) <= 0.01`, whatever
    else is tested in the run. The lift and count floors only lower that probability;
    they guard against a huge campaign with a tiny real-world bias (a confounder, not a
    leak) becoming a finding on p alone. When every subject is clean, BH's guarantee
    gives more: the chance of *any* MEDIUM finding in the run is <= 1% (independent or
    positively dependent tests).
    """
    for level in LEVELS:
        if q < level.max_q and lift >= level.min_lift and hits >= level.min_hits:
            return level.severity
    return Severity.INFO


def _probability(p: float) -> float:
    if math.isnan(p):
        raise ValueError("the test produced no p-value")
    return min(1.0, max(0.0, p))
