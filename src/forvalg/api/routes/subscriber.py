"""/v1/subscriber: a subscriber's own line. A one-time code goes to the line (letter or
SMS, through the outbox); the code buys a one-hour session; the session shows the line's
preselection status and every ledger entry that touched it, with inclusion proofs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from forvalg.api.deps import CurrentPrincipal, CurrentStatement, Svc
from forvalg.api.problems import ApiProblem
from forvalg.api.schemas import (
    AccessList,
    CodeRequest,
    CodeRequested,
    InclusionProofPublic,
    Problem,
    SessionPublic,
    SessionRequest,
    SubscriberLine,
    Touch,
)
from forvalg.domain.reasons import ReasonCode

router = APIRouter(prefix="/v1/subscriber", tags=["subscriber"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Wrong, expired or spent code; no session (E_AUTH)"},
    403: {"model": Problem, "description": "Not a subscriber session (E_FORBIDDEN)"},
    422: {"model": Problem, "description": "Malformed request (E_VALIDATION)"},
    429: {"model": Problem, "description": "Too many requests from this address"},
}


@router.post(
    "/codes",
    summary="Send a one-time code to a line",
    status_code=202,
    response_model=CodeRequested,
    responses=ERRORS,
)
def request_code(svc: Svc, body: CodeRequest) -> CodeRequested:
    """No credential needed. If the number is an active line, a one-time code goes to it by
    `letter` (valid 14 days) or `sms` (15 minutes); the answer is the same either way, so
    it reveals nothing about the number. At most three codes per line at once."""
    svc.subscribers.request_code(body.number, body.channel)
    return CodeRequested(
        detail=f"if {body.number} is a line, a code is on its way by {body.channel}"
    )


@router.post(
    "/sessions",
    summary="Trade the one-time code for a session",
    status_code=201,
    response_model=SessionPublic,
    responses=ERRORS,
)
def open_session(svc: Svc, body: SessionRequest) -> SessionPublic:
    """No credential needed. A right code opens a subscriber request (the work item) and a
    one-hour session token; a wrong one is `401 E_AUTH` and counts against the line's
    codes (five tries each)."""
    opened = svc.subscribers.open_session(body.number, body.code)
    if opened is None:
        raise ApiProblem(401, ReasonCode.E_AUTH, "wrong, expired or spent code")
    return SessionPublic(
        token=opened.token, request=opened.request_id, expires_at=opened.expires_at
    )


@router.get(
    "/line", summary="My line's preselection", response_model=SubscriberLine, responses=ERRORS
)
def line(svc: Svc, principal: CurrentPrincipal, stated: CurrentStatement) -> SubscriberLine:
    """Whether the line has preselection, with which operator and option, since when."""
    view = svc.subscribers.line(principal, stated)
    return SubscriberLine(
        number=view.number,
        preselected=view.preselected,
        operator_name=view.operator_name,
        option=view.option,
        since=view.since,
    )


@router.get(
    "/accesses",
    summary="Who accessed my line's data",
    response_model=AccessList,
    responses=ERRORS,
)
def accesses(svc: Svc, principal: CurrentPrincipal, stated: CurrentStatement) -> AccessList:
    """Every ledger entry that touched the line (bulk decisions included), each with its
    inclusion proof against the checkpoint returned, which `forvalg-verify inclusion`
    checks. Entries name people by role and organisation, the line only by pseudonym."""
    found = svc.subscribers.accesses(principal, stated)
    return AccessList(
        checkpoint=found.checkpoint,
        size=found.size,
        entries=[
            Touch(
                index=t.proof.index,
                entry=t.entry,
                proof=InclusionProofPublic.model_validate(t.proof.to_json()),
            )
            for t in found.touches
        ],
    )
