"""/v1/retail/contacts: the retail CRM pushes its contacts to compliance (docs/CONTACTS.md).

Retail writes and reads nothing back: the answer holds counts and the reasons of the
items it sent, nothing that was stored before."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from forvalg.api.deps import CurrentPrincipal, Svc
from forvalg.api.schemas import ContactPush, ContactPushResult, Problem, ProblemError

router = APIRouter(tags=["retail"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing or bad credential (E_AUTH)"},
    403: {"model": Problem, "description": "Not a retail role: denied and ledgered (E_FORBIDDEN)"},
    413: {"model": Problem, "description": "Body too large (E_PAYLOAD_TOO_LARGE)"},
    422: {
        "model": Problem,
        "description": "Malformed body: not JSON, more than 10,000 contacts, a member that is "
        "not a string, an unknown member (E_VALIDATION)",
    },
}


@router.post(
    "/v1/retail/contacts",
    summary="Push retail CRM contacts",
    status_code=201,
    response_model=ContactPushResult,
    responses=ERRORS,
)
def push_contacts(svc: Svc, principal: CurrentPrincipal, body: ContactPush) -> ContactPushResult:
    """Up to 10,000 contacts a call, from a retail staff user's token (roles
    `retail_sales`, `retail_marketing`, `retail_customer_service`). The purpose is
    `crm_sync` whatever the headers say, and no work item is named. Valid items are
    stored, those already stored for the source skipped and counted; an item with a bad
    value is not stored and its reasons come back in `errors`, one per field, with a
    JSON pointer into the request. `201` whenever the body is well formed."""
    items = [c.model_dump() for c in body.contacts]
    report = svc.contacts.push(principal, items, source=body.source)
    return ContactPushResult(
        source=report.source,
        received=report.received,
        imported=report.imported,
        duplicates=report.duplicates,
        rejected=len({e.index for e in report.errors}),
        errors=[
            ProblemError(
                pointer=f"/contacts/{e.index}/{e.field}" if e.field else f"/contacts/{e.index}",
                reason=e.reason,
            )
            for e in report.errors
        ],
    )
