"""Request size limits and rate limits (per API key and per operator; per client address
before sign-in)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException

from forvalg.api.problems import send_problem
from forvalg.domain.reasons import ReasonCode

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodySizeLimit:
    """Refuses bodies over `max_bytes` (or, for a path in `larger`, its own limit) with
    413, by Content-Length or while streaming."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, larger: Mapping[str, int] | None = None
    ) -> None:
        self.app, self.max_bytes, self.larger = app, max_bytes, dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope.get("path", ""), self.max_bytes)
        detail = f"the request body exceeds {limit} bytes"
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await send_problem(send, 413, ReasonCode.E_PAYLOAD_TOO_LARGE, detail)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # An HTTPException passes through FastAPI's body reading as itself.
                    raise HTTPException(413, detail)
            return message

        await self.app(scope, counted, send)


class RateLimiter:
    """A token bucket per name (a principal, an API key, a client address), in this
    process (a per-process limit)."""

    def __init__(
        self, rate_per_s: float, burst: int, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.burst, self._now = rate_per_s, burst, monotonic
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, who: str) -> float:
        """0 if allowed (and counted), else the seconds to wait before retrying."""
        return self._spend(who, 1.0)

    def wait(self, who: str) -> float:
        """Like `take`, but counts nothing: the seconds until one more would be allowed."""
        return self._spend(who, 0.0)

    def take_both(self, who: str, other: RateLimiter, other_who: str) -> float:
        """Take one from `who`'s bucket here and from `other_who`'s in `other`, both or
        neither: 0 if allowed (and counted in both), else the seconds until both allow."""
        first, second = sorted((self, other), key=id)
        with first._lock, second._lock if second is not first else _NO_LOCK:
            waits = (self._level(who), other._level(other_who))
            if max(waits) > 0:
                return max(waits)
            self._spend_locked(who, 1.0)
            other._spend_locked(other_who, 1.0)
            return 0.0

    def _level(self, who: str) -> float:
        """The seconds until `who` may take one (0: now); changes nothing. Under the lock."""
        now = self._now()
        tokens, last = self._buckets.get(who, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def _spend_locked(self, who: str, cost: float) -> float:
        now = self._now()
        tokens, last = self._buckets.get(who, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens >= 1:
            self._buckets[who] = (tokens - cost, now)
            return 0.0
        self._buckets[who] = (tokens, now)
        return (1 - tokens) / self.rate

    def _spend(self, who: str, cost: float) -> float:
        with self._lock:
            return self._spend_locked(who, cost)


_NO_LOCK = contextlib.nullcontext()


class NoNulInUrl:
    """Refuses a path or query string holding a NUL character (`%00`) with 422: PostgreSQL
    cannot compare text with one, so it would otherwise end as a 500 (found by
    schemathesis). Bodies are checked by their schemas (api/schemas.py `Strict`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = bytes(scope.get("query_string", b"")).lower()
            if "\x00" in str(scope.get("path", "")) or b"%00" in query or b"\x00" in query:
                detail = "the path or query holds a NUL character (%00)"
                await send_problem(send, 422, ReasonCode.E_VALIDATION, detail)
                return
        await self.app(scope, receive, send)
