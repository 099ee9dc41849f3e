"""The regulator's inquiries and the evidence bundles answering them, on both sides.

The regulator (`/regulator/inquiries…`, purpose `regulatory_inspection`) lists its
inquiries with their deadline status and answers, downloads each answer's bundle and
reads the report inside it: the reports compliance sent it. Compliance
(`/compliance/inquiries…`, purpose `compliance_audit`) lists every inquiry by deadline
and answers one with an evidence bundle, as the signed-in officer (the ledger names
them; the answer is read and recorded under the inquiry itself). A bundle or its report
is read under the inquiry it answers, as `GET /v1/inquiries/{id}/bundle` does: anyone
the wall refuses, or an inquiry not answered, is a 404 page.
"""

from __future__ import annotations

import tempfile
from pathlib import Path as FilePath
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response

from forvalg.compliance.inquiries import InquiryError, UnknownInquiry
from forvalg.wall import Purpose
from forvalg.wall.principals import Statement
from forvalg.web.inquiry_views import NoReport, by_deadline, download, report_page, stored_bundle
from forvalg.web.render import page, redirect
from forvalg.web.routes.compliance import Audit
from forvalg.web.routes.regulator import Inquiry
from forvalg.web.visitors import Csrf, CurrentVisitor, SignedIn, Svc, Visitor

router = APIRouter()
InquiryId = Annotated[str, Path(max_length=40)]
VERIFY = "forvalg-verify bundle FILE.zip --key key.pub"


def _under(stated: Statement) -> dict[str, str | None]:
    return {"item": stated.work_item, "q": urlencode({"work_item": stated.work_item})}


def _no_report(request: Request, visitor: Visitor, inquiry_id: str) -> Response:
    detail = f"The bundle answering {inquiry_id} holds no report: download it to see what it holds."
    context = {"status": 404, "heading": "No report", "detail": detail, "code": "E_NOT_FOUND"}
    return page(request, visitor, "error.html", context, status=404, title="No report")


# ---------------------------------------------------------------- the regulator


@router.get("/regulator/inquiries", summary="Regulator: inquiries and their answers")
def regulator_list(
    request: Request, svc: Svc, visitor: CurrentVisitor, principal: SignedIn, stated: Inquiry
) -> Response:
    """Newest first, with deadline status and each answer; one ledgered read."""
    views = svc.inquiries.list(principal, stated)
    context = _under(stated) | {"inquiries": views, "verify": VERIFY}
    return page(request, visitor, "regulator/inquiries.html", context, title="Inquiries")


@router.get("/regulator/inquiries/{item_id}", summary="An inquiry")
def regulator_inquiry(
    request: Request, svc: Svc, visitor: CurrentVisitor, principal: SignedIn, item_id: InquiryId
) -> Response:
    """Read under the inquiry itself: the question, period, deadline and its status,
    the answers and their bundles."""
    stated = Statement(Purpose.REGULATORY_INSPECTION, item_id)
    view = next((v for v in svc.inquiries.list(principal, stated) if v.id == item_id), None)
    if view is None:  # an audit named here: it is no inquiry
        raise HTTPException(404)
    context = _under(stated) | {"view": view, "inquiry": view.item, "verify": VERIFY}
    return page(request, visitor, "regulator/inquiry.html", context, title=f"Inquiry {item_id}")


@router.get("/regulator/inquiries/{item_id}/bundle", summary="Download an evidence bundle")
def regulator_bundle(svc: Svc, principal: SignedIn, item_id: InquiryId) -> Response:
    stated = Statement(Purpose.REGULATORY_INSPECTION, item_id)
    return download(*stored_bundle(svc, principal, stated, item_id))


@router.get("/regulator/inquiries/{item_id}/report", summary="The report in a bundle")
def regulator_report(
    request: Request, svc: Svc, visitor: CurrentVisitor, principal: SignedIn, item_id: InquiryId
) -> Response:
    stated = Statement(Purpose.REGULATORY_INSPECTION, item_id)
    try:
        return report_page(*stored_bundle(svc, principal, stated, item_id))
    except NoReport:
        return _no_report(request, visitor, item_id)


# ---------------------------------------------------------------- compliance


@router.get("/compliance/inquiries", summary="Compliance: inquiries by deadline")
def compliance_list(
    request: Request,
    svc: Svc,
    visitor: CurrentVisitor,
    principal: SignedIn,
    stated: Audit,
    answered: Annotated[str | None, Query(max_length=40)] = None,
    error: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    """Every inquiry, nearest deadline first (overdue ones on top), with the answer form."""
    views = by_deadline(svc.inquiries.list(principal, stated))
    context = {
        "audit": stated.work_item,
        "q": urlencode({"work_item": stated.work_item}),
        "inquiries": views,
        "answered": next((v for v in views if v.id == answered), None),
        "error": error,
        "verify": VERIFY,
    }
    return page(request, visitor, "compliance/inquiries.html", context, title="Inquiries")


@router.post(
    "/compliance/inquiries/{item_id}/answer",
    summary="Answer an inquiry with an evidence bundle",
    dependencies=[Csrf],
)
def compliance_answer(
    request: Request,
    svc: Svc,
    visitor: CurrentVisitor,
    principal: SignedIn,
    stated: Audit,
    item_id: InquiryId,
) -> Response:
    """The officer answers as themselves (purpose `compliance_audit`, the inquiry as the
    work item): the bundle, with the compliance report of the inquiry's period, is built
    and stored with the answer; the file written on the way is thrown away (the page
    offers the stored one). A refusal changes nothing and comes back with the reason."""
    back = {"work_item": stated.work_item}
    try:
        with tempfile.TemporaryDirectory(prefix="forvalg-answer-") as scratch:
            svc.inquiries.answer(
                item_id,
                out=FilePath(scratch) / "bundle.zip",
                by=principal.id,
                principal=principal,
            )
    except UnknownInquiry:
        raise HTTPException(404) from None
    except InquiryError as exc:
        query = urlencode(back | {"error": f"{item_id}: {exc}"})
        return redirect(request, visitor, f"/compliance/inquiries?{query}")
    query = urlencode(back | {"answered": item_id})
    return redirect(request, visitor, f"/compliance/inquiries?{query}#{item_id}")


@router.get("/compliance/inquiries/{item_id}/bundle", summary="Download an evidence bundle")
def compliance_bundle(svc: Svc, principal: SignedIn, item_id: InquiryId) -> Response:
    stated = Statement(Purpose.COMPLIANCE_AUDIT, item_id)
    return download(*stored_bundle(svc, principal, stated, item_id))


@router.get("/compliance/inquiries/{item_id}/report", summary="The report in a bundle")
def compliance_report(
    request: Request, svc: Svc, visitor: CurrentVisitor, principal: SignedIn, item_id: InquiryId
) -> Response:
    stated = Statement(Purpose.COMPLIANCE_AUDIT, item_id)
    try:
        return report_page(*stored_bundle(svc, principal, stated, item_id))
    except NoReport:
        return _no_report(request, visitor, item_id)
