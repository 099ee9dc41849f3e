"""Wholesale operations' work queue: open a fault ticket naming the lines at fault, then
look at each line (or an order) under it. Every look states purpose and work item (the
query's `purpose` and `work_item`, the API's X-Forvalg-* headers); the wall checks the
line is on the ticket, and without a work item the page says why it shows nothing."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import Response

from forvalg.domain.work_items import WorkItemKind, kind_of
from forvalg.wall import Purpose
from forvalg.wall.principals import Statement
from forvalg.web.render import page, redirect
from forvalg.web.visitors import Csrf, CurrentVisitor, SignedIn, Stated, Svc

router = APIRouter(prefix="/wholesale")
Number = Annotated[str, Path(pattern=r"^[0-9]{8}$")]
ItemId = Annotated[str, Path(max_length=40)]
REPAIR = Statement(Purpose.FAULT_REPAIR)


@router.get("", summary="Work queue")
def queue(request: Request, visitor: CurrentVisitor, _: SignedIn) -> Response:
    return page(request, visitor, "wholesale/queue.html", {"values": {}}, title="Work queue")


@router.get("/go", summary="Continue a work item")
def go(
    request: Request,
    visitor: CurrentVisitor,
    _: SignedIn,
    item: Annotated[str, Query(max_length=40)] = "",
    purpose: Annotated[Purpose, Query()] = Purpose.FAULT_REPAIR,
) -> Response:
    """A fault ticket opens its page; an order id opens the order under itself."""
    item = item.strip()
    if kind_of(item) is WorkItemKind.ORDER:
        query = urlencode({"purpose": purpose.value, "work_item": item})
        return redirect(request, visitor, f"/wholesale/orders/{quote(item)}?{query}")
    query = urlencode({"purpose": purpose.value})
    return redirect(request, visitor, f"/wholesale/work-items/{quote(item)}?{query}")


@router.post("/tickets", summary="Open a fault ticket", dependencies=[Csrf])
def open_ticket(
    request: Request,
    svc: Svc,
    visitor: CurrentVisitor,
    principal: SignedIn,
    summary: Annotated[str, Form(max_length=2000)] = "",
    lines: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Lines as 8-digit numbers separated by spaces or commas. The opening is ledgered."""
    numbers = [n for n in re.split(r"[\s,;]+", lines) if n]
    errors = {}
    if not summary.strip():
        errors["summary"] = "required: what is wrong"
    if not numbers:
        errors["lines"] = "required: the lines at fault"
    elif bad := [n for n in numbers if not re.fullmatch(r"[0-9]{8}", n)]:
        errors["lines"] = "not an 8-digit number: " + ", ".join(bad[:5])
    elif len(numbers) > 100:
        errors["lines"] = "at most 100 lines a ticket"
    if errors:
        context = {"values": {"summary": summary, "lines": lines}, "errors": errors}
        return page(
            request, visitor, "wholesale/queue.html", context, status=422, title="Work queue"
        )
    item = svc.work.open(
        principal, REPAIR, WorkItemKind.FAULT_TICKET, summary=summary.strip(), lines=numbers
    )
    return redirect(request, visitor, f"/wholesale/work-items/{item.id}?purpose=fault_repair")


@router.get("/work-items/{item_id}", summary="A work item")
def work_item(
    request: Request,
    svc: Svc,
    visitor: CurrentVisitor,
    principal: SignedIn,
    stated: Stated,
    item_id: ItemId,
) -> Response:
    """The work item named in the path is the work item stated (as on the API)."""
    item = svc.work.get(principal, stated, item_id)
    purpose = (
        Purpose.FAULT_REPAIR if item.kind is WorkItemKind.FAULT_TICKET else Purpose.PROVISIONING
    )
    links = {
        n: f"/wholesale/lines/{n}?" + urlencode({"purpose": purpose.value, "work_item": item.id})
        for n in sorted(item.lines)
    }
    context = {"item": item, "links": links}
    return page(request, visitor, "wholesale/work_item.html", context, title=f"Work item {item.id}")


@router.post("/work-items/{item_id}/close", summary="Close a work item", dependencies=[Csrf])
def close(
    request: Request,
    svc: Svc,
    visitor: CurrentVisitor,
    principal: SignedIn,
    stated: Stated,
    item_id: ItemId,
) -> Response:
    svc.work.close(principal, stated, item_id)
    query = urlencode({"purpose": stated.purpose.value}) if stated.purpose else ""
    return redirect(request, visitor, f"/wholesale/work-items/{item_id}?{query}")


@router.get("/lines/{number}", summary="A line, under a work item")
def line(
    request: Request,
    svc: Svc,
    visitor: CurrentVisitor,
    principal: SignedIn,
    stated: Stated,
    number: Number,
) -> Response:
    view = svc.casework.line(principal, stated, number)
    context = {"line": view, "stated": stated}
    return page(request, visitor, "wholesale/line.html", context, title=f"Line {number}")


@router.get("/orders/{order_id}", summary="An order, under a work item")
def order(
    request: Request,
    svc: Svc,
    visitor: CurrentVisitor,
    principal: SignedIn,
    stated: Stated,
    order_id: Annotated[str, Path(max_length=32)],
) -> Response:
    found = svc.casework.order(principal, stated, order_id)
    context = {"order": found, "stated": stated}
    return page(request, visitor, "wholesale/order.html", context, title=f"Order {found.id}")
