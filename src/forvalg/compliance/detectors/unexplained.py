"""Unexplained access: allowed staff accesses that no work item explains (issue 6).

The wall lets a staff member touch data only under a work item that covers it, and
ledgers every decision. This detector checks the ledger against the work items again,
independently of the wall: an allowed entry the work items do not explain means the
wall was bypassed or has a bug, so it is a finding by rule (a fact, not a test).

An allowed staff entry (`user:...`) is explained when the work item it names

1. exists (`unknown_work_item`; naming none is `no_work_item`),
2. was open at the entry's instant, `opened_at <= at <= closed_at` (the entry that
   closes an item is ledgered at the instant it closes) (`work_item_not_open`),
3. for the kinds bound to lines (order, fault ticket, subscriber request) names every
   subject the entry touched (`lines_not_on_work_item`),
4. fits the purpose stated: the pairs of `PURPOSES`, read from the policy
   (`purpose_mismatch`).

The first failing check is the entry's reason. Writing retail contacts (data flowing in,
giving nothing back) needs no work item and is explained.

A **break-glass** allow skips the work-item check by design. One request reads several
categories, an entry each, so break-glass is judged per *use* (`ledger_input.
glass_uses`: a principal's break-glass allows with the same justification, each within
`break_glass_gap` of the one before). A use is explained when a *follow-up* covers it:
a fault ticket or order naming every line the use touched, opened by anyone no later
than `follow_up_window` (24 h) after the use began and not closed before it. A use that
touched no line is explained by a fault ticket or order the principal itself opened in
that time.

One result per staff principal with unexplained entries (`unexplained_tests`), decided
by rule (`Tested.rule`: a fact, outside the run's Benjamini–Hochberg adjustment): HIGH
when any of them is an ordinary allow (the wall should have refused it), else MEDIUM for
unexplained break-glass, HIGH from `break_glass_repeat` (3) of them.

All joins are SQL in the run's engine (an entry's subjects against its work item's
lines; a break-glass's lines joined to the lines of every ticket and order); Python loops
once per principal.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from forvalg.compliance.detectors.findings import Tested
from forvalg.compliance.detectors.ledger_input import (
    AccessSettings,
    Ledger,
    glass_uses,
    iso,
    rule_tested,
    sample,
)
from forvalg.compliance.detectors.workspace import micros
from forvalg.domain.statistics import Severity
from forvalg.domain.work_items import LINE_BOUND, WorkItemKind

DETECTOR = "unexplained_access"
# The purposes a staff member may state with each kind of work item: the pairs the
# policy's staff permits allow (src/forvalg/wall/policies/forvalg.cedar). Wholesale
# operations work orders and fault tickets for provisioning or fault repair (network
# provisioning: provisioning under a fault ticket); billing settles under a settlement
# run; compliance audits and the regulator inspects under an audit or an inquiry; a
# subscriber's request is worked for the subscriber; wholesale operations list their work
# queue under a queue item for provisioning.
PURPOSES: dict[WorkItemKind, frozenset[str]] = {
    WorkItemKind.ORDER: frozenset({"provisioning", "fault_repair"}),
    WorkItemKind.FAULT_TICKET: frozenset({"provisioning", "fault_repair"}),
    WorkItemKind.SETTLEMENT_RUN: frozenset({"settlement"}),
    WorkItemKind.INQUIRY: frozenset({"compliance_audit", "regulatory_inspection"}),
    WorkItemKind.AUDIT: frozenset({"compliance_audit", "regulatory_inspection"}),
    WorkItemKind.SUBSCRIBER_REQUEST: frozenset({"subscriber_request"}),
    WorkItemKind.QUEUE: frozenset({"provisioning"}),
}
# Accesses that need no work item: data flowing in that gives nothing back
# (forvalg.wall.guard.INFLOW).
INFLOW = (("write", "retail.contact"),)
# What explains a break-glass afterwards: a ticket (or order) naming the lines.
FOLLOW_UP = (WorkItemKind.FAULT_TICKET, WorkItemKind.ORDER)
REASONS = {
    "no_work_item": "naming no work item",
    "unknown_work_item": "naming a work item that does not exist",
    "work_item_not_open": "while the work item was not open",
    "lines_not_on_work_item": "touching lines not on the work item",
    "purpose_mismatch": "for a purpose that does not fit the work item",
}
BREAK_GLASS = "break_glass_without_follow_up"


def unexplained_tests(
    entries: pa.Table | Ledger,
    items: pa.Table | None = None,
    settings: AccessSettings | None = None,
) -> list[Tested]:
    """One rule-decided result per staff principal with allowed entries that no work
    item explains (`entries`: `ledger_input.ENTRY_SCHEMA`, `items`: `ledger_input.
    WORK_ITEM_SCHEMA`; or a `Ledger` built from both)."""
    settings = settings or AccessSettings()
    if isinstance(entries, Ledger):
        ledger = entries
    elif items is None:
        raise ValueError("the work items are needed to explain the entries")
    else:
        ledger = Ledger(entries, items)
    if not ledger.has_items:
        raise ValueError("the ledger was built without work items")
    _explain(ledger, settings)
    window = ledger.window()
    return [_tested(r, window, settings) for r in _per_principal(ledger, settings)]


def _explain(ledger: Ledger, settings: AccessSettings) -> None:
    """Tables `glass` (the break-glass allows with their use) and `unexplained` (leaf, t,
    principal, work_item, break_glass, use, why): every unexplained entry, those of a
    break-glass use with its use."""
    d = ledger.dialect
    ledger.engine.register(
        "fits",
        pa.table(
            {
                "kind": [k.value for k, ps in PURPOSES.items() for _ in ps],
                "purpose": [p for ps in PURPOSES.values() for p in sorted(ps)],
            }
        ),
    )
    inflow = _inflow()
    bound = ", ".join(f"'{k.value}'" for k in sorted(LINE_BOUND))
    follow = ", ".join(f"'{k.value}'" for k in FOLLOW_UP)
    window = micros(settings.follow_up_window)
    plain = f"""
        WITH plain AS (
            SELECT e.leaf, e.t, e.principal, e.work_item, e.subjects,
                   i.id IS NOT NULL AS known, i.kind, i.opened, i.closed, i.lines,
                   f.kind IS NOT NULL AS fits
            FROM entries e
            LEFT JOIN items i ON i.id = e.work_item
            LEFT JOIN fits f ON f.kind = i.kind AND f.purpose = e.purpose
            WHERE e.decision = 'allow' AND NOT e.break_glass AND NOT ({inflow})
        ), judged AS (
            SELECT leaf, t, principal, work_item, false AS break_glass,
                   CAST(NULL AS {d.text}) AS use,
                   CASE
                       WHEN work_item IS NULL THEN 'no_work_item'
                       WHEN NOT known THEN 'unknown_work_item'
                       WHEN t < opened OR coalesce(t > closed, false) THEN 'work_item_not_open'
                       WHEN kind IN ({bound}) AND NOT {d.has_all("lines", "subjects")}
                           THEN 'lines_not_on_work_item'
                       WHEN NOT fits THEN 'purpose_mismatch'
                   END AS why
            FROM plain
        )
        SELECT * FROM judged WHERE why IS NOT NULL
    """
    # Break-glass allows are few. One request reads several categories, an entry each: a
    # use (`ledger_input.glass_uses`) is explained by a ticket or order naming every line
    # the use touched (a join on the lines of the tickets and orders that could follow).
    ledger.create(
        "glass",
        f"""
        SELECT leaf, t, principal, work_item, subjects, use
        FROM ({glass_uses(d, "entries", settings.break_glass_gap)}) AS g WHERE NOT {inflow}
        """,
    )
    if not ledger.count("glass"):
        ledger.create("unexplained", plain)
        return
    ledger.create(
        "unexplained",
        f"""
        {plain}
        UNION ALL
        SELECT * FROM (
        WITH uses AS (
            SELECT principal, use, min(t) AS t0 FROM glass GROUP BY principal, use
        ), use_lines AS (
            SELECT DISTINCT principal, use, t0, line FROM (
                SELECT g.principal, g.use, u.t0, {d.explode("g.subjects")} AS line
                FROM glass g JOIN uses u ON u.principal = g.principal AND u.use = g.use
            ) AS x
        ), needed AS (
            SELECT principal, use, count(*) AS lines FROM use_lines GROUP BY principal, use
        ), follow AS (
            SELECT id, opened, closed, opened_by, lines FROM items
            WHERE kind IN ({follow})
              AND opened <= (SELECT max(t0) FROM uses) + {window}
              AND coalesce(closed >= (SELECT min(t0) FROM uses), true)
        ), follow_lines AS (
            SELECT id, opened, closed, {d.explode("lines")} AS line FROM follow
        ), candidates AS (
            SELECT u.principal, u.use, l.id, count(DISTINCT u.line) AS covered
            FROM use_lines u JOIN follow_lines l ON l.line = u.line
            WHERE l.opened <= u.t0 + {window} AND coalesce(l.closed >= u.t0, true)
            GROUP BY u.principal, u.use, l.id
        ), followed AS (
            SELECT c.principal, c.use FROM candidates c JOIN needed n USING (principal, use)
            WHERE c.covered = n.lines
            UNION
            SELECT u.principal, u.use FROM uses u
            {d.anti_join} needed n ON n.principal = u.principal AND n.use = u.use
            JOIN follow i ON i.opened_by = u.principal
            WHERE i.opened <= u.t0 + {window} AND coalesce(i.closed >= u.t0, true)
        )
        SELECT g.leaf, g.t, g.principal, g.work_item, true, g.use, '{BREAK_GLASS}'
        FROM glass g {d.anti_join} followed f ON f.principal = g.principal AND f.use = g.use
        ) AS unfollowed
        """,
    )


def _inflow() -> str:
    """SQL: the entry is data flowing in (needs no work item)."""
    return "(" + " OR ".join(f"(action = '{a}' AND resource = '{r}')" for a, r in INFLOW) + ")"


def _per_principal(ledger: Ledger, settings: AccessSettings) -> list[dict[str, Any]]:
    k = int(settings.sample_size)
    d = ledger.dialect
    rows: list[dict[str, Any]] = ledger.query(
        f"""
        WITH allowed AS (
            SELECT principal, max_by(roles, leaf) AS roles,
                   count(*) FILTER (WHERE decision = 'allow' AND NOT {_inflow()}) AS checked
            FROM entries {d.semi_join} unexplained USING (principal) GROUP BY principal
        ), glass_uses AS (
            SELECT principal, count(DISTINCT use) AS glass FROM glass GROUP BY principal
        ), counted AS (
            SELECT principal, count(*) FILTER (WHERE NOT break_glass) AS plain,
                   count(DISTINCT use) FILTER (WHERE break_glass) AS unfollowed,
                   count(*) FILTER (WHERE break_glass) AS unfollowed_entries
            FROM unexplained GROUP BY principal
        )
        SELECT c.*, a.roles, a.checked, coalesce(g.glass, 0) AS glass
        FROM counted c JOIN allowed a USING (principal) LEFT JOIN glass_uses g USING (principal)
        ORDER BY principal
        """
    ).to_pylist()
    reasons = _grouped(
        ledger,
        "SELECT principal, why AS key, count(*) AS value FROM unexplained GROUP BY ALL",
    )
    samples = {
        r["principal"]: r["value"]
        for r in ledger.query(
            f"""
            SELECT principal, {d.first_sorted("leaf", k)} AS value FROM (
                SELECT principal, leaf, row_number() OVER (
                    PARTITION BY principal ORDER BY break_glass, leaf) AS nth
                FROM unexplained
            ) AS u WHERE nth <= {k} GROUP BY principal
            """
        ).to_pylist()
    }
    items = ledger.query(
        f"""
        SELECT principal, work_item, kind, opened, closed, reasons FROM (
            SELECT u.principal, u.work_item, i.kind, i.opened, i.closed,
                   {d.sorted_set("u.why")} AS reasons,
                   row_number() OVER (
                       PARTITION BY u.principal ORDER BY count(*) DESC, u.work_item) AS nth
            FROM unexplained u LEFT JOIN items i ON i.id = u.work_item
            WHERE u.work_item IS NOT NULL
            GROUP BY u.principal, u.work_item, i.kind, i.opened, i.closed
        ) AS w WHERE nth <= {k} ORDER BY principal, nth
        """
    ).to_pylist()
    by_principal: dict[str, list[dict[str, object]]] = {}
    for it in items:
        by_principal.setdefault(it["principal"], []).append(
            {
                "id": it["work_item"],
                "kind": it["kind"],
                "opened_at": None if it["opened"] is None else iso(it["opened"]),
                "closed_at": None if it["closed"] is None else iso(it["closed"]),
                "reasons": list(it["reasons"]),
            }
        )
    for r in rows:
        r["reasons"] = reasons.get(r["principal"], {})
        r["samples"] = samples.get(r["principal"], [])
        r["work_items"] = by_principal.get(r["principal"], [])
    return rows


def _grouped(ledger: Ledger, sql: str) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for r in ledger.query(sql).to_pylist():
        out.setdefault(r["principal"], {})[r["key"]] = int(r["value"])
    return out


def _tested(row: dict[str, Any], window: dict[str, str] | None, settings: AccessSettings) -> Tested:
    plain, unfollowed = int(row["plain"]), int(row["unfollowed"])
    repeated = unfollowed >= settings.break_glass_repeat
    level = Severity.HIGH if plain or repeated else Severity.MEDIUM
    roles = ", ".join(sorted(row["roles"] or [])) or "no roles"
    period = "" if window is None else f" between {window['from'][:10]} and {window['to'][:10]}"
    parts = []
    if plain:
        why = "; ".join(
            f"{n:,} {REASONS[key]}" for key, n in sorted(row["reasons"].items()) if key in REASONS
        )
        decisions = "an allowed decision" if plain == 1 else f"{plain:,} allowed decisions"
        parts.append(
            f"has {decisions} that no work item explains ({why}), which the wall should "
            "have refused"
        )
    if unfollowed:
        hours = settings.follow_up_window.total_seconds() / 3600
        parts.append(
            f"used break-glass {_times(unfollowed)} without a follow-up ticket naming the "
            f"lines within {hours:g} hours"
        )
    who = f"Staff member {row['principal']} ({roles})"
    return rule_tested(
        detector=DETECTOR,
        test="unexplained",
        principal=row["principal"],
        severity=level,
        summary=f"{who}{period} {' and '.join(parts)}.",
        n=int(row["checked"]),
        hits=plain + unfollowed,
        evidence={
            "window": window,
            "roles": list(row["roles"] or []),
            "allowed_entries": int(row["checked"]),
            "unexplained": plain,
            "break_glass_uses": int(row["glass"]),
            "break_glass_unexplained": unfollowed,
            "break_glass_unexplained_entries": int(row["unfollowed_entries"]),
            "by_reason": dict(sorted(row["reasons"].items())),
            "follow_up_hours": settings.follow_up_window.total_seconds() / 3600,
            "entry_indices": sample(row["samples"]),
            "work_items": row["work_items"],
        },
    )


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n:,} times"


__all__ = ["DETECTOR", "PURPOSES", "unexplained_tests"]
