"""/v1/work-items, /v1/staff/lines/{number}, /v1/staff/orders/{id}, /v1/compliance/alerts:
the incumbent's staff at work. Every request states `X-Forvalg-Purpose` and names the
work item in `X-Forvalg-Work-Item`; the wall checks that the data belongs to it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime

from forvalg.api import cursors
from forvalg.api.deps import CurrentPrincipal, CurrentStatement, Svc
from forvalg.api.schemas import (
    AlertList,
    AlertPublic,
    LinePublic,
    OrderPublic,
    Problem,
    RoutePublic,
    WorkItemCreate,
    WorkItemPublic,
)

router = APIRouter(tags=["staff"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing or bad credential (E_AUTH)"},
    403: {
        "model": Problem,
        "description": (
            "Denied and ledgered: E_FORBIDDEN (the policy), E_PURPOSE_REQUIRED (no purpose or "
            "work item stated), E_WORK_ITEM_MISMATCH (the work item does not cover the data)"
        ),
    },
    404: {"model": Problem, "description": "No such order (E_NOT_FOUND)"},
    422: {"model": Problem, "description": "Malformed request or header (E_VALIDATION)"},
}
Number = Annotated[str, Path(pattern=r"^[0-9]{8}$", description="8-digit national number")]
# OpenAPI links from an opened work item to reading and closing it (schemathesis follows
# them in its stateful tests).
ITEM_LINKS = {
    "GetWorkItem": {
        "operationId": "get_work_item_v1_work_items__item_id__get",
        "parameters": {"item_id": "$response.body#/id"},
    },
    "CloseWorkItem": {
        "operationId": "close_work_item_v1_work_items__item_id__close_post",
        "parameters": {"item_id": "$response.body#/id"},
    },
}


@router.post(
    "/v1/work-items",
    summary="Open a work item",
    status_code=201,
    response_model=WorkItemPublic,
    responses=ERRORS | {201: {"description": "The work item, open", "links": ITEM_LINKS}},
)
def open_work_item(
    svc: Svc, principal: CurrentPrincipal, stated: CurrentStatement, body: WorkItemCreate
) -> WorkItemPublic:
    """A fault ticket (wholesale operations: the lines at fault), a settlement run
    (wholesale billing: the operator and period), an inquiry (the regulator: period and
    deadline) or an audit (compliance, the regulator). Needs `X-Forvalg-Purpose`; the
    policy says which role opens which kind. The opening is in the ledger."""
    item = svc.work.open(
        principal,
        stated,
        body.kind,
        summary=body.summary,
        lines=body.lines,
        operator_id=body.operator,
        period=body.period,
        due_at=body.due_at,
    )
    return WorkItemPublic.of(item)


@router.get(
    "/v1/work-items/{item_id}",
    summary="Read a work item",
    response_model=WorkItemPublic,
    responses=ERRORS,
)
def get_work_item(
    svc: Svc,
    principal: CurrentPrincipal,
    stated: CurrentStatement,
    item_id: Annotated[str, Path(max_length=40)],
) -> WorkItemPublic:
    """The work item in the path is the work item named."""
    return WorkItemPublic.of(svc.work.get(principal, stated, item_id))


@router.post(
    "/v1/work-items/{item_id}/close",
    summary="Close a work item",
    response_model=WorkItemPublic,
    responses=ERRORS,
)
def close_work_item(
    svc: Svc,
    principal: CurrentPrincipal,
    stated: CurrentStatement,
    item_id: Annotated[str, Path(max_length=40)],
) -> WorkItemPublic:
    """The roles that open a kind close it (the policy's `write` on `work.item`); a closed
    work item covers no data any more. An order closes by itself when it ends."""
    return WorkItemPublic.of(svc.work.close(principal, stated, item_id))


@router.get(
    "/v1/staff/lines/{number}",
    summary="A line, as the caller's view shows it",
    response_model=LinePublic,
    responses=ERRORS,
)
def get_line(
    svc: Svc, principal: CurrentPrincipal, stated: CurrentStatement, number: Number
) -> LinePublic:
    """Wholesale operations see the line, its preselection and open order (purpose
    `fault_repair` or `provisioning`, a fault ticket or order naming the line); network
    provisioning sees number → carrier code and option only (purpose `provisioning`, a
    fault ticket). Everyone else is refused."""
    return LinePublic.of(svc.casework.line(principal, stated, number))


@router.get(
    "/v1/staff/lines/{number}/route",
    summary="Where a call from the line must go, and why",
    response_model=RoutePublic,
    responses=ERRORS,
)
def get_route(
    svc: Svc,
    principal: CurrentPrincipal,
    stated: CurrentStatement,
    number: Number,
    dialled: Annotated[
        str,
        Query(pattern=r"^[0-9]{1,32}$", description="The digits dialled, with any 15NN or 00"),
    ],
    at: Annotated[
        AwareDatetime | None, Query(description="When the call is made (default: now)")
    ] = None,
) -> RoutePublic:
    """For a fault ("my calls go to the wrong carrier"): the call's class, the carrier it
    must go to, why (`EXCLUDED`, `CSC`, `CPS`, `DEFAULT`) and the order behind a
    preselection, by the preselection valid at `at` — the rule `forvalg traffic rate`
    applies to every CDR. Wholesale operations with a fault ticket or order naming the
    line (purpose `fault_repair`); network provisioning and the subscriber see no order
    id. Everyone else is refused (billing answers a disputed call from the rated file)."""
    when = at or svc.clock.now()
    decided = svc.casework.route(principal, stated, number, dialled, when)
    return RoutePublic(
        number=number,
        dialled=dialled,
        at=when,
        call_class=decided.call_class.value,
        expected_carrier=decided.expected_carrier,
        route_reason=decided.route_reason.value,
        order_id=decided.order_id,
    )


@router.get(
    "/v1/staff/orders/{order_id}",
    summary="An order being worked",
    response_model=OrderPublic,
    responses=ERRORS,
)
def get_staff_order(
    svc: Svc,
    principal: CurrentPrincipal,
    stated: CurrentStatement,
    order_id: Annotated[str, Path(max_length=32)],
) -> OrderPublic:
    """Wholesale operations read an order with its history, for the order itself (work
    item = the order id) or a fault ticket naming its line."""
    return OrderPublic.of(svc.casework.order(principal, stated, order_id))


@router.get(
    "/v1/compliance/alerts",
    summary="Compliance alerts",
    response_model=AlertList,
    responses=ERRORS,
)
def alerts(
    svc: Svc,
    principal: CurrentPrincipal,
    stated: CurrentStatement,
    after: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AlertList:
    """Denials and break-glass accesses, oldest first (purpose `compliance_audit`, an
    audit or inquiry). Pass `next_cursor` back as `after` to continue."""
    position = cursors.decode(svc.cursors, "a", principal, after, "after")
    found = svc.alerts.page(principal, stated, after=position, limit=limit)
    return AlertList(
        items=[
            AlertPublic(
                seq=a.seq,
                at=a.at,
                kind=a.kind,
                principal=a.principal,
                purpose=a.purpose,
                work_item=a.work_item,
                category=a.category,
                reason=a.reason,
            )
            for a in found
        ],
        next_cursor=cursors.encode(
            svc.cursors, "a", principal, found[-1].seq if len(found) == limit else None
        ),
    )
