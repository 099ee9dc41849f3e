"""The regulator's pages: the ledger (the current signed checkpoint, the verifier key,
the checkpoints signed so far and a consistency proof from an old size to now, checked
here with the log's key), the incidents reported to it or closed, and opening its
inquiries (question, period, deadline; their list, answers and bundles are in
`routes/inquiries.py`). Every page reads for purpose
`regulatory_inspection` under the inquiry or audit named (`?work_item=INQ-…|AUD-…`);
without one the page sends the regulator to open or name one."""

from __future__ import annotations

import base64
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from forvalg.compliance.incidents import UnknownIncident, verify_evidence
from forvalg.domain.inquiries import InquiryError, deadline_end_of
from forvalg.domain.work_items import InvalidWorkItem, WorkItemKind
from forvalg.ledger.merkle import ProofError, verify_consistency
from forvalg.ledger.note import Checkpoint, NoteError
from forvalg.wall import Purpose
from forvalg.wall.principals import Statement
from forvalg.web.render import page, redirect
from forvalg.web.visitors import Csrf, CurrentVisitor, SignedIn, Svc

router = APIRouter(prefix="/regulator")
INSPECTING = Statement(Purpose.REGULATORY_INSPECTION)


class NoInquiry(Exception):
    """A regulator page needs the inquiry or audit it is read under."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def inquiry(
    request: Request, work_item: Annotated[str | None, Query(max_length=80)] = None
) -> Statement:
    item = (work_item or "").strip()
    if not item:
        raise NoInquiry(request.url.path)
    return Statement(Purpose.REGULATORY_INSPECTION, item)


Inquiry = Annotated[Statement, Depends(inquiry)]


def install(web: FastAPI) -> None:
    @web.exception_handler(NoInquiry)
    async def _no_inquiry(_: Request, exc: NoInquiry) -> Response:
        return RedirectResponse("/regulator?" + urlencode({"next": exc.next_path}), 303)


def _context(stated: Statement, **values: Any) -> dict[str, Any]:
    return {"item": stated.work_item, "q": urlencode({"work_item": stated.work_item})} | values


@router.get("", summary="Regulator: start")
def start(
    request: Request,
    visitor: CurrentVisitor,
    _: SignedIn,
    next_path: Annotated[str, Query(alias="next", max_length=200)] = "/regulator/log",
) -> Response:
    target = next_path if next_path.startswith("/regulator/") else "/regulator/log"
    context = {"next": target, "values": {}, "errors": {}}
    return page(request, visitor, "regulator/start.html", context, title="Regulator")


@router.post("/inquiries", summary="Open an inquiry", dependencies=[Csrf])
def open_inquiry(
    request: Request,
    svc: Svc,
    visitor: CurrentVisitor,
    principal: SignedIn,
    question: Annotated[str, Form(max_length=2000)] = "",
    period: Annotated[str, Form(max_length=7)] = "",
    deadline: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """An inquiry: the question, the period it is about (YYYY-MM) and the deadline for
    the answer (a date; due at its end in Oslo, as `forvalg inquiries open --deadline`
    and the deadline status count). The opening is ledgered."""
    values = {"question": question, "period": period, "deadline": deadline}
    errors: dict[str, str] = {}
    due = None
    try:
        due = deadline_end_of(deadline.strip())
    except InquiryError:
        errors["deadline"] = "a date, YYYY-MM-DD"
    if not errors:
        try:
            item = svc.work.open(
                principal,
                INSPECTING,
                WorkItemKind.INQUIRY,
                summary=question,
                period=period,
                due_at=due,
            )
        except InvalidWorkItem as exc:
            field = {"summary": "question", "due_at": "deadline"}.get(exc.field, exc.field)
            errors[field] = str(exc)
    if errors:
        context = {"next": "/regulator/log", "values": values, "errors": errors}
        return page(
            request, visitor, "regulator/start.html", context, status=422, title="Regulator"
        )
    return redirect(request, visitor, f"/regulator/inquiries/{item.id}?work_item={item.id}")


@router.post("/audits", summary="Open an audit", dependencies=[Csrf])
def open_audit(
    request: Request,
    svc: Svc,
    visitor: CurrentVisitor,
    principal: SignedIn,
    summary: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    item = svc.work.open(
        principal, INSPECTING, WorkItemKind.AUDIT, summary=summary.strip() or "inspection"
    )
    return redirect(request, visitor, "/regulator/log?" + urlencode({"work_item": item.id}))


@router.get("/log", summary="The ledger: checkpoint, key, consistency")
def log(
    request: Request,
    svc: Svc,
    visitor: CurrentVisitor,
    principal: SignedIn,
    stated: Inquiry,
    old_size: Annotated[int | None, Query(alias="from", ge=0)] = None,
    old_note: Annotated[str, Query(alias="previous", max_length=4000)] = "",
) -> Response:
    """The consistency form takes a size signed before (from the list) or the regulator's
    own last checkpoint pasted whole; the proof is fetched and checked against the two
    signed roots with the log's key, as `forvalg-verify consistency` does."""
    current = svc.transparency.checkpoint(principal, stated)
    key = svc.transparency.verifier_key(principal, stated)
    history = svc.transparency.checkpoints(principal, stated, limit=20)
    verifier = svc.incidents.verifier
    check = None
    if old_note.strip() or old_size is not None:
        check = _consistency(
            svc, principal, stated, current.checkpoint, history, old_size, old_note
        )
    context = _context(
        stated,
        current=current,
        root=base64.b64encode(current.checkpoint.root).decode(),
        key=key,
        history=history,
        check=check,
        old_note=old_note,
        old_size=old_size,
        verifier_name=verifier.name,
    )
    return page(request, visitor, "regulator/log.html", context, title="The ledger")


