"""Dependencies: the services and the signed-in operator, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from forvalg.api.signin import PRINCIPAL
from forvalg.bootstrap import Services
from forvalg.wall import Principal


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def current_principal(request: Request) -> Principal:
    """The operator or staff user `SignIn` signed in; every /v1 route has one."""
    principal: Principal = request.scope["state"][PRINCIPAL]
    return principal


Svc = Annotated[Services, Depends(services)]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
