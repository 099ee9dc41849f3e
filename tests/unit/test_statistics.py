"""The statistics of detection: Fisher, binomial, lift, Benjamini–Hochberg, severity."""

from __future__ import annotations

import math
import random
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forvalg.domain.statistics import (
    LEVELS,
    Severity,
    Table2x2,
    benjamini_hochberg,
    binomial_greater,
    fisher_greater,
    lift,
    rate_lift,
    severity,
)


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def _fisher_by_hand(t: Table2x2) -> float:
    """P(X >= a), X hypergeometric: the sum of the table probabilities, scipy-free."""
    row1, col1, total = t.a + t.b, t.a + t.c, t.a + t.b + t.c + t.d
    top = min(row1, col1)
    denom = _log_choose(total, col1)
    return sum(
        math.exp(_log_choose(row1, x) + _log_choose(total - row1, col1 - x) - denom)
        for x in range(t.a, top + 1)
    )


def test_fisher_lady_tasting_tea() -> None:
    # Fisher (1935): 3 of 4 milk-first cups named correctly; one-sided p = 17/70.
    assert fisher_greater(Table2x2(3, 1, 1, 3)) == pytest.approx(17 / 70, abs=1e-12)
    assert fisher_greater(Table2x2(3, 1, 1, 3)) == pytest.approx(0.2429, abs=5e-5)
    # All four right: 1/70.
    assert fisher_greater(Table2x2(4, 0, 0, 4)) == pytest.approx(1 / 70, abs=1e-12)


def test_fisher_no_exposed_hit_is_one() -> None:
    assert fisher_greater(Table2x2(0, 10, 5, 5)) == 1.0


@pytest.mark.parametrize(
    "table",
    [
        Table2x2(8, 2, 1, 5),
        Table2x2(1, 9, 11, 3),
        Table2x2(12, 5, 9, 7),
        Table2x2(20, 980, 100, 98_900),
        Table2x2(0, 3, 0, 3),
    ],
)
def test_fisher_matches_the_hypergeometric_sum(table: Table2x2) -> None:
    assert fisher_greater(table) == pytest.approx(_fisher_by_hand(table), rel=1e-9, abs=1e-15)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 30), st.integers(0, 30), st.integers(0, 30), st.integers(0, 30))
def test_fisher_is_a_probability_and_matches_by_hand(a: int, b: int, c: int, d: int) -> None:
    t = Table2x2(a, b, c, d)
    p = fisher_greater(t)
    assert 0.0 <= p <= 1.0
    assert p == pytest.approx(_fisher_by_hand(t), rel=1e-7, abs=1e-12)


def test_fisher_is_conservative_under_the_null() -> None:
    """Tables drawn under the null (contacts placed at random): P(p <= 1%) <= 1%."""
    rng = random.Random(6)
    exposed, unexposed, contacts = 60, 940, 50
    units = [True] * exposed + [False] * unexposed
    hits = 0
    trials = 2000
    for _ in range(trials):
        a = sum(rng.sample(units, contacts))
        t = Table2x2.from_margins(
            exposed=exposed, unexposed=unexposed, exposed_hit=a, unexposed_hit=contacts - a
        )
        hits += fisher_greater(t) <= 0.01
    assert hits / trials <= 0.01 + 3 * math.sqrt(0.01 * 0.99 / trials)


def test_binomial_greater_known_values() -> None:
    # P(X >= 3), X ~ Bin(10, 0.1) = 1 - (0.9^10 + 10*0.1*0.9^9 + 45*0.01*0.9^8)
    expected = 1 - (0.9**10 + 10 * 0.1 * 0.9**9 + 45 * 0.01 * 0.9**8)
    assert binomial_greater(3, 10, 0.1) == pytest.approx(expected, rel=1e-12)
    assert binomial_greater(0, 10, 0.1) == 1.0
    assert binomial_greater(1, 1, 0.0) == 0.0
    with pytest.raises(ValueError, match="must lie"):
        binomial_greater(11, 10, 0.1)


def test_lift() -> None:
    assert lift(hits=10, units=100, other_hits=10, other_units=1000) == pytest.approx(10.0)
    assert lift(hits=0, units=100, other_hits=10, other_units=1000) == 0.0
    # No unexposed hit: half a hit stands in.
    assert lift(hits=5, units=100, other_hits=0, other_units=1000) == pytest.approx(100.0)
    assert rate_lift(hits=20, n=100, share=0.05) == pytest.approx(4.0)


def test_benjamini_hochberg_worked_example() -> None:
    # sorted: 0.005*4/1=0.02, 0.01*4/2=0.02, 0.03*4/3=0.04, 0.04*4/4=0.04
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    # 0.01*3/1 = 0.03, 0.02*3/2 = 0.03, 0.03*3/3 = 0.03
    assert benjamini_hochberg([0.01, 0.02, 0.03]) == pytest.approx([0.03, 0.03, 0.03])
    assert benjamini_hochberg([0.5, 0.9]) == pytest.approx([0.9, 0.9])
    assert benjamini_hochberg([]) == []
    with pytest.raises(ValueError, match="not a p-value"):
        benjamini_hochberg([1.5])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=40))
def test_benjamini_hochberg_never_below_raw(ps: list[float]) -> None:
    qs = benjamini_hochberg(ps)
    assert all(p <= q + 1e-15 <= 1.0 + 1e-15 for p, q in zip(ps, qs, strict=True))
    # monotone: a smaller raw p never gets a larger adjusted one
    order = sorted(range(len(ps)), key=ps.__getitem__)
    assert all(qs[i] <= qs[j] + 1e-15 for i, j in pairwise(order))


def test_severity_rule() -> None:
    assert severity(q=0.2, lift=9.0, hits=100) is Severity.INFO
    assert severity(q=0.04, lift=1.1, hits=3) is Severity.LOW
    assert severity(q=0.005, lift=1.6, hits=5) is Severity.MEDIUM
    assert severity(q=0.005, lift=1.4, hits=50) is Severity.LOW  # a tiny effect stays low
    assert severity(q=0.005, lift=3.0, hits=4) is Severity.LOW  # too few hits
    assert severity(q=1e-6, lift=2.5, hits=10) is Severity.HIGH
    assert severity(q=1e-12, lift=6.0, hits=20) is Severity.CRITICAL
    assert [lv.severity for lv in LEVELS] == [
        Severity.CRITICAL,
        Severity.HIGH,
        Severity.MEDIUM,
        Severity.LOW,
    ]
    assert Severity.HIGH.at_least(Severity.MEDIUM)
    assert not Severity.LOW.at_least(Severity.MEDIUM)
