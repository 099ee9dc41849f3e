"""Dependencies: the services, the signed-in principal and what the request states, as
`Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from forvalg.api.signin import PRINCIPAL
from forvalg.bootstrap import Services
from forvalg.wall import Principal, Purpose
from forvalg.wall.principals import Statement


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def current_principal(request: Request) -> Principal:
    """The operator or staff user `SignIn` signed in; every /v1 route has one."""
    principal: Principal = request.scope["state"][PRINCIPAL]
    return principal


Svc = Annotated[Services, Depends(services)]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def statement(
    purpose: Annotated[
        Purpose | None,
        Header(alias="X-Forvalg-Purpose", description="Why (staff and subscribers)"),
    ] = None,
    work_item: Annotated[
        str | None,
        Header(
            alias="X-Forvalg-Work-Item",
            max_length=80,
            description=(
                "The work item that needs the data: an order id, FT-…, SR-…, INQ-…, AUD-…, WQ-…"
            ),
        ),
    ] = None,
    break_glass: Annotated[
        str | None,
        Header(
            alias="X-Forvalg-Break-Glass",
            min_length=20,
            max_length=500,
            description="A written justification; alerts compliance",
        ),
    ] = None,
) -> Statement:
    """What the request states; an unknown purpose is 422 (E_VALIDATION)."""
    return Statement(purpose, work_item or None, break_glass)


CurrentStatement = Annotated[Statement, Depends(statement)]
