"""The pages' application: a FastAPI sub-app of its own (HTML errors, its own session
handling), mounted by `api.app.create_app` beside the API on the same port.

`Pages` is a mount at the root that declines the API's paths, so the API keeps its own
404 and 405 answers (problem+json) and the pages never see a `/v1/` request.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount
from starlette.types import Scope

from forvalg.bootstrap import Services
from forvalg.domain.work_items import InvalidWorkItem
from forvalg.wall import AccessDenied
from forvalg.web.render import page
from forvalg.web.routes import (
    compliance,
    home,
    inquiries,
    operator,
    regulator,
    signin,
    subscriber,
    wholesale,
)
from forvalg.web.sessions import SessionSeal, load_key
from forvalg.web.visitors import CsrfRefused, NotSignedIn, visitor
from forvalg.wholesale.orders import CancelRefused, OrderNotFound

API_PATHS = ("/v1/", "/openapi.json")

# Why the wall said no, in words; the reason code is shown beside it.
DENIED = {
    "E_FORBIDDEN": "Your role may not see this. The refusal is in the access log.",
    "E_PURPOSE_REQUIRED": (
        "Nothing is shown until you say why: choose a purpose and name the work item "
        "(fault ticket, order, …) you are working on. The refusal is in the access log."
    ),
    "E_WORK_ITEM_MISMATCH": (
        "The work item named is unknown, closed, or does not cover this data. "
        "The refusal is in the access log."
    ),
}


class Pages(Mount):
    """The pages at `/`, except the API's paths."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope.get("type") == "http" and str(scope.get("path", "")).startswith(API_PATHS):
            return Match.NONE, {}
        return super().matches(scope)


def create_web(services: Services) -> Pages:
    """The pages over `services`, as a mount for the API's app."""
    web = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    web.state.services = services
    web.state.seal = SessionSeal(load_key(services.settings.key_dir))
    web.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    for module in (home, signin, operator, wholesale, subscriber):
        web.include_router(module.router)
    for staff in (compliance, regulator):  # their own start pages, when no work item named
        web.include_router(staff.router)
        staff.install(web)
    web.include_router(inquiries.router)  # both audiences' inquiry pages
    _install_errors(web)
    return Pages("", app=web)


async def _error(
    request: Request, status: int, heading: str, detail: str, code: str | None = None
) -> HTMLResponse:
    found = await run_in_threadpool(visitor, request)
    return page(
        request,
        found,
        "error.html",
        {"status": status, "heading": heading, "detail": detail, "code": code},
        status=status,
        title=heading,
    )


def _install_errors(web: FastAPI) -> None:
    @web.exception_handler(NotSignedIn)
    async def _signin(_: Request, exc: NotSignedIn) -> Response:
        return RedirectResponse(f"/signin?next={exc.next_path}", status_code=303)

    @web.exception_handler(CsrfRefused)
    async def _csrf(request: Request, _: CsrfRefused) -> Response:
        detail = "The form is stale or came from elsewhere. Go back, reload the page, try again."
        return await _error(request, 403, "Form refused", detail, "E_FORBIDDEN")

    @web.exception_handler(AccessDenied)
    async def _denied(request: Request, exc: AccessDenied) -> Response:
        code = exc.code.value
        return await _error(request, 403, "Not shown", DENIED.get(code, code), code)

    @web.exception_handler(OrderNotFound)
    async def _missing(request: Request, exc: OrderNotFound) -> Response:
        return await _error(request, 404, "Not found", f"No order {exc} of yours.", "E_NOT_FOUND")

    @web.exception_handler(CancelRefused)
    async def _refused(request: Request, exc: CancelRefused) -> Response:
        return await _error(request, 409, "Not cancelled", str(exc), exc.code.value)

    @web.exception_handler(InvalidWorkItem)
    async def _item(request: Request, exc: InvalidWorkItem) -> Response:
        return await _error(request, 422, "Work item incomplete", f"{exc.field}: {exc}")

    @web.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        where = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg')}"
            for e in exc.errors()
        )
        return await _error(request, 422, "Bad request", where, "E_VALIDATION")

    @web.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        heading = {404: "Not found", 405: "Not allowed"}.get(exc.status_code, "Error")
        detail = "There is no such page." if exc.status_code == 404 else str(exc.detail)
        return await _error(request, exc.status_code, heading, detail)
