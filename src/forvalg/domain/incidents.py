"""Incidents: what compliance does with a finding (docs/INCIDENTS.md).

A finding of severity medium or above (INTERFACES §5) opens an incident. It moves

    open -> investigating -> reported (to the regulator) -> closed
                          \\-> closed (a false alarm, say)

and closing always needs a note saying why. Every change is an `IncidentEvent` in the
incident's history (who, when, from which state to which, the note), and is ledgered by
the wall in the transaction that makes it.

Re-detection. A finding's id is the same in every run (detector, test, subject), so the
next run finds the same finding again. `on_detection` says what that means:

- while an incident for the finding is not closed, no second one is opened: the open
  one takes the new severity, summary and statistics, and its history records the
  re-detection (and the evidence it added);
- once the finding's latest incident is closed, a new incident is opened only if the
  finding came back *more severe* than that incident was when it was closed; at the
  same or a lower severity the closing stands and nothing changes;
- a finding below the threshold (medium) never opens an incident, but does update an
  incident still open for it (the record then shows the signal fading).

Pure: values in, values out; the wall stores and ledgers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from forvalg.domain.statistics import Severity

MIN_SEVERITY = Severity.MEDIUM  # what opens an incident
MAX_NOTE = 2000
MAX_ACTOR = 80


class IncidentState(StrEnum):
    OPEN = "open"
    INVESTIGATING = "investigating"
    REPORTED = "reported"  # to the regulator
    CLOSED = "closed"


TRANSITIONS: Mapping[IncidentState, frozenset[IncidentState]] = {
    IncidentState.OPEN: frozenset({IncidentState.INVESTIGATING}),
    IncidentState.INVESTIGATING: frozenset({IncidentState.REPORTED, IncidentState.CLOSED}),
    IncidentState.REPORTED: frozenset({IncidentState.CLOSED}),
    IncidentState.CLOSED: frozenset(),
}
NEEDS_NOTE = frozenset({IncidentState.CLOSED})
# What the regulator may read: what was reported to it, and every closing (false alarms
# included: how a finding was dismissed is as much its business as what was reported).
REGULATOR_STATES = frozenset({IncidentState.REPORTED, IncidentState.CLOSED})


class IncidentError(ValueError):
    """A move or a value the incident rules refuse; the message says why."""


class IllegalTransition(IncidentError):
    pass


class NoteRequired(IncidentError):
    pass


class EventKind(StrEnum):
    OPENED = "opened"
    MOVED = "moved"
    REDETECTED = "redetected"


class Outcome(StrEnum):
    """What a detection does (`on_detection`)."""

    OPEN = "open"  # a new incident
    UPDATE = "update"  # the incident still open for the finding takes the new numbers
    KEEP_CLOSED = "keep_closed"  # closed, and the finding is no more severe than then
    BELOW = "below"  # below the threshold, and no incident open for it


@dataclass(frozen=True, slots=True)
class Detection:
    """A finding as the incident rules see it (compliance converts its `Finding`)."""

    finding_id: str
    detector: str
    severity: Severity
    subject: Mapping[str, str]
    summary: str
    statistics: Mapping[str, float | int]


@dataclass(frozen=True, slots=True)
class IncidentEvent:
    """One entry of an incident's history."""

    kind: EventKind
    at: datetime
    by: str
    from_state: IncidentState | None  # None when opened
    to_state: IncidentState
    note: str | None = None
    severity: Severity | None = None  # opened and re-detected: the finding's severity then
    statistics: Mapping[str, float | int] | None = None


@dataclass(frozen=True, slots=True)
class Incident:
    id: str
    finding_id: str
    detector: str
    severity: Severity  # the latest detection's
    subject: Mapping[str, str]
    summary: str  # the latest detection's
    statistics: Mapping[str, float | int]  # the latest detection's
    state: IncidentState
    opened_at: datetime
    updated_at: datetime
    history: tuple[IncidentEvent, ...] = ()

    def move(
        self, to: IncidentState, *, by: str, at: datetime, note: str | None = None
    ) -> tuple[Incident, IncidentEvent]:
        """The incident in state `to`, and the event that says so; `IllegalTransition`
        unless the life cycle allows the move, `NoteRequired` when closing without a note."""
        if to not in TRANSITIONS[self.state]:
            allowed = sorted(TRANSITIONS[self.state])
            onward = (
                f"it can only move to {' or '.join(allowed)}"
                if allowed
                else "a closed incident stays closed"
            )
            raise IllegalTransition(f"incident {self.id} is {self.state}: {onward}, not to {to}")
        text = clean_note(note)
        if to in NEEDS_NOTE and text is None:
            raise NoteRequired(f"closing incident {self.id} needs a note saying why")
        event = IncidentEvent(EventKind.MOVED, at, check_actor(by), self.state, to, text)
        moved = replace(self, state=to, updated_at=at, history=(*self.history, event))
        return moved, event

    def redetected(
        self, detection: Detection, *, by: str, at: datetime, new_evidence: int = 0
    ) -> tuple[Incident, IncidentEvent]:
        """The incident with the re-detected finding's severity, summary and statistics,
        and the history entry recording it (the state does not change)."""
        if detection.finding_id != self.finding_id:
            raise IncidentError(f"finding {detection.finding_id} is not incident {self.id}'s")
        if self.state is IncidentState.CLOSED:
            raise IncidentError(f"incident {self.id} is closed: a re-detection opens a new one")
        change = (
            f"severity {self.severity} -> {detection.severity}"
            if detection.severity is not self.severity
            else f"severity {detection.severity} unchanged"
        )
        note = f"re-detected: {change}; {new_evidence} new evidence item(s)"
        event = IncidentEvent(
            EventKind.REDETECTED,
            at,
            check_actor(by),
            self.state,
            self.state,
            note,
            detection.severity,
            dict(detection.statistics),
        )
        updated = replace(
            self,
            severity=detection.severity,
            summary=detection.summary,
            statistics=dict(detection.statistics),
            updated_at=at,
            history=(*self.history, event),
        )
        return updated, event


