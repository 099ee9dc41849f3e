"""The CPS operator's portal: orders (list, detail with history, new, cancel), the event
feed and statements. Each page calls the service the API route calls, with the signed-in
principal: another operator's order is 404 here too."""

from __future__ import annotations

import json
import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from forvalg.api.routes.orders import _request as order_request  # the API's own mapping
from forvalg.domain.orders import CancelReason, Option, OrderState, OrderType
from forvalg.domain.settlement import InvalidPeriod
from forvalg.traffic.settlement import StatementNotFound
from forvalg.wall.principals import UNSTATED
from forvalg.web import forms
from forvalg.web.render import page, redirect
from forvalg.web.visitors import Csrf, CurrentVisitor, SignedIn, Svc

router = APIRouter(prefix="/operator")
OrderId = Annotated[str, Path(max_length=32)]
PAGE_SIZE = 25
PERIOD = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


def _cursor(svc: Svc, principal: Any, kind: str, cursor: str | None) -> int | None:
    if not cursor:
        return None
    return svc.cursors.open(kind, principal.organisation, cursor)


@router.get("/orders", summary="Own orders")
def orders(
    request: Request,
    svc: Svc,
    visitor: CurrentVisitor,
    principal: SignedIn,
    state: Annotated[OrderState | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """Newest first, filtered by state, `PAGE_SIZE` a page (the API's sealed cursors)."""
    position = _cursor(svc, principal, "o", cursor)
    found = svc.desk.list(
        principal,
        state=state,
        cursor=position,
        limit=PAGE_SIZE,
        stated=UNSTATED,
    )
    more = found.next_cursor
    context = {
        "orders": found.items,
        "state": state.value if state else "",
        "states": [s.value for s in OrderState],
        "next_cursor": None
        if more is None
        else svc.cursors.seal("o", principal.organisation, more),
        "bad_cursor": bool(cursor) and position is None,
    }
    return page(request, visitor, "operator/orders.html", context, title="Orders")


def _form_page(
    request: Request,
    visitor: CurrentVisitor,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    context = {
        "values": values,
        "errors": errors,
        "types": [t.value for t in OrderType],
        "options": [o.value for o in Option],
        "reasons": [r.value for r in CancelReason],
        "labels": forms.FIELDS,
    }
    return page(
        request, visitor, "operator/order_new.html", context, status=status, title="New order"
    )


@router.get("/orders/new", summary="New order form")
def order_form(request: Request, visitor: CurrentVisitor, _: SignedIn) -> Response:
    values = {"type": "PROVIDE", "option": "ALL", "idempotency_key": uuid.uuid4().hex}
    return _form_page(request, visitor, values, {})


@router.post("/orders", summary="Place an order", dependencies=[Csrf])
async def place(
    request: Request, svc: Svc, visitor: CurrentVisitor, principal: SignedIn
) -> Response:
    """The API's validation; errors go back next to the fields (422). The form's
    idempotency key makes a double submit one order."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    body, errors = forms.validate(forms.order_body(values))
    key = values.get("idempotency_key", "").strip()
    if not key or len(key) > 200:
        errors["type"] = errors.get("type", "the form has expired; reload it")
        values["idempotency_key"] = uuid.uuid4().hex
    if errors:
        return _form_page(request, visitor, values, errors, status=422)
    submitted = await run_in_threadpool(
        svc.desk.submit, principal, order_request(body), idempotency_key=key, stated=UNSTATED
    )
    return redirect(request, visitor, f"/operator/orders/{submitted.order.id}")


@router.get("/orders/{order_id}", summary="One own order")
def order(
    request: Request, svc: Svc, visitor: CurrentVisitor, principal: SignedIn, order_id: OrderId
) -> Response:
    found = svc.desk.get(principal, order_id, UNSTATED)
    return page(
        request, visitor, "operator/order.html", {"order": found}, title=f"Order {found.id}"
    )


@router.post("/orders/{order_id}/cancel", summary="Cancel an own order", dependencies=[Csrf])
def cancel(
    request: Request, svc: Svc, visitor: CurrentVisitor, principal: SignedIn, order_id: OrderId
) -> Response:
    svc.desk.cancel(principal, order_id, UNSTATED)
    return redirect(request, visitor, f"/operator/orders/{order_id}")


@router.get("/events", summary="Own notification feed")
def events(
    request: Request,
    svc: Svc,
    visitor: CurrentVisitor,
    principal: SignedIn,
    after: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    position = _cursor(svc, principal, "e", after)
    found = svc.feed.page(principal, after=position, limit=PAGE_SIZE, stated=UNSTATED)
    items = [{"type": e.type, "number": e.number, "payload": e.payload} for e in found.items]
    more = found.next_cursor if len(found.items) == PAGE_SIZE else None
    context = {
        "events": items,
        "next_cursor": None
        if more is None
        else svc.cursors.seal("e", principal.organisation, more),
    }
    return page(request, visitor, "operator/events.html", context, title="Events")


@router.get("/statements", summary="Own statement for a period")
def statements(
    request: Request,
    svc: Svc,
    visitor: CurrentVisitor,
    principal: SignedIn,
    period: Annotated[str | None, Query(max_length=7)] = None,
) -> Response:
    context: dict[str, Any] = {"period": period or "", "statement": None, "error": None}
    status = 200
    if period and not re.fullmatch(PERIOD, period):
        context["error"], status = "period: a month, YYYY-MM, like 2026-11", 422
    elif period:
        try:
            body = svc.statements.own(principal, period, UNSTATED)
        except InvalidPeriod as exc:
            context["error"], status = f"period: {exc}", 422
        except StatementNotFound:
            context["error"], status = f"No statement of yours for {period}.", 404
        else:
            context["statement"] = json.loads(body)
            context["raw"] = json.dumps(context["statement"], indent=2)
    return page(
        request, visitor, "operator/statements.html", context, status=status, title="Statements"
    )
