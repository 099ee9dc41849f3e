"""Compliance officers' pages: incidents (with the findings that opened them, their
history and evidence, and the move form), findings, the access-log search, the alerts
and, on the start page, the inquiries' deadlines (the inquiry pages themselves are in
`routes/inquiries.py`). Every page reads for purpose `compliance_audit` under the audit
the officer names (`?work_item=AUD-…`, carried by every link); without one the page
sends them to open or name an audit. The wall decides exactly as for the API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from forvalg.bootstrap import Services
from forvalg.compliance.access_log import AccessLogQuery, InvalidSearch
from forvalg.compliance.incidents import IncidentRecord, UnknownIncident, verify_evidence
from forvalg.domain.incidents import TRANSITIONS, IncidentError, IncidentState
from forvalg.domain.work_items import WorkItemKind
from forvalg.wall import Principal, Purpose
from forvalg.wall.principals import Statement
from forvalg.web.inquiry_views import pending
from forvalg.web.render import page, redirect
from forvalg.web.visitors import Csrf, CurrentVisitor, SignedIn, Svc

router = APIRouter(prefix="/compliance")
IncidentId = Annotated[str, Path(max_length=40)]
AUDITING = Statement(Purpose.COMPLIANCE_AUDIT)


class NoAudit(Exception):
    """A compliance page needs the audit it is read under; the handler sends the officer
    to name one, and back to `next_path` after."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def audit(
    request: Request, work_item: Annotated[str | None, Query(max_length=80)] = None
) -> Statement:
    """The page's statement: purpose `compliance_audit` and the audit named."""
    item = (work_item or "").strip()
    if not item:
        raise NoAudit(request.url.path)
    return Statement(Purpose.COMPLIANCE_AUDIT, item)


Audit = Annotated[Statement, Depends(audit)]


def install(web: FastAPI) -> None:
    """A page without its audit goes to the start page, to open or name one."""

    @web.exception_handler(NoAudit)
    async def _no_audit(_: Request, exc: NoAudit) -> Response:
        return RedirectResponse("/compliance?" + urlencode({"next": exc.next_path}), 303)


def _context(stated: Statement, **values: Any) -> dict[str, Any]:
    return {"audit": stated.work_item, "q": urlencode({"work_item": stated.work_item})} | values


@router.get("", summary="Compliance: start")
def start(
    request: Request,
    svc: Svc,
    visitor: CurrentVisitor,
    principal: SignedIn,
    next_path: Annotated[str, Query(alias="next", max_length=200)] = "/compliance/incidents",
    work_item: Annotated[str | None, Query(max_length=80)] = None,
) -> Response:
    """Open or name an audit. Under one (`?work_item=AUD-…`) it also shows the
    deadlines: the inquiries not answered yet, nearest first (a ledgered read, as every
    read is; without an audit there is nothing to read them under)."""
    target = next_path if next_path.startswith("/compliance/") else "/compliance/incidents"
    context: dict[str, Any] = {"next": target, "values": {}, "deadlines": None}
    item = (work_item or "").strip()
    if item:
        stated = Statement(Purpose.COMPLIANCE_AUDIT, item)
        views = svc.inquiries.list(principal, stated)
        context |= _context(stated, deadlines=pending(views), values={"work_item": item})
    return page(request, visitor, "compliance/start.html", context, title="Compliance")


