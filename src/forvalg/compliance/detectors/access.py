"""Access: staff who touch far more, are refused far more, or break the glass far more
often than their peers — and every break-glass use (issue 6).

Three tests per staff principal (`user:...`), each its count in the window (`window`,
30 days up to the last entry) against its **peers**, the other staff principals with
the same roles:

- `volume` — distinct subjects (lines, by pseudonym) touched by its allowed entries;
- `denials` — its refused decisions (probing the wall: `E_FORBIDDEN`,
  `E_WORK_ITEM_MISMATCH`, `E_PURPOSE_REQUIRED`), counted by reason code in the evidence;
- `break_glass` — its uses of break-glass (one request reads several categories, each an
  entry: a principal's break-glass allows with the same justification, each within
  `break_glass_gap` (a minute) of the one before, are one use).

The peer model (`PeerModel.fit`), leave-one-out: the principal itself is never part of
its yardstick.

1. Peers whose own count is "far out" (Tukey: above the upper quartile by more than
   three interquartile ranges, on the square-root scale where Poisson noise is equally
   wide at every level; the range never taken narrower than pure Poisson noise makes
   it) are left out, so that two curious colleagues cannot hide each other.
2. The rest give a mean `m` and a variance `s²`. Counts vary from person to person more
   than Poisson noise (workloads differ), so the count is modelled as a **negative
   binomial** (a Poisson whose rate varies between people by a gamma law) with mean `m`
   and variance `V = max(s² · u, m + f²m²) · (1 + 1/n)`: `u` puts the variance at the
   upper end of its 95% confidence interval (χ² with n−1 degrees of freedom, so a
   small peer group gets the benefit of the doubt), `f` (0.2) says that colleagues'
   workloads are never assumed closer than ±20%, and `1 + 1/n` adds the uncertainty of
   the mean. With `V <= m` the model is Poisson; `m` is at least 0.5.
3. `p = P(X >= x)` under that model; the lift is `x / max(m, 0.5)`.

With fewer than `min_peers` (5) peers of the same roles, the peers are the staff of the
same organisation; with fewer than that too, the principal is not tested (one person
cannot be compared with nobody). A principal with a count of 0 has nothing to test.

Break-glass is also reported by rule (test `break_glass_uses`): every principal who used
it is LOW, MEDIUM from `break_glass_repeat` (3) uses in the window. Those are facts from
the ledger, not tests (`Tested.rule`): they take no part in the run's Benjamini–Hochberg
adjustment.

All bulk work is SQL over the ledger in the run's engine (DuckDB, or Spark); Python loops
once per principal.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa

from forvalg.compliance.detectors.findings import Tested
from forvalg.compliance.detectors.ledger_input import (
    AccessSettings,
    Ledger,
    glass_uses,
    rule_tested,
    sample,
)
from forvalg.domain.statistics import Severity

DETECTOR = "access"
MIN_MEAN = 0.5  # a peer mean below this stands at this (half an event: errs low on lift)
# On the square-root scale Poisson noise has standard deviation 1/2, so the interquartile
# range of pure noise is 1.349 / 2: the fence is never narrower than noise makes it.
NOISE_IQR = 0.6745
FAR_OUT = 3.0  # Tukey's "far out": beyond the upper quartile by three interquartile ranges


@dataclass(frozen=True, slots=True)
class PeerModel:
    """The negative binomial a principal's count is judged by (see the module's doc)."""

    peers: int  # the peers compared with (the principal excluded)
    baseline: int  # the peers left after the far-out ones are set aside
    mean: float  # their mean count, at least MIN_MEAN
    median: float
    variance: float  # the model's variance (conservative: see `fit`)

    @classmethod
    def fit(cls, counts: np.ndarray, settings: AccessSettings) -> PeerModel:
        """The model of the peers' `counts` (at least one)."""
        counts = np.sort(np.asarray(counts, dtype=np.float64))
        roots = np.sqrt(counts)
        q1, q3 = _quantile(roots, 0.25), _quantile(roots, 0.75)
        fence = q3 + FAR_OUT * max(q3 - q1, NOISE_IQR)
        kept = counts[roots <= fence]
        n = len(kept)
        mean = max(float(kept.mean()), MIN_MEAN)
        spread = float(kept.var(ddof=1)) * _upper(n - 1, settings.confidence) if n > 1 else 0.0
        floor = mean + (settings.dispersion_floor * mean) ** 2
        variance = max(spread, floor) * (1.0 + 1.0 / n)
        return cls(len(counts), n, mean, _quantile(counts, 0.5), variance)

    def p_at_least(self, x: int) -> float:
        """P(X >= x) under the model: a negative binomial of mean `m` and variance `V`
        (shape `r = m² / (V - m)`), or a Poisson when `V <= m`."""
        if x <= 0:
            return 1.0
        from scipy.special import betainc, gammainc  # imported late: statistics.py

        m, v = self.mean, self.variance
        if v <= m * (1.0 + 1e-9):
            p = float(gammainc(x, m))  # P(Poisson(m) >= x)
        else:
            shape = m * m / (v - m)
            p = float(betainc(x, shape, m / (shape + m)))  # P(NB >= x)
        if math.isnan(p):
            raise ValueError("the peer model produced no p-value")
        return min(1.0, max(0.0, p))

    def lift(self, x: int) -> float:
        return x / self.mean

    def evidence(self, by: str, key: str) -> dict[str, object]:
        return {
            "by": by,
            "key": key,
            "peers": self.peers,
            "baseline_peers": self.baseline,
            "mean": round(self.mean, 3),
            "median": self.median,
            "model_variance": round(self.variance, 3),
        }


