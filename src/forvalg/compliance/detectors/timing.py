"""Timing: contacts before the customer could have told anyone, and contacts concentrated
just after order receipt.

Two tests per subject (campaign or agent), each on counted contacts (outbound, to the
population, not explained by an inbound contact; see `workspace`):

- `before_letter` — contacts to a line between the receipt of a CPS order and the
  earliest instant the neutral customer letter can arrive (`letter_earliest` in the
  events table; e.g. received + 1 working day, computed by the caller with the working
  -day calendar, so this detector stays pure). In that interval nobody outside
  wholesale can know of the order except through a leak. A significant excess is HIGH
  at least (critical when the rule says so);
- `after_receipt` — contacts within `receipt_window` (default 7 days) after an order was
  received: the cooling-off days a winback caller would aim at.

Exposure here is taken at the instant of each contact, not over line-days (the letter
interval is about a day long): a contact at `t` reaches an exposed line by chance with
probability `exposed(t) / lines`, the share of the population inside an interval at that
instant. A subject picking lines without regard to orders, at whatever times it works,
places `k` of its `n` contacts in exposed line-time with mean probability `pi`, the
average of that share over its contacts' instants. Conditioning on the instants matters:
orders arrive in office hours and letter intervals open then, and so do clean campaigns'
calls; an average over all line-time would make an honest office-hours campaign look
aimed (the demo's tenure mailing did, before this). The one-sided binomial test with
`pi` gives the p-value (conservative for the Poisson-binomial count) and the lift is
`(k / n) / pi`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from forvalg.compliance.detectors.findings import Tested
from forvalg.compliance.detectors.targeting import LABEL
from forvalg.compliance.detectors.workspace import DAY_US, Workspace, micros
from forvalg.domain.statistics import Severity, binomial_greater, rate_lift
from forvalg.engines.dialect import Dialect

DETECTOR = "timing"
# (subject label, contacts in the intervals, counted contacts, exposed share) -> a sentence
Sentence = Callable[[str, int, int, float], str]


def timing_tests(ws: Workspace) -> list[Tested]:
    ws.merged(
        "early_iv",
        "SELECT number, event_t AS s, letter AS e FROM events_in WHERE letter IS NOT NULL",
    )
    window = micros(ws.settings.receipt_window)
    ws.merged(
        "receipt_iv",
        f"SELECT number, event_t AS s, event_t + {window} AS e FROM events_in "
        "WHERE kind = 'ORDER_RECEIVED'",
    )
    days = ws.settings.receipt_window / timedelta(days=1)
    return [
        *_tests(ws, "early_iv", "before_letter", Severity.HIGH, _early_sentence),
        *_tests(
            ws,
            "receipt_iv",
            "after_receipt",
            None,
            lambda label, k, n, share: _receipt_sentence(label, k, n, share, days),
        ),
    ]


def _early_sentence(label: str, k: int, n: int, share: float) -> str:
    return (
        f"{label} made {k:,} of {n:,} outbound contacts to lines after a CPS order was "
        f"received and before the customer's letter could arrive, before the customer "
        f"could have told anyone ({share:.3%} of line-time was in such an interval; {{p}})."
    )


def _receipt_sentence(label: str, k: int, n: int, share: float, days: float) -> str:
    return (
        f"{label} made {k:,} of {n:,} outbound contacts within {days:g} days after a CPS "
        f"order was received, {(k / n) / share:.1f} times the share expected at random "
        f"({share:.2%}; {{p}})."
    )


def _tests(
    ws: Workspace,
    table: str,
    test: str,
    escalate_to: Severity | None,
    sentence: Sentence,
) -> list[Tested]:
    rows = ws.query(
        f"""
        WITH counted AS (
            SELECT c.kind, c.id, c.contact_id, c.t, iv.number IS NOT NULL AS exposed
            FROM subject_contacts c LEFT JOIN {table} iv
              ON c.number = iv.number AND c.t >= iv.s AND c.t < iv.e
            WHERE NOT c.explained
        ), at_t AS ({_exposed_at_contacts(ws.dialect, table)})
        SELECT kind, id, count(*) AS n, count(*) FILTER (WHERE exposed) AS k,
               CAST(sum(lines_exposed) AS BIGINT) AS exposed_sum,
               {ws.dialect.first_sorted("contact_id", ws.settings.sample_size, "exposed")}
                   AS sample
        FROM at_t GROUP BY kind, id
        ORDER BY kind, id
        """
    )
    if rows.num_rows == 0 or ws.lines == 0:
        return []
    out = []
    for r in rows.to_pylist():
        k, n = int(r["k"]), int(r["n"])
        # the mean exposed lines at the contacts' instants, from the exact integer sum
        # (the same on every engine), over the lines
        share = float(min(max(int(r["exposed_sum"]) / n / float(ws.lines), 0.0), 1.0))
        if share == 0.0:
            continue  # no exposed line-time in the period: nothing to test
        subject = (str(r["kind"]), str(r["id"]))
        out.append(
            Tested(
                detector=DETECTOR,
                test=test,
                subject=subject,
                p_value=binomial_greater(k, n, share),
                lift=rate_lift(hits=k, n=n, share=share),
                n=n,
                hits=k,
                summary=sentence(f"{LABEL[subject[0]]} {subject[1]}", k, n, share),
                evidence={
                    "counted_contacts": n,
                    "contacts_in_interval": k,
                    "expected_share": share,
                    "expected_contacts": share * n,
                    "lines": ws.lines,
                    "sample_contact_ids": list(r["sample"] or []),
                },
                escalate_to=escalate_to,
            )
        )
    return out


def _exposed_at_contacts(dialect: Dialect, table: str) -> str:
    """`counted`'s rows with `lines_exposed`: the exposed lines (`{table}_steps`) at each
    contact's instant, the step at the latest change point at or before it (0 before
    the first)."""
    if dialect.asof_join:
        return f"""
            SELECT c.*, coalesce(s.exposed, 0) AS lines_exposed
            FROM counted c ASOF LEFT JOIN {table}_steps s ON c.t >= s.point"""
    # Spark has no ASOF JOIN, and this look-up has no key to partition on. The steps
    # table has a point at every UTC midnight of its span (`Exposure.daily_steps`), so
    # the latest point at or before a contact lies on the contact's own day: a window
    # per day over the union of points and contacts, a point sorting before a contact at
    # the same instant (`c.t >= s.point`), carries the step forward. Contacts on days
    # outside the span find no point: 0, as before the first point and after the last
    # (where every interval has ended).
    day = dialect.div("t", DAY_US)
    return f"""
            SELECT kind, id, contact_id, exposed, coalesce(step, 0) AS lines_exposed
            FROM (
                SELECT *, last(lines, true) OVER (
                    PARTITION BY day ORDER BY t, src ROWS UNBOUNDED PRECEDING) AS step
                FROM (
                    SELECT kind, id, contact_id, exposed, t, {day} AS day, 1 AS src,
                           CAST(NULL AS BIGINT) AS lines
                    FROM counted
                    UNION ALL
                    SELECT NULL, NULL, NULL, NULL, point, {dialect.div("point", DAY_US)}, 0,
                           exposed
                    FROM {table}_steps
                ) AS u
            ) AS w
            WHERE src = 1"""
