"""`forvalg detect`'s run over the store: its inputs read behind the wall, one ledger entry
each, and the findings file (docs/DETECTION.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pyarrow.compute as pc
import pytest

from forvalg.domain.reasons import ReasonCode
from forvalg.wall import Purpose
from forvalg.wall.errors import AccessDenied
from forvalg.wall.principals import CRM_SYNC, DETECTOR, INCIDENT_CLERK, REPORTER

from .world import LINES, T0, Operator, World


def detector_entries(world: World, after: int) -> list[dict[str, object]]:
    return [e for e in world.access_log(after) if e["principal"] == DETECTOR.id]


def test_the_cps_events_come_from_the_orders(world: World, alpha: Operator) -> None:
    completed = world.preselect(alpha, "22334455")
    inputs = world.services.detection.read()
    events = inputs.events.to_pylist()
    kinds = {(e["kind"], e["number"], e["order_id"]) for e in events}
    assert kinds == {
        ("ORDER_RECEIVED", "22334455", completed["id"]),
        ("LOSS", "22334455", completed["id"]),
    }
    received = next(e for e in events if e["kind"] == "ORDER_RECEIVED")
    assert received["at"] == T0
    # Committed on receipt (Monday 23 November, Oslo): the letter is posted then and can
    # arrive at the earliest at the start of the next working day, Tuesday 00:00 Oslo.
    assert received["letter_posted"] == T0
    assert received["letter_earliest"] == datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
    loss = next(e for e in events if e["kind"] == "LOSS")
    assert loss["at"] == datetime(2026, 12, 6, 23, 0, tzinfo=UTC)  # the switch
    assert loss["letter_earliest"] is None


def test_the_population_is_every_line_not_ceased(world: World) -> None:
    population = world.services.detection.read().population.to_pylist()
    assert population == sorted(n for n, (_, _, status) in LINES.items() if status != "CEASED")


def test_each_input_is_one_ledgered_decision_naming_its_lines(
    world: World, alpha: Operator
) -> None:
    world.preselect(alpha, "22334455")
    before = world.last_log_seq()
    world.services.detection.read()
    entries = detector_entries(world, before)
    assert [(e["resource"], e["decision"]) for e in entries] == [
        ("retail.contact", "allow"),
        ("cps.order", "allow"),
        ("personal.subscriber", "allow"),
        ("compliance.canary", "allow"),
        ("ledger.access", "allow"),
        ("work.item", "allow"),
    ]
    pseudonym = world.services.wall.pseudonymiser.pseudonym
    assert entries[1]["subjects"] == [pseudonym("22334455")]
    assert entries[2]["subject_count"] == sum(1 for *_, s in LINES.values() if s != "CEASED")


@pytest.mark.parametrize("principal", [CRM_SYNC, REPORTER], ids=["retail", "reporter"])
def test_nobody_else_reads_the_cps_events(world: World, alpha: Operator, principal: object) -> None:
    world.preselect(alpha, "22334455")
    with (
        pytest.raises(AccessDenied) as denied,
        world.services.wall.access(principal, Purpose.COMPLIANCE_AUDIT, "peek") as guard,  # type: ignore[arg-type]
    ):
        guard.detection.cps_events()
    assert denied.value.code is ReasonCode.E_FORBIDDEN


def test_a_run_writes_the_findings_document(world: World, alpha: Operator) -> None:
    world.preselect(alpha, "22334455")
    out = world.tmp_path / "out" / "findings.json"
    report = world.services.detection.run(out)
    document = json.loads(out.read_text())
    # No contacts and no staff: nobody to examine, and no finding.
    assert document == {
        "generated_at": "2026-12-07T09:00:00Z",
        "findings": [],
        "examined": {"agent_id": [], "campaign_id": [], "principal": []},
    }
    ledger_size = report.inputs["ledger_entries"]
    assert ledger_size > 0
    assert report.inputs == {
        "contacts": 0,
        "cps_events": 2,
        "lines": 11,
        "honey_lines": 0,
        "ledger_entries": ledger_size,
        "work_items": 0,
    }
    assert not list(out.parent.glob(".*partial"))


def test_the_ledger_and_the_work_items_staff_named(world: World, alpha: Operator) -> None:
    world.preselect(alpha, "22334455")
    ops = world.add_staff("wholesale_ops")
    ticket = ops.opened("fault_repair", kind="fault_ticket", summary="noise", lines=["22334455"])
    assert ops.get("/v1/staff/lines/22334455", purpose="fault_repair", work_item=ticket).is_success
    why = "the customer is on the phone and the line is dead"
    urgent = ops.get("/v1/staff/lines/22334466", purpose="fault_repair", break_glass=why)
    assert urgent.is_success
    inputs = world.services.detection.read()
    mine = inputs.ledger.filter(pc.equal(inputs.ledger.column("principal"), ops.principal))
    rows = mine.to_pylist()
    assert [r["index"] for r in rows] == sorted(r["index"] for r in rows)
    pseudonym = world.services.wall.pseudonymiser.pseudonym
    read = [r for r in rows if r["work_item"] == ticket and r["action"] == "read"]
    assert read
    assert {s for r in read for s in r["subjects"]} == {pseudonym("22334455")}
    glass = [r for r in rows if r["break_glass"]]
    assert glass
    assert {s for r in glass for s in r["subjects"]} == {pseudonym("22334466")}
    items = {r["id"]: r for r in inputs.work_items.to_pylist()}
    assert items[ticket]["kind"] == "fault_ticket"
    assert items[ticket]["lines"] == [pseudonym("22334455")]
    assert items[ticket]["opened_by"] == ops.principal


def test_access_on_the_ledger_the_wall_wrote(world: World, alpha: Operator) -> None:
    """A ticketed read is explained; a break-glass read is reported (low) and, without a
    follow-up ticket naming the line, unexplained (medium), which opens an incident with
    the ledger entries and their inclusion proofs; a follow-up ticket explains it."""
    world.preselect(alpha, "22334455")
    ops = world.add_staff("wholesale_ops")
    ticket = ops.opened("fault_repair", kind="fault_ticket", summary="noise", lines=["22334455"])
    assert ops.get("/v1/staff/lines/22334455", purpose="fault_repair", work_item=ticket).is_success
    why = "the customer is on the phone and the line is dead"
    assert ops.get("/v1/staff/lines/22334466", purpose="fault_repair", break_glass=why).is_success
    out = world.tmp_path / "findings.json"
    report = world.services.detection.run(out)
    found = {(f.detector, f.evidence["test"]): f for f in report.findings}
    assert {k: f.severity.value for k, f in found.items()} == {
        ("access", "break_glass_uses"): "low",
        ("unexplained_access", "unexplained"): "medium",
    }
    unexplained = found[("unexplained_access", "unexplained")]
    assert unexplained.subject == {"principal": ops.principal}
    (incident,) = report.incidents.opened.values()
    shown = world.services.incidents.show(INCIDENT_CLERK, incident)
    ledger_evidence = [e for e in shown.evidence if e.kind.value == "ledger_entry"]
    assert ledger_evidence
    assert all(c.ok for c in world.services.incidents.verify(INCIDENT_CLERK, incident))
    ops.opened("fault_repair", kind="fault_ticket", summary="follow-up", lines=["22334466"])
    again = world.services.detection.run(out)
    assert {(f.detector, f.severity.value) for f in again.findings} == {("access", "low")}
