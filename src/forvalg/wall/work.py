"""Resolving the work item a staff request names, and the guarded work items and alerts.

An order is a work item by its own id (the order being worked); every other kind is a
row of `work_items` (fault tickets, settlement runs, inquiries, subscriber requests,
audits). Resolving one is part of making the decision, not an access of its own.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from forvalg.domain.alerts import Alert
from forvalg.domain.categories import Category
from forvalg.domain.orders import FINAL_STATES
from forvalg.domain.reasons import ReasonCode
from forvalg.domain.work_items import WorkItem, WorkItemKind, kind_of
from forvalg.store import alerts as alert_store
from forvalg.store import orders as order_store
from forvalg.store import work_items as work_store
from forvalg.wall.policy import Action, Scope
from forvalg.wall.principals import PrincipalKind

if TYPE_CHECKING:
    from forvalg.wall.guard import Guard, Permit


def resolve(session: Session, reference: str) -> WorkItem | None:
    """The work item `reference` names, or None. An order is worked until it ends: once
    completed, rejected or cancelled it is a closed work item (a later fault on the line
    is a fault ticket)."""
    kind = kind_of(reference)
    if kind is None:
        return None
    if kind is WorkItemKind.ORDER:
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
            closed_at=(order.updated_at or order.created_at)
            if order.state in FINAL_STATES
            else None,
        )
    item = work_store.get_work_item(session, item_id=reference)
    return item if item is not None and item.kind is kind else None


def new_work_item_id(kind: WorkItemKind) -> str:
    return kind.prefix + secrets.token_hex(6)


class GuardedWorkItems:
    def __init__(self, guard: Guard) -> None:
        self._g = guard

    def open(self, item: WorkItem, detail: dict[str, Any] | None = None) -> None:
        """Record a new work item; the guard was opened for that kind (`Guard.opening`).
        `detail` goes into the entry (a system job names the person it acts for)."""
        permit = self._g.permit(Action.WRITE, Category.WORK_ITEM)
        self._g.record(permit, item.lines, detail)
        work_store.add_work_item(self._g.session, item=item)

    def get(self, item_id: str) -> WorkItem:
        """Work item `item_id`, which must be the one this unit of work names (reading it
        is covered by naming it)."""
        permit = self._g.permit(Action.READ, Category.WORK_ITEM)
        item = self._g.item
        if item is None or item.id != item_id:
            self._g.refuse(permit, ReasonCode.E_WORK_ITEM_MISMATCH, f"{item_id} is not named")
        self._not_theirs(permit, item)
        self._g.record(permit, item.lines)
        return item

    def close(self, item_id: str) -> WorkItem:
        """Close the work item named: from now on it covers no data."""
        permit = self._g.permit(Action.WRITE, Category.WORK_ITEM)
        item = self._g.item
        if item is None or item.id != item_id or item.kind is WorkItemKind.ORDER:
            self._g.refuse(permit, ReasonCode.E_WORK_ITEM_MISMATCH, f"{item_id} is not named")
        self._not_theirs(permit, item)
        self._g.record(permit, item.lines)
        now = self._g.wall.clock.now()
        work_store.close_work_item(self._g.session, item_id=item_id, at=now)
        return replace(item, closed_at=now)

    def _not_theirs(self, permit: Permit, item: WorkItem) -> None:
        """With an own-rows grant a staff member's work items are the ones they opened (a
        wholesale operator's queue item). A subscriber's own request is opened for it by
        the subscriber desk: what makes it theirs is the line, checked at sign-in."""
        principal = self._g.principal
        if (
            permit.scope is Scope.OWN
            and principal.kind is PrincipalKind.STAFF
            and item.opened_by != principal.id
        ):
            self._g.refuse(
                permit, ReasonCode.E_WORK_ITEM_MISMATCH, f"{item.id} was opened by someone else"
            )

    def inquiries(self, *, period: str, start: datetime, end: datetime) -> list[WorkItem]:
        """The regulator's inquiries about `period` or open during [start, end) (for the
        compliance report: question, deadline, state; not their lines)."""
        permit = self._g.permit(Action.READ, Category.WORK_ITEM)
        if permit.scope is not Scope.ALL:
            self._g.refuse(permit, ReasonCode.E_FORBIDDEN, "inquiries are nobody's own rows")
        found = work_store.inquiries(self._g.session, period=period, start=start, end=end)
        self._g.record(permit, (), {"inquiries": len(found)})
        return found


class GuardedAlerts:
    def __init__(self, guard: Guard) -> None:
        self._g = guard

    def page(self, *, after: int | None, limit: int) -> list[Alert]:
        permit = self._g.permit(Action.READ, Category.ALERT)
        self._g.record(permit, ())
        return alert_store.alerts_page(self._g.session, after=after, limit=limit)
