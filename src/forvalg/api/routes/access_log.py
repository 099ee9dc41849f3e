"""/v1/compliance/access-log: compliance searches the ledger's entries by who, why, what,
how decided, when and which line, newest first. The search reads for `compliance_audit`
under the audit the officer names; anyone else is refused, and the refusal is ledgered
(docs/OPERATOR-API.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from forvalg.api import cursors
from forvalg.api.deps import CurrentPrincipal, CurrentStatement, Svc
from forvalg.api.problems import ApiProblem
from forvalg.api.schemas import AccessLogPagePublic, LoggedAccessPublic, Problem
from forvalg.compliance.access_log import AccessLogQuery, InvalidSearch, LoggedAccess
from forvalg.domain.access_log import DEFAULT_LIMIT, MAX_LIMIT, MAX_TEXT
from forvalg.domain.reasons import ReasonCode

router = APIRouter(tags=["compliance"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing or bad credential (E_AUTH)"},
    403: {
        "model": Problem,
        "description": (
            "Denied and ledgered: E_FORBIDDEN (not a compliance officer), E_PURPOSE_REQUIRED "
            "(no audit named), E_WORK_ITEM_MISMATCH (an unknown or closed audit)"
        ),
    },
    422: {"model": Problem, "description": "A bad filter or cursor (E_VALIDATION)"},
}
Text = Annotated[str | None, Query(min_length=1, max_length=MAX_TEXT)]
CURSOR_KIND = "l"


def public(hit: LoggedAccess) -> LoggedAccessPublic:
    e = hit.event
    return LoggedAccessPublic(
        index=hit.index,
        at=hit.at,
        principal=e["principal"],
        organisation=e["organisation"],
        roles=list(e["roles"]),
        purpose=e["purpose"],
        work_item=e.get("work_item"),
        action=e["action"],
        resource=e["resource"],
        decision=e["decision"],
        reason=e.get("reason"),
        break_glass=hit.break_glass,
        subject_count=e["subject_count"],
        subjects=list(e.get("subjects") or ()),
    )


@router.get(
    "/v1/compliance/access-log",
    summary="Search the access log",
    response_model=AccessLogPagePublic,
    responses=ERRORS,
)
def search_access_log(
    svc: Svc,
    principal: CurrentPrincipal,
    stated: CurrentStatement,
    who: Annotated[
        str | None,
        Query(alias="principal", min_length=1, max_length=MAX_TEXT, description="user:…"),
    ] = None,
    role: Text = None,
    purpose: Text = None,
    category: Annotated[
        str | None,
        Query(min_length=1, max_length=MAX_TEXT, description="The data category, cps.order…"),
    ] = None,
    decision: Literal["allow", "deny"] | None = None,
    break_glass: bool | None = None,
    work_item: Text = None,
    since: Annotated[AwareDatetime | None, Query(description="From (inclusive)")] = None,
    until: Annotated[AwareDatetime | None, Query(description="To (exclusive)")] = None,
    line: Annotated[
        str | None,
        Query(pattern=r"^[0-9]{8}$", description="Entries that touched this line"),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> AccessLogPagePublic:
    """Ledger entries passing every filter given, newest first (purpose
    `compliance_audit`, an audit in `X-Forvalg-Work-Item`). `line` finds the entries that
    touched the line, bulk decisions included, by its pseudonym; the search's own entry
    names the line the same way. One ledgered decision per search. Pass `next_cursor`
    back as `cursor` for older entries."""
    before = cursors.decode(svc.cursors, CURSOR_KIND, principal, cursor, "cursor")
    try:
        query = AccessLogQuery(
            principal=who,
            role=role,
            purpose=purpose,
            category=category,
            decision=decision,
            break_glass=break_glass,
            work_item=work_item,
            since=since,
            until=until,
            line=line,
            before=before,
            limit=limit,
        )
    except InvalidSearch as exc:
        raise ApiProblem(
            422,
            ReasonCode.E_VALIDATION,
            str(exc),
            errors=[{"parameter": exc.field, "reason": str(exc)}],
        ) from None
    page = svc.access_log.search(principal, stated, query)
    return AccessLogPagePublic(
        size=page.size,
        items=[public(hit) for hit in page.entries],
        next_cursor=cursors.encode(svc.cursors, CURSOR_KIND, principal, page.more),
    )
