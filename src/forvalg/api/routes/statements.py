"""/v1/statements: an operator's own settlement statement for a period."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from forvalg.api.deps import CurrentPrincipal, CurrentStatement, Svc
from forvalg.api.problems import ApiProblem
from forvalg.api.routes.orders import ERRORS
from forvalg.domain.reasons import ReasonCode
from forvalg.domain.settlement import InvalidPeriod
from forvalg.traffic.settlement import StatementNotFound

router = APIRouter(prefix="/v1/statements", tags=["statements"])

PERIOD = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
STATEMENT = {
    "description": "The statement: the JSON `forvalg settle` wrote to DIR/<operator>.json, "
    "byte for byte (docs/TRAFFIC.md)",
    "content": {"application/json": {"schema": {"type": "object"}}},
}


@router.get(
    "",
    summary="Own settlement statement for a period",
    response_class=Response,
    responses={
        200: STATEMENT,
        **ERRORS,
        403: {"description": "Not an operator (E_FORBIDDEN)"},
        404: {"description": "No statement of yours for the period (E_NOT_FOUND)"},
    },
)
def statement(
    svc: Svc,
    principal: CurrentPrincipal,
    stated: CurrentStatement,
    period: Annotated[str, Query(pattern=PERIOD, description="The month, YYYY-MM")],
) -> Response:
    """The latest version of the operator's statement for the period (a re-run of the
    settlement files a new version), exactly the bytes of the JSON file settlement wrote.
    `404 E_NOT_FOUND` when the period has none for this operator."""
    try:
        body = svc.statements.own(principal, period, stated)
    except InvalidPeriod as exc:
        raise ApiProblem(
            422,
            ReasonCode.E_VALIDATION,
            "the request is malformed",
            errors=[{"parameter": "period", "reason": str(exc)}],
        ) from None
    except StatementNotFound:
        raise ApiProblem(
            404, ReasonCode.E_NOT_FOUND, f"no statement of yours for {period}"
        ) from None
    return Response(content=body, media_type="application/json")
