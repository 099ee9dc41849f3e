"""/v1/inquiries: the regulator's inquiries with their deadlines and answers, and the
evidence bundles that answer them (docs/INQUIRIES.md). The regulator reads under an
inquiry or audit (purpose `regulatory_inspection`), compliance officers under an audit
or inquiry (purpose `compliance_audit`). A bundle is read under the inquiry it answers;
any other inquiry's bundle, one not answered yet, or a caller who may not read it: 404."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import Response
from pydantic import BaseModel, Field

from forvalg.api.deps import CurrentPrincipal, CurrentStatement, Svc
from forvalg.api.schemas import Problem
from forvalg.compliance.inquiries import InquiryView
from forvalg.domain.inquiries import Answer, DeadlineState

router = APIRouter(tags=["inquiries"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing or bad credential (E_AUTH)"},
    403: {
        "model": Problem,
        "description": (
            "Denied and ledgered: E_FORBIDDEN (the policy), E_PURPOSE_REQUIRED (no purpose or "
            "work item stated), E_WORK_ITEM_MISMATCH (an unknown or closed work item)"
        ),
    },
    422: {"model": Problem, "description": "Malformed request or header (E_VALIDATION)"},
}
InquiryId = Annotated[str, Path(max_length=40, description="The inquiry, INQ-…")]


class DeadlinePublic(BaseModel):
    state: DeadlineState
    days: int = Field(description="Days left (due), past (overdue) or late (answered late)")
    text: str = Field(description="In words: `due in 3 days`, `overdue by 2 days`, ...")
    due_at: datetime


class AnswerPublic(BaseModel):
    answered_at: datetime
    answered_by: str
    bundle_sha256: str
    tree_size: int = Field(description="The size of the checkpoint the bundle is proved against")
    root: str = Field(description="That checkpoint's root hash, base64")
    previous_size: int | None = Field(description="The checkpoint it proves consistency from")
    entry_count: int

    @classmethod
    def of(cls, answer: Answer) -> AnswerPublic:
        return cls(
            answered_at=answer.answered_at,
            answered_by=answer.answered_by,
            bundle_sha256=answer.bundle_sha256,
            tree_size=answer.tree_size,
            root=answer.root,
            previous_size=answer.previous_size,
            entry_count=answer.entry_count,
        )


class InquiryPublic(BaseModel):
    id: str
    question: str
    period: str | None
    opened_by: str
    opened_at: datetime
    closed_at: datetime | None
    deadline: DeadlinePublic
    answers: list[AnswerPublic] = Field(description="Oldest first; the last is current")

    @classmethod
    def of(cls, view: InquiryView) -> InquiryPublic:
        item, due = view.item, view.deadline
        return cls(
            id=item.id,
            question=item.summary,
            period=item.period,
            opened_by=item.opened_by,
            opened_at=item.opened_at,
            closed_at=item.closed_at,
            deadline=DeadlinePublic(
                state=due.state, days=due.days, text=due.describe(), due_at=due.due_at
            ),
            answers=[AnswerPublic.of(a) for a in view.answers],
        )


class InquiryList(BaseModel):
    items: list[InquiryPublic]


@router.get(
    "/v1/inquiries",
    summary="Inquiries and their deadlines",
    response_model=InquiryList,
    responses=ERRORS,
)
def list_inquiries(svc: Svc, principal: CurrentPrincipal, stated: CurrentStatement) -> InquiryList:
    """Every inquiry, newest first: the question, the period, the deadline and where it
    stands (due in N days, overdue, answered on time or late), and each answer given
    (the bundle's SHA-256 and the checkpoint it is proved against). The read is
    ledgered."""
    return InquiryList(items=[InquiryPublic.of(v) for v in svc.inquiries.list(principal, stated)])


@router.get(
    "/v1/inquiries/{inquiry_id}/bundle",
    summary="Download an inquiry's evidence bundle",
    response_class=Response,
    responses={
        **ERRORS,
        200: {"content": {"application/zip": {}}, "description": "The evidence bundle"},
        404: {
            "model": Problem,
            "description": "No answered inquiry by that id for the caller (E_NOT_FOUND)",
        },
    },
)
def get_bundle(
    svc: Svc, principal: CurrentPrincipal, stated: CurrentStatement, inquiry_id: InquiryId
) -> Response:
    """The latest evidence bundle answering the inquiry, exactly as recorded: check it
    offline with `forvalg-verify bundle FILE.zip --key key.pub`. Read under the inquiry
    itself (`X-Forvalg-Work-Item` the inquiry, or none stated); ledgered either way."""
    answer, data = svc.inquiries.bundle(principal, inquiry_id, stated)
    return Response(
        data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{inquiry_id}.zip"',
            "X-Forvalg-Bundle-SHA256": answer.bundle_sha256,
        },
    )
