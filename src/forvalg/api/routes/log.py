"""/v1/log: the ledger's transparency interface (INTERFACES §6), for the regulator and
compliance, who state their purpose and name an audit or inquiry like any staff read.
Operators are refused (403, and the refusal is in the ledger)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from forvalg.api.deps import CurrentPrincipal, CurrentStatement, Svc
from forvalg.api.problems import ApiProblem
from forvalg.api.schemas import ConsistencyProofPublic, EntryList, InclusionProofPublic, Problem
from forvalg.compliance.transparency import MAX_ENTRIES_PER_READ
from forvalg.domain.reasons import ReasonCode
from forvalg.ledger.merkle import BeyondTree, ProofError

router = APIRouter(prefix="/v1/log", tags=["ledger"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing or bad credential (E_AUTH)"},
    403: {
        "model": Problem,
        "description": (
            "Not a regulator or compliance user (E_FORBIDDEN), or no purpose and audit or "
            "inquiry stated (E_PURPOSE_REQUIRED, E_WORK_ITEM_MISMATCH)"
        ),
    },
    422: {"model": Problem, "description": "Bad range or size beyond the tree (E_VALIDATION)"},
}
TEXT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/plain": {}}, "description": "text/plain"}
}
Size = Annotated[int, Query(ge=0, le=2**56)]


def _beyond(exc: ProofError, parameter: str) -> ApiProblem:
    return ApiProblem(
        422,
        ReasonCode.E_VALIDATION,
        str(exc),
        errors=[{"parameter": parameter, "reason": str(exc)}],
    )


@router.get(
    "/checkpoint",
    summary="The current signed checkpoint",
    response_class=PlainTextResponse,
    responses=ERRORS | TEXT,
)
def checkpoint(
    svc: Svc, principal: CurrentPrincipal, stated: CurrentStatement
) -> PlainTextResponse:
    """The C2SP `tlog-checkpoint` signed note over the current tree, signed now if no
    checkpoint covers the tree yet. It covers this request's own ledger entry."""
    signed = svc.transparency.checkpoint(principal, stated)
    return PlainTextResponse(signed.note)


@router.get(
    "/key",
    summary="The log's verifier key",
    response_class=PlainTextResponse,
    responses=ERRORS | TEXT,
)
def key(svc: Svc, principal: CurrentPrincipal, stated: CurrentStatement) -> PlainTextResponse:
    """The signed-note verifier key `<name>+<hex key id>+<base64(0x01 || Ed25519 key)>`."""
    return PlainTextResponse(svc.transparency.verifier_key(principal, stated) + "\n")


@router.get("/entries", summary="Ledger entries", response_model=EntryList, responses=ERRORS)
def entries(
    svc: Svc, principal: CurrentPrincipal, stated: CurrentStatement, start: Size, end: Size
) -> EntryList:
    """Entries [start, end) as objects, at most 1000 per request. The leaf data of each is
    its RFC 8785 canonical JSON."""
    if end < start or end - start > MAX_ENTRIES_PER_READ:
        reason = f"need start <= end and at most {MAX_ENTRIES_PER_READ} entries per request"
        raise ApiProblem(
            422, ReasonCode.E_VALIDATION, reason, errors=[{"parameter": "end", "reason": reason}]
        )
    try:
        return EntryList(entries=svc.transparency.entries(principal, start, end, stated))
    except ProofError as exc:
        raise _beyond(exc, "end") from None


@router.get(
    "/proof/inclusion",
    summary="Inclusion proof",
    response_model=InclusionProofPublic,
    responses=ERRORS,
)
def inclusion(
    svc: Svc, principal: CurrentPrincipal, stated: CurrentStatement, index: Size, size: Size
) -> InclusionProofPublic:
    """The audit path of entry `index` in the tree of `size` entries (RFC 9162 §2.1.3)."""
    try:
        proof = svc.transparency.inclusion(principal, index, size, stated)
    except BeyondTree as exc:
        raise _beyond(exc, "size") from None
    except ProofError as exc:
        raise _beyond(exc, "index") from None
    return InclusionProofPublic.model_validate(proof.to_json())


@router.get(
    "/proof/consistency",
    summary="Consistency proof",
    response_model=ConsistencyProofPublic,
    responses=ERRORS,
)
def consistency(
    svc: Svc,
    principal: CurrentPrincipal,
    stated: CurrentStatement,
    old: Annotated[int, Query(alias="from", ge=0, le=2**56)],
    new: Annotated[int, Query(alias="to", ge=0, le=2**56)],
) -> ConsistencyProofPublic:
    """Proof that the tree of size `to` extends the tree of size `from` (RFC 9162 §2.1.4)."""
    try:
        proof = svc.transparency.consistency(principal, old, new, stated)
    except BeyondTree as exc:
        raise _beyond(exc, "to") from None
    except ProofError as exc:
        raise _beyond(exc, "from") from None
    return ConsistencyProofPublic.model_validate(proof.to_json())
