"""Compliance alerts: raised by the wall on every denial and break-glass access."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from forvalg.store.tables import compliance_alerts


@dataclass(frozen=True, slots=True)
class Alert:
    at: datetime
    kind: str  # denial | break_glass
    principal: str
    purpose: str
    work_item: str | None
    category: str
    reason: str
    seq: int = 0  # given by the store


def add_alerts(session: Session, *, alerts: Sequence[Alert]) -> None:
    if alerts:
        session.execute(
            insert(compliance_alerts),
            [
                {
                    "at": a.at,
                    "kind": a.kind,
                    "principal": a.principal,
                    "purpose": a.purpose,
                    "work_item": a.work_item,
                    "category": a.category,
                    "reason": a.reason,
                }
                for a in alerts
            ],
        )


def alerts_page(session: Session, *, after: int | None, limit: int) -> list[Alert]:
    query = select(compliance_alerts).order_by(compliance_alerts.c.seq).limit(limit)
    if after is not None:
        query = query.where(compliance_alerts.c.seq > after)
    return [
        Alert(r.at, r.kind, r.principal, r.purpose, r.work_item, r.category, r.reason, r.seq)
        for r in session.execute(query)
    ]
