"""Compliance alerts (domain/alerts.py), stored in the deciding transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from forvalg.domain.alerts import Alert
from forvalg.store.tables import compliance_alerts


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
