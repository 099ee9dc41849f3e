"""The wholesale work queue's queries (domain/work_queue.py): a staff member's open work
items with their line counts, and the orders rejected lately or stuck.

The orders' queries select the queue view's columns only: the number, the postcode and
the customer's authorisation are never read, so they cannot leave the wall by mistake.
Decoy orders (honey-lines) are not left out: the wholesale zone cannot read which they
are, and they are made to look like any other (docs/DETECTION.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from forvalg.domain.orders import OrderState, OrderType
from forvalg.domain.reasons import ReasonCode
from forvalg.domain.work_items import WorkItemKind
from forvalg.domain.work_queue import PENDING_STATES, OpenItem, QueuedOrder
from forvalg.store.tables import REJECTED, orders, work_item_lines, work_items

_QUEUE_COLUMNS = (
    orders.c.id,
    orders.c.type,
    orders.c.operator_id,
    orders.c.state,
    orders.c.reason_code,
    orders.c.created_at,
    orders.c.updated_at,
    orders.c.due_date,
    orders.c.next_due_at,
)
_PENDING = [s.value for s in PENDING_STATES]


def open_items(session: Session, *, opened_by: str, limit: int) -> list[OpenItem]:
    """The work items `opened_by` opened that are still open, newest first, each with
    the number of lines it names (not the lines)."""
    w, wl = work_items.c, work_item_lines.c
    lines = func.count(wl.number)
    rows = session.execute(
        select(w.id, w.kind, w.summary, w.opened_at, lines)
        .select_from(work_items.outerjoin(work_item_lines, wl.work_item_id == w.id))
        .where(w.opened_by == opened_by, w.closed_at.is_(None))
        .group_by(w.id, w.kind, w.summary, w.opened_at)
        .order_by(w.opened_at.desc(), w.id)
        .limit(limit)
    ).all()
    return [OpenItem(r[0], WorkItemKind(r[1]), r[2], r[3], int(r[4])) for r in rows]


def rejected(
    session: Session, *, since: datetime, limit: int
) -> tuple[list[QueuedOrder], dict[str, int]]:
    """Orders rejected at or after `since`: the newest `limit`, and all counted by reason."""
    o = orders.c
    # The predicate as the partial index states it, not a bound parameter, so that the
    # planner can use the index whatever plan it caches.
    where = (text(REJECTED), o.updated_at >= since)
    rows = session.execute(
        select(*_QUEUE_COLUMNS)
        .where(*where)
        .order_by(o.updated_at.desc(), o.seq.desc())
        .limit(limit)
    ).all()
    counts = session.execute(
        select(o.reason_code, func.count()).where(*where).group_by(o.reason_code)
    ).all()
    return [_queued(r, pending=False) for r in rows], {r[0] or "": int(r[1]) for r in counts}


def stuck(
    session: Session, *, before: datetime, limit: int
) -> tuple[list[QueuedOrder], dict[str, int]]:
    """Pending orders whose processing instant is before `before`: the longest overdue
    `limit`, and all counted by state (the processor's queue index serves both)."""
    o = orders.c
    where = (o.next_due_at.is_not(None), o.next_due_at < before, o.state.in_(_PENDING))
    rows = session.execute(
        select(*_QUEUE_COLUMNS).where(*where).order_by(o.next_due_at, o.seq).limit(limit)
    ).all()
    counts = session.execute(select(o.state, func.count()).where(*where).group_by(o.state)).all()
    return [_queued(r, pending=True) for r in rows], {r[0]: int(r[1]) for r in counts}


def _queued(row: Any, *, pending: bool) -> QueuedOrder:
    return QueuedOrder(
        id=row.id,
        type=OrderType(row.type),
        operator_id=row.operator_id,
        state=OrderState(row.state),
        reason_code=None if row.reason_code is None else ReasonCode(row.reason_code),
        created_at=row.created_at,
        updated_at=row.updated_at,
        due_date=row.due_date,
        due_at=row.next_due_at if pending else None,
    )