def _quantile(ordered: np.ndarray, q: float) -> float:
    """The `q` quantile of sorted values, interpolated linearly (numpy's default)."""
    at = q * (len(ordered) - 1)
    low = math.floor(at)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (at - low))


@lru_cache(maxsize=1024)
def _upper(df: int, confidence: float) -> float:
    """How much a variance estimated with `df` degrees of freedom is widened to reach the
    upper end of its `confidence` interval: `df / chi2.ppf(1 - confidence, df)`."""
    from scipy.special import gammaincinv  # imported late: statistics.py

    return df / (2.0 * float(gammaincinv(df / 2.0, 1.0 - confidence)))


@dataclass(frozen=True, slots=True)
class _Metric:
    test: str
    column: str  # the count's column in the principals table
    sample: str  # the evidence sample's kind


_METRICS = (
    _Metric("volume", "touched", "volume"),
    _Metric("denials", "denials", "denials"),
    _Metric("break_glass", "break_glass", "break_glass"),
)


def access_tests(
    entries: pa.Table | Ledger, settings: AccessSettings | None = None
) -> list[Tested]:
    """The `volume`, `denials` and `break_glass` tests of every staff principal that has
    peers to compare with and a count above 0, and the rule-decided `break_glass_uses`
    of every staff principal who used break-glass (`entries`: `ledger_input.
    ENTRY_SCHEMA`, or a `Ledger` already built from them)."""
    settings = settings or AccessSettings()
    ledger = entries if isinstance(entries, Ledger) else Ledger(entries)
    start = ledger.start(settings.window)
    ledger.create(
        "recent", "SELECT * FROM entries" + ("" if start is None else f" WHERE t >= {int(start)}")
    )
    window = ledger.window(settings.window)
    return [*_peer_tests(ledger, settings, window), *_glass_uses(ledger, settings, window)]


def _peer_tests(
    ledger: Ledger, settings: AccessSettings, window: dict[str, str] | None
) -> list[Tested]:
    rows = _principals(ledger, settings)
    if not rows:
        return []
    counts = {m.column: np.array([r[m.column] for r in rows], dtype=np.int64) for m in _METRICS}
    groups = _peer_groups(rows, settings.min_peers)
    out = []
    for i, row in enumerate(rows):
        group = groups[i]
        if group is None:
            continue
        by, key, peers = group
        for metric in _METRICS:
            x = int(row[metric.column])
            if x == 0:
                continue
            model = PeerModel.fit(counts[metric.column][peers], settings)
            out.append(_tested(metric, row, x, model, by, key, window))
    return out


def _glass_uses(
    ledger: Ledger, settings: AccessSettings, window: dict[str, str] | None
) -> list[Tested]:
    """Every staff principal who used break-glass in the window: LOW, or MEDIUM from
    `break_glass_repeat` uses (a rule)."""
    out = []
    for row in _glass(ledger, settings):
        uses = int(row["uses"])
        repeated = uses >= settings.break_glass_repeat
        why = (
            f"repeated use: {settings.break_glass_repeat} or more in the window"
            if repeated
            else "every use is reported"
        )
        out.append(
            rule_tested(
                detector=DETECTOR,
                test="break_glass_uses",
                principal=row["principal"],
                severity=Severity.MEDIUM if repeated else Severity.LOW,
                summary=(
                    f"Staff member {row['principal']} ({_roles(row)}) used "
                    f"break-glass {_times(uses)}{_between(window)}, reading data without a "
                    f"work item that covers it ({why})."
                ),
                n=int(row["allowed"]),
                hits=uses,
                evidence={
                    "window": window,
                    "roles": list(row["roles"]),
                    "organisation": row["organisation"],
                    "break_glass_uses": uses,
                    "break_glass_entries": int(row["glass_entries"]),
                    "repeat_threshold": settings.break_glass_repeat,
                    "resources": dict(sorted(row["resources"].items())),
                    "break_glass_subjects": int(row["touched"]),
                    "entry_indices": sample(row["sample"]),
                },
            )
        )
    return out


