"""RFC 9457 problem+json for every error, each with a reason `code`."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from forvalg.compliance.inquiries import UnknownInquiry
from forvalg.domain.incidents import IllegalTransition, IncidentError
from forvalg.domain.orders import OrderType
from forvalg.domain.reasons import ReasonCode
from forvalg.domain.work_items import InvalidWorkItem
from forvalg.wall import AccessDenied
from forvalg.wall.incidents import UnknownIncident
from forvalg.wholesale.orders import CancelRefused, IdempotencyConflict, OrderNotFound

MEDIA_TYPE = "application/problem+json"

STATUS_CODES = {
    401: ReasonCode.E_AUTH,
    403: ReasonCode.E_FORBIDDEN,
    404: ReasonCode.E_NOT_FOUND,
    405: ReasonCode.E_METHOD_NOT_ALLOWED,
    409: ReasonCode.E_CONFLICT,
    413: ReasonCode.E_PAYLOAD_TOO_LARGE,
    422: ReasonCode.E_VALIDATION,
    429: ReasonCode.E_RATE_LIMITED,
}


class ApiProblem(Exception):
    def __init__(
        self,
        status: int,
        code: ReasonCode,
        detail: str,
        *,
        errors: Sequence[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.errors, self.headers = errors, headers


def problem_body(status: int, code: ReasonCode, detail: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"urn:forvalg:problem:{code.value}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "code": code.value,
    }
    if detail:
        body["detail"] = detail
    return body


async def send_problem(
    send: Callable[[dict[str, Any]], Awaitable[None]],
    status: int,
    code: ReasonCode,
    detail: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Answer with a problem from ASGI middleware, before any route runs."""
    body = json.dumps(problem_body(status, code, detail)).encode()
    raw = [(b"content-type", MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def problem(
    status: int,
    code: ReasonCode,
    detail: str | None = None,
    *,
    errors: Sequence[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = problem_body(status, code, detail)
    if errors:
        body["errors"] = list(errors)
    return JSONResponse(
        body, status_code=status, media_type=MEDIA_TYPE, headers=dict(headers or {})
    )


def _pointer(loc: Sequence[int | str]) -> dict[str, str]:
    """A JSON pointer into the body, or the name of the query/path/header parameter."""
    where, *rest = loc or ("body",)
    if where != "body":
        return {"parameter": str(rest[0]) if rest else str(where)}
    if rest and isinstance(rest[0], str) and rest[0] in OrderType.__members__:
        rest = rest[1:]  # the discriminated union's tag is not part of the document
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in rest]
    return {"pointer": "/" + "/".join(parts) if parts else ""}


def _reason(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "json_invalid":
        where = error.get("ctx", {}).get("position", error.get("loc", ("body", "?"))[-1])
        problem = error.get("ctx", {}).get("error", "cannot parse")
        return f"malformed JSON at character {where}: {problem}"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "union_tag_not_found":
        return "required: one of " + ", ".join(t.value for t in OrderType)
    if kind == "union_tag_invalid":
        return "must be one of " + ", ".join(t.value for t in OrderType)
    return str(error.get("msg", "invalid"))


_DENIED = {
    ReasonCode.E_FORBIDDEN: "access denied; the denial is logged",
    ReasonCode.E_PURPOSE_REQUIRED: (
        "state X-Forvalg-Purpose and name the work item in X-Forvalg-Work-Item; "
        "the denial is logged"
    ),
    ReasonCode.E_WORK_ITEM_MISMATCH: (
        "the work item named is unknown, closed or does not cover this data; the denial is logged"
    ),
}


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for error in exc.errors():
            loc = list(error.get("loc", ()))
            if error.get("type") in ("union_tag_invalid", "union_tag_not_found"):
                loc = ["body", "type"]
            elif error.get("type") == "json_invalid":
                loc = ["body"]
            errors.append(_pointer(loc) | {"reason": _reason(error)})
        return problem(422, ReasonCode.E_VALIDATION, "the request is malformed", errors=errors)

    @app.exception_handler(ApiProblem)
    async def _api(_: Request, exc: ApiProblem) -> JSONResponse:
        return problem(exc.status, exc.code, exc.detail, errors=exc.errors, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # FastAPI's answer to a body it cannot decode (bytes that are not UTF-8): a
            # malformed body, which is 422 like any other (INTERFACES.md §2).
            return problem(
                422,
                ReasonCode.E_VALIDATION,
                "the request is malformed",
                errors=[{"pointer": "", "reason": "the body is not JSON text in UTF-8"}],
            )
        code = STATUS_CODES.get(exc.status_code, ReasonCode.E_VALIDATION)
        return problem(exc.status_code, code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(OrderNotFound)
    async def _missing(_: Request, exc: OrderNotFound) -> JSONResponse:
        return problem(404, ReasonCode.E_NOT_FOUND, f"no order {exc}")

    @app.exception_handler(IdempotencyConflict)
    async def _idem(_: Request, exc: IdempotencyConflict) -> JSONResponse:
        return problem(409, ReasonCode.E_CONFLICT, str(exc))

    @app.exception_handler(CancelRefused)
    async def _refused(_: Request, exc: CancelRefused) -> JSONResponse:
        return problem(409, exc.code, str(exc))

    @app.exception_handler(InvalidWorkItem)
    async def _invalid_item(_: Request, exc: InvalidWorkItem) -> JSONResponse:
        return problem(
            422,
            ReasonCode.E_VALIDATION,
            "the work item is incomplete",
            errors=[{"pointer": f"/{exc.field}", "reason": str(exc)}],
        )

    @app.exception_handler(UnknownIncident)
    async def _no_incident(_: Request, exc: UnknownIncident) -> JSONResponse:
        return problem(404, ReasonCode.E_NOT_FOUND, str(exc))

    @app.exception_handler(UnknownInquiry)
    async def _no_inquiry(_: Request, exc: UnknownInquiry) -> JSONResponse:
        return problem(404, ReasonCode.E_NOT_FOUND, str(exc))

    @app.exception_handler(IllegalTransition)
    async def _illegal(_: Request, exc: IllegalTransition) -> JSONResponse:
        return problem(409, ReasonCode.E_CONFLICT, str(exc))

    @app.exception_handler(IncidentError)
    async def _incident(_: Request, exc: IncidentError) -> JSONResponse:
        return problem(
            422,
            ReasonCode.E_VALIDATION,
            "the move is incomplete",
            errors=[{"pointer": "/note", "reason": str(exc)}],
        )

    @app.exception_handler(AccessDenied)
    async def _denied(_: Request, exc: AccessDenied) -> JSONResponse:
        return problem(403, exc.code, _DENIED[exc.code])
