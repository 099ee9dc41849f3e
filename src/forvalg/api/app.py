"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI

from forvalg import __version__
from forvalg.api import problems
from forvalg.api.limits import BodySizeLimit, RateLimiter
from forvalg.api.routes import events, lines, orders
from forvalg.api.signin import OperatorSignIn
from forvalg.bootstrap import Services


def create_app(services: Services) -> FastAPI:
    app = FastAPI(
        title="forvalg operator API",
        version=__version__,
        description=(
            "Carrier preselection orders for CPS operators (INTERFACES.md §2). "
            "Authenticate with `Authorization: Bearer <api key>`. Errors are RFC 9457 "
            "`application/problem+json` with a `code`."
        ),
        docs_url=None,
        redoc_url=None,
    )
    app.state.services = services
    settings = services.settings
    problems.install(app)
    for module in (orders, lines, events):
        app.include_router(module.router)
    # The last added runs first: sign-in (which never reads the body), then the size
    # limit, then the routes.
    limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(OperatorSignIn, authenticator=services.authenticator, limiter=limiter)
    return app