def _consistency(
    svc: Any,
    principal: Any,
    stated: Statement,
    new: Checkpoint,
    history: list[Any],
    old_size: int | None,
    old_note: str,
) -> dict[str, Any]:
    verifier = svc.incidents.verifier
    try:
        if old_note.strip():
            old = Checkpoint.open(old_note.replace("\r\n", "\n").strip() + "\n", verifier)
        else:
            signed = next((h for h in history if h.size == old_size), None)
            if signed is None:
                return {"ok": False, "message": f"no checkpoint of size {old_size} listed"}
            old = Checkpoint.open(signed.note, verifier)
    except NoteError as exc:
        return {"ok": False, "message": f"the old checkpoint does not verify: {exc}"}
    if old.size > new.size:
        return {"ok": False, "message": f"size {old.size} is beyond the tree ({new.size})"}
    proof = svc.transparency.consistency(principal, old.size, new.size, stated)
    hashes = [base64.b64encode(h).decode() for h in proof.hashes]
    try:
        verify_consistency(old.size, new.size, old.root, new.root, proof.hashes)
    except ProofError as exc:
        return {"ok": False, "message": str(exc), "hashes": hashes, "old": old}
    return {"ok": True, "message": "consistent", "hashes": hashes, "old": old, "new": new}


@router.get("/incidents", summary="Reported incidents")
def incidents(
    request: Request, svc: Svc, visitor: CurrentVisitor, principal: SignedIn, stated: Inquiry
) -> Response:
    found = svc.incidents.find(principal, stated)
    context = _context(stated, incidents=found)
    return page(request, visitor, "regulator/incidents.html", context, title="Incidents")


@router.get("/incidents/{incident_id}", summary="A reported incident")
def incident(
    request: Request,
    svc: Svc,
    visitor: CurrentVisitor,
    principal: SignedIn,
    stated: Inquiry,
    incident_id: Annotated[str, Path(max_length=40)],
) -> Response:
    try:
        record = svc.incidents.show(principal, incident_id, stated)
    except UnknownIncident:
        raise HTTPException(404) from None
    checks = {c.reference: c for c in verify_evidence(record.evidence, svc.incidents.verifier)}
    context = _context(stated, record=record, incident=record.incident, checks=checks)
    title = f"Incident {incident_id}"
    return page(request, visitor, "regulator/incident.html", context, title=title)
