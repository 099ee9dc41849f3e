"""`503 E_UNAVAILABLE` while the database cannot be reached.

The outermost middleware: whatever is running when the database goes away (sign-in, a
route, the web pages), the caller gets a problem+json with `Retry-After` instead of a
bare 500, and may repeat the request (an order with the same Idempotency-Key, which
answers a repeat as the first): see `forvalg.wall.availability`. One log line per
refusal, no traceback.
"""

from __future__ import annotations

import logging

from forvalg.api.limits import ASGIApp, Message, Receive, Scope, Send
from forvalg.api.problems import send_problem
from forvalg.domain.reasons import ReasonCode
from forvalg.wall.availability import database_unavailable

log = logging.getLogger("forvalg.api")
RETRY_AFTER_S = 1


class ServiceUnavailable:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as error:
            if started or not database_unavailable(error):
                raise
            log.warning(
                "%s %s: 503, the database cannot be reached: %s",
                scope.get("method"),
                scope.get("path"),
                str(error).splitlines()[0][:300],
            )
            await send_problem(
                send,
                503,
                ReasonCode.E_UNAVAILABLE,
                "the database cannot be reached just now; retry the same request "
                "(an order with the same Idempotency-Key)",
                {"Retry-After": str(RETRY_AFTER_S)},
            )
