"""Operator sign-in, before anything else looks at the request.

Runs as ASGI middleware so that a caller without a valid key gets `401 E_AUTH` (and a
denial in the access log) whatever else is wrong with the request: the body is not
even read. The principal is handed to the routes in `scope["state"]`.
"""

from __future__ import annotations

import math

from anyio import to_thread

from forvalg.api.limits import ASGIApp, RateLimiter, Receive, Scope, Send
from forvalg.api.problems import send_problem
from forvalg.domain.reasons import ReasonCode
from forvalg.wall.credentials import Authenticator

PROTECTED_PREFIX = "/v1/"
PRINCIPAL = "principal"


class OperatorSignIn:
    def __init__(self, app: ASGIApp, authenticator: Authenticator, limiter: RateLimiter) -> None:
        self.app, self.authenticator, self.limiter = app, authenticator, limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(PROTECTED_PREFIX):
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers", [])).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = header.partition(" ")
        bearer = token.strip() if scheme.lower() == "bearer" else None
        principal = await to_thread.run_sync(self.authenticator.operator, bearer)
        if principal is None:
            await send_problem(
                send,
                401,
                ReasonCode.E_AUTH,
                "missing, unknown or revoked API key",
                {"WWW-Authenticate": 'Bearer realm="forvalg"'},
            )
            return
        wait = self.limiter.take(principal.id)
        if wait:
            retry = str(max(1, math.ceil(wait)))
            await send_problem(
                send, 429, ReasonCode.E_RATE_LIMITED, "too many requests", {"Retry-After": retry}
            )
            return
        scope.setdefault("state", {})[PRINCIPAL] = principal
        await self.app(scope, receive, send)
