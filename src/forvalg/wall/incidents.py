"""Incidents behind the wall (docs/INCIDENTS.md): every read and every change is a
decision, ledgered in the transaction that makes the change.

Categories: the incident, its state and history are `compliance.incident`; its evidence
(copies of CPS events, retail contacts and ledger entries) is `cps.evidence`, a decision
of its own, naming the lines the evidence is about. A move's entry carries the incident,
the states from and to, who moved it and the SHA-256 of the note (the note itself may
name people; the digest lets an auditor check the stored note was not changed later).

The regulator's grant has the row filter `reported`: it sees an incident only once it is
reported or closed; any other is, to it, not there (as on PostgreSQL, where row-level
security hides the rows from its zone).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from forvalg.domain.categories import Category
from forvalg.domain.incidents import (
    REGULATOR_STATES,
    Detection,
    Evidence,
    Incident,
    IncidentError,
    IncidentState,
)
from forvalg.domain.reasons import ReasonCode
from forvalg.store import incidents as incident_store
from forvalg.wall.policy import Action, Scope

if TYPE_CHECKING:
    from forvalg.wall.guard import Guard, Permit


class UnknownIncident(IncidentError):
    """No such incident, or none the caller may see (the two are not told apart)."""

    def __init__(self, incident_id: str) -> None:
        super().__init__(f"no incident {incident_id}")
        self.incident_id = incident_id


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """An incident with its history and its evidence."""

    incident: Incident
    evidence: tuple[Evidence, ...]


def lines_of(items: Iterable[Evidence]) -> list[str]:
    return sorted({n for e in items if (n := e.number) is not None})


def note_digest(note: str | None) -> str | None:
    return None if note is None else hashlib.sha256(note.encode()).hexdigest()


class GuardedIncidents:
    def __init__(self, guard: Guard) -> None:
        self._g = guard

    def _visible(self, permit: Permit, incident: Incident | None) -> Incident | None:
        if incident is None:
            return None
        if permit.scope is Scope.REPORTED and incident.state not in REGULATOR_STATES:
            return None
        return incident

    def _reader(self, category: Category) -> Permit:
        permit = self._g.permit(Action.READ, category)
        if permit.scope is Scope.OWN:
            self._g.refuse(permit, ReasonCode.E_FORBIDDEN, "incidents are nobody's own rows")
        return permit

    # ------------------------------------------------------------------ reads

    def latest(self, finding_ids: Iterable[str]) -> dict[str, Incident]:
        """The latest incident of each finding that has one (for re-detection)."""
        ids = sorted(set(finding_ids))
        permit = self._reader(Category.INCIDENT)
        found = incident_store.latest_for(self._g.session, finding_ids=ids)
        visible = {f: i for f, i in found.items() if self._visible(permit, i) is not None}
        self._g.record(permit, (), {"findings": len(ids), "incidents": len(visible)})
        return visible

    def find(self, state: IncidentState | None = None) -> list[Incident]:
        """Incidents, newest first (in `state` if given), as far as the caller may see."""
        permit = self._reader(Category.INCIDENT)
        states: set[IncidentState] | None = None if state is None else {state}
        if permit.scope is Scope.REPORTED:
            states = set(REGULATOR_STATES) if states is None else states & REGULATOR_STATES
        found = (
            incident_store.list_incidents(self._g.session, states=states)
            if states is None or states
            else []
        )
        detail = {"state": None if state is None else state.value, "incidents": len(found)}
        self._g.record(permit, (), detail)
        return found

    def show(self, incident_id: str) -> IncidentRecord | None:
        """One incident with its history and evidence: two decisions, the incident's and
        the evidence's (which names the lines the evidence is about). None if there is
        no such incident for the caller; the look is ledgered all the same."""
        g = self._g
        permit = self._reader(Category.INCIDENT)
        stored = incident_store.get_incident(g.session, incident_id=incident_id)
        found = self._visible(permit, stored)
        g.record(permit, (), {"incident": incident_id, "found": found is not None})
        if found is None:
            return None
        shown = self._reader(Category.EVIDENCE)
        items = incident_store.evidence(g.session, incident_id=incident_id)
        g.record(shown, lines_of(items), {"incident": incident_id, "items": len(items)})
        return IncidentRecord(found, tuple(items))

    # ------------------------------------------------------------------ changes

    def _attach(self, incident_id: str, items: Sequence[Evidence]) -> int:
        if not items:
            return 0
        g = self._g
        permit = g.permit(Action.WRITE, Category.EVIDENCE)
        added = incident_store.add_evidence(
            g.session, incident_id=incident_id, items=items, at=g.wall.clock.now()
        )
        detail = {"incident": incident_id, "offered": len(items), "added": added}
        g.record(permit, lines_of(items), detail)
        return added

    def open(self, incident: Incident, evidence: Sequence[Evidence] = ()) -> int:
        """Store a new incident (from `domain.incidents.open_incident`) and attach its
        evidence; how many evidence items were stored."""
        g = self._g
        permit = g.permit(Action.WRITE, Category.INCIDENT)
        incident_store.add_incident(g.session, incident=incident)
        opened = incident.history[-1]
        detail: dict[str, Any] = {
            "incident": incident.id,
            "finding": incident.finding_id,
            "from": None,
            "to": incident.state.value,
            "severity": incident.severity.value,
            "by": opened.by,
        }
        g.record(permit, (), detail)
        return self._attach(incident.id, evidence)

    def redetect(
        self, incident_id: str, detection: Detection, evidence: Sequence[Evidence] = ()
    ) -> tuple[Incident, int]:
        """Record a re-detection of the incident's finding: the new numbers, the new
        evidence, a history entry saying both; the incident, and how many evidence items
        were new."""
        g = self._g
        permit = g.permit(Action.WRITE, Category.INCIDENT)
        current = incident_store.get_incident(g.session, incident_id=incident_id, lock=True)
        if current is None:
            raise UnknownIncident(incident_id)
        added = self._attach(incident_id, evidence)
        updated, event = current.redetected(
            detection, by=g.principal.id, at=g.wall.clock.now(), new_evidence=added
        )
        incident_store.save_change(g.session, incident=updated)
        detail = {
            "incident": incident_id,
            "finding": current.finding_id,
            "event": event.kind.value,
            "from": current.state.value,
            "to": updated.state.value,
            "severity": updated.severity.value,
            "previous_severity": current.severity.value,
            "evidence_added": added,
            "by": event.by,
        }
        g.record(permit, (), detail)
        return updated, added

    def move(
        self, incident_id: str, to: IncidentState, *, by: str, note: str | None = None
    ) -> Incident:
        """Move the incident (locked for the move) to `to`; `UnknownIncident`, or the
        life cycle's `IllegalTransition` / `NoteRequired`, change nothing."""
        g = self._g
        permit = g.permit(Action.WRITE, Category.INCIDENT)
        current = self._visible(
            permit, incident_store.get_incident(g.session, incident_id=incident_id, lock=True)
        )
        if current is None:
            raise UnknownIncident(incident_id)
        moved, event = current.move(to, by=by, at=g.wall.clock.now(), note=note)
        incident_store.save_change(g.session, incident=moved)
        detail = {
            "incident": incident_id,
            "finding": current.finding_id,
            "from": current.state.value,
            "to": moved.state.value,
            "by": event.by,
            "note_sha256": note_digest(event.note),
        }
        g.record(permit, (), detail)
        return moved
