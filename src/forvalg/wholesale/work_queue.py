"""The wholesale work queue (`/wholesale`, `GET /v1/staff/queue`): what needs a human.

A wholesale operator opens a queue work item (`WQ-…`, purpose `provisioning`) and lists,
under it, the work items they opened that are still open and the orders rejected lately
or stuck, in the queue view (domain/work_queue.py). One unit of work, two decisions, two
ledger entries; a denied listing shows nothing.

A rejected order is final, so it is a closed work item: nobody reads it under itself. To
help its operator, the operator takes it (`take`): a fault ticket is opened naming the
order's line, and the order is then read under that ticket like any other.
"""

from __future__ import annotations

from forvalg.domain.orders import OrderState
from forvalg.domain.work_items import InvalidWorkItem, WorkItem, WorkItemKind, new_work_item
from forvalg.domain.work_queue import QueueWindow, WorkQueue
from forvalg.wall import Principal, Purpose, Wall
from forvalg.wall.principals import Statement
from forvalg.wall.work import new_work_item_id
from forvalg.wholesale.orders import OrderNotFound


class WorkQueueDesk:
    def __init__(self, wall: Wall) -> None:
        self._wall = wall

    def list(
        self, principal: Principal, stated: Statement, window: QueueWindow | None = None
    ) -> WorkQueue:
        """The caller's queue under the queue work item stated; `AccessDenied` if the
        policy or the work item does not allow it (nothing is read then)."""
        window = window or QueueWindow()
        with self._wall.access_for(principal, stated, Purpose.PROVISIONING) as guard:
            items = guard.queue.open_items(limit=window.limit)
            orders = guard.queue.orders(window)
            at = guard.wall.clock.now()
        return WorkQueue(at, stated.work_item or "", window, items, orders)

    def take(self, principal: Principal, order_id: str) -> WorkItem:
        """Open a fault ticket for the rejected order `order_id`, naming its line. Reading
        the order to learn the line is part of opening the ticket (purpose `fault_repair`,
        ledgered with the line, as the opening is). `OrderNotFound` if there is no such
        order; `InvalidWorkItem` if it is not rejected (an open order is worked under
        itself)."""
        clock = self._wall.clock
        item_id = new_work_item_id(WorkItemKind.FAULT_TICKET)
        item: WorkItem | None = None
        with self._wall.access(
            principal, Purpose.FAULT_REPAIR, item_id, opening=WorkItemKind.FAULT_TICKET
        ) as guard:
            order = guard.orders.get(order_id)
            if order is not None and order.state is OrderState.REJECTED:
                reason = order.reason_code.value if order.reason_code else "no reason code"
                summary = f"{order.type.value} order {order.id} rejected {reason}"
                item = new_work_item(
                    item_id,
                    WorkItemKind.FAULT_TICKET,
                    summary=summary + ": help the operator",
                    opened_by=principal.id,
                    opened_at=clock.now(),
                    lines=[order.number],
                )
                guard.work_items.open(item)
        if order is None:
            raise OrderNotFound(order_id)
        if item is None:
            raise InvalidWorkItem(
                "order", f"{order_id} is {order.state.value}: work an open order under itself"
            )
        return item
