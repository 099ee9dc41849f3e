"""Regulator inquiries (work items of kind `inquiry`), their answers, and the scan of the
ledger for the entries an answer's evidence bundle holds (docs/INQUIRIES.md)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from forvalg.domain.inquiries import Answer
from forvalg.domain.work_items import WorkItem, WorkItemKind
from forvalg.store.ledger import iter_entries
from forvalg.store.tables import inquiry_answers, work_items

# Given an entry's index and its event object: why it is relevant (empty: it is not).
Keep = Callable[[int, dict[str, Any]], Sequence[str]]

_ANSWER_COLUMNS = [c for c in inquiry_answers.c if c.name != "bundle"]


def list_inquiries(session: Session) -> list[WorkItem]:
    """Every inquiry, newest first."""
    rows = session.execute(
        select(work_items)
        .where(work_items.c.kind == WorkItemKind.INQUIRY.value)
        .order_by(work_items.c.opened_at.desc(), work_items.c.id)
    )
    return [
        WorkItem(
            id=r.id,
            kind=WorkItemKind.INQUIRY,
            summary=r.summary,
            opened_by=r.opened_by,
            opened_at=r.opened_at,
            period=r.period,
            due_at=r.due_at,
            closed_at=r.closed_at,
        )
        for r in rows
    ]


def _answer(row: Any) -> Answer:
    return Answer(
        inquiry_id=row.inquiry_id,
        answered_at=row.answered_at,
        answered_by=row.answered_by,
        bundle_sha256=row.bundle_sha256,
        tree_size=row.tree_size,
        root=row.root,
        checkpoint=row.checkpoint,
        previous_size=row.previous_size,
        entry_count=row.entry_count,
        seq=row.seq,
    )


def add_answer(session: Session, *, answer: Answer, bundle: bytes) -> None:
    session.execute(
        insert(inquiry_answers).values(
            inquiry_id=answer.inquiry_id,
            answered_at=answer.answered_at,
            answered_by=answer.answered_by,
            bundle_sha256=answer.bundle_sha256,
            tree_size=answer.tree_size,
            root=answer.root,
            checkpoint=answer.checkpoint,
            previous_size=answer.previous_size,
            entry_count=answer.entry_count,
            bundle=bundle,
        )
    )


def answers(session: Session) -> list[Answer]:
    """Every answer, oldest first (the bundles' bytes are not read)."""
    rows = session.execute(select(*_ANSWER_COLUMNS).order_by(inquiry_answers.c.seq))
    return [_answer(r) for r in rows]


def latest_answer(session: Session) -> Answer | None:
    """The last answer given to any inquiry: its checkpoint is the last the regulator
    was given."""
    row = session.execute(
        select(*_ANSWER_COLUMNS).order_by(inquiry_answers.c.seq.desc()).limit(1)
    ).first()
    return None if row is None else _answer(row)


def latest_bundle(session: Session, *, inquiry_id: str) -> tuple[Answer, bytes] | None:
    """The inquiry's latest answer and its bundle's bytes, or None if it has none."""
    row = session.execute(
        select(inquiry_answers)
        .where(inquiry_answers.c.inquiry_id == inquiry_id)
        .order_by(inquiry_answers.c.seq.desc())
        .limit(1)
    ).first()
    return None if row is None else (_answer(row), bytes(row.bundle))


def relevant_entries(
    session: Session, *, end: int, keep: Keep
) -> list[tuple[int, str, tuple[str, ...]]]:
    """(index, entry, why) of every entry of [0, end) that `keep` gives a reason for: one
    pass over the tree, a chunk at a time, like an export."""
    found = []
    for index, text in enumerate(iter_entries(session, end=end)):
        why = keep(index, json.loads(text)["event"])
        if why:
            found.append((index, text, tuple(why)))
    return found
