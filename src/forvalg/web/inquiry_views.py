"""Inquiries as both audiences' pages show them: ordered by deadline, the ones still
waiting for an answer, and an answer's evidence bundle as a download or as the report
inside it.

The bundle is always the stored zip (`InquiryDesk.bundle`, read under the inquiry it
answers, so the wall decides exactly as for `GET /v1/inquiries/{id}/bundle`), and the
report is `report/report.html` read out of that zip as it is: never rebuilt, so what
the page shows is what the regulator was sent and what `forvalg-verify bundle` checks.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable

from fastapi import HTTPException
from fastapi.responses import Response

from forvalg.bootstrap import Services
from forvalg.compliance.inquiries import InquiryView, UnknownInquiry
from forvalg.domain.inquiries import Answer, DeadlineState
from forvalg.ledger.bundle import REPORT_DIR
from forvalg.wall import Principal
from forvalg.wall.principals import Statement

REPORT_HTML = REPORT_DIR + "report.html"
# The report is one self-contained file (inline style and SVG): it may load nothing,
# run nothing and post nothing, whatever it holds.
REPORT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
PENDING = (DeadlineState.DUE, DeadlineState.OVERDUE)


class NoReport(Exception):
    """The bundle holds no report (answered with `--report` naming none)."""


def by_deadline(views: Iterable[InquiryView]) -> list[InquiryView]:
    """Nearest deadline first (overdue ones are nearest)."""
    return sorted(views, key=lambda v: (v.deadline.due_at, v.id))


def pending(views: Iterable[InquiryView]) -> list[InquiryView]:
    """The inquiries not answered yet, nearest deadline first."""
    return [v for v in by_deadline(views) if v.deadline.state in PENDING]


def stored_bundle(
    svc: Services, principal: Principal, stated: Statement, inquiry_id: str
) -> tuple[Answer, bytes]:
    """The latest bundle answering the inquiry, as stored; a 404 for an unknown or
    unanswered inquiry or one the visitor may not read (the look is ledgered)."""
    try:
        return svc.inquiries.bundle(principal, inquiry_id, stated)
    except UnknownInquiry:
        raise HTTPException(404) from None


def download(answer: Answer, data: bytes) -> Response:
    """The zip as a file to save, named after the inquiry, with its SHA-256 (which the
    answer's ledger entry names)."""
    return Response(
        data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{answer.inquiry_id}.zip"',
            "X-Forvalg-Bundle-SHA256": answer.bundle_sha256,
            "Cache-Control": "no-store",
        },
    )


def report_page(answer: Answer, data: bytes) -> Response:
    """The bundled `report.html`, byte for byte. `NoReport` if the bundle has none."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        try:
            html = zf.read(REPORT_HTML)
        except KeyError:
            raise NoReport(answer.inquiry_id) from None
    return Response(
        html,
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": REPORT_POLICY,
            "X-Forvalg-Bundle-SHA256": answer.bundle_sha256,
            "Cache-Control": "no-store",
        },
    )
