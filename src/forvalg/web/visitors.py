"""Who is looking at the page: the session cookie opened and its credential re-checked.

Every page depends on `visitor` (or `signed_in`); the principal it yields is the one the
API would have from the same credential, and the pages hand it to the same services, so
the wall decides for a page exactly as for the API.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Query, Request

from forvalg.bootstrap import Services
from forvalg.wall import Principal, Purpose
from forvalg.wall.principals import PrincipalKind, Statement
from forvalg.web.sessions import PRE_COOKIE, SESSION_COOKIE, SessionSeal, new_pre_session


class NotSignedIn(Exception):
    """The page needs a signed-in user; the handler redirects to the sign-in form."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class CsrfRefused(Exception):
    """A form came without the token of this session."""


@dataclass
class Visitor:
    principal: Principal | None
    session_id: str  # the session's id, or the pre-session's before sign-in
    csrf: str
    new_pre: bool = False  # a pre-session cookie must be set with the response
    stale: bool = False  # the session cookie no longer signs anyone in: delete it

    @property
    def role(self) -> str | None:
        """The audience: `operator`, `subscriber`, or the staff role."""
        if self.principal is None:
            return None
        if self.principal.kind is PrincipalKind.OPERATOR:
            return "operator"
        if self.principal.kind is PrincipalKind.SUBSCRIBER:
            return "subscriber"
        return next(iter(sorted(self.principal.roles)), None)


def services_of(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def seal_of(request: Request) -> SessionSeal:
    found: SessionSeal = request.app.state.seal
    return found


def visitor(request: Request) -> Visitor:
    """Opens the session cookie and asks the authenticator again (a revoked credential
    is a signed-out visitor, and a ledgered failed sign-in, as on the API)."""
    cached: Visitor | None = getattr(request.state, "visitor", None)
    if cached is not None:
        return cached
    seal = seal_of(request)
    opened = seal.open(request.cookies.get(SESSION_COOKIE), time.time())
    principal = None
    if opened is not None:
        principal = services_of(request).authenticator.principal(opened.credential)
    if opened is not None and principal is not None:
        found = Visitor(principal, opened.session_id, seal.csrf_token(opened.session_id))
    else:
        pre = request.cookies.get(PRE_COOKIE)
        fresh = not pre or len(pre) > 64
        pre_id = new_pre_session() if fresh or pre is None else pre
        found = Visitor(None, pre_id, seal.csrf_token(pre_id), new_pre=fresh)
        found.stale = SESSION_COOKIE in request.cookies
    request.state.visitor = found
    return found


def signed_in(request: Request, found: Annotated[Visitor, Depends(visitor)]) -> Principal:
    if found.principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise NotSignedIn(quote(target, safe="/?=&"))
    return found.principal


async def check_csrf(request: Request, found: Annotated[Visitor, Depends(visitor)]) -> None:
    """Every POST form carries `csrf`, the token of this (pre-)session."""
    form = await request.form()
    token = form.get("csrf")
    if not seal_of(request).csrf_ok(found.session_id, token if isinstance(token, str) else None):
        raise CsrfRefused()


def stated(
    purpose: Annotated[Purpose | None, Query(description="Why (staff)")] = None,
    work_item: Annotated[str | None, Query(max_length=80)] = None,
) -> Statement:
    """What a staff page states: the "working on" form's purpose and work item."""
    return Statement(purpose, (work_item or "").strip() or None)


Svc = Annotated[Services, Depends(services_of)]
CurrentVisitor = Annotated[Visitor, Depends(visitor)]
SignedIn = Annotated[Principal, Depends(signed_in)]
Stated = Annotated[Statement, Depends(stated)]
Csrf = Depends(check_csrf)
