"""Incidents, their history and their evidence (`incidents`, `incident_events`,
`incident_evidence`, in the compliance zone; docs/INCIDENTS.md).

An incident's row carries its state and the latest detection's numbers; its history is
append-only (`seq` 1, 2, ... per incident) and so is its evidence: an item already
attached is skipped by `ON CONFLICT DO NOTHING`, so a re-detection adds only what is new.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, Row, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from forvalg.domain.incidents import (
    EventKind,
    Evidence,
    EvidenceKind,
    Incident,
    IncidentEvent,
    IncidentState,
)
from forvalg.domain.statistics import Severity
from forvalg.store.bulk import among, dialect_name
from forvalg.store.tables import incident_events, incident_evidence, incidents


def _event_row(incident_id: str, seq: int, event: IncidentEvent) -> dict[str, Any]:
    return {
        "incident_id": incident_id,
        "seq": seq,
        "kind": event.kind.value,
        "at": event.at,
        "by": event.by,
        "from_state": None if event.from_state is None else event.from_state.value,
        "to_state": event.to_state.value,
        "note": event.note,
        "severity": None if event.severity is None else event.severity.value,
        "statistics": None if event.statistics is None else dict(event.statistics),
    }


def add_incident(session: Session, *, incident: Incident) -> None:
    """Insert a new incident with its history so far."""
    session.execute(
        insert(incidents),
        {
            "id": incident.id,
            "finding_id": incident.finding_id,
            "detector": incident.detector,
            "severity": incident.severity.value,
            "subject": dict(incident.subject),
            "summary": incident.summary,
            "statistics": dict(incident.statistics),
            "state": incident.state.value,
            "opened_at": incident.opened_at,
            "updated_at": incident.updated_at,
        },
    )
    session.execute(
        insert(incident_events),
        [_event_row(incident.id, seq, e) for seq, e in enumerate(incident.history, 1)],
    )


def save_change(session: Session, *, incident: Incident) -> None:
    """Store the incident's new state and numbers and the last event of its history."""
    session.execute(
        update(incidents)
        .where(incidents.c.id == incident.id)
        .values(
            severity=incident.severity.value,
            summary=incident.summary,
            statistics=dict(incident.statistics),
            state=incident.state.value,
            updated_at=incident.updated_at,
        )
    )
    seq = len(incident.history)
    session.execute(insert(incident_events), _event_row(incident.id, seq, incident.history[-1]))


def _incident(row: Row[Any], history: Sequence[IncidentEvent]) -> Incident:
    return Incident(
        id=row.id,
        finding_id=row.finding_id,
        detector=row.detector,
        severity=Severity(row.severity),
        subject=dict(row.subject),
        summary=row.summary,
        statistics=dict(row.statistics),
        state=IncidentState(row.state),
        opened_at=row.opened_at,
        updated_at=row.updated_at,
        history=tuple(history),
    )


def _event(row: Row[Any]) -> IncidentEvent:
    return IncidentEvent(
        kind=EventKind(row.kind),
        at=row.at,
        by=row.by,
        from_state=None if row.from_state is None else IncidentState(row.from_state),
        to_state=IncidentState(row.to_state),
        note=row.note,
        severity=None if row.severity is None else Severity(row.severity),
        statistics=None if row.statistics is None else dict(row.statistics),
    )


def _histories(session: Session, ids: Sequence[str]) -> Mapping[str, list[IncidentEvent]]:
    found: dict[str, list[IncidentEvent]] = defaultdict(list)
    if not ids:
        return found
    rows = session.execute(
        select(incident_events)
        .where(among(session, incident_events.c.incident_id, ids))
        .order_by(incident_events.c.incident_id, incident_events.c.seq)
    )
    for row in rows:
        found[row.incident_id].append(_event(row))
    return found


def _load(session: Session, rows: Sequence[Row[Any]]) -> list[Incident]:
    histories = _histories(session, [r.id for r in rows])
    return [_incident(r, histories.get(r.id, [])) for r in rows]


def get_incident(session: Session, *, incident_id: str, lock: bool = False) -> Incident | None:
    """One incident with its history (its row locked for update when asked)."""
    query = select(incidents).where(incidents.c.id == incident_id)
    if lock:
        query = query.with_for_update()
    row = session.execute(query).first()
    return None if row is None else _load(session, [row])[0]


def latest_for(session: Session, *, finding_ids: Iterable[str]) -> dict[str, Incident]:
    """The most recently opened incident of each finding that has one."""
    ids = sorted(set(finding_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(incidents)
        .where(among(session, incidents.c.finding_id, ids))
        .order_by(incidents.c.finding_id, incidents.c.opened_at, incidents.c.id)
    ).all()
    latest = {r.finding_id: r for r in rows}  # the last of each finding's rows wins
    return {i.finding_id: i for i in _load(session, list(latest.values()))}


def list_incidents(
    session: Session, *, states: Collection[IncidentState] | None = None
) -> list[Incident]:
    """Incidents (in `states` if given), newest first, with their histories."""
    query = select(incidents).order_by(incidents.c.opened_at.desc(), incidents.c.id)
    if states is not None:
        query = query.where(incidents.c.state.in_([s.value for s in states]))
    return _load(session, session.execute(query).all())


def _insert_evidence(session: Session) -> Insert:
    if dialect_name(session) == "postgresql":
        return postgresql.insert(incident_evidence).on_conflict_do_nothing()
    return sqlite.insert(incident_evidence).on_conflict_do_nothing()


def add_evidence(
    session: Session, *, incident_id: str, items: Sequence[Evidence], at: datetime
) -> int:
    """Attach the items not yet attached to the incident; how many were new."""
    added = 0
    for item in items:  # a handful per incident: one statement each keeps the count exact
        statement = _insert_evidence(session).values(
            incident_id=incident_id,
            kind=item.kind.value,
            reference=item.reference,
            payload=dict(item.payload),
            added_at=at,
        )
        result = session.execute(statement.execution_options(preserve_rowcount=True))
        added += int(getattr(result, "rowcount", 0))
    return added


def evidence(session: Session, *, incident_id: str) -> list[Evidence]:
    """The incident's evidence, by kind and reference."""
    e = incident_evidence.c
    rows = session.execute(
        select(e.kind, e.reference, e.payload, e.added_at)
        .where(e.incident_id == incident_id)
        .order_by(e.kind, e.reference)
    )
    return [Evidence(EvidenceKind(r.kind), r.reference, dict(r.payload), r.added_at) for r in rows]
