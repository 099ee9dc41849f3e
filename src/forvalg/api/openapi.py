"""/openapi.json as the server really answers: what FastAPI derives from the routes, and
what the middleware in front of them adds.

FastAPI documents a route's error models under `application/json` (or not at all), but
every error is RFC 9457 `application/problem+json` (api/problems.py). `SignIn` and
`BodySizeLimit` answer before any route runs, so every `/v1` operation can be refused with
`429` (a client address whose sign-ins keep failing, or an operator over its rate), and
every operation with a body with `413`; `ServiceUnavailable` answers `503` from any of
them while the database cannot be reached. These are added here, to the spec only: the
routes are unchanged. Schemathesis holds the server to this document
(tests/integration/test_api_schema_fuzz.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from forvalg.api.problems import MEDIA_TYPE

PROBLEM_REF = "#/components/schemas/Problem"
ADDED: dict[str, tuple[str, Callable[[dict[str, Any]], bool]]] = {
    "429": (
        "Too many requests from this operator, or too many failed sign-ins from this "
        "address (E_RATE_LIMITED, with Retry-After)",
        lambda _: True,
    ),
    "413": (
        "The request body is too large (E_PAYLOAD_TOO_LARGE)",
        lambda operation: "requestBody" in operation,
    ),
    "503": (
        "The database cannot be reached just now: repeat the same request after "
        "Retry-After seconds (E_UNAVAILABLE)",
        lambda _: True,
    ),
}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}}


def _as_problems(responses: dict[str, Any]) -> None:
    """Every error answer is a `Problem` served as application/problem+json, whatever media
    type the route's own answers have (text/plain for the checkpoint) and whether or not
    the route named a model for it."""
    for status, response in responses.items():
        if status.startswith(("4", "5")):
            response["content"] = {MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}


def document(spec: dict[str, Any]) -> dict[str, Any]:
    """`spec` with problem media types and the middleware's answers added (in place)."""
    for path, item in spec.get("paths", {}).items():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            _as_problems(responses)
            if not path.startswith("/v1/"):
                continue
            for status, (description, applies) in ADDED.items():
                if applies(operation) and status not in responses:
                    responses[status] = _problem(description)
    return spec


def install(app: FastAPI) -> None:
    """Serve `document(...)` of FastAPI's spec at /openapi.json (built once)."""
    derived = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(derived())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
