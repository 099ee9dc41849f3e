"""The FastAPI application factory."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI

from forvalg import __version__
from forvalg.api import openapi, problems
from forvalg.api.limits import BodySizeLimit, NoNulInUrl, RateLimiter
from forvalg.api.routes import (
    access_log,
    events,
    incidents,
    inquiries,
    lines,
    log,
    orders,
    queue,
    retail,
    staff,
    statements,
    subscriber,
)
from forvalg.api.signin import SignIn
from forvalg.api.unavailable import ServiceUnavailable
from forvalg.bootstrap import Services
from forvalg.web import create_web


def create_app(
    services: Services,
    *,
    keep_ledger: bool = False,
    monotonic: Callable[[], float] = time.monotonic,
) -> FastAPI:
    """The API over `services`. With `keep_ledger` (a real server), a background thread
    integrates queued ledger entries and signs checkpoints while the app runs. The rate
    limits count time by `monotonic` (tests stop it to count requests, not seconds)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if not keep_ledger:
            yield
            return
        stop = services.keeper.start(sign_every_s=services.settings.checkpoint_interval_s)
        try:
            yield
        finally:
            stop.set()
            await to_thread.run_sync(services.keeper.checkpoint)

    app = FastAPI(
        lifespan=lifespan,
        title="forvalg operator API",
        version=__version__,
        description=(
            "Carrier preselection orders for CPS operators (INTERFACES.md §2), and the "
            "ledger's transparency log for the regulator and compliance (§6). "
            "Authenticate with `Authorization: Bearer <api key or staff token>`. Errors are "
            "RFC 9457 `application/problem+json` with a `code`."
        ),
        docs_url=None,
        redoc_url=None,
    )
    app.state.services = services
    settings = services.settings
    problems.install(app)
    openapi.install(app)
    routers = (orders, lines, events, statements, log, staff, incidents, subscriber, retail)
    for module in (*routers, access_log):
        app.include_router(module.router)
    app.include_router(inquiries.router)
    app.include_router(queue.router)
    # The web pages (docs/WEB.md) on the same port: a mount at / that declines /v1/.
    app.router.routes.append(create_web(services))
    # The last added runs first: the database's availability, sign-in (which never reads
    # the body), then the size limit, then the refusal of NUL in the URL, then the routes.
    # Per principal (an operator's share, however many keys it holds) and per credential
    # (each API key, staff token or subscriber session): a request takes from both.
    limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst, monotonic)
    key_limiter = RateLimiter(
        settings.key_rate_limit_per_s or settings.rate_limit_per_s,
        settings.key_rate_limit_burst or settings.rate_limit_burst,
        monotonic,
    )
    app.add_middleware(NoNulInUrl)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        larger={"/v1/retail/contacts": settings.max_contacts_body_bytes},
    )
    app.add_middleware(
        SignIn,
        authenticator=services.authenticator,
        limiter=limiter,
        monotonic=monotonic,
        key_limiter=key_limiter,
    )
    # Outermost: the database gone (a restart) is 503 + Retry-After wherever it shows.
    app.add_middleware(ServiceUnavailable)
    return app
