"""The guarded work queue: a wholesale operator's open work items and the orders that
need a human, each listing one decision and one ledger entry.

Both listings are read under a queue work item (`WQ-…`) the staff member opened
themselves. The policy grants them only in narrow forms, which are checked here before
the store is touched: work items with an own-rows grant (`@scope("own")`: the ones this
person opened, never a colleague's tickets and their lines), and orders through the queue
view (`@view("queue")`: no number, nothing about the line). Because no line is read,
the entries name no subjects; they carry the counts and the ids of the orders listed,
so compliance can follow a listing to the order opened from it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from forvalg.domain.categories import Category
from forvalg.domain.reasons import ReasonCode
from forvalg.domain.work_queue import OpenItem, OrdersNeedingAttention, QueueWindow
from forvalg.store import work_queue as queue_store
from forvalg.wall.policy import Action, Scope, View

if TYPE_CHECKING:
    from forvalg.wall.guard import Guard, Permit


class GuardedQueue:
    def __init__(self, guard: Guard) -> None:
        self._g = guard

    def _under_my_item(self, permit: Permit) -> None:
        """The work item named must be the caller's own: a queue is personal."""
        item = self._g.item
        if item is not None and item.opened_by != self._g.principal.id:
            self._g.refuse(
                permit, ReasonCode.E_WORK_ITEM_MISMATCH, f"{item.id} was opened by someone else"
            )

    def open_items(self, *, limit: int) -> list[OpenItem]:
        """The work items the caller opened that are still open (ids, kinds, summaries,
        line counts: not the lines)."""
        permit = self._g.permit(Action.READ, Category.WORK_ITEM)
        if permit.scope is not Scope.OWN:
            self._g.refuse(permit, ReasonCode.E_FORBIDDEN, "the queue lists one's own work items")
        self._under_my_item(permit)
        found = queue_store.open_items(self._g.session, opened_by=self._g.principal.id, limit=limit)
        self._g.record(permit, (), {"open_work_items": [i.id for i in found]})
        return found

    def orders(self, window: QueueWindow) -> OrdersNeedingAttention:
        """Orders rejected within the window and orders stuck past it, in the queue view."""
        permit = self._g.permit(Action.READ, Category.ORDER)
        if permit.view is not View.QUEUE:
            self._g.refuse(
                permit, ReasonCode.E_FORBIDDEN, "orders are listed through the queue view only"
            )
        self._under_my_item(permit)
        now = self._g.wall.clock.now()
        session, limit = self._g.session, window.limit
        rejected, by_reason = queue_store.rejected(
            session, since=window.rejected_since(now), limit=limit
        )
        stuck, by_state = queue_store.stuck(session, before=window.overdue_before(now), limit=limit)
        found = OrdersNeedingAttention(rejected, stuck, by_reason, by_state)
        detail = {
            "view": View.QUEUE.value,
            "rejected": found.rejected_count,
            "stuck": found.stuck_count,
            "orders": [o.id for o in rejected + stuck],
        }
        self._g.record(permit, (), detail)
        return found
