"""/v1/orders: place, read, list and cancel an operator's own orders."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Response

from forvalg.api import cursors
from forvalg.api.deps import CurrentPrincipal, CurrentStatement, Svc
from forvalg.api.schemas import (
    CancelOtherCreate,
    OrderCreate,
    OrderList,
    OrderPublic,
    Problem,
)
from forvalg.domain.orders import Authorisation, OrderRequest, OrderState

router = APIRouter(prefix="/v1/orders", tags=["orders"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing or bad API key (E_AUTH)"},
    404: {"model": Problem, "description": "No such order of yours (E_NOT_FOUND)"},
    422: {"model": Problem, "description": "Malformed request (E_VALIDATION)"},
    429: {"model": Problem, "description": "Rate limited (E_RATE_LIMITED)"},
}
OrderId = Annotated[str, Path(max_length=32)]


def _order_links(*, number: bool) -> dict[str, Any]:
    """OpenAPI links from an answer that is an order to what a client does next with it
    (read it, cancel it, find it in the list, ask about its line); schemathesis follows
    them in its stateful tests."""
    by_id = {"order_id": "$response.body#/id"}
    links: dict[str, Any] = {
        "GetOrder": {"operationId": "get_order_v1_orders__order_id__get", "parameters": by_id},
        "CancelOrder": {
            "operationId": "cancel_order_v1_orders__order_id__cancel_post",
            "parameters": by_id,
        },
    }
    if number:
        links["ListOrdersOfTheNumber"] = {
            "operationId": "list_orders_v1_orders_get",
            "parameters": {"number": "$response.body#/number"},
        }
        links["EligibilityOfTheNumber"] = {
            "operationId": "eligibility_v1_lines__number__eligibility_get",
            "parameters": {"number": "$response.body#/number"},
        }
        links["Events"] = {"operationId": "events_v1_events_get", "parameters": {}}
    return links


def _request(body: OrderCreate) -> OrderRequest:
    if isinstance(body, CancelOtherCreate):
        return OrderRequest(
            body.type, body.number, target_order=body.target_order, reason=body.reason
        )
    auth = body.authorisation
    return OrderRequest(
        body.type,
        body.number,
        option=getattr(body, "option", None),
        postcode=body.postcode,
        authorisation=None
        if auth is None
        else Authorisation(auth.reference, auth.signed_at, auth.channel),
        requested_date=body.requested_date,
    )


@router.post(
    "",
    status_code=201,
    summary="Place an order",
    response_model=OrderPublic,
    responses=ERRORS
    | {
        201: {"description": "The order, RECEIVED", "links": _order_links(number=True)},
        409: {"model": Problem, "description": "Idempotency-Key reused"},
    },
)
def place_order(
    svc: Svc,
    operator: CurrentPrincipal,
    stated: CurrentStatement,
    response: Response,
    body: Annotated[OrderCreate, Body()],
    # Required, and so documented: schemathesis sent orders without it as the spec allowed.
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=200,
            description="Unique per order; 1-200 chars",
        ),
    ],
) -> OrderPublic:
    """A well-formed order is accepted as RECEIVED and later validated: one that breaks a
    business rule moves to REJECTED with a `reason_code`. A replay with the same
    Idempotency-Key and body returns the same order."""
    submitted = svc.desk.submit(
        operator, _request(body), idempotency_key=idempotency_key, stated=stated
    )
    if submitted.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/v1/orders/{submitted.order.id}"
    return OrderPublic.of(submitted.order)


@router.get(
    "/{order_id}", summary="Read one own order", response_model=OrderPublic, responses=ERRORS
)
def get_order(
    svc: Svc, operator: CurrentPrincipal, stated: CurrentStatement, order_id: OrderId
) -> OrderPublic:
    """Another operator's order is `404`, exactly like one that does not exist."""
    return OrderPublic.of(svc.desk.get(operator, order_id, stated))


@router.get("", summary="List own orders, newest first", response_model=OrderList, responses=ERRORS)
def list_orders(
    svc: Svc,
    operator: CurrentPrincipal,
    stated: CurrentStatement,
    state: OrderState | None = None,
    number: Annotated[str | None, Query(pattern=r"^[0-9]{8}$")] = None,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> OrderList:
    page = svc.desk.list(
        operator,
        state=state,
        number=number,
        cursor=cursors.decode(svc.cursors, "o", operator, cursor, "cursor"),
        limit=limit,
        stated=stated,
    )
    return OrderList(
        items=[OrderPublic.of(o) for o in page.items],
        next_cursor=cursors.encode(svc.cursors, "o", operator, page.next_cursor),
    )


@router.post(
    "/{order_id}/cancel",
    summary="Cancel an own order before the cut-off",
    response_model=OrderPublic,
    responses=ERRORS
    | {
        200: {"description": "The order, CANCELLED", "links": _order_links(number=False)},
        409: {"model": Problem, "description": "Past the cut-off (E_TOO_LATE)"},
    },
)
def cancel_order(
    svc: Svc, operator: CurrentPrincipal, stated: CurrentStatement, order_id: OrderId
) -> OrderPublic:
    """Allowed while the order is open and, once committed, until 12:00 Oslo time on the
    working day before the due date; later the answer is `409 E_TOO_LATE`."""
    return OrderPublic.of(svc.desk.cancel(operator, order_id, stated))