def _tested(
    metric: _Metric,
    row: dict[str, Any],
    x: int,
    model: PeerModel,
    by: str,
    key: str,
    window: dict[str, str] | None,
) -> Tested:
    lift = model.lift(x)
    who = f"Staff member {row['principal']} ({_roles(row)})"
    group = "with the same roles" if by == "roles" else f"in {key}"
    aside = model.peers - model.baseline
    left = f", {aside} far-out one{'s' if aside > 1 else ''} left aside" if aside else ""
    yardstick = (
        f"{lift:.1f} times the average of its {model.peers} peers {group} "
        f"({model.mean:.1f}{left}; {{p}})"
    )
    evidence: dict[str, object] = {
        "window": window,
        "roles": list(row["roles"]),
        "organisation": row["organisation"],
        "peer_group": model.evidence(by, key),
    }
    if metric.test == "volume":
        summary = f"{who} touched {x:,} distinct subjects (lines){_between(window)}, {yardstick}."
        evidence |= {"distinct_subjects": x, "allowed_entries": int(row["allowed"])}
        n = int(row["allowed"])
    elif metric.test == "denials":
        codes = ", ".join(f"{c} {k:,}" for c, k in sorted(row["codes"].items()))
        summary = (
            f"{who} was refused by the wall {_times(x)}{_between(window)} ({codes}), {yardstick}."
        )
        evidence |= {
            "denials": x,
            "entries": int(row["entries"]),
            "by_reason": dict(sorted(row["codes"].items())),
        }
        n = int(row["entries"])
    else:
        summary = f"{who} used break-glass {_times(x)}{_between(window)}, {yardstick}."
        evidence |= {"break_glass_uses": x, "allowed_entries": int(row["allowed"])}
        n = int(row["allowed"])
    evidence["entry_indices"] = sample(row["samples"].get(metric.sample))
    return Tested(
        detector=DETECTOR,
        test=metric.test,
        subject=("principal", str(row["principal"])),
        p_value=model.p_at_least(x),
        lift=lift,
        n=n,
        hits=x,
        summary=summary,
        evidence=evidence,
    )


def _peer_groups(
    rows: Sequence[dict[str, Any]], min_peers: int
) -> list[tuple[str, str, np.ndarray] | None]:
    """Each principal's peers (row numbers, itself excluded): the same roles, else the
    same organisation, else None."""
    by_roles: dict[str, list[int]] = {}
    by_organisation: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        by_roles.setdefault(r["roles_key"], []).append(i)
        by_organisation.setdefault(r["organisation"], []).append(i)
    groups: list[tuple[str, str, np.ndarray] | None] = []
    for i, r in enumerate(rows):
        found = None
        for by, key, members in (
            ("roles", r["roles_key"], by_roles[r["roles_key"]]),
            ("organisation", r["organisation"], by_organisation[r["organisation"]]),
        ):
            if len(members) - 1 >= min_peers:
                found = (by, key, np.array([j for j in members if j != i], dtype=np.int64))
                break
        groups.append(found)
    return groups


