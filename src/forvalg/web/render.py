"""Templates: one Jinja2 environment, and `page()` which renders with the visitor's
navigation and CSRF token and keeps the session cookies right."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from forvalg.domain.inquiries import deadline_day
from forvalg.web.sessions import PRE_COOKIE, SESSION_COOKIE, SESSION_SECONDS
from forvalg.web.visitors import Visitor

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
# An inquiry's deadline as the Oslo day it ends (`due_at` is 00:00 Oslo of the next day).
TEMPLATES.env.filters["deadline_day"] = deadline_day

# The navigation of each audience: (label, URL). Pages of other helpers add theirs here.
NAV: dict[str, list[tuple[str, str]]] = {
    "operator": [
        ("Orders", "/operator/orders"),
        ("New order", "/operator/orders/new"),
        ("Events", "/operator/events"),
        ("Statements", "/operator/statements"),
    ],
    "wholesale_ops": [("Work queue", "/wholesale")],
    "subscriber": [("My line", "/subscriber")],
    "compliance_officer": [("Compliance", "/compliance"), ("Inquiries", "/compliance/inquiries")],
    "regulator": [("Regulator", "/regulator"), ("Inquiries", "/regulator/inquiries")],
}


def page(
    request: Request,
    visitor: Visitor,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    title: str = "",
) -> HTMLResponse:
    """The template rendered for the visitor."""
    values = {
        "visitor": visitor,
        "csrf": visitor.csrf,
        "nav": NAV.get(visitor.role or "", []),
        "title": title,
        "path": request.url.path,
    } | (context or {})
    response = TEMPLATES.TemplateResponse(request, template, values, status_code=status)
    keep_cookies(request, visitor, response)
    response.headers["Cache-Control"] = "no-store"
    return response


def redirect(request: Request, visitor: Visitor, url: str) -> RedirectResponse:
    """303 See Other: after a POST, the browser GETs the result (no resubmission)."""
    response = RedirectResponse(url, status_code=303)
    keep_cookies(request, visitor, response)
    return response


def keep_cookies(request: Request, visitor: Visitor, response: Response) -> None:
    secure = request.url.scheme == "https"
    if visitor.new_pre:
        response.set_cookie(
            PRE_COOKIE,
            visitor.session_id,
            httponly=True,
            samesite="strict",
            secure=secure,
            path="/",
        )
    if visitor.stale:
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")


def start_session(request: Request, response: Response, cookie: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.delete_cookie(PRE_COOKIE, path="/", httponly=True, samesite="strict")


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
