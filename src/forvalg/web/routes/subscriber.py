"""The subscriber's own line: its preselection status and every ledger entry that touched
it (who, in which role and organisation, why, when), as `GET /v1/subscriber/line` and
`/accesses` give them. Signing in is in routes/signin.py."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from forvalg.wall.principals import UNSTATED
from forvalg.web.render import page
from forvalg.web.visitors import CurrentVisitor, SignedIn, Svc

router = APIRouter(prefix="/subscriber")


@router.get("", summary="My line and who accessed it")
def my_line(request: Request, svc: Svc, visitor: CurrentVisitor, principal: SignedIn) -> Response:
    view = svc.subscribers.line(principal, UNSTATED)
    found = svc.subscribers.accesses(principal, UNSTATED)
    touches = [
        {
            "index": t.proof.index,
            "at": t.entry.get("event", t.entry).get("at", ""),
            "event": t.entry.get("event", t.entry),
        }
        for t in found.touches
    ]
    context = {"line": view, "touches": touches, "size": found.size, "checkpoint": found.checkpoint}
    return page(request, visitor, "subscriber/line.html", context, title="My line")
