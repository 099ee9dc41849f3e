"""Dependencies: the services and the signed-in operator, as `Annotated` aliases."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import Depends, Request

from forvalg.api.limits import RateLimiter
from forvalg.api.problems import ApiProblem
from forvalg.bootstrap import Services
from forvalg.domain.reasons import ReasonCode
from forvalg.wall import Principal


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def current_operator(request: Request, svc: Annotated[Services, Depends(services)]) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    principal = svc.authenticator.operator(token.strip() if scheme.lower() == "bearer" else None)
    if principal is None:
        raise ApiProblem(
            401,
            ReasonCode.E_AUTH,
            "missing, unknown or revoked API key",
            headers={"WWW-Authenticate": 'Bearer realm="forvalg"'},
        )
    limiter: RateLimiter = request.app.state.limiter
    wait = limiter.take(principal.id)
    if wait:
        raise ApiProblem(
            429,
            ReasonCode.E_RATE_LIMITED,
            "too many requests",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    return principal


Svc = Annotated[Services, Depends(services)]
CurrentOperator = Annotated[Principal, Depends(current_operator)]
