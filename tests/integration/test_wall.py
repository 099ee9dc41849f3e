"""The wall for staff: purpose and work item on every read, masks by role, break-glass,
alerts, and the ledger entry for every decision. Each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from forvalg.store import tables

from .world import Operator, Staff, World, problem, provide

LINE = "22334455"  # preselected to alfatel (CSC 1501) in these tests
OTHER_LINE = "22334466"
FULL_FIELDS = {"postcode", "line_type", "status", "order_id", "operator", "operator_name", "since"}
REPAIR = "fault_repair"


@pytest.fixture
def preselected(world: World, alpha: Operator) -> dict[str, Any]:
    return world.preselect(alpha, LINE)


@pytest.fixture
def ops(world: World) -> Staff:
    return world.add_staff("wholesale_ops")


@pytest.fixture
def ticket(ops: Staff, preselected: dict[str, Any]) -> str:
    return ops.opened(REPAIR, kind="fault_ticket", summary="no dial tone", lines=[LINE])


def decisions_of(world: World, staff: Staff, after: int) -> list[dict[str, Any]]:
    return [e for e in world.access_log(after) if e["principal"] == staff.principal]


def test_wholesale_ops_reads_the_line_on_its_ticket_and_every_decision_is_ledgered(
    world: World, ops: Staff, ticket: str, preselected: dict[str, Any]
) -> None:
    before = world.last_log_seq()
    response = ops.get(f"/v1/staff/lines/{LINE}", purpose=REPAIR, work_item=ticket)

    assert response.status_code == 200, response.text
    line = response.json()
    assert line["preselected"] is True
    assert (line["operator"], line["carrier_code"], line["option"]) == ("alfatel", "1501", "ALL")
    assert line["order_id"] == preselected["id"]
    assert (line["postcode"], line["line_type"], line["status"]) == ("0150", "PSTN", "ACTIVE")
    entries = decisions_of(world, ops, before)
    assert {e["resource"] for e in entries} == {
        "cps.routing",
        "cps.operator",
        "line.inventory",
        "personal.subscriber",
        "cps.order",
    }
    for entry in entries:
        assert entry["decision"] == "allow"
        assert (entry["purpose"], entry["work_item"]) == (REPAIR, ticket)
        assert entry["policy_version"] == world.services.wall.policy.version
        assert entry["policy_version"].startswith("cedar:")
        assert entry["subject_count"] == 1
        assert entry["reason"].startswith("granted by wholesale-ops-works-orders-and-faults")


def test_a_line_not_on_the_ticket_is_a_mismatch_ledgered_and_alerted(
    world: World, alpha: Operator, ops: Staff, ticket: str
) -> None:
    world.preselect(alpha, OTHER_LINE)
    before = world.last_log_seq()

    response = ops.get(f"/v1/staff/lines/{OTHER_LINE}", purpose=REPAIR, work_item=ticket)

    body = problem(response, 403, "E_WORK_ITEM_MISMATCH")
    assert "alfatel" not in response.text
    assert "1501" not in response.text
    assert "X-Forvalg-Work-Item" not in body["detail"]
    [denied] = decisions_of(world, ops, before)
    assert denied["decision"] == "deny"
    assert denied["reason"].startswith("E_WORK_ITEM_MISMATCH: 1 line(s) touched are not on")
    assert denied["subject_count"] == 1
    [alert] = world.rows(tables.compliance_alerts)
    assert (alert["kind"], alert["principal"], alert["work_item"]) == (
        "denial",
        ops.principal,
        ticket,
    )


@pytest.mark.parametrize(("purpose", "work_item"), [(None, "ticket"), (REPAIR, None), (None, None)])
def test_no_purpose_or_no_work_item_no_data(
    world: World, ops: Staff, ticket: str, purpose: str | None, work_item: str | None
) -> None:
    before = world.last_log_seq()
    named = ticket if work_item == "ticket" else None

    response = ops.get(f"/v1/staff/lines/{LINE}", purpose=purpose, work_item=named)

    problem(response, 403, "E_PURPOSE_REQUIRED")
    assert "alfatel" not in response.text
    [denied] = decisions_of(world, ops, before)
    assert denied["reason"].startswith("E_PURPOSE_REQUIRED")
    assert world.count(tables.compliance_alerts) == 1


def test_an_unknown_purpose_is_malformed(ops: Staff, ticket: str) -> None:
    response = ops.get(f"/v1/staff/lines/{LINE}", purpose="winback", work_item=ticket)
    body = problem(response, 422, "E_VALIDATION")
    assert body["errors"][0]["parameter"].lower() == "x-forvalg-purpose"


def test_an_unknown_work_item_is_a_mismatch(world: World, ops: Staff) -> None:
    for name in ("FT-000000000000", "not-a-work-item"):
        response = ops.get(f"/v1/staff/lines/{LINE}", purpose=REPAIR, work_item=name)
        problem(response, 403, "E_WORK_ITEM_MISMATCH")
    assert world.count(tables.compliance_alerts) == 2


def test_network_provisioning_sees_number_to_carrier_code_only(
    world: World, ops: Staff, ticket: str
) -> None:
    network = world.add_staff("network_provisioning")
    response = network.get(f"/v1/staff/lines/{LINE}", purpose="provisioning", work_item=ticket)

    assert response.status_code == 200, response.text
    line = response.json()
    assert (line["number"], line["carrier_code"], line["option"]) == (LINE, "1501", "ALL")
    assert all(line[f] is None for f in FULL_FIELDS), line
    order = world.rows(tables.orders)[0]["id"]
    refused = network.get(f"/v1/staff/orders/{order}", purpose="provisioning", work_item=ticket)
    problem(refused, 403, "E_FORBIDDEN")


def test_wholesale_ops_reads_the_order_it_works_and_no_other(
    world: World, alpha: Operator, ops: Staff, preselected: dict[str, Any]
) -> None:
    worked = alpha.order(provide(OTHER_LINE))["id"]
    response = ops.get(f"/v1/staff/orders/{worked}", purpose="provisioning", work_item=worked)
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "RECEIVED"

    # Another order is not the one being worked.
    other = preselected["id"]
    refused = ops.get(f"/v1/staff/orders/{other}", purpose="provisioning", work_item=worked)
    problem(refused, 403, "E_WORK_ITEM_MISMATCH")
    # An order that has ended is worked no more: naming it covers nothing, not even itself.
    ended = ops.get(f"/v1/staff/orders/{other}", purpose="provisioning", work_item=other)
    problem(ended, 403, "E_WORK_ITEM_MISMATCH")
    line = ops.get(f"/v1/staff/lines/{LINE}", purpose="provisioning", work_item=other)
    problem(line, 403, "E_WORK_ITEM_MISMATCH")


def test_a_closed_ticket_covers_nothing(world: World, ops: Staff, ticket: str) -> None:
    assert ops.get(f"/v1/staff/lines/{LINE}", purpose=REPAIR, work_item=ticket).status_code == 200
    closed = ops.client.post(
        f"/v1/work-items/{ticket}/close", headers={"X-Forvalg-Purpose": REPAIR}
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["closed_at"] is not None
    response = ops.get(f"/v1/staff/lines/{LINE}", purpose=REPAIR, work_item=ticket)
    problem(response, 403, "E_WORK_ITEM_MISMATCH")


def test_a_refused_role_cannot_tell_a_real_work_item_from_a_made_up_one(
    world: World, ticket: str, preselected: dict[str, Any]
) -> None:
    retail = world.add_staff("retail_sales")
    made_up = ("o" + "0" * 26, "FT-000000000000")
    for name in (preselected["id"], ticket, *made_up):
        response = retail.get(f"/v1/staff/lines/{LINE}", purpose=REPAIR, work_item=name)
        problem(response, 403, "E_FORBIDDEN")


@pytest.mark.parametrize("role", ["retail_sales", "retail_marketing", "retail_customer_service"])
def test_retail_gets_nothing_whatever_it_states(
    world: World, ops: Staff, ticket: str, preselected: dict[str, Any], role: str
) -> None:
    retail = world.add_staff(role)
    before = world.last_log_seq()
    tries = [
        retail.get(f"/v1/staff/lines/{LINE}", purpose=purpose, work_item=item)
        for purpose in (REPAIR, "provisioning", "marketing", "sales")
        for item in (ticket, preselected["id"])
    ]
    tries.append(
        retail.get(f"/v1/staff/orders/{preselected['id']}", purpose=REPAIR, work_item=ticket)
    )
    tries.append(
        retail.get(
            f"/v1/staff/lines/{LINE}", purpose=REPAIR, break_glass="the customer is on the phone"
        )
    )
    tries.append(retail.open(REPAIR, kind="fault_ticket", summary="curious", lines=[LINE]))

    for response in tries:
        assert response.status_code == 403, response.text
        assert "alfatel" not in response.text
        assert "1501" not in response.text
    entries = decisions_of(world, retail, before)
    assert len(entries) == len(tries)
    assert all(e["decision"] == "deny" for e in entries)
    assert world.count(tables.compliance_alerts) == len(tries)


def test_break_glass_reads_without_the_ticket_and_alerts_compliance(
    world: World, ops: Staff, preselected: dict[str, Any]
) -> None:
    why = "exchange fault on the line, customer has no service, ticket system is down"
    before = world.last_log_seq()

    response = ops.get(f"/v1/staff/lines/{LINE}", purpose=REPAIR, break_glass=why)

    assert response.status_code == 200, response.text
    assert response.json()["operator"] == "alfatel"
    entries = decisions_of(world, ops, before)
    assert entries
    assert all(f"break-glass: {why}" in e["reason"] for e in entries)
    alerts = world.rows(tables.compliance_alerts)
    assert {a["kind"] for a in alerts} == {"break_glass"}
    assert len(alerts) == len(entries)
    short = ops.get(f"/v1/staff/lines/{LINE}", purpose=REPAIR, break_glass="urgent")
    problem(short, 422, "E_VALIDATION")
    network = world.add_staff("network_provisioning")
    refused = network.get(f"/v1/staff/lines/{LINE}", purpose="provisioning", break_glass=why)
    problem(refused, 403, "E_FORBIDDEN")


def test_compliance_reads_the_alerts_for_an_audit(world: World, ops: Staff, ticket: str) -> None:
    ops.get(f"/v1/staff/lines/{OTHER_LINE}", purpose=REPAIR, work_item=ticket)
    officer = world.add_staff("compliance_officer")
    audit = officer.opened("compliance_audit", kind="audit", summary="weekly alert review")

    response = officer.get("/v1/compliance/alerts", purpose="compliance_audit", work_item=audit)

    assert response.status_code == 200, response.text
    [alert] = response.json()["items"]
    assert (alert["kind"], alert["principal"], alert["category"]) == (
        "denial",
        ops.principal,
        "cps.routing",
    )
    problem(ops.get("/v1/compliance/alerts", purpose=REPAIR, work_item=ticket), 403, "E_FORBIDDEN")


def test_work_items_are_opened_by_the_roles_that_own_them(world: World, alpha: Operator) -> None:
    regulator = world.add_staff("regulator")
    deadline = (world.clock.at + timedelta(days=7)).isoformat()
    inquiry = regulator.open(
        "regulatory_inspection",
        kind="inquiry",
        summary="Who read alfatel's orders in November?",
        period="2026-11",
        due_at=deadline,
    )
    assert inquiry.status_code == 201, inquiry.text
    item = inquiry.json()
    assert item["id"].startswith("INQ-")
    assert item["opened_by"] == regulator.principal
    missing = regulator.open("regulatory_inspection", kind="inquiry", summary="no period")
    assert problem(missing, 422, "E_VALIDATION")["errors"][0]["pointer"] == "/period"

    billing = world.add_staff("wholesale_billing")
    run = billing.open(
        "settlement",
        kind="settlement_run",
        summary="November",
        operator="alfatel",
        period="2026-11",
    )
    assert run.status_code == 201, run.text
    problem(
        billing.open("settlement", kind="fault_ticket", summary="x", lines=[LINE]),
        403,
        "E_FORBIDDEN",
    )
    problem(
        world.add_staff("wholesale_ops").open(None, kind="fault_ticket", summary="x", lines=[LINE]),
        403,
        "E_PURPOSE_REQUIRED",
    )
    read = regulator.get(f"/v1/work-items/{item['id']}", purpose="regulatory_inspection")
    assert read.status_code == 200
    assert read.json()["summary"] == item["summary"]
    refused = billing.get(f"/v1/work-items/{item['id']}", purpose="settlement")
    problem(refused, 403, "E_FORBIDDEN")


def test_the_regulator_reads_the_ledger_for_an_inquiry_only(world: World) -> None:
    regulator = world.add_staff("regulator")
    problem(regulator.get("/v1/log/checkpoint"), 403, "E_PURPOSE_REQUIRED")
    audit = regulator.opened("regulatory_inspection", kind="audit", summary="witnessing")
    response = regulator.get("/v1/log/checkpoint", purpose="regulatory_inspection", work_item=audit)
    assert response.status_code == 200, response.text
    assert response.text.startswith("forvalg.local/ledger\n")
