"""Opaque pagination cursors in the API: sealed by the wall, bound to the operator."""

from __future__ import annotations

from forvalg.api.problems import ApiProblem
from forvalg.domain.reasons import ReasonCode
from forvalg.wall import Principal
from forvalg.wall.cursors import Cursors


def encode(cursors: Cursors, kind: str, principal: Principal, position: int | None) -> str | None:
    return None if position is None else cursors.seal(kind, principal.organisation, position)


def decode(
    cursors: Cursors, kind: str, principal: Principal, cursor: str | None, parameter: str
) -> int | None:
    if not cursor:
        return None
    position = cursors.open(kind, principal.organisation, cursor)
    if position is None:
        raise ApiProblem(
            422,
            ReasonCode.E_VALIDATION,
            "the request is malformed",
            errors=[{"parameter": parameter, "reason": "not a cursor this API gave you"}],
        )
    return position