@router.post("/audits", summary="Open an audit", dependencies=[Csrf])
def open_audit(
    request: Request,
    svc: Svc,
    visitor: CurrentVisitor,
    principal: SignedIn,
    summary: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """The opening is ledgered; the officer lands on the incidents under the new audit."""
    if not summary.strip():
        context = {
            "next": "/compliance/incidents",
            "values": {"summary": summary},
            "errors": {"summary": "required: what the audit is for"},
        }
        return page(
            request, visitor, "compliance/start.html", context, status=422, title="Compliance"
        )
    item = svc.work.open(principal, AUDITING, WorkItemKind.AUDIT, summary=summary.strip())
    return redirect(request, visitor, "/compliance/incidents?" + urlencode({"work_item": item.id}))


@router.get("/incidents", summary="Incidents")
def incidents(
    request: Request,
    svc: Svc,
    visitor: CurrentVisitor,
    principal: SignedIn,
    stated: Audit,
    state: Annotated[IncidentState | None, Query()] = None,
) -> Response:
    found = svc.incidents.find(principal, stated, state=state)
    context = _context(stated, incidents=found, state=state, states=list(IncidentState))
    return page(request, visitor, "compliance/incidents.html", context, title="Incidents")


@router.get("/findings", summary="Findings")
def findings(
    request: Request, svc: Svc, visitor: CurrentVisitor, principal: SignedIn, stated: Audit
) -> Response:
    """Each incident carries the finding that opened it (its latest detection): the
    detector, severity, summary and statistics, by detector."""
    found = sorted(
        svc.incidents.find(principal, stated),
        key=lambda i: (i.detector, -i.severity.rank, i.id),
    )
    context = _context(stated, incidents=found)
    return page(request, visitor, "compliance/findings.html", context, title="Findings")


@router.get("/incidents/{incident_id}", summary="An incident")
def incident(
    request: Request,
    svc: Svc,
    visitor: CurrentVisitor,
    principal: SignedIn,
    stated: Audit,
    incident_id: IncidentId,
    error: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    record = _record(svc, principal, stated, incident_id)
    checks = {c.reference: c for c in verify_evidence(record.evidence, svc.incidents.verifier)}
    context = _context(
        stated,
        record=record,
        incident=record.incident,
        checks=checks,
        onward=sorted(TRANSITIONS[record.incident.state]),
        error=error,
    )
    title = f"Incident {record.incident.id}"
    return page(request, visitor, "compliance/incident.html", context, title=title)


def _record(
    svc: Services, principal: Principal, stated: Statement, incident_id: str
) -> IncidentRecord:
    """The incident, or the 404 page: none, or none this visitor may see (the look is
    ledgered either way)."""
    try:
        return svc.incidents.show(principal, incident_id, stated)
    except UnknownIncident:
        raise HTTPException(404) from None


@router.post("/incidents/{incident_id}/move", summary="Move an incident", dependencies=[Csrf])
def move(
    request: Request,
    svc: Svc,
    visitor: CurrentVisitor,
    principal: SignedIn,
    stated: Audit,
    incident_id: IncidentId,
    to: Annotated[IncidentState, Form()],
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """A move the life cycle refuses, or closing without a note, changes nothing and
    comes back to the incident with the reason."""
    back = f"/compliance/incidents/{incident_id}?"
    try:
        svc.incidents.move(principal, incident_id, to, note=note or None, stated=stated)
    except UnknownIncident:
        raise HTTPException(404) from None
    except IncidentError as exc:
        query = urlencode({"work_item": stated.work_item, "error": str(exc)})
        return redirect(request, visitor, back + query)
    return redirect(request, visitor, back + urlencode({"work_item": stated.work_item}))


@router.get("/access-log", summary="Search the access log")
def access_log(
    request: Request,
    svc: Svc,
    visitor: CurrentVisitor,
    principal: SignedIn,
    stated: Audit,
    who: Annotated[str, Query(alias="principal", max_length=200)] = "",
    role: Annotated[str, Query(max_length=200)] = "",
    purpose: Annotated[str, Query(max_length=200)] = "",
    category: Annotated[str, Query(max_length=200)] = "",
    decision: Annotated[str, Query(max_length=10)] = "",
    break_glass: Annotated[str, Query(max_length=5)] = "",
    item: Annotated[str, Query(max_length=80)] = "",
    since: Annotated[str, Query(max_length=40)] = "",
    until: Annotated[str, Query(max_length=40)] = "",
    line: Annotated[str, Query(max_length=20)] = "",
    before: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    """The form always shows; a search runs once any filter is given (or `run`), one
    ledgered decision each. Times are ISO 8601; without a zone they are UTC."""
    values = {
        "principal": who,
        "role": role,
        "purpose": purpose,
        "category": category,
        "decision": decision,
        "break_glass": break_glass,
        "item": item,
        "since": since,
        "until": until,
        "line": line,
    }
    context = _context(stated, values=values, page_of=None, error=None)
    if "run" in request.query_params or any(values.values()) or before is not None:
        try:
            query = AccessLogQuery(
                principal=who.strip() or None,
                role=role.strip() or None,
                purpose=purpose.strip() or None,
                category=category.strip() or None,
                decision=decision or None,
                break_glass={"yes": True, "no": False}.get(break_glass),
                work_item=item.strip() or None,
                since=_when("since", since),
                until=_when("until", until),
                line=line.strip() or None,
                before=before,
            )
        except InvalidSearch as exc:
            context["error"] = str(exc)
            return page(
                request,
                visitor,
                "compliance/access_log.html",
                context,
                status=422,
                title="Access log",
            )
        found = svc.access_log.search(principal, stated, query)
        more = None
        if found.more is not None:
            kept = {k: v for k, v in values.items() if v} | {"work_item": stated.work_item}
            more = urlencode(kept | {"before": found.more})
        context |= {"page_of": found, "more": more}
    return page(request, visitor, "compliance/access_log.html", context, title="Access log")


def _when(field: str, text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidSearch(field, f"{text!r} is not an ISO 8601 time") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


@router.get("/alerts", summary="Compliance alerts")
def alerts(
    request: Request,
    svc: Svc,
    visitor: CurrentVisitor,
    principal: SignedIn,
    stated: Audit,
    after: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    """Denials and break-glass uses, oldest first, a hundred a page."""
    found = svc.alerts.page(principal, stated, after=after, limit=100)
    more = found[-1].seq if len(found) == 100 else None
    context = _context(stated, alerts=found, more=more)
    return page(request, visitor, "compliance/alerts.html", context, title="Alerts")
