"""/v1/events: the operator's notification feed, oldest first."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from forvalg.api import cursors
from forvalg.api.deps import CurrentPrincipal, CurrentStatement, Svc
from forvalg.api.routes.orders import ERRORS
from forvalg.api.schemas import EventList

router = APIRouter(prefix="/v1/events", tags=["events"])


@router.get("", summary="Own notification feed", response_model=EventList, responses=ERRORS)
def events(
    svc: Svc,
    operator: CurrentPrincipal,
    stated: CurrentStatement,
    after: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> EventList:
    """State changes of the operator's own orders (`ORDER_STATE`) and loss notices
    (`LOSS`: line and effective date, never the gaining operator; `LOSS_CANCELLED`).
    Pass `next_cursor` back as `after` to continue."""
    position = cursors.decode(svc.cursors, "e", operator, after, "after")
    page = svc.feed.page(operator, after=position, limit=limit, stated=stated)
    items: list[dict[str, Any]] = [
        {
            "cursor": cursors.encode(svc.cursors, "e", operator, e.seq),
            "type": e.type,
            "number": e.number,
        }
        | e.payload
        for e in page.items
    ]
    return EventList(
        items=items,
        next_cursor=cursors.encode(svc.cursors, "e", operator, page.next_cursor),
    )
