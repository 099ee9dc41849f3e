"""The front page sends each audience to its own pages; retail finds nothing."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from forvalg.web.render import page, redirect
from forvalg.web.visitors import CurrentVisitor, SignedIn

router = APIRouter()

# Where each audience starts. A role not here (retail) has nothing on this platform.
START = {
    "operator": "/operator/orders",
    "wholesale_ops": "/wholesale",
    "subscriber": "/subscriber",
    "compliance_officer": "/compliance",
    "regulator": "/regulator",
}


@router.get("/", summary="Front page")
def home(request: Request, visitor: CurrentVisitor, _: SignedIn) -> Response:
    start = START.get(visitor.role or "")
    if start is None:
        return redirect(request, visitor, "/nothing")
    return redirect(request, visitor, start)


@router.get("/nothing", summary="Nothing for this role")
def nothing(request: Request, visitor: CurrentVisitor, _: SignedIn) -> Response:
    """Retail (and any role without pages) signs in and finds nothing: not even whether a
    line has preselection."""
    return page(request, visitor, "nothing.html", {"role": visitor.role}, title="Nothing here")
