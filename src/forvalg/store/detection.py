"""What the detectors read from the store, as Arrow tables (docs/DETECTION.md, "Inputs").

- `cps_events`: one row per CPS event the targeting and timing detectors look at, from
  the orders and their history: an order for preselection received (`ORDER_RECEIVED`,
  with the instant its customer letter was posted, at commitment), the incumbent losing
  a line's calls (`LOSS`: a PROVIDE completed) and a line moving between operators
  (`TRANSFER` completed).
- `population`: every line retail could contact: the inventory, ceased lines excepted.
- `ledger`: the ledger's entries (the tree, up to its head), one row each, for the
  access and unexplained-access detectors. A bulk decision's entry names only its
  subjects' count and digest; for staff (`user:...`) the members are filled in from the
  subject index, since what a person touched is what those detectors look at. System
  jobs' bulk reads (a whole table for a batch) keep only their count.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from forvalg.domain.orders import OrderState, OrderType
from forvalg.store.bulk import among, arrow_table
from forvalg.store.ledger import iter_entries
from forvalg.store.tables import ledger_subject_sets, lines, order_history, orders

TS = pa.timestamp("us", tz="UTC")
EVENTS = pa.schema(
    [
        ("number", pa.string()),
        ("kind", pa.string()),
        ("at", TS),
        ("order_id", pa.string()),
        ("operator_id", pa.string()),
        ("letter_posted", TS),  # ORDER_RECEIVED only: when its letter was posted, if yet
    ]
)
LEDGER = pa.schema(
    [
        ("index", pa.int64()),
        ("at", TS),
        ("principal", pa.string()),
        ("organisation", pa.string()),
        ("roles", pa.list_(pa.string())),
        ("purpose", pa.string()),
        ("work_item", pa.string()),
        ("action", pa.string()),
        ("resource", pa.string()),
        ("decision", pa.string()),
        ("reason", pa.string()),
        ("subject_count", pa.int64()),
        ("subjects", pa.list_(pa.string())),
        ("break_glass", pa.bool_()),
    ]
)
STAFF = "user:"
BREAK_GLASS = "; break-glass: "  # how the guard marks a break-glass allow's reason
# The orders whose receipt is a CPS event, and the kind their completion is.
COMPLETION = {OrderType.PROVIDE: "LOSS", OrderType.TRANSFER: "TRANSFER"}
_BATCH = 50_000


def cps_events(session: Session) -> pa.Table:
    """Every CPS event (EVENTS), by time."""
    o, h = orders.c, order_history.c
    kinds = [t.value for t in COMPLETION]

    def first(state: OrderState) -> Any:
        return (
            select(h.order_id, func.min(h.at).label("at"))
            .where(h.state == state.value)
            .group_by(h.order_id)
            .subquery()
        )

    committed, completed = first(OrderState.COMMITTED), first(OrderState.COMPLETED)
    received = (
        select(o.number, o.created_at, o.id, o.operator_id, committed.c.at)
        .outerjoin(committed, committed.c.order_id == o.id)
        .where(o.type.in_(kinds))
    )
    done = (
        select(o.number, o.type, completed.c.at, o.id, o.operator_id)
        .join(completed, completed.c.order_id == o.id)
        .where(o.type.in_(kinds))
    )
    rows: list[tuple[Any, ...]] = [
        (number, "ORDER_RECEIVED", at, order_id, operator, posted)
        for number, at, order_id, operator, posted in _rows(session, received)
    ]
    rows += [
        (number, COMPLETION[OrderType(kind)], at, order_id, operator, None)
        for number, kind, at, order_id, operator in _rows(session, done)
    ]
    rows.sort(key=lambda r: (r[2], r[3], r[1]))
    return arrow_table(rows, EVENTS)


def population(session: Session) -> pa.Array:
    """The numbers of every line not ceased, in number order."""
    query = select(lines.c.number).where(lines.c.status != "CEASED").order_by(lines.c.number)
    return pa.array([r[0] for r in _rows(session, query)], pa.string())


def ledger(session: Session, *, end: int) -> pa.Table:
    """Entries [0, end) of the tree (LEDGER), staff's bulk subjects filled in."""
    rows: list[tuple[Any, ...]] = []
    bulk: dict[str, list[int]] = {}  # digest -> the rows that need its members
    for index, text in enumerate(iter_entries(session, end=end)):
        e = json.loads(text)["event"]
        subjects = list(e.get("subjects") or ())
        digest = e.get("subjects_digest")
        if e["principal"].startswith(STAFF) and digest and e["subject_count"] > len(subjects):
            bulk.setdefault(digest, []).append(len(rows))
        reason = e.get("reason")
        rows.append(
            (
                index,
                datetime.fromisoformat(e["at"]),
                e["principal"],
                e["organisation"],
                e["roles"],
                e["purpose"],
                e.get("work_item"),
                e["action"],
                e["resource"],
                e["decision"],
                reason,
                e["subject_count"],
                subjects,
                e["decision"] == "allow" and reason is not None and BREAK_GLASS in reason,
            )
        )
    if bulk:
        members = session.execute(
            select(ledger_subject_sets.c.digest, ledger_subject_sets.c.pseudonym).where(
                among(session, ledger_subject_sets.c.digest, sorted(bulk))
            )
        )
        found: dict[str, list[str]] = {}
        for digest, pseudonym in members:
            found.setdefault(digest, []).append(pseudonym)
        for digest, at_rows in bulk.items():
            for i in at_rows:
                rows[i] = (*rows[i][:12], sorted(found.get(digest, ())), rows[i][13])
    return arrow_table(rows, LEDGER)


def _rows(session: Session, query: Select[Any]) -> Iterable[tuple[Any, ...]]:
    result = session.execute(query, execution_options={"yield_per": _BATCH})
    for part in result.partitions():
        yield from (tuple(r) for r in part)


__all__ = ["COMPLETION", "EVENTS", "LEDGER", "cps_events", "ledger", "population"]
