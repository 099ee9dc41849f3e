"""Sign-in, before anything else looks at the request: operator API keys and staff tokens.

Runs as ASGI middleware so that a caller without a valid credential gets `401 E_AUTH`
(and a denial in the ledger) whatever else is wrong with the request: the body is not
even read. The principal is handed to the routes in `scope["state"]`; what it may do
there is the wall's decision.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from anyio import to_thread

from forvalg.api.limits import ASGIApp, RateLimiter, Receive, Scope, Send
from forvalg.api.problems import send_problem
from forvalg.domain.reasons import ReasonCode
from forvalg.wall.credentials import Authenticator, credential_id

PROTECTED_PREFIX = "/v1/"
PRINCIPAL = "principal"
# A subscriber asks for a one-time code and trades it for a session without a token;
# these are limited per client address like failed sign-ins.
PUBLIC = frozenset({("POST", "/v1/subscriber/codes"), ("POST", "/v1/subscriber/sessions")})


# Failed sign-ins per client address: each one is written to the access log, so a
# client that keeps failing is refused (429) before it can flood the log.
FAILURES_PER_S = 10.0
FAILURE_BURST = 100


class SignIn:
    def __init__(
        self,
        app: ASGIApp,
        authenticator: Authenticator,
        limiter: RateLimiter,
        monotonic: Callable[[], float] = time.monotonic,
        key_limiter: RateLimiter | None = None,
    ) -> None:
        self.app, self.authenticator, self.limiter = app, authenticator, limiter
        # A bucket per credential (API key, staff token, subscriber session) as well as
        # per principal: an operator holding two keys during a rotation still has one
        # operator's share, and one runaway key cannot use more than a key's.
        self.keys = key_limiter or limiter
        self.failures = RateLimiter(FAILURES_PER_S, FAILURE_BURST, monotonic)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(PROTECTED_PREFIX):
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers", [])).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = header.partition(" ")
        bearer = token.strip() if scheme.lower() == "bearer" else None
        client = str((scope.get("client") or ("unknown", 0))[0])
        if wait := self.failures.wait(client):
            await _too_many(send, wait)
            return
        if (scope["method"], scope["path"]) in PUBLIC:
            self.failures.take(client)
            await self.app(scope, receive, send)
            return
        principal = await to_thread.run_sync(self.authenticator.principal, bearer)
        if principal is None:
            self.failures.take(client)
            await send_problem(
                send,
                401,
                ReasonCode.E_AUTH,
                "missing, unknown or revoked API key or token",
                {"WWW-Authenticate": 'Bearer realm="forvalg"'},
            )
            return
        credential = f"credential:{credential_id(bearer)}"
        if wait := self.keys.take_both(credential, self.limiter, principal.id):
            await _too_many(send, wait)
            return
        scope.setdefault("state", {})[PRINCIPAL] = principal
        await self.app(scope, receive, send)


async def _too_many(send: Send, wait: float) -> None:
    retry = str(max(1, math.ceil(wait)))
    await send_problem(
        send, 429, ReasonCode.E_RATE_LIMITED, "too many requests", {"Retry-After": retry}
    )