def open_incident(
    incident_id: str,
    detection: Detection,
    *,
    by: str,
    at: datetime,
    previous: Incident | None = None,
) -> Incident:
    """A new open incident for the detection; `previous` is the closed incident of the
    same finding it follows, if any (named in the opening note)."""
    note = None
    if previous is not None:
        note = (
            f"severity {detection.severity}, up from {previous.severity} when incident "
            f"{previous.id} was closed"
        )
    event = IncidentEvent(
        EventKind.OPENED,
        at,
        check_actor(by),
        None,
        IncidentState.OPEN,
        note,
        detection.severity,
        dict(detection.statistics),
    )
    return Incident(
        id=incident_id,
        finding_id=detection.finding_id,
        detector=detection.detector,
        severity=detection.severity,
        subject=dict(detection.subject),
        summary=detection.summary,
        statistics=dict(detection.statistics),
        state=IncidentState.OPEN,
        opened_at=at,
        updated_at=at,
        history=(event,),
    )


def on_detection(
    latest: Incident | None, detection: Detection, *, min_severity: Severity = MIN_SEVERITY
) -> Outcome:
    """What a detection does, given the latest incident of its finding (module docstring)."""
    if latest is not None and latest.finding_id != detection.finding_id:
        raise IncidentError(f"incident {latest.id} is not for finding {detection.finding_id}")
    if latest is not None and latest.state is not IncidentState.CLOSED:
        return Outcome.UPDATE
    if not detection.severity.at_least(min_severity):
        return Outcome.BELOW
    if latest is None or detection.severity.rank > latest.severity.rank:
        return Outcome.OPEN
    return Outcome.KEEP_CLOSED


def clean_note(note: str | None) -> str | None:
    """A note stripped (None if empty); `IncidentError` if too long or not text."""
    if note is None or not note.strip():
        return None
    text = note.strip()
    if len(text) > MAX_NOTE:
        raise IncidentError(f"a note has at most {MAX_NOTE} characters")
    if any(c < " " and c not in "\n\t" for c in text):
        raise IncidentError("a note may not contain control characters")
    return text


def check_actor(by: str) -> str:
    """Who made a change: a principal id or a person's name, 1-80 printable characters."""
    text = by.strip()
    if not text or len(text) > MAX_ACTOR or not text.isprintable():
        raise IncidentError(f"who made the change must be 1-{MAX_ACTOR} printable characters")
    return text


class EvidenceKind(StrEnum):
    CONTACT = "contact"  # a retail contact the finding rests on
    CPS_EVENT = "cps_event"  # a CPS event on a contacted line
    LEDGER_ENTRY = "ledger_entry"  # a ledger entry, with its inclusion proof and checkpoint


MAX_REFERENCE = 128


@dataclass(frozen=True, slots=True)
class Evidence:
    """One item of an incident's evidence: a copy (`payload`) of what it refers to,
    taken when it was attached. A ledger entry's payload is the entry's leaf data, its
    inclusion proof and the signed checkpoint the proof leads to."""

    kind: EvidenceKind
    reference: str  # contact id, event reference, ledger index: unique per kind
    payload: Mapping[str, Any]
    added_at: datetime | None = None

    def __post_init__(self) -> None:
        if not (0 < len(self.reference) <= MAX_REFERENCE) or not self.reference.isprintable():
            raise IncidentError(f"an evidence reference is 1-{MAX_REFERENCE} printable characters")

    @property
    def number(self) -> str | None:
        """The line a contact or CPS event is about (ledger entries name lines only by
        pseudonym, so they have none)."""
        if self.kind is EvidenceKind.LEDGER_ENTRY:
            return None
        value = self.payload.get("number")
        return value if isinstance(value, str) else None
