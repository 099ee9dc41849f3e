"""Wholesale operations' work queue: open a fault ticket naming the lines at fault, then
look at each line (or an order) under it. Every look states purpose and work item (the
query's `purpose` and `work_item`, the API's X-Forvalg-* headers); the wall checks the
line is on the ticket, and without a work item the page says why it shows nothing.

The queue itself (my open work items, the orders needing a human) is listed under a queue
work item (`WQ-…`) the user opens with "Work the queue"; the page remembers it in a
cookie bound to the session, so coming back to `/wholesale` lists it again."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import Response

from forvalg.domain.work_items import WorkItemKind, kind_of
from forvalg.domain.work_queue import MAX_REJECTED_DAYS, QueueWindow
from forvalg.wall import Purpose
from forvalg.wall.principals import Statement
from forvalg.web.render import page, redirect
from forvalg.web.visitors import Csrf, CurrentVisitor, SignedIn, Stated, Svc, Visitor

router = APIRouter(prefix="/wholesale")
Number = Annotated[str, Path(pattern=r"^[0-9]{8}$")]
ItemId = Annotated[str, Path(max_length=40)]
REPAIR = Statement(Purpose.FAULT_REPAIR)
WORKING = Statement(Purpose.PROVISIONING)
QUEUE_COOKIE = "forvalg_queue"  # the queue work item being worked, bound to the session


def _binding(visitor: Visitor, item: str) -> str:
    return hashlib.sha256(f"{visitor.session_id}:{item}".encode()).hexdigest()[:16]


def _remembered(request: Request, visitor: Visitor) -> str:
    """The queue work item this session works, if the cookie is this session's."""
    item, _, bound = request.cookies.get(QUEUE_COOKIE, "").partition(".")
    if kind_of(item) is WorkItemKind.QUEUE and bound == _binding(visitor, item):
        return item
    return ""


def _links(item_id: str, kind: WorkItemKind) -> str:
    purpose = Purpose.FAULT_REPAIR if kind is WorkItemKind.FAULT_TICKET else Purpose.PROVISIONING
    return f"/wholesale/work-items/{quote(item_id)}?" + urlencode({"purpose": purpose.value})


@router.get("", summary="Work queue")
def queue(
    request: Request,
    svc: Svc,
    visitor: CurrentVisitor,
    principal: SignedIn,
    work_item: Annotated[str, Query(max_length=40)] = "",
    days: Annotated[int, Query(ge=1, le=MAX_REJECTED_DAYS)] = 7,
) -> Response:
    """Without a queue work item: the forms. With one (named, or this session's): my open
    work items and the orders needing attention, read under it (the wall decides)."""
    named = work_item.strip() or _remembered(request, visitor)
    context: dict[str, object] = {"values": {}, "queue": None, "days": days}
    if named:
        stated = Statement(Purpose.PROVISIONING, named)
        found = svc.queue.list(principal, stated, QueueWindow(rejected_days=days))
        order_link = {  # an open order is worked under itself
            o.id: f"/wholesale/orders/{quote(o.id)}?"
            + urlencode({"purpose": Purpose.PROVISIONING.value, "work_item": o.id})
            for o in found.orders.stuck
        }
        item_link = {i.id: _links(i.id, i.kind) for i in found.items}
        ages = {o.id: _human(o.age(found.at)) for o in found.orders.rejected + found.orders.stuck}
        context |= {
            "queue": found,
            "order_link": order_link,
            "item_link": item_link,
            "ages": ages,
        }
    response = page(request, visitor, "wholesale/queue.html", context, title="Work queue")
    if named and named != _remembered(request, visitor):
        _remember(request, visitor, response, named)
    return response


def _human(age: timedelta) -> str:
    """An age as a person reads it: 3 d 4 h, 2 h 5 min, 12 min."""
    minutes = int(age.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {mins} min" if hours else f"{mins} min"


def _remember(request: Request, visitor: Visitor, response: Response, item: str) -> None:
    response.set_cookie(
        QUEUE_COOKIE,
        f"{item}.{_binding(visitor, item)}",
        max_age=12 * 3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/wholesale",
    )


@router.post("/queue", summary="Work the queue", dependencies=[Csrf])
def work_the_queue(
    request: Request,
    svc: Svc,
    visitor: CurrentVisitor,
    principal: SignedIn,
    summary: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Open a queue work item (ledgered) and list the queue under it."""
    item = svc.work.open(
        principal, WORKING, WorkItemKind.QUEUE, summary=summary.strip() or "order exceptions"
    )
    query = urlencode({"work_item": item.id})
    response = redirect(request, visitor, f"/wholesale?{query}")
    _remember(request, visitor, response, item.id)
    return response


@router.post("/queue/orders/{order_id}/take", summary="Take a rejected order", dependencies=[Csrf])
def take(
    request: Request,
    svc: Svc,
    visitor: CurrentVisitor,
    principal: SignedIn,
    order_id: Annotated[str, Path(max_length=32)],
) -> Response:
    """A rejected order is a closed work item: taking it opens a fault ticket naming its
    line (ledgered), and the order opens under that ticket."""
    item = svc.queue.take(principal, order_id)
    query = urlencode({"purpose": Purpose.PROVISIONING.value, "work_item": item.id})
    return redirect(request, visitor, f"/wholesale/orders/{quote(order_id)}?{query}")


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
    if kind_of(item) is WorkItemKind.QUEUE:
        return redirect(request, visitor, "/wholesale?" + urlencode({"work_item": item}))
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
    if kind_of(item_id) is WorkItemKind.QUEUE:  # the queue is no longer worked under it
        response = redirect(request, visitor, "/wholesale")
        if _remembered(request, visitor) == item_id:
            response.delete_cookie(
                QUEUE_COOKIE, path="/wholesale", httponly=True, samesite="strict"
            )
        return response
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
