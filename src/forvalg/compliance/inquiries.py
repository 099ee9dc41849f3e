"""Regulator inquiries: the regulator asks (a question, a period, a deadline), compliance
answers with an evidence bundle that `forvalg-verify bundle` checks offline
(docs/INQUIRIES.md; the format in docs/LEDGER.md, "Evidence bundles").

`InquiryDesk.answer` signs a fresh checkpoint, then in one unit of work under the
inquiry (purpose `compliance_audit`, the inquiry as the work item, every read ledgered)
selects the entries `domain.inquiries.why_relevant` names, proves each against that
checkpoint, proves the checkpoint consistent with the last one the regulator was given
(the last answer's, or one the regulator hands back), builds the zip, records the
answer with the bundle's bytes, and only after the commit renames the zip into place.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from forvalg.compliance.report import build_report
from forvalg.compliance.report import report_files as compiled_report
from forvalg.compliance.report.findings import FindingsSummary
from forvalg.domain.calendar import WorkingCalendar
from forvalg.domain.inquiries import (
    MAX_BUNDLE_ENTRIES,
    SELECTION_RULE,
    Answer,
    Deadline,
    InquiryError,
    check_actor,
    check_bounded,
    check_period,
    check_report_files,
    deadline,
    why_relevant,
)
from forvalg.domain.work_items import WorkItem, WorkItemKind, new_work_item
from forvalg.ledger import bundle
from forvalg.ledger.merkle import leaf_hash
from forvalg.ledger.note import Checkpoint, NoteError
from forvalg.ledger.wire import ConsistencyProof, InclusionProof, b64
from forvalg.wall import AccessDenied, Principal, Purpose, Wall
from forvalg.wall.guard import Guard
from forvalg.wall.ledger import LedgerKeeper, SignedCheckpoint
from forvalg.wall.principals import INQUIRY_CLERK, UNSTATED, PrincipalKind, Statement
from forvalg.wall.work import new_work_item_id

__all__ = ["Bundle", "InquiryDesk", "InquiryError", "InquiryView", "UnknownInquiry"]


class UnknownInquiry(InquiryError):
    """No such inquiry (or no answer to it) for the caller: the two are not told apart."""


@dataclass(frozen=True, slots=True)
class InquiryView:
    """An inquiry with its answers (oldest first) and where it stands on its deadline."""

    item: WorkItem
    answers: tuple[Answer, ...]
    deadline: Deadline

    @property
    def id(self) -> str:
        return self.item.id

    @property
    def question(self) -> str:
        return self.item.summary


@dataclass(frozen=True, slots=True)
class _Plan:
    """What an answer is made of, decided before its unit of work."""

    item: WorkItem
    answered_by: str
    signed: SignedCheckpoint
    previous: Checkpoint | None
    note: str | None  # the previous checkpoint's signed note
    report: Mapping[str, bytes]


@dataclass(frozen=True, slots=True)
class Bundle:
    """An answer given: where its zip is, and what was recorded."""

    path: Path
    answer: Answer
    inquiry: WorkItem


def stamp(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _previous(note: bytes | str | None, keeper: LedgerKeeper, what: str) -> Checkpoint | None:
    if note is None:
        return None
    try:
        return Checkpoint.open(note, keeper.verifier, keeper.origin)
    except NoteError as exc:
        raise InquiryError(f"{what}: {exc}") from None


class InquiryDesk:
    def __init__(
        self, *, wall: Wall, keeper: LedgerKeeper, calendar: WorkingCalendar | None = None
    ) -> None:
        self._calendar = calendar or WorkingCalendar()
        self._wall = wall
        self._keeper = keeper

    def list(self, principal: Principal, stated: Statement = UNSTATED) -> list[InquiryView]:
        """Every inquiry, newest first, with its answers and deadline status."""
        with self._wall.access_for(principal, stated, Purpose.COMPLIANCE_AUDIT, "inquiries") as g:
            items, given = g.inquiries.find()
        now = self._wall.clock.now()
        views = []
        for item in items:
            mine = tuple(a for a in given if a.inquiry_id == item.id)
            first = mine[0].answered_at if mine else None
            due = item.due_at or item.opened_at
            views.append(InquiryView(item, mine, deadline(due, now=now, answered_at=first)))
        return views

    def open(
        self,
        *,
        question: str,
        period: str,
        due_at: datetime,
        by: str,
        principal: Principal = INQUIRY_CLERK,
    ) -> WorkItem:
        """Record an inquiry the regulator sent by letter (over HTTP the regulator opens
        its own: `POST /v1/work-items`). The entry names the person it is recorded for."""
        asked_by = check_actor(by)
        check_period(period)
        item = new_work_item(
            new_work_item_id(WorkItemKind.INQUIRY),
            WorkItemKind.INQUIRY,
            summary=question,
            opened_by=principal.id,
            opened_at=self._wall.clock.now(),
            period=period,
            due_at=due_at,
        )
        with self._wall.access(
            principal, Purpose.COMPLIANCE_AUDIT, item.id, opening=WorkItemKind.INQUIRY
        ) as guard:
            guard.work_items.open(item, {"asked_by": asked_by})
        return item

    def answer(
        self,
        inquiry_id: str,
        *,
        out: Path,
        by: str,
        report_files: Mapping[str, bytes] | None = None,
        previous_checkpoint: bytes | None = None,
        principal: Principal = INQUIRY_CLERK,
        findings: FindingsSummary | None = None,
    ) -> Bundle:
        """Answer the inquiry with an evidence bundle written to `out` (atomically: the
        zip appears only once the answer is recorded). The bundle holds `report_files`,
        or, if none are given, the compliance report of the inquiry's period made now
        (with `findings`, if given). `UnknownInquiry` if there is no such inquiry;
        `InquiryError` for bad input or too many entries."""
        answered_by = check_actor(by)
        report = dict(report_files or {})
        check_report_files(report)
        given = _previous(previous_checkpoint, self._keeper, "--previous")
        if not out.parent.is_dir():
            raise InquiryError(f"--out {out}: no directory {out.parent}")
        with self._wall.access(principal, Purpose.COMPLIANCE_AUDIT, inquiry_id) as guard:
            item = guard.inquiries.get(inquiry_id)
            last = guard.inquiries.last_answer() if item is not None and given is None else None
        if item is None:
            raise UnknownInquiry(f"no inquiry {inquiry_id}")
        if report_files is None and item.period is not None:
            report = compiled_report(
                build_report(
                    self._wall,
                    self._keeper,
                    item.period,
                    calendar=self._calendar,
                    findings=findings,
                )
            )
        previous: Checkpoint | None = None
        note: str | None = None
        if given is not None and previous_checkpoint is not None:
            previous, note = given, previous_checkpoint.decode()
        elif last is not None:
            previous = _previous(last.checkpoint, self._keeper, "the last answer's checkpoint")
            note = last.checkpoint
        signed = self._keeper.checkpoint()
        if previous is not None and previous.size > signed.checkpoint.size:
            raise InquiryError(
                f"the previous checkpoint (size {previous.size}) is larger than the log "
                f"({signed.checkpoint.size}): it is not this log's"
            )
        if previous is None or previous.size == 0:
            previous, note = None, None
        plan = _Plan(item, answered_by, signed, previous, note, report)
        partial = out.with_name(f".{out.name}.partial")
        try:
            with self._wall.access(principal, Purpose.COMPLIANCE_AUDIT, inquiry_id) as guard:
                made = self._make(guard, plan)
                if made is not None:
                    partial.write_bytes(made[1])
                    guard.inquiries.record_answer(*made)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        if made is None:  # the read is ledgered; the refusal comes after its commit
            check_bounded(MAX_BUNDLE_ENTRIES + 1, inquiry_id=inquiry_id)
            raise AssertionError  # check_bounded raised
        os.replace(partial, out)
        return Bundle(out, made[0], item)

    def _make(self, guard: Guard, plan: _Plan) -> tuple[Answer, bytes] | None:
        """Select, prove and pack; None if more entries are relevant than a bundle holds."""
        item, head = plan.item, plan.signed.checkpoint
        period = check_period(item.period or "")

        def keep(_index: int, event: dict[str, Any]) -> tuple[str, ...]:
            return why_relevant(event, inquiry_id=item.id, period=period)

        found = guard.inquiries.relevant(item.id, size=head.size, keep=keep)
        if len(found) > MAX_BUNDLE_ENTRIES:
            return None
        paths = guard.inquiries.audit_paths([i for i, _, _ in found], size=head.size)
        consistency = None
        if plan.previous is not None:
            hashes = guard.ledger.consistency(old=plan.previous.size, new=head.size)
            consistency = ConsistencyProof(plan.previous.size, head.size, hashes)
        now = self._wall.clock.now()
        selected = [
            bundle.Selected(
                i, e.encode(), InclusionProof(i, head.size, leaf_hash(e.encode()), paths[i]), why
            )
            for i, e, why in found
        ]
        status = deadline(item.due_at or now, now=now, answered_at=now)
        contents = bundle.Contents(
            inquiry=_inquiry_json(item, period.start, period.end),
            answer={
                "answered_at": stamp(now),
                "answered_by": plan.answered_by,
                "deadline_status": status.state.value,
                "deadline": status.describe(),
            },
            checkpoint=plan.signed.note,
            key=str(self._keeper.verifier),
            entries=selected,
            selection=SELECTION_RULE,
            previous=plan.note,
            consistency=consistency,
            report=plan.report,
        )
        data = bundle.build(contents, head)
        answer = Answer(
            inquiry_id=item.id,
            answered_at=now,
            answered_by=plan.answered_by,
            bundle_sha256=hashlib.sha256(data).hexdigest(),
            tree_size=head.size,
            root=b64(head.root),
            checkpoint=plan.signed.note,
            previous_size=None if plan.previous is None else plan.previous.size,
            entry_count=len(selected),
        )
        return answer, data

    def bundle(
        self, principal: Principal, inquiry_id: str, stated: Statement = UNSTATED
    ) -> tuple[Answer, bytes]:
        """The inquiry's latest bundle, for the regulator (or compliance) to download.
        Staff read it under the inquiry itself (named as the work item, or by default);
        a refusal, an unknown inquiry and one not yet answered are all `UnknownInquiry`."""
        if principal.kind is PrincipalKind.STAFF and not stated.work_item:
            stated = replace(stated, work_item=inquiry_id)
        try:
            with self._wall.access_for(
                principal, stated, Purpose.COMPLIANCE_AUDIT, inquiry_id
            ) as guard:
                found = guard.inquiries.bundle(inquiry_id)
        except AccessDenied:
            raise UnknownInquiry(f"no answered inquiry {inquiry_id}") from None
        if found is None:
            raise UnknownInquiry(f"no answered inquiry {inquiry_id}")
        return found


def _inquiry_json(item: WorkItem, start: datetime, end: datetime) -> dict[str, Any]:
    return {
        "id": item.id,
        "question": item.summary,
        "period": item.period,
        "period_start": stamp(start),
        "period_end": stamp(end),
        "opened_at": stamp(item.opened_at),
        "opened_by": item.opened_by,
        "deadline": None if item.due_at is None else stamp(item.due_at),
    }
