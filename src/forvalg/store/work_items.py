"""Work items (fault tickets, settlement runs, inquiries, subscriber requests, audits)
and their lines."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from forvalg.domain.work_items import WorkItem, WorkItemKind
from forvalg.store.tables import work_item_lines, work_items


def add_work_item(session: Session, *, item: WorkItem) -> None:
    session.execute(
        insert(work_items).values(
            id=item.id,
            kind=item.kind.value,
            operator_id=item.operator_id,
            period=item.period,
            summary=item.summary,
            opened_by=item.opened_by,
            opened_at=item.opened_at,
            due_at=item.due_at,
            closed_at=item.closed_at,
        )
    )
    if item.lines:
        session.execute(
            insert(work_item_lines),
            [{"work_item_id": item.id, "number": n} for n in sorted(item.lines)],
        )


def get_work_item(session: Session, *, item_id: str) -> WorkItem | None:
    row = session.execute(select(work_items).where(work_items.c.id == item_id)).first()
    if row is None:
        return None
    lines = session.scalars(
        select(work_item_lines.c.number).where(work_item_lines.c.work_item_id == item_id)
    )
    return WorkItem(
        id=row.id,
        kind=WorkItemKind(row.kind),
        summary=row.summary,
        opened_by=row.opened_by,
        opened_at=row.opened_at,
        lines=frozenset(lines),
        operator_id=row.operator_id,
        period=row.period,
        due_at=row.due_at,
        closed_at=row.closed_at,
    )


def close_work_item(session: Session, *, item_id: str, at: datetime) -> None:
    session.execute(
        update(work_items)
        .where(work_items.c.id == item_id, work_items.c.closed_at.is_(None))
        .values(closed_at=at)
    )


def inquiries(session: Session, *, period: str, start: datetime, end: datetime) -> list[WorkItem]:
    """The regulator's inquiries about `period` or open at some time in [start, end),
    by deadline (the compliance report's list; their lines are not read)."""
    w = work_items.c
    live = (w.opened_at < end) & (w.closed_at.is_(None) | (w.closed_at >= start))
    rows = session.execute(
        select(work_items)
        .where(w.kind == WorkItemKind.INQUIRY.value, (w.period == period) | live)
        .order_by(w.due_at, w.opened_at, w.id)
    )
    return [
        WorkItem(
            id=row.id,
            kind=WorkItemKind(row.kind),
            summary=row.summary,
            opened_by=row.opened_by,
            opened_at=row.opened_at,
            operator_id=row.operator_id,
            period=row.period,
            due_at=row.due_at,
            closed_at=row.closed_at,
        )
        for row in rows
    ]
