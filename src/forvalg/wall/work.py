"""Resolving the work item a staff request names, and the guarded work items and alerts.

An order is a work item by its own id (the order being worked); every other kind is a
row of `work_items` (fault tickets, settlement runs, inquiries, subscriber requests,
audits). Resolving one is part of making the decision, not an access of its own.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from forvalg.domain.alerts import Alert
from forvalg.domain.categories import Category
from forvalg.domain.work_items import WorkItem, WorkItemKind, is_reference
from forvalg.store import alerts as alert_store
from forvalg.store import orders as order_store
from forvalg.store import work_items as work_store
from forvalg.wall.policy import Action

if TYPE_CHECKING:
    from forvalg.wall.gateway import Guard


def resolve(session: Session, reference: str) -> WorkItem | None:
    if not is_reference(reference):
        return None
    if reference.startswith(WorkItemKind.ORDER.prefix):
        order = order_store.by_ids(session, ids=[reference], history=False).get(reference)
        if order is None:
            return None
        return WorkItem(
            id=order.id,
            kind=WorkItemKind.ORDER,
            summary=f"{order.type} order",
            opened_by=f"operator:{order.operator_id}",
            opened_at=order.created_at,
            lines=frozenset({order.number}),
            operator_id=order.operator_id,
        )
    return work_store.get_work_item(session, item_id=reference)


def new_work_item_id(kind: WorkItemKind) -> str:
    return kind.prefix + secrets.token_hex(6)


class GuardedWorkItems:
    def __init__(self, guard: Guard) -> None:
        self._g = guard

    def open(self, item: WorkItem) -> None:
        """Record a new work item; the guard was opened for that kind (`Guard.opening`)."""
        operators = [item.operator_id] if item.operator_id else []
        permit = self._g.permit(Action.WRITE, Category.WORK_ITEM)
        self._g.record(permit, item.lines, operators)
        work_store.add_work_item(self._g.session, item=item)

    def get(self) -> WorkItem:
        """The work item the request names (reading it is covered by naming it)."""
        permit = self._g.permit(Action.READ, Category.WORK_ITEM)
        item = self._g.item
        assert item is not None  # permit() refuses a staff request without one
        self._g.record(permit, item.lines)
        return item


class GuardedAlerts:
    def __init__(self, guard: Guard) -> None:
        self._g = guard

    def page(self, *, after: int | None, limit: int) -> list[Alert]:
        permit = self._g.permit(Action.READ, Category.ALERT)
        self._g.record(permit, ())
        return alert_store.alerts_page(self._g.session, after=after, limit=limit)
