"""/v1/staff/queue: a wholesale operator's work queue (docs/OPERATOR-API.md), read under
their own queue work item: their open work items and the orders that need a human, in
the queue view (no number, nothing about the line)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from forvalg.api.deps import CurrentPrincipal, CurrentStatement, Svc
from forvalg.api.routes.staff import ERRORS
from forvalg.api.schemas import WorkItemPublic
from forvalg.domain.work_items import WorkItemKind
from forvalg.domain.work_queue import (
    MAX_REJECTED_DAYS,
    MAX_ROWS,
    MAX_STUCK_MINUTES,
    OpenItem,
    QueuedOrder,
    QueueWindow,
)

router = APIRouter(tags=["staff"])


class OpenItemPublic(BaseModel):
    id: str
    kind: WorkItemKind
    summary: str
    opened_at: datetime
    lines: int = Field(description="How many lines it names (not which)")

    @classmethod
    def of(cls, item: OpenItem) -> OpenItemPublic:
        return cls(
            id=item.id,
            kind=item.kind,
            summary=item.summary,
            opened_at=item.opened_at,
            lines=item.lines,
        )


class QueuedOrderPublic(BaseModel):
    """An order in the queue view: never its number."""

    id: str
    type: str
    operator: str
    state: str
    reason_code: str | None
    created_at: datetime
    updated_at: datetime
    due_date: date | None
    due_at: datetime | None = Field(description="The processing instant a stuck order waits for")
    age_s: int = Field(description="Seconds since it was rejected, or since it was due")

    @classmethod
    def of(cls, order: QueuedOrder, now: datetime) -> QueuedOrderPublic:
        return cls(
            id=order.id,
            type=order.type.value,
            operator=order.operator_id,
            state=order.state.value,
            reason_code=None if order.reason_code is None else order.reason_code.value,
            created_at=order.created_at,
            updated_at=order.updated_at,
            due_date=order.due_date,
            due_at=order.due_at,
            age_s=int(order.age(now).total_seconds()),
        )


class RejectedPublic(BaseModel):
    count: int
    by_reason: dict[str, int]
    items: list[QueuedOrderPublic]


class StuckPublic(BaseModel):
    count: int
    by_state: dict[str, int]
    items: list[QueuedOrderPublic]


class WorkQueuePublic(BaseModel):
    at: datetime
    work_item: str
    rejected_days: int
    stuck_minutes: int
    work_items: list[OpenItemPublic]
    rejected: RejectedPublic
    stuck: StuckPublic


@router.get(
    "/v1/staff/queue",
    summary="The work queue: my open work items and the orders that need a human",
    response_model=WorkQueuePublic,
    responses=ERRORS,
)
def get_queue(
    svc: Svc,
    principal: CurrentPrincipal,
    stated: CurrentStatement,
    rejected_days: Annotated[
        int, Query(ge=1, le=MAX_REJECTED_DAYS, description="Rejected within this many days")
    ] = 7,
    stuck_minutes: Annotated[
        int,
        Query(ge=0, le=MAX_STUCK_MINUTES, description="Stuck this many minutes past due"),
    ] = 5,
    limit: Annotated[int, Query(ge=1, le=MAX_ROWS, description="Rows of each list")] = 50,
) -> WorkQueuePublic:
    """Wholesale operations, purpose `provisioning`, under a queue work item they opened
    (`WQ-…`, `POST /v1/work-items` with kind `queue`): the work items they opened that are
    still open (line counts, not lines), and the orders rejected within `rejected_days`
    (with reason codes) or more than `stuck_minutes` past their processing instant,
    counted in full and the first `limit` of each listed. Orders are shown without their
    number; read one with `GET /v1/staff/orders/{id}` under the order itself. Each list is
    one ledger entry."""
    window = QueueWindow(rejected_days=rejected_days, stuck_minutes=stuck_minutes, limit=limit)
    found = svc.queue.list(principal, stated, window)
    orders = found.orders
    return WorkQueuePublic(
        at=found.at,
        work_item=found.work_item,
        rejected_days=window.rejected_days,
        stuck_minutes=window.stuck_minutes,
        work_items=[OpenItemPublic.of(i) for i in found.items],
        rejected=RejectedPublic(
            count=orders.rejected_count,
            by_reason=orders.rejected_by_reason,
            items=[QueuedOrderPublic.of(o, found.at) for o in orders.rejected],
        ),
        stuck=StuckPublic(
            count=orders.stuck_count,
            by_state=orders.stuck_by_state,
            items=[QueuedOrderPublic.of(o, found.at) for o in orders.stuck],
        ),
    )


@router.post(
    "/v1/staff/queue/orders/{order_id}/take",
    summary="Take a rejected order: open a fault ticket for its line",
    status_code=201,
    response_model=WorkItemPublic,
    responses=ERRORS,
)
def take_order(
    svc: Svc, principal: CurrentPrincipal, order_id: Annotated[str, Path(max_length=32)]
) -> WorkItemPublic:
    """A rejected order is final, so it is a closed work item and nothing is read under
    it. Wholesale operations take it from the queue: a fault ticket is opened naming the
    order's line (purpose `fault_repair`; the read of the order and the opening are in
    the ledger with the line), under which `GET /v1/staff/orders/{id}` and the line read.
    An order that is not rejected is 422 (an open order is worked under itself)."""
    return WorkItemPublic.of(svc.queue.take(principal, order_id))
