"""Sign-in and sign-out. Operators and staff paste the credential `forvalg operators add`
or `forvalg users add` printed; subscribers prove their line with a one-time code sent to
it. Either way the session cookie seals the credential (web/sessions.py). Failed
sign-ins are ledgered by the authenticator and limited per client address, as on the API.
"""

from __future__ import annotations

import math
import re
import time
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from forvalg.api.limits import RateLimiter
from forvalg.api.signin import FAILURE_BURST, FAILURES_PER_S
from forvalg.domain.subscribers import Channel
from forvalg.web.render import end_session, page, redirect, start_session
from forvalg.web.visitors import Csrf, CurrentVisitor, Svc, Visitor, seal_of

router = APIRouter()
FAILURES = RateLimiter(FAILURES_PER_S, FAILURE_BURST)
NUMBER = r"^[0-9]{8}$"


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never `//elsewhere`)."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


def _too_many(request: Request, visitor: Visitor, template: str, wait: float) -> Response:
    response = page(
        request,
        visitor,
        template,
        {"error": "Too many failed attempts from your address; wait and try again."},
        status=429,
        title="Sign in",
    )
    response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return response


@router.get("/signin", summary="Sign-in form")
def signin_form(
    request: Request,
    visitor: CurrentVisitor,
    next_path: Annotated[str | None, Query(alias="next", max_length=500)] = None,
) -> Response:
    return page(request, visitor, "signin.html", {"next": _safe_next(next_path)}, title="Sign in")


@router.post("/signin", summary="Sign in with an API key or staff token", dependencies=[Csrf])
def signin(
    request: Request,
    svc: Svc,
    visitor: CurrentVisitor,
    credential: Annotated[str, Form(max_length=200)] = "",
    next_path: Annotated[str, Form(alias="next", max_length=500)] = "/",
) -> Response:
    client = _client(request)
    if wait := FAILURES.wait(client):
        return _too_many(request, visitor, "signin.html", wait)
    token = credential.strip()
    principal = svc.authenticator.principal(token) if token else None
    if principal is None or token.startswith("fvs_"):
        if principal is None and not token:
            svc.authenticator.principal(None)  # a blank form is a failed sign-in too
        FAILURES.take(client)
        context = {"error": "Unknown or revoked key or token.", "next": _safe_next(next_path)}
        return page(request, visitor, "signin.html", context, status=401, title="Sign in")
    cookie, _ = seal_of(request).seal(token, time.time())
    response = redirect(request, visitor, _safe_next(next_path))
    start_session(request, response, cookie)
    return response


@router.post("/signout", summary="Sign out", dependencies=[Csrf])
def signout(request: Request, visitor: CurrentVisitor) -> Response:
    visitor.stale = False
    response = redirect(request, visitor, "/signin")
    end_session(response)
    return response


@router.get("/subscriber/signin", summary="Subscriber sign-in: ask for a code")
def subscriber_signin_form(request: Request, visitor: CurrentVisitor) -> Response:
    return page(request, visitor, "subscriber_signin.html", title="Your line")


@router.post("/subscriber/codes", summary="Send a one-time code to a line", dependencies=[Csrf])
def subscriber_code(
    request: Request,
    svc: Svc,
    visitor: CurrentVisitor,
    number: Annotated[str, Form(max_length=8)] = "",
    channel: Annotated[Channel, Form()] = Channel.LETTER,
) -> Response:
    """The same answer for any well-formed number: it reveals nothing about the line."""
    number = number.strip()
    if not re.fullmatch(NUMBER, number):
        context = {"error": "An 8-digit number, like 22334455.", "number": number}
        return page(
            request, visitor, "subscriber_signin.html", context, status=422, title="Your line"
        )
    client = _client(request)
    if wait := FAILURES.wait(client):
        return _too_many(request, visitor, "subscriber_signin.html", wait)
    FAILURES.take(client)
    svc.subscribers.request_code(number, channel)
    return redirect(request, visitor, f"/subscriber/code?number={quote(number)}&channel={channel}")


@router.get("/subscriber/code", summary="Subscriber sign-in: enter the code")
def subscriber_code_form(
    request: Request,
    visitor: CurrentVisitor,
    number: Annotated[str, Query(pattern=NUMBER)],
    channel: Channel = Channel.LETTER,
) -> Response:
    context = {"number": number, "channel": channel}
    return page(request, visitor, "subscriber_code.html", context, title="Your code")


@router.post("/subscriber/sessions", summary="Trade the code for a session", dependencies=[Csrf])
def subscriber_session(
    request: Request,
    svc: Svc,
    visitor: CurrentVisitor,
    number: Annotated[str, Form(pattern=NUMBER)],
    code: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    client = _client(request)
    if wait := FAILURES.wait(client):
        return _too_many(request, visitor, "subscriber_code.html", wait)
    opened = svc.subscribers.open_session(number, code.strip()) if code.strip() else None
    if opened is None:
        FAILURES.take(client)
        context = {"number": number, "error": "Wrong, expired or spent code."}
        return page(
            request, visitor, "subscriber_code.html", context, status=401, title="Your code"
        )
    cookie, _ = seal_of(request).seal(opened.token, time.time())
    response = redirect(request, visitor, "/subscriber")
    start_session(request, response, cookie)
    return response
