"""Honey-lines: a retail contact to a honey-line soon after its decoy order.

A honey-line (compliance/canaries.py) is an ordinary-looking line whose decoy
preselection order only wholesale and compliance can know of; its subscriber is
compliance, which reserves the line against marketing in the CRM. Nobody has a reason to
contact it, least of all in the `honey_window` (60 days) after its decoy order, when the
only thing that sets it apart is an order nobody outside wholesale should know about.

Per subject (campaign or agent), every counted outbound contact (not explained by the
line's own call to retail; see `workspace`) to a honey-line inside its window is a hit.
A subject that reached fewer than `mass_share` (half) of all lines in its period chose
whom to contact: its hits are CRITICAL, every time (a rule, not a test). A subject
reaching at least half of all lines is a mailing to the whole base, not targeting: its
hits are reported as INFO.

The finding states the chance that a clean campaign would have done the same. One that
honours the marketing reservations cannot reach a honey-line at all. One that ignored
them and picked its `m` lines at random from all `N` lines would reach at least `k` of the
`H` honey-lines in their window during its period with the hypergeometric probability
`P(X >= k)`, X ~ Hypergeometric(N, H, m): that is the `p_value` reported.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from forvalg.compliance.detectors.findings import Tested
from forvalg.compliance.detectors.targeting import LABEL
from forvalg.compliance.detectors.workspace import Workspace, micros
from forvalg.domain.statistics import Severity

DETECTOR = "honey_line"


def honey_tests(ws: Workspace) -> list[Tested]:
    window = micros(ws.settings.honey_window)
    sample = int(ws.settings.sample_size)
    d = ws.dialect
    rows = ws.query(
        f"""
        WITH reach AS (
            SELECT kind, id, count(DISTINCT number) AS lines, min(t) AS p0, max(t) AS p1
            FROM subject_contacts GROUP BY kind, id
        ), hits AS (
            SELECT s.kind, s.id, s.contact_id, s.number
            FROM subject_contacts s JOIN honey_in h
              ON s.number = h.number AND s.t >= h.t0 AND s.t < h.t0 + {window}
            WHERE NOT s.explained
        ), hit AS (
            SELECT r.kind, r.id, r.lines, r.p0, r.p1,
                   count(*) AS contacts, count(DISTINCT h.number) AS honey_hit,
                   {d.first_sorted("h.contact_id", sample)} AS sample
            FROM reach r JOIN hits h ON r.kind = h.kind AND r.id = h.id
            GROUP BY r.kind, r.id, r.lines, r.p0, r.p1
        ), honey_pop AS (
            SELECT number, t0 FROM honey_in {d.semi_join} pop USING (number)
        ), open_honey AS (
            SELECT x.kind, x.id, count(hp.number) AS in_window
            FROM hit x LEFT JOIN honey_pop hp ON hp.t0 <= x.p1 AND hp.t0 + {window} > x.p0
            GROUP BY x.kind, x.id
        )
        SELECT x.*, o.in_window
        FROM hit x JOIN open_honey o ON x.kind = o.kind AND x.id = o.id
        ORDER BY x.kind, x.id
        """
    )
    total = ws.lines
    out = []
    for r in rows.to_pylist():
        subject = (str(r["kind"]), str(r["id"]))
        m, k, h = int(r["lines"]), int(r["honey_hit"]), int(r["in_window"])
        chance = float(hypergeom().sf(k - 1, total, h, m))
        expected = m * h / total
        targeted = m < ws.settings.mass_share * total
        out.append(
            Tested(
                detector=DETECTOR,
                test="honey_contact" if targeted else "honey_mass_mailing",
                subject=subject,
                p_value=chance,
                lift=k / expected if expected else float("inf"),
                n=m,
                hits=k,
                summary=_summary(subject, k, int(r["contacts"]), m, total, h, chance, targeted),
                evidence={
                    "window_days": ws.settings.honey_window.days,
                    "honey_lines_contacted": k,
                    "contacts_to_honey_lines": int(r["contacts"]),
                    "honey_lines_in_window": h,
                    "lines_contacted": m,
                    "lines": total,
                    "targeted": targeted,
                    "chance_if_random": chance,
                    "period": {"from": _iso(r["p0"]), "to": _iso(r["p1"])},
                    "sample_contact_ids": list(r["sample"] or []),
                },
                rule=Severity.CRITICAL if targeted else Severity.INFO,
            )
        )
    return out


def _summary(
    subject: tuple[str, str],
    hit: int,
    contacts: int,
    reached: int,
    total: int,
    honey: int,
    chance: float,
    targeted: bool,
) -> str:
    who = f"{LABEL[subject[0]]} {subject[1]}"
    what = (
        f"{who} contacted {hit} honey-line(s) ({contacts} contact(s)) within their window after "
        "a decoy order that only wholesale and compliance can know of."
    )
    if not targeted:
        return (
            f"{what} It reached {reached:,} of all {total:,} lines, a mailing to the whole base, "
            "not targeting."
        )
    return (
        f"{what} A campaign honouring the CRM's marketing reservations cannot reach one; one "
        f"picking its {reached:,} lines at random from all {total:,} would reach {hit} or more "
        f"of the {honey} in their window with probability {chance:.2g}."
    )


def hypergeom() -> Any:
    """scipy's hypergeometric distribution, imported on first use: `scipy.stats` takes a
    second to import, which every `forvalg` command would pay (domain/statistics.py)."""
    from scipy.stats import hypergeom as distribution

    return distribution


def _iso(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, UTC).isoformat().replace("+00:00", "Z")
