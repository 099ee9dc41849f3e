"""/v1/staff/incidents: incidents opened from findings, for compliance officers (under an
audit, purpose `compliance_audit`) and the regulator (reported or closed ones only,
purpose `regulatory_inspection`, an inquiry or audit). docs/INCIDENTS.md."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from forvalg.api.deps import CurrentPrincipal, CurrentStatement, Svc
from forvalg.api.schemas import IncidentDetail, IncidentList, IncidentMove, IncidentPublic, Problem
from forvalg.compliance.incidents import IncidentRecord, record_json
from forvalg.domain.incidents import Incident, IncidentState

router = APIRouter(tags=["incidents"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing or bad credential (E_AUTH)"},
    403: {
        "model": Problem,
        "description": (
            "Denied and ledgered: E_FORBIDDEN (the policy), E_PURPOSE_REQUIRED (no purpose or "
            "work item stated), E_WORK_ITEM_MISMATCH (an unknown or closed work item)"
        ),
    },
    404: {"model": Problem, "description": "No such incident for the caller (E_NOT_FOUND)"},
    409: {"model": Problem, "description": "The life cycle does not allow the move (E_CONFLICT)"},
    422: {"model": Problem, "description": "Malformed request, or closing without a note"},
}
IncidentId = Annotated[str, Path(max_length=40, description="The incident, INC-…")]


def _public(incident: Incident) -> IncidentPublic:
    shown = record_json(IncidentRecord(incident, ()))
    del shown["evidence"]
    return IncidentPublic.model_validate(shown)


@router.get(
    "/v1/staff/incidents",
    summary="Incidents",
    response_model=IncidentList,
    responses=ERRORS,
)
def list_incidents(
    svc: Svc,
    principal: CurrentPrincipal,
    stated: CurrentStatement,
    state: Annotated[IncidentState | None, Query(description="Only those in this state")] = None,
) -> IncidentList:
    """Incidents, newest first, with their histories: every one for a compliance officer,
    the reported and closed ones for the regulator. The read is ledgered."""
    return IncidentList(
        items=[_public(i) for i in svc.incidents.find(principal, stated, state=state)]
    )


@router.get(
    "/v1/staff/incidents/{incident_id}",
    summary="An incident with its evidence",
    response_model=IncidentDetail,
    responses=ERRORS,
)
def get_incident(
    svc: Svc, principal: CurrentPrincipal, stated: CurrentStatement, incident_id: IncidentId
) -> IncidentDetail:
    """The incident, its history and its evidence: contacts, CPS events, and ledger
    entries with their inclusion proofs and the signed checkpoint, which
    `forvalg-verify inclusion` checks with the log's key. An incident the caller may not
    see is 404, like one that does not exist."""
    return IncidentDetail.model_validate(
        record_json(svc.incidents.show(principal, incident_id, stated))
    )


@router.post(
    "/v1/staff/incidents/{incident_id}/transitions",
    summary="Move an incident",
    response_model=IncidentPublic,
    responses=ERRORS,
)
def move_incident(
    svc: Svc,
    principal: CurrentPrincipal,
    stated: CurrentStatement,
    incident_id: IncidentId,
    body: IncidentMove,
) -> IncidentPublic:
    """Compliance officers move incidents: open → investigating → reported → closed, or
    investigating → closed (a false alarm); closing needs a `note`. The move is ledgered
    with the change, naming the officer; a move the life cycle refuses is 409 and changes
    nothing."""
    moved = svc.incidents.move(
        principal, incident_id, IncidentState(body.to), note=body.note, stated=stated
    )
    return _public(moved)
