"""/v1/lines: whether a line can take preselection (never who serves it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from forvalg.api.deps import CurrentPrincipal, CurrentStatement, Svc
from forvalg.api.routes.orders import ERRORS
from forvalg.api.schemas import Eligibility

router = APIRouter(prefix="/v1/lines", tags=["lines"])


@router.get(
    "/{number}/eligibility",
    summary="Can this line take preselection?",
    response_model=Eligibility,
    responses=ERRORS,
)
def eligibility(
    svc: Svc,
    operator: CurrentPrincipal,
    stated: CurrentStatement,
    number: Annotated[str, Path(pattern=r"^[0-9]{8}$")],
) -> Eligibility:
    """Depends only on the line inventory; says nothing about preselection or who serves it."""
    reason = svc.desk.eligibility(operator, number, stated)
    return Eligibility(
        eligible=reason is None, reason_code=None if reason is None else reason.value
    )
