"""Targeting: does a campaign (or an agent) contact lines just after a CPS event more often
than comparable lines without one?

The unit is the line-day. Over a subject's period (the UTC days from its first to its
last outbound contact) every line of the population contributes one line-day a day; a
line-day is *exposed* when the line had a CPS event (by default: order received,
transfer, loss) on that day or in the `targeting_window` days before it. The 2×2 table:

                    contacted   not contacted
    exposed             a            b            a + b = exposed line-days
    unexposed           c            d            c + d = the other line-days

where a line-day is contacted when the subject made at least one counted (outbound,
unexplained: see `workspace`) contact to that line that day. A campaign that picks its
lines without regard to CPS events spreads its contacts over line-days alike, so `a` is
hypergeometric: Fisher's exact test (one-sided, greater) gives the p-value, and the lift
is the exposed rate over the unexposed rate, `(a / (a+b)) / (c / (c+d))`.

One SQL statement counts every subject's table (a join of the contacts to the merged
exposure intervals on the number); the exposed line-days of each period come from the
integral of the exposure step function (`Exposure`). No per-row Python: the Python loop
runs once per subject (campaign or agent), not per contact.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
import pyarrow as pa

from forvalg.compliance.detectors.findings import Tested
from forvalg.compliance.detectors.workspace import DAY_US, Workspace
from forvalg.domain.statistics import Table2x2, fisher_greater, lift

DETECTOR = "targeting"
LABEL = {"campaign_id": "Campaign", "agent_id": "Agent"}
_EPOCH = date(1970, 1, 1).toordinal()
Between = Callable[[np.ndarray, np.ndarray], np.ndarray]


def targeting_tests(ws: Workspace) -> list[Tested]:
    days = ws.settings.targeting_window.days
    kinds = ", ".join(_quoted(k) for k in ws.settings.targeting_kinds)
    d = ws.dialect
    event_day, contact_day = d.div("event_t", DAY_US), d.div("c.t", DAY_US)
    exposure = ws.merged(
        "targeting_iv",
        f"SELECT number, {event_day} AS s, {event_day} + {days} AS e "
        f"FROM events_in WHERE kind IN ({kinds})",
    )
    rows = ws.query(
        f"""
        WITH periods AS (
            SELECT kind, id, {d.div("min(t)", DAY_US)} AS p0,
                   {d.div("max(t)", DAY_US)} + 1 AS p1,
                   count(*) AS outbound, count(*) FILTER (WHERE explained) AS explained
            FROM subject_contacts GROUP BY kind, id
        ), line_days AS (
            SELECT c.kind, c.id, c.number, {contact_day} AS d,
                   bool_or(iv.number IS NOT NULL) AS exposed,
                   min(c.contact_id) AS first_id, count(*) AS contacts
            FROM subject_contacts c LEFT JOIN targeting_iv iv
              ON c.number = iv.number AND {contact_day} >= iv.s AND {contact_day} < iv.e
            WHERE NOT c.explained
            GROUP BY c.kind, c.id, c.number, {contact_day}
        ), hits AS (
            SELECT kind, id,
                   count(*) FILTER (WHERE exposed) AS a,
                   count(*) FILTER (WHERE NOT exposed) AS c,
                   CAST(coalesce(sum(contacts) FILTER (WHERE exposed), 0) AS BIGINT)
                       AS exposed_contacts,
                   {d.first_sorted("first_id", ws.settings.sample_size, "exposed")} AS sample
            FROM line_days GROUP BY kind, id
        )
        SELECT p.kind, p.id, p.p0, p.p1, p.outbound, p.explained, h.a, h.c,
               h.exposed_contacts, h.sample
        FROM periods p JOIN hits h ON p.kind = h.kind AND p.id = h.id
        ORDER BY p.kind, p.id
        """
    )
    return _tests(rows, exposure.between, ws.lines, days)


def _tests(rows: pa.Table, between: Between, lines: int, window_days: int) -> list[Tested]:
    if rows.num_rows == 0:
        return []
    p0 = rows.column("p0").to_numpy().astype(np.int64)
    p1 = rows.column("p1").to_numpy().astype(np.int64)
    exposed_days = np.rint(between(p0, p1)).astype(np.int64)
    line_days = lines * (p1 - p0)
    out = []
    for i, r in enumerate(rows.to_pylist()):
        exposed, total = int(exposed_days[i]), int(line_days[i])
        if exposed == 0 or exposed == total:
            continue  # nothing to compare: no exposed (or no unexposed) line-day
        table = Table2x2.from_margins(
            exposed=exposed, unexposed=total - exposed, exposed_hit=r["a"], unexposed_hit=r["c"]
        )
        ratio = lift(hits=table.a, units=exposed, other_hits=table.c, other_units=total - exposed)
        contacted = table.a + table.c
        subject = (str(r["kind"]), str(r["id"]))
        out.append(
            Tested(
                detector=DETECTOR,
                test="after_cps_event",
                subject=subject,
                p_value=fisher_greater(table),
                lift=ratio,
                n=contacted,
                hits=table.a,
                summary=(
                    f"{LABEL[subject[0]]} {subject[1]} contacted lines in the {window_days} "
                    f"days after a CPS event {ratio:.1f} times as often as comparable lines "
                    f"without one ({table.a:,} of {contacted:,} contacted line-days were "
                    f"exposed, {exposed / total:.2%} expected; {{p}})."
                ),
                evidence={
                    "window_days": window_days,
                    "period": {"from": _day(int(p0[i])), "to": _day(int(p1[i]) - 1)},
                    "lines": lines,
                    "line_days": total,
                    "exposed_line_days": exposed,
                    "contacted_exposed_line_days": table.a,
                    "contacted_unexposed_line_days": table.c,
                    "outbound_contacts": int(r["outbound"]),
                    "explained_by_inbound": int(r["explained"]),
                    "contacts_to_exposed_lines": int(r["exposed_contacts"]),
                    "sample_contact_ids": list(r["sample"] or []),
                },
            )
        )
    return out


def _day(number: int) -> str:
    """A UTC day number (days since 1970-01-01) as an ISO date."""
    return date.fromordinal(_EPOCH + number).isoformat()


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


__all__ = ["DETECTOR", "targeting_tests"]
