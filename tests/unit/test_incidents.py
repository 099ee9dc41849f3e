"""The incident life cycle (domain/incidents.py): the allowed moves and no others,
closing needs a note, a history entry per change, and the re-detection rule. A
hypothesis property drives random sequences of moves and re-detections: an incident
never reaches a state by a move the life cycle does not allow, and its history always
retells exactly how it got there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forvalg.domain.incidents import (
    MAX_NOTE,
    REGULATOR_STATES,
    TRANSITIONS,
    Detection,
    EventKind,
    Evidence,
    EvidenceKind,
    IllegalTransition,
    Incident,
    IncidentError,
    IncidentState,
    NoteRequired,
    Outcome,
    on_detection,
    open_incident,
)
from forvalg.domain.statistics import Severity

S = IncidentState
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def detection(severity: Severity = Severity.HIGH, finding: str = "targeting-0123") -> Detection:
    return Detection(
        finding_id=finding,
        detector="targeting",
        severity=severity,
        subject={"campaign_id": "WB"},
        summary="Campaign WB contacted lines after a CPS event 3.6 times as often.",
        statistics={"p_value": 1e-9, "lift": 3.6, "n": 120},
    )


def opened(severity: Severity = Severity.HIGH) -> Incident:
    return open_incident("INC-000000000001", detection(severity), by="system:detector", at=T0)


def test_an_opened_incident_is_open_with_one_history_entry() -> None:
    incident = opened()
    assert (incident.state, incident.severity, incident.finding_id) == (
        S.OPEN,
        Severity.HIGH,
        "targeting-0123",
    )
    (event,) = incident.history
    assert (event.kind, event.from_state, event.to_state, event.by) == (
        EventKind.OPENED,
        None,
        S.OPEN,
        "system:detector",
    )
    assert event.severity is Severity.HIGH
    assert event.statistics == {"p_value": 1e-9, "lift": 3.6, "n": 120}


def test_the_whole_way_and_the_false_alarm() -> None:
    incident = opened()
    at = T0
    for to, note in ((S.INVESTIGATING, None), (S.REPORTED, "sent to Nkom"), (S.CLOSED, "done")):
        at += timedelta(hours=1)
        incident, event = incident.move(to, by="user:kari", at=at, note=note)
        assert (event.to_state, event.note, event.at) == (to, note, at)
    assert [e.to_state for e in incident.history] == [S.OPEN, S.INVESTIGATING, S.REPORTED, S.CLOSED]
    assert incident.updated_at == at
    false_alarm, _ = opened().move(S.INVESTIGATING, by="user:kari", at=T0)
    closed, event = false_alarm.move(S.CLOSED, by="user:kari", at=T0, note="a retention list")
    assert (closed.state, event.from_state, event.note) == (
        S.CLOSED,
        S.INVESTIGATING,
        "a retention list",
    )


@pytest.mark.parametrize(
    ("start", "to"),
    [
        (S.OPEN, S.REPORTED),
        (S.OPEN, S.CLOSED),
        (S.OPEN, S.OPEN),
        (S.INVESTIGATING, S.OPEN),
        (S.INVESTIGATING, S.INVESTIGATING),
        (S.REPORTED, S.INVESTIGATING),
        (S.REPORTED, S.OPEN),
        (S.CLOSED, S.OPEN),
        (S.CLOSED, S.INVESTIGATING),
    ],
)
def test_illegal_moves_are_refused_with_what_is_allowed(start: S, to: S) -> None:
    incident = Incident(**_at(start))  # type: ignore[arg-type]
    with pytest.raises(IllegalTransition, match=f"is {start}: .*not to {to}") as refused:
        incident.move(to, by="user:kari", at=T0, note="because")
    if start is S.CLOSED:
        assert "a closed incident stays closed" in str(refused.value)
    else:
        assert " or ".join(sorted(TRANSITIONS[start])) in str(refused.value)


def _at(state: S) -> dict[str, object]:
    base = opened()
    return {
        "id": base.id,
        "finding_id": base.finding_id,
        "detector": base.detector,
        "severity": base.severity,
        "subject": base.subject,
        "summary": base.summary,
        "statistics": base.statistics,
        "state": state,
        "opened_at": base.opened_at,
        "updated_at": base.updated_at,
        "history": base.history,
    }


@pytest.mark.parametrize("note", [None, "", "   \n"])
def test_closing_needs_a_note(note: str | None) -> None:
    investigating, _ = opened().move(S.INVESTIGATING, by="user:kari", at=T0)
    with pytest.raises(NoteRequired, match="needs a note"):
        investigating.move(S.CLOSED, by="user:kari", at=T0, note=note)
    reported, _ = investigating.move(S.REPORTED, by="user:kari", at=T0)
    with pytest.raises(NoteRequired):
        reported.move(S.CLOSED, by="user:kari", at=T0, note=note)


def test_notes_and_actors_are_checked() -> None:
    incident = opened()
    with pytest.raises(IncidentError, match="at most"):
        incident.move(S.INVESTIGATING, by="user:kari", at=T0, note="x" * (MAX_NOTE + 1))
    with pytest.raises(IncidentError, match="control characters"):
        incident.move(S.INVESTIGATING, by="user:kari", at=T0, note="a\x1b[31mred")
    with pytest.raises(IncidentError, match="printable"):
        incident.move(S.INVESTIGATING, by=" ", at=T0)
    _moved, event = incident.move(S.INVESTIGATING, by=" Kari ", at=T0, note="  looking\n")
    assert (event.by, event.note) == ("Kari", "looking")


def test_a_redetection_updates_the_numbers_and_says_so_in_the_history() -> None:
    incident, _ = opened(Severity.MEDIUM).move(S.INVESTIGATING, by="user:kari", at=T0)
    again = detection(Severity.CRITICAL)
    later = T0 + timedelta(days=1)
    updated, event = incident.redetected(again, by="system:detector", at=later, new_evidence=3)
    assert (updated.state, updated.severity, updated.updated_at) == (
        S.INVESTIGATING,
        Severity.CRITICAL,
        later,
    )
    assert (event.kind, event.from_state, event.to_state) == (
        EventKind.REDETECTED,
        S.INVESTIGATING,
        S.INVESTIGATING,
    )
    assert event.note == "re-detected: severity medium -> critical; 3 new evidence item(s)"
    assert event.severity is Severity.CRITICAL
    with pytest.raises(IncidentError, match="is not incident"):
        incident.redetected(detection(finding="timing-1"), by="system:detector", at=later)
    closed, _ = incident.move(S.CLOSED, by="user:kari", at=later, note="ok")
    with pytest.raises(IncidentError, match="opens a new one"):
        closed.redetected(again, by="system:detector", at=later)


def _closed(severity: Severity) -> Incident:
    incident, _ = opened(severity).move(S.INVESTIGATING, by="user:kari", at=T0)
    return incident.move(S.CLOSED, by="user:kari", at=T0, note="false alarm")[0]


def test_the_redetection_rule() -> None:
    assert on_detection(None, detection(Severity.MEDIUM)) is Outcome.OPEN
    assert on_detection(None, detection(Severity.LOW)) is Outcome.BELOW
    assert on_detection(None, detection(Severity.INFO)) is Outcome.BELOW
    # Not closed: never a second incident, whatever the severity.
    for state in (S.OPEN, S.INVESTIGATING, S.REPORTED):
        for severity in Severity:
            live = Incident(**_at(state))  # type: ignore[arg-type]
            assert on_detection(live, detection(severity)) is Outcome.UPDATE
    # Closed: a new incident only if the finding came back more severe.
    closed = _closed(Severity.HIGH)
    assert on_detection(closed, detection(Severity.CRITICAL)) is Outcome.OPEN
    assert on_detection(closed, detection(Severity.HIGH)) is Outcome.KEEP_CLOSED
    assert on_detection(closed, detection(Severity.MEDIUM)) is Outcome.KEEP_CLOSED
    assert on_detection(closed, detection(Severity.LOW)) is Outcome.BELOW
    # The threshold is a parameter.
    assert on_detection(None, detection(Severity.LOW), min_severity=Severity.LOW) is Outcome.OPEN
    with pytest.raises(IncidentError, match="not for finding"):
        on_detection(closed, detection(finding="other"))


def test_a_reopening_names_the_closed_incident() -> None:
    closed = _closed(Severity.MEDIUM)
    again = open_incident(
        "INC-000000000002", detection(Severity.HIGH), by="system:detector", at=T0, previous=closed
    )
    assert again.history[0].note == (
        "severity high, up from medium when incident INC-000000000001 was closed"
    )


def test_the_regulator_sees_reported_and_closed_incidents() -> None:
    assert frozenset({S.REPORTED, S.CLOSED}) == REGULATOR_STATES


def test_evidence_names_its_line_except_ledger_entries() -> None:
    contact = Evidence(EvidenceKind.CONTACT, "crm:c1", {"number": "22334455"})
    event = Evidence(EvidenceKind.CPS_EVENT, "o1:ORDER_RECEIVED", {"number": "22334466"})
    entry = Evidence(EvidenceKind.LEDGER_ENTRY, "7", {"entry": "{}", "number": "1"})
    assert (contact.number, event.number, entry.number) == ("22334455", "22334466", None)
    with pytest.raises(IncidentError, match="reference"):
        Evidence(EvidenceKind.CONTACT, "", {})
    with pytest.raises(IncidentError, match="reference"):
        Evidence(EvidenceKind.CONTACT, "x" * 129, {})


# ---------------------------------------------------------------- random sequences

STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("move"), st.sampled_from(IncidentState), st.sampled_from([None, "n"])),
        st.tuples(st.just("redetect"), st.sampled_from(Severity), st.none()),
    ),
    max_size=25,
)


@given(STEPS)
def test_random_sequences_never_reach_an_illegal_state(
    steps: list[tuple[str, object, object]],
) -> None:
    """Apply random moves and re-detections; a refused one changes nothing, an accepted
    one is allowed by the life cycle and adds exactly one history entry. The history
    always replays to the current state through allowed moves only."""
    incident = opened()
    at = T0
    for action, value, note in steps:
        at += timedelta(minutes=1)
        before = incident
        try:
            if action == "move":
                assert isinstance(value, IncidentState)
                incident, event = incident.move(
                    value, by="user:kari", at=at, note=note if isinstance(note, str) else None
                )
                assert value in TRANSITIONS[before.state]
                assert value is not S.CLOSED or event.note
            else:
                assert isinstance(value, Severity)
                incident, event = incident.redetected(detection(value), by="system:detector", at=at)
                assert before.state is not S.CLOSED
                assert incident.state is before.state
                assert incident.severity is value
        except IncidentError:
            assert incident is before
            if action == "move":
                assert isinstance(value, IncidentState)
                assert value not in TRANSITIONS[before.state] or (
                    value is S.CLOSED and note is None
                )
            else:
                assert before.state is S.CLOSED
            continue
        assert incident.history == (*before.history, event)
    # Replay the history: it starts open and every move in it is allowed.
    state = None
    for event in incident.history:
        assert event.from_state is state
        if event.kind is EventKind.OPENED:
            assert state is None
            assert event.to_state is S.OPEN
        elif event.kind is EventKind.MOVED:
            assert state is not None
            assert event.to_state in TRANSITIONS[state]
            assert event.to_state is not S.CLOSED or event.note
        else:
            assert state is not None
            assert state is not S.CLOSED
            assert event.to_state is state
        state = event.to_state
    assert state is incident.state
    assert incident.state in set(IncidentState)