def _principals(ledger: Ledger, settings: AccessSettings) -> list[dict[str, Any]]:
    """One dict per staff principal: its latest roles and organisation, its counts, its
    denials by reason code, its break-glass uses, and evidence samples (ledger indices):
    the allowed entries that touched the most subjects, the first denials, the first entry
    of each of the first break-glass uses."""
    k = int(settings.sample_size)
    d = ledger.dialect
    glass = glass_uses(d, "recent", settings.break_glass_gap)
    size = d.length("subjects")
    # the allowed entries that touched the most subjects, the earliest first among equals
    most_subjects = d.first_sorted(
        "leaf", k, f"decision = 'allow' AND {size} > 0", by=(f"-{size}", "leaf")
    )
    rows: list[dict[str, Any]] = ledger.query(
        f"""
        WITH counts AS (
            SELECT principal,
                   {d.joined_sorted("max_by(roles, leaf)", ",")} AS roles_key,
                   max_by(roles, leaf) AS roles,
                   max_by(organisation, leaf) AS organisation,
                   count(*) AS entries,
                   count(*) FILTER (WHERE decision = 'allow') AS allowed,
                   count(*) FILTER (WHERE decision = 'deny') AS denials,
                   {most_subjects} AS s_volume,
                   {d.first_sorted("leaf", k, "decision = 'deny'")} AS s_denials
            FROM recent GROUP BY principal
        ), uses AS (
            SELECT principal, count(*) AS break_glass, {d.first_sorted("first_leaf", k)} AS s_glass
            FROM (SELECT principal, use, min(leaf) AS first_leaf FROM ({glass}) AS g
                  GROUP BY principal, use) AS u
            GROUP BY principal
        ), touched AS (
            SELECT principal, count(DISTINCT subject) AS touched
            FROM (SELECT principal, {d.explode("subjects")} AS subject
                  FROM recent WHERE decision = 'allow') AS s
            GROUP BY principal
        )
        SELECT c.*, coalesce(t.touched, 0) AS touched,
               coalesce(u.break_glass, 0) AS break_glass, u.s_glass
        FROM counts c LEFT JOIN touched t USING (principal) LEFT JOIN uses u USING (principal)
        ORDER BY principal
        """
    ).to_pylist()
    codes = _nested(
        ledger,
        """
        SELECT principal, coalesce(NULLIF(split_part(reason, ':', 1), ''), 'unknown') AS key,
               count(*) AS value
        FROM recent WHERE decision = 'deny' GROUP BY ALL
        """,
    )
    for r in rows:
        r["codes"] = codes.get(r["principal"], {})
        r["samples"] = {
            "volume": r["s_volume"],
            "denials": r["s_denials"],
            "break_glass": r["s_glass"],
        }
    return rows


def _glass(ledger: Ledger, settings: AccessSettings) -> list[dict[str, Any]]:
    """One dict per staff principal who used break-glass: its uses and their entries,
    its allowed entries, latest roles and organisation, the resources and subjects read,
    and the first entry of each of its first uses."""
    k = int(settings.sample_size)
    d = ledger.dialect
    glass = glass_uses(d, "recent", settings.break_glass_gap)
    rows: list[dict[str, Any]] = ledger.query(
        f"""
        WITH g AS ({glass}), per_use AS (
            SELECT principal, use, min(leaf) AS first_leaf FROM g GROUP BY principal, use
        ), uses AS (
            SELECT principal, count(*) AS uses, {d.first_sorted("first_leaf", k)} AS sample
            FROM per_use GROUP BY principal
        ), seen AS (
            SELECT principal, count(*) AS glass_entries FROM g GROUP BY principal
        ), lines AS (
            SELECT principal, count(DISTINCT line) AS touched
            FROM (SELECT principal, {d.explode("subjects")} AS line FROM g) AS x
            GROUP BY principal
        ), latest AS (
            SELECT principal, max_by(roles, leaf) AS roles,
                   max_by(organisation, leaf) AS organisation,
                   count(*) FILTER (WHERE decision = 'allow') AS allowed
            FROM recent {d.semi_join} uses USING (principal) GROUP BY principal
        )
        SELECT latest.*, uses.uses, uses.sample, seen.glass_entries,
               coalesce(lines.touched, 0) AS touched
        FROM latest JOIN uses USING (principal) JOIN seen USING (principal)
        LEFT JOIN lines USING (principal)
        ORDER BY principal
        """
    ).to_pylist()
    resources = _nested(
        ledger,
        """
        SELECT principal, resource AS key, count(*) AS value
        FROM recent WHERE decision = 'allow' AND break_glass GROUP BY ALL
        """,
    )
    for r in rows:
        r["resources"] = resources.get(r["principal"], {})
    return rows


def _nested(ledger: Ledger, sql: str) -> dict[str, dict[str, Any]]:
    """Rows (principal, key, value) as {principal: {key: value}}."""
    out: dict[str, dict[str, Any]] = {}
    for r in ledger.query(sql).to_pylist():
        out.setdefault(r["principal"], {})[r["key"]] = r["value"]
    return out


def _roles(row: dict[str, Any]) -> str:
    roles = sorted(row["roles"] or [])
    return ", ".join(roles) if roles else "no roles"


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n:,} times"


def _between(window: dict[str, str] | None) -> str:
    if window is None:
        return ""
    return f" between {window['from'][:10]} and {window['to'][:10]}"


__all__ = ["DETECTOR", "PeerModel", "access_tests"]
