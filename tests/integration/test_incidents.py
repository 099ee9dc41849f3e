"""Incidents on SQLite and PostgreSQL (docs/INCIDENTS.md): findings of severity medium
and above open them with their evidence, a re-detection updates the open incident and
never duplicates it, every move is ledgered in the transaction that makes it, retail and
wholesale are refused, the regulator sees only what was reported or closed, and the
ledger evidence verifies against the signed checkpoint until someone tampers with it."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import ProgrammingError

from forvalg.compliance.detectors.findings import Finding
from forvalg.compliance.incidents import (
    IncidentDesk,
    UnknownIncident,
    evidence_from_tables,
    record_json,
    verify_evidence,
)
from forvalg.domain.incidents import (
    EvidenceKind,
    IllegalTransition,
    IncidentState,
    NoteRequired,
)
from forvalg.domain.reasons import ReasonCode
from forvalg.domain.statistics import Severity
from forvalg.domain.work_items import WorkItemKind
from forvalg.ledger import verify as regulator
from forvalg.ledger.merkle import BeyondTree, leaf_hash
from forvalg.ledger.wire import b64
from forvalg.store.tables import incident_events, incident_evidence, incidents
from forvalg.wall import AccessDenied, Principal, Purpose
from forvalg.wall.principals import (
    DETECTOR,
    INCIDENT_CLERK,
    StaffRole,
    Statement,
    staff_principal,
)

from .world import World

S = IncidentState
HEADER = "contact_id,time_utc,number,channel,direction,agent_id,campaign_id,outcome"
CONTACTS = [
    "c1,2026-11-20T10:00:00Z,22334455,PHONE,OUTBOUND,a1,WB,declined",
    "c2,2026-11-21T10:00:00Z,22334466,PHONE,OUTBOUND,a1,WB,",
    "c3,2026-11-22T10:00:00Z,22334477,PHONE,OUTBOUND,a2,WB,",
    "c4,2026-11-22T11:00:00Z,23456701,PHONE,OUTBOUND,a2,TEN,",
]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


EVENTS = pa.table(
    {
        "number": ["22334455", "22334466", "22334477", "23456702"],
        "kind": ["ORDER_RECEIVED", "TRANSFER", "ORDER_RECEIVED", "ORDER_RECEIVED"],
        "at": pa.array(
            [
                at("2026-11-19T08:00:00Z"),
                at("2026-11-20T08:00:00Z"),
                at("2026-09-01T08:00:00Z"),  # long before: not evidence
                at("2026-11-19T08:00:00Z"),  # another line
            ],
            pa.timestamp("us", tz="UTC"),
        ),
        "order_id": ["o-1", "o-2", "o-3", "o-4"],
    }
)


def finding(
    severity: Severity = Severity.HIGH,
    *,
    samples: tuple[str, ...] = ("c1", "c2"),
    entries: tuple[int, ...] = (),
    campaign: str = "WB",
) -> Finding:
    evidence: dict[str, object] = {"test": "line_days", "sample_contact_ids": list(samples)}
    if entries:
        evidence["entry_indices"] = list(entries)
    return Finding(
        id=f"targeting-{campaign.lower():0>16}",
        detector="targeting",
        severity=severity,
        subject={"campaign_id": campaign},
        summary=f"Campaign {campaign} contacted lines after a CPS event 3.6 times as often.",
        statistics={"p_value": 1e-9, "lift": 3.6, "n": 120},
        evidence=evidence,
    )


def flipped(entry: str) -> str:
    """The entry with its decision turned round: what a forger would change."""
    allow, deny = '"decision":"allow"', '"decision":"deny"'
    return entry.replace(allow, deny) if allow in entry else entry.replace(deny, allow)


def entries_about(world: World, after: int, resource: str) -> list[dict[str, Any]]:
    return [e for e in world.access_log(after) if e["resource"] == resource]


@pytest.fixture
def desk(world: World) -> IncidentDesk:
    return world.services.incidents


@pytest.fixture
def contacts(world: World) -> pa.Table:
    """The contacts as a detection run reads them: imported, then read by the detector."""
    path = world.tmp_path / "contacts.csv"
    path.write_text("\n".join([HEADER, *CONTACTS]) + "\n", encoding="utf-8")
    world.services.contacts.import_file(path)
    with world.services.wall.access(DETECTOR, Purpose.COMPLIANCE_AUDIT, "detect") as g:
        table: pa.Table = g.contacts.table()
    return table


def officer(world: World) -> tuple[Principal, Statement]:
    """A compliance officer and the audit they work under."""
    user = world.services.users.add("Kari Compliance", StaffRole.COMPLIANCE_OFFICER.value)
    who = staff_principal(user.user_id, StaffRole.COMPLIANCE_OFFICER)
    audit = world.services.work.open(
        who,
        Statement(Purpose.COMPLIANCE_AUDIT),
        WorkItemKind.AUDIT,
        summary="incidents from detection",
    )
    return who, Statement(Purpose.COMPLIANCE_AUDIT, audit.id)


def regulator_of(world: World) -> tuple[Principal, Statement]:
    user = world.services.users.add("Nkom", StaffRole.REGULATOR.value)
    who = staff_principal(user.user_id, StaffRole.REGULATOR)
    audit = world.services.work.open(
        who,
        Statement(Purpose.REGULATORY_INSPECTION),
        WorkItemKind.AUDIT,
        summary="incident reports",
    )
    return who, Statement(Purpose.REGULATORY_INSPECTION, audit.id)


def test_findings_open_incidents_with_their_evidence(
    world: World, desk: IncidentDesk, contacts: pa.Table
) -> None:
    before = world.last_log_seq()
    report = desk.open_from_findings(
        [finding(), finding(Severity.LOW, campaign="TEN", samples=("c4",))],
        evidence_for=evidence_from_tables(contacts, EVENTS),
    )
    (incident_id,) = report.opened.values()
    assert report.below == ["targeting-0000000000000ten"]
    assert (report.updated, report.kept_closed, report.evidence_added) == ({}, {}, 4)
    (row,) = world.rows(incidents)
    assert (row["id"], row["state"], row["severity"], row["finding_id"]) == (
        incident_id,
        "open",
        "high",
        "targeting-00000000000000wb",
    )
    assert row["subject"] == {"campaign_id": "WB"}
    record = desk.show(INCIDENT_CLERK, incident_id)
    kinds = [(e.kind, e.reference) for e in record.evidence]
    assert kinds == [
        (EvidenceKind.CONTACT, "crm:c1"),
        (EvidenceKind.CONTACT, "crm:c2"),
        (EvidenceKind.CPS_EVENT, "o-1:ORDER_RECEIVED"),
        (EvidenceKind.CPS_EVENT, "o-2:TRANSFER"),
    ]
    contact = record.evidence[0].payload
    assert (contact["number"], contact["time_utc"], contact["campaign_id"]) == (
        "22334455",
        "2026-11-20T10:00:00Z",
        "WB",
    )
    assert record.evidence[2].payload["at"] == "2026-11-19T08:00:00Z"
    # In the ledger: the read of the findings' incidents, the incident written (no
    # subjects), the evidence written naming the lines it is about (by pseudonym).
    written = entries_about(world, before, "compliance.incident")
    assert [(e["action"], e["principal"]) for e in written] == [
        ("read", DETECTOR.id),
        ("write", DETECTOR.id),
        ("read", INCIDENT_CLERK.id),  # the show above
    ]
    assert written[0]["detail"] == {"findings": 2, "incidents": 0}
    assert written[1]["detail"] == {
        "incident": incident_id,
        "finding": "targeting-00000000000000wb",
        "from": None,
        "to": "open",
        "severity": "high",
        "by": DETECTOR.id,
    }
    assert written[1]["subject_count"] == 0
    filed = entries_about(world, before, "cps.evidence")
    assert [e["action"] for e in filed] == ["write", "read"]
    assert filed[0]["detail"] == {"incident": incident_id, "offered": 4, "added": 4}
    numbers = ["22334455", "22334466"]
    assert filed[0]["subjects"] == sorted(
        world.services.wall.pseudonymiser.pseudonym(n) for n in numbers
    )
    assert "22334455" not in json.dumps(filed)


def test_a_redetection_updates_the_open_incident_and_never_duplicates_it(
    world: World, desk: IncidentDesk, contacts: pa.Table
) -> None:
    source = evidence_from_tables(contacts, EVENTS)
    first = desk.open_from_findings([finding(Severity.MEDIUM)], evidence_for=source)
    (incident_id,) = first.opened.values()
    world.clock.at += timedelta(days=1)
    again = desk.open_from_findings(
        [finding(Severity.CRITICAL, samples=("c1", "c2", "c3"))], evidence_for=source
    )
    assert (again.opened, again.updated) == ({}, {"targeting-00000000000000wb": incident_id})
    assert again.evidence_added == 1  # c3 (its event is too old): only what is new
    assert world.count(incidents) == 1
    (row,) = world.rows(incidents)
    assert (row["severity"], row["state"]) == ("critical", "open")
    history = desk.show(INCIDENT_CLERK, incident_id).incident.history
    assert [(e.kind.value, e.severity) for e in history] == [
        ("opened", Severity.MEDIUM),
        ("redetected", Severity.CRITICAL),
    ]
    assert history[1].note == "re-detected: severity medium -> critical; 1 new evidence item(s)"
    assert history[1].by == DETECTOR.id
    # A third run, lower again: still the one incident, now showing the fading signal.
    low = desk.open_from_findings([finding(Severity.LOW)], evidence_for=source)
    assert low.updated == {"targeting-00000000000000wb": incident_id}
    assert world.rows(incidents)[0]["severity"] == "low"
    assert world.count(incident_evidence) == 5


def test_every_move_is_ledgered_with_the_change_and_illegal_ones_change_nothing(
    world: World, desk: IncidentDesk
) -> None:
    (incident_id,) = desk.open_from_findings([finding()]).opened.values()
    who, audit = officer(world)
    before = world.last_log_seq()
    with pytest.raises(IllegalTransition, match="is open: it can only move to investigating"):
        desk.move(who, incident_id, S.REPORTED, stated=audit)
    moves = [
        (S.INVESTIGATING, None),
        (S.REPORTED, "reported to Nkom, case 2026/17"),
        (S.CLOSED, "Nkom closed the case"),
    ]
    for to, note in moves:
        world.clock.at += timedelta(hours=1)
        moved = desk.move(who, incident_id, to, note=note, stated=audit)
        assert moved.state is to
    with pytest.raises(IllegalTransition, match="a closed incident stays closed"):
        desk.move(who, incident_id, S.INVESTIGATING, note="again", stated=audit)
    written = entries_about(world, before, "compliance.incident")
    assert [(e["action"], e["principal"], e["work_item"]) for e in written] == [
        ("write", who.id, audit.work_item)
    ] * 3  # the refused moves left nothing
    details = [e["detail"] for e in written]
    assert [(d["from"], d["to"], d["by"]) for d in details] == [
        ("open", "investigating", who.id),
        ("investigating", "reported", who.id),
        ("reported", "closed", who.id),
    ]
    assert details[0]["note_sha256"] is None
    assert details[1]["note_sha256"] == hashlib.sha256(moves[1][1].encode()).hexdigest()
    events = world.rows(incident_events, incident_events.c.incident_id == incident_id)
    assert [(e["seq"], e["kind"], e["to_state"], e["by"]) for e in events] == [
        (1, "opened", "open", DETECTOR.id),
        (2, "moved", "investigating", who.id),
        (3, "moved", "reported", who.id),
        (4, "moved", "closed", who.id),
    ]


def test_closing_needs_a_note_and_unknown_incidents_are_unknown(
    world: World, desk: IncidentDesk
) -> None:
    (incident_id,) = desk.open_from_findings([finding()]).opened.values()
    desk.move(INCIDENT_CLERK, incident_id, S.INVESTIGATING, by="Kari")
    before = world.last_log_seq()
    with pytest.raises(NoteRequired):
        desk.move(INCIDENT_CLERK, incident_id, S.CLOSED, by="Kari", note="  ")
    with pytest.raises(UnknownIncident, match="no incident INC-000000000000"):
        desk.move(INCIDENT_CLERK, "INC-000000000000", S.CLOSED, by="Kari", note="x")
    assert entries_about(world, before, "compliance.incident") == []
    assert world.rows(incidents)[0]["state"] == "investigating"
    # The CLI's job names the person it acts for; staff are always named as themselves.
    closed = desk.move(INCIDENT_CLERK, incident_id, S.CLOSED, by="Kari", note="false alarm")
    assert closed.history[-1].by == "Kari"
    (entry,) = entries_about(world, before, "compliance.incident")
    assert (entry["principal"], entry["detail"]["by"]) == (INCIDENT_CLERK.id, "Kari")
    with pytest.raises(UnknownIncident):
        desk.show(INCIDENT_CLERK, "INC-ffffffffffff")
    looked = entries_about(world, before, "compliance.incident")[-1]
    assert (looked["action"], looked["detail"]) == (
        "read",
        {"incident": "INC-ffffffffffff", "found": False},
    )


def test_closed_stays_closed_unless_the_finding_comes_back_more_severe(
    world: World, desk: IncidentDesk
) -> None:
    (first,) = desk.open_from_findings([finding(Severity.HIGH)]).opened.values()
    desk.move(INCIDENT_CLERK, first, S.INVESTIGATING, by="Kari")
    desk.move(INCIDENT_CLERK, first, S.CLOSED, by="Kari", note="a retention list")
    same = desk.open_from_findings([finding(Severity.HIGH), finding(Severity.MEDIUM)])
    assert same.kept_closed == {"targeting-00000000000000wb": first}
    assert same.opened == {}
    assert world.count(incidents) == 1
    world.clock.at += timedelta(days=7)
    worse = desk.open_from_findings([finding(Severity.CRITICAL)])
    (second,) = worse.opened.values()
    assert second != first
    opened = desk.show(INCIDENT_CLERK, second).incident
    assert opened.history[0].note == (
        f"severity critical, up from high when incident {first} was closed"
    )
    # And now the new one is the finding's open incident: it is updated, not duplicated.
    assert desk.open_from_findings([finding(Severity.HIGH)]).updated == {
        "targeting-00000000000000wb": second
    }
    assert [i.id for i in desk.find(INCIDENT_CLERK, state=S.OPEN)] == [second]
    assert [i.id for i in desk.find(INCIDENT_CLERK)] == [second, first]


@pytest.mark.parametrize(
    ("role", "purpose"),
    [
        ("retail_sales", Purpose.SALES),
        ("retail_marketing", Purpose.COMPLIANCE_AUDIT),
        ("retail_customer_service", Purpose.COMPLIANCE_AUDIT),
        ("wholesale_ops", Purpose.FAULT_REPAIR),
        ("wholesale_ops", Purpose.COMPLIANCE_AUDIT),
        ("wholesale_billing", Purpose.SETTLEMENT),
    ],
)
def test_retail_and_wholesale_are_refused_and_the_refusal_is_ledgered(
    world: World, desk: IncidentDesk, role: str, purpose: Purpose
) -> None:
    (incident_id,) = desk.open_from_findings([finding()]).opened.values()
    user = world.services.users.add("someone", role)
    who = staff_principal(user.user_id, StaffRole(role))
    # Even naming a real audit (opened by compliance) does not help.
    _, audit = officer(world)
    stated = Statement(purpose, audit.work_item)
    before = world.last_log_seq()
    for attempt in (
        lambda: desk.find(who, stated),
        lambda: desk.show(who, incident_id, stated),
        lambda: desk.move(who, incident_id, S.INVESTIGATING, stated=stated),
    ):
        with pytest.raises(AccessDenied) as denied:
            attempt()
        assert denied.value.code is ReasonCode.E_FORBIDDEN
    refused = entries_about(world, before, "compliance.incident")
    assert [(e["decision"], e["principal"]) for e in refused] == [("deny", who.id)] * 3
    assert world.rows(incidents)[0]["state"] == "open"


def test_the_regulator_reads_only_reported_or_closed_incidents(
    world: World, desk: IncidentDesk, contacts: pa.Table
) -> None:
    source = evidence_from_tables(contacts, EVENTS)
    report = desk.open_from_findings(
        [finding(), finding(campaign="EARLY"), finding(campaign="A2")], evidence_for=source
    )
    wb, early, a2 = (report.opened[finding(campaign=c).id] for c in ("WB", "EARLY", "A2"))
    for incident_id in (wb, early):
        desk.move(INCIDENT_CLERK, incident_id, S.INVESTIGATING, by="Kari")
    desk.move(INCIDENT_CLERK, wb, S.REPORTED, by="Kari")
    who, inspection = regulator_of(world)
    seen = desk.find(who, inspection)
    assert [i.id for i in seen] == [wb]
    assert desk.find(who, inspection, state=S.OPEN) == []
    record = desk.show(who, wb, inspection)
    assert len(record.evidence) == 4
    for hidden in (early, a2):
        with pytest.raises(UnknownIncident):
            desk.show(who, hidden, inspection)
    desk.move(INCIDENT_CLERK, early, S.CLOSED, by="Kari", note="false alarm")
    assert sorted(i.id for i in desk.find(who, inspection)) == sorted([wb, early])
    # Reading is all it may do.
    with pytest.raises(AccessDenied):
        desk.move(who, wb, S.CLOSED, note="done", stated=inspection)
    # Without an inquiry or audit named, nothing.
    with pytest.raises(AccessDenied):
        desk.find(who, Statement(Purpose.REGULATORY_INSPECTION))


def test_ledger_evidence_verifies_and_tampering_fails_it(
    world: World, desk: IncidentDesk, tmp_path: Path
) -> None:
    for _ in range(3):
        desk.find(INCIDENT_CLERK)  # entries to name as evidence
    world.services.keeper.checkpoint()
    size = world.last_log_seq()
    assert size >= 5
    picked = (0, 1, size - 1)
    report = desk.open_from_findings([finding(entries=picked)])
    assert report.checkpoint is not None
    (incident_id,) = report.opened.values()
    record = desk.show(INCIDENT_CLERK, incident_id)
    ledgered = [e for e in record.evidence if e.kind is EvidenceKind.LEDGER_ENTRY]
    assert sorted(int(e.reference) for e in ledgered) == list(picked)
    checks = desk.verify(INCIDENT_CLERK, incident_id)
    assert [c.ok for c in checks] == [True] * 3, checks
    payload = ledgered[0].payload
    assert set(payload) == {"entry", "proof", "checkpoint"}
    assert set(payload["proof"]) == {"index", "size", "leaf_hash", "hashes"}
    assert payload["checkpoint"] == report.checkpoint
    # The regulator's own verifier, from files, with the log's public key only.
    for name, content in (
        ("key.pub", str(desk.verifier) + "\n"),
        ("checkpoint", payload["checkpoint"]),
        ("proof.json", json.dumps(payload["proof"])),
        ("entry", payload["entry"]),
    ):
        (tmp_path / name).write_text(content)
    files = {f"--{n}": str(tmp_path / f) for n, f in (("key", "key.pub"), ("proof", "proof.json"))}
    files |= {"--checkpoint": str(tmp_path / "checkpoint"), "--entry": str(tmp_path / "entry")}
    assert regulator.main(["inclusion", *(x for pair in files.items() for x in pair)]) == 0
    # Tamper with a stored entry (under the wall): it no longer verifies.
    tampered = flipped(payload["entry"])
    e = incident_evidence.c
    with world.engine.begin() as connection:
        connection.execute(
            update(incident_evidence)
            .where(e.incident_id == incident_id, e.reference == ledgered[0].reference)
            .values(payload=payload | {"entry": tampered})
        )
    checks = {c.reference: c for c in desk.verify(INCIDENT_CLERK, incident_id)}
    assert not checks[ledgered[0].reference].ok
    assert "does not hash to the proof's leaf hash" in checks[ledgered[0].reference].message
    assert all(c.ok for r, c in checks.items() if r != ledgered[0].reference)
    # A forger who also rewrites the proof's leaf hash is caught at the root.
    forged = payload["proof"] | {"leaf_hash": b64(leaf_hash(tampered.encode()))}
    with world.engine.begin() as connection:
        connection.execute(
            update(incident_evidence)
            .where(e.incident_id == incident_id, e.reference == ledgered[0].reference)
            .values(payload=payload | {"entry": tampered, "proof": forged})
        )
    again = {c.reference: c for c in desk.verify(INCIDENT_CLERK, incident_id)}
    assert not again[ledgered[0].reference].ok
    assert "does not lead to the root" in again[ledgered[0].reference].message
    # The same checks without the desk, on the JSON `forvalg incidents show` prints.
    shown = record_json(desk.show(INCIDENT_CLERK, incident_id))
    assert len(shown["evidence"]) == 3
    assert [c.ok for c in verify_evidence(record.evidence, desk.verifier)] == [True] * 3


def test_entries_newer_than_the_latest_checkpoint_get_a_fresh_one(
    world: World, desk: IncidentDesk
) -> None:
    first = world.services.keeper.checkpoint()
    world.services.keeper.integrate()
    desk.find(INCIDENT_CLERK)  # one more entry, after the checkpoint
    world.services.keeper.integrate()
    newest = world.last_log_seq() - 1
    assert newest >= first.checkpoint.size
    report = desk.open_from_findings([finding(entries=(newest,))])
    assert report.checkpoint is not None
    assert report.checkpoint != first.note
    (incident_id,) = report.opened.values()
    assert [c.ok for c in desk.verify(INCIDENT_CLERK, incident_id)] == [True]
    # An entry not yet in the tree at all is an error, and nothing is opened.
    with pytest.raises(BeyondTree):
        desk.open_from_findings([finding(campaign="X", entries=(10_000,))])
    assert world.count(incidents) == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_on_postgresql_the_regulators_zone_sees_only_reported_or_closed_rows(
    world: World, desk: IncidentDesk, contacts: pa.Table, database_url: str
) -> None:
    """Under the wall, hand-written SQL in the regulator's zone finds only the incidents
    reported or closed, and only their events and evidence; retail finds nothing."""
    source = evidence_from_tables(contacts, EVENTS)
    report = desk.open_from_findings([finding(), finding(campaign="EARLY")], evidence_for=source)
    wb = report.opened[finding().id]
    desk.move(INCIDENT_CLERK, wb, S.INVESTIGATING, by="Kari")
    desk.move(INCIDENT_CLERK, wb, S.REPORTED, by="Kari")
    with world.engine.connect() as c:
        c.execute(text("SET LOCAL ROLE forvalg_regulator"))
        assert c.execute(text("SELECT id FROM incidents")).scalars().all() == [wb]
        ids = set(c.execute(text("SELECT incident_id FROM incident_events")).scalars())
        assert ids == {wb}
        ids = set(c.execute(text("SELECT incident_id FROM incident_evidence")).scalars())
        assert ids == {wb}
        c.rollback()
        c.execute(text("SET LOCAL ROLE forvalg_compliance"))
        assert len(c.execute(text("SELECT id FROM incidents")).all()) == 2
        c.rollback()
        c.execute(text("SET LOCAL ROLE forvalg_retail"))
        with pytest.raises(ProgrammingError, match="permission denied"):
            c.execute(text("SELECT id FROM incidents"))
        c.rollback()


def test_the_evidence_source_picks_the_sampled_contacts_and_their_recent_events() -> None:
    contacts = pa.table(
        {
            "contact_id": ["k1", "k2"],
            "time_utc": pa.array(
                [datetime(2026, 11, 20, 10, tzinfo=UTC), datetime(2026, 11, 25, 10, tzinfo=UTC)],
                pa.timestamp("us", tz="UTC"),
            ),
            "number": ["22334455", "22334466"],
            "direction": ["OUTBOUND", "OUTBOUND"],
            "agent_id": ["a1", "a1"],
            "campaign_id": ["WB", None],
        }
    )
    events = pa.table(
        {
            "number": ["22334455", "22334455", "22334455"],
            "kind": ["ORDER_RECEIVED", "LOSS", "TRANSFER"],
            "at": pa.array(
                [
                    datetime(2026, 10, 1, tzinfo=UTC),  # more than 30 days before
                    datetime(2026, 11, 1, tzinfo=UTC),
                    datetime(2026, 11, 26, tzinfo=UTC),  # after the last contact
                ],
                pa.timestamp("ns", tz="UTC"),
            ),
        }
    )
    items = evidence_from_tables(contacts, events)(finding(samples=("k1",)))
    assert [(i.kind, i.reference) for i in items] == [
        (EvidenceKind.CONTACT, "k1"),
        (EvidenceKind.CPS_EVENT, '["22334455","LOSS","2026-11-01T00:00:00Z"]'),
    ]
    assert evidence_from_tables(contacts, events)(finding(samples=())) == []


def test_over_http_officers_work_incidents_and_the_regulator_reads_reported_ones(
    world: World, desk: IncidentDesk, contacts: pa.Table
) -> None:
    source = evidence_from_tables(contacts, EVENTS)
    report = desk.open_from_findings([finding(), finding(campaign="EARLY")], evidence_for=source)
    wb, early = report.opened[finding().id], report.opened[finding(campaign="EARLY").id]
    kari = world.add_staff("compliance_officer")
    audit = kari.opened("compliance_audit", kind="audit", summary="incidents")
    headers = {"X-Forvalg-Purpose": "compliance_audit", "X-Forvalg-Work-Item": audit}
    listed = kari.client.get("/v1/staff/incidents", headers=headers)
    assert listed.status_code == 200, listed.text
    assert sorted(i["id"] for i in listed.json()["items"]) == sorted([wb, early])
    path = f"/v1/staff/incidents/{wb}"
    shown = kari.client.get(path, headers=headers).json()
    assert [e["kind"] for e in shown["evidence"]] == ["contact"] * 2 + ["cps_event"] * 2
    assert shown["history"][0]["to_state"] == "open"
    move = kari.client.post(f"{path}/transitions", json={"to": "reported"}, headers=headers)
    problem_of = move.json()
    assert (move.status_code, problem_of["code"]) == (409, "E_CONFLICT")
    assert "can only move to investigating" in problem_of["detail"]
    for to in ("investigating", "reported"):
        moved = kari.client.post(f"{path}/transitions", json={"to": to}, headers=headers)
        assert moved.status_code == 200, moved.text
        assert moved.json()["history"][-1]["by"] == kari.principal
    closing = kari.client.post(f"{path}/transitions", json={"to": "closed"}, headers=headers)
    assert (closing.status_code, closing.json()["code"]) == (422, "E_VALIDATION")
    assert closing.json()["errors"][0]["pointer"] == "/note"
    wrong = kari.client.post(f"{path}/transitions", json={"to": "open"}, headers=headers)
    assert wrong.status_code == 422
    missing = kari.client.get("/v1/staff/incidents/INC-000000000000", headers=headers)
    assert (missing.status_code, missing.json()["code"]) == (404, "E_NOT_FOUND")
    # The regulator: the reported one, with its evidence; the open one is not there.
    nkom = world.add_staff("regulator")
    inspection = nkom.opened("regulatory_inspection", kind="audit", summary="incidents")
    seen = {"X-Forvalg-Purpose": "regulatory_inspection", "X-Forvalg-Work-Item": inspection}
    items = nkom.client.get("/v1/staff/incidents", headers=seen).json()["items"]
    assert [i["id"] for i in items] == [wb]
    assert len(nkom.client.get(path, headers=seen).json()["evidence"]) == 4
    hidden = nkom.client.get(f"/v1/staff/incidents/{early}", headers=seen)
    assert (hidden.status_code, hidden.json()["code"]) == (404, "E_NOT_FOUND")
    refused = nkom.client.post(
        f"{path}/transitions", json={"to": "closed", "note": "seen"}, headers=seen
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "E_FORBIDDEN")


def test_a_finding_twice_in_one_run_opens_one_incident_at_its_highest_severity(
    world: World, desk: IncidentDesk
) -> None:
    report = desk.open_from_findings([finding(Severity.MEDIUM), finding(Severity.HIGH)])
    assert len(report.opened) == 1
    assert world.rows(incidents)[0]["severity"] == "high"
