"""Preselection history, bitemporal: valid time and recorded time."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import pyarrow as pa
from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from forvalg.domain.preselection import Closed, Opened, Preselection
from forvalg.store.bulk import among, insert_rows
from forvalg.store.mapping import preselection_from_row
from forvalg.store.tables import preselections


def current(session: Session, *, numbers: Iterable[str]) -> dict[str, Preselection]:
    nums = list(numbers)
    if not nums:
        return {}
    rows = (
        session.execute(
            select(preselections).where(
                among(session, preselections.c.number, nums), preselections.c.valid_to.is_(None)
            )
        )
        .mappings()
        .all()
    )
    return {r["number"]: preselection_from_row(r) for r in rows}


def valid_at(
    session: Session, *, number: str, at: datetime, known_at: datetime | None = None
) -> Preselection | None:
    """The preselection in force at `at`, as forvalg knew it at `known_at` (default: now)."""
    p = preselections.c
    query = select(preselections).where(p.number == number, p.valid_from <= at)
    if known_at is None:
        query = query.where(or_(p.valid_to.is_(None), p.valid_to > at))
    else:
        query = query.where(
            p.recorded_at <= known_at,
            or_(p.valid_to.is_(None), p.valid_to > at, p.closed_at > known_at),
        )
    row = session.execute(query.order_by(p.valid_from.desc()).limit(1)).mappings().first()
    return None if row is None else preselection_from_row(row)


def apply_changes(
    session: Session,
    *,
    closed: Sequence[Closed],
    opened: Sequence[Opened],
    recorded_at: datetime,
) -> None:
    """Close current periods first, then open new ones (the unique index needs that order)."""
    if closed:
        session.connection().execute(
            update(preselections).where(
                and_(
                    preselections.c.number == bindparam("b_number"),
                    preselections.c.valid_to.is_(None),
                )
            ),
            [
                {
                    "b_number": c.number,
                    "valid_to": c.valid_to,
                    "closed_at": recorded_at,
                    "closed_by_order": c.order_id,
                }
                for c in closed
            ],
        )
    if opened:
        insert_rows(
            session,
            preselections,
            [
                {
                    "number": o.preselection.number,
                    "operator_id": o.preselection.operator_id,
                    "option": o.preselection.option.value,
                    "valid_from": o.preselection.valid_from,
                    "order_id": o.preselection.order_id,
                    "recorded_at": recorded_at,
                }
                for o in opened
            ],
        )


def count_current(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(preselections.c.operator_id, func.count())
        .where(preselections.c.valid_to.is_(None))
        .group_by(preselections.c.operator_id)
    ).all()
    return {r[0]: r[1] for r in rows}


def history(session: Session) -> pa.Table:
    """Every preselection period as it is known now, one row each (the rating engine's
    HISTORY schema: number, operator_id, option, valid_from, valid_to, order_id)."""
    p = preselections.c
    rows = session.execute(
        select(p.number, p.operator_id, p.option, p.valid_from, p.valid_to, p.order_id).order_by(
            p.number, p.valid_from
        )
    ).all()
    columns = list(zip(*rows, strict=True)) if rows else [()] * 6
    stamp = pa.timestamp("us", tz="UTC")
    return pa.table(
        {
            "number": pa.array(columns[0], pa.string()),
            "operator_id": pa.array(columns[1], pa.string()),
            "option": pa.array(columns[2], pa.string()),
            "valid_from": pa.array(columns[3], stamp),
            "valid_to": pa.array(columns[4], stamp),
            "order_id": pa.array(columns[5], pa.string()),
        }
    )
