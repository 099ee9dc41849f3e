"""GET /v1/staff/lines/{number}/route: one call's route for someone working a fault on the
line, by the rule the rating engine applies to every CDR. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from forvalg.store import tables

from .world import Operator, Staff, World, problem

LINE = "22334455"  # preselected to alfatel (CSC 1501)
REPAIR = "fault_repair"


@pytest.fixture
def preselected(world: World, alpha: Operator) -> dict[str, Any]:
    return world.preselect(alpha, LINE)


@pytest.fixture
def ops(world: World) -> Staff:
    return world.add_staff("wholesale_ops")


@pytest.fixture
def ticket(ops: Staff, preselected: dict[str, Any]) -> str:
    return ops.opened(REPAIR, kind="fault_ticket", summary="calls go astray", lines=[LINE])


def _route(staff: Staff, ticket: str, dialled: str, at: str = "", purpose: str = REPAIR) -> Any:
    params = {"dialled": dialled} | ({"at": at} if at else {})
    return staff.get(f"/v1/staff/lines/{LINE}/route", purpose=purpose, work_item=ticket, **params)


def test_the_route_of_a_call_is_the_rating_engines_and_is_ledgered(
    world: World, ops: Staff, ticket: str, preselected: dict[str, Any]
) -> None:
    before = world.last_log_seq()
    [period] = world.rows(tables.preselections)
    answers = {
        dialled: _route(ops, ticket, dialled).json()
        for dialled in ("91234567", "112", "150191234567", "0046701234567")
    }
    routes = {
        d: (a["call_class"], a["expected_carrier"], a["route_reason"]) for d, a in answers.items()
    }
    assert routes == {
        "91234567": ("MOBILE", "alfatel", "CPS"),
        "112": ("EMERGENCY", "INCUMBENT", "EXCLUDED"),
        "150191234567": ("MOBILE", "alfatel", "CSC"),
        "0046701234567": ("INTERNATIONAL", "alfatel", "CPS"),
    }
    assert answers["91234567"]["order_id"] == preselected["id"]
    assert answers["150191234567"]["order_id"] is None

    earlier = (period["valid_from"] - timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    before_switch = _route(ops, ticket, "91234567", at=earlier).json()
    assert (before_switch["route_reason"], before_switch["expected_carrier"]) == (
        "DEFAULT",
        "INCUMBENT",
    )

    entries = [e for e in world.access_log(before) if e["principal"] == ops.principal]
    assert {e["resource"] for e in entries} == {"cps.routing", "cps.operator", "cps.order"}
    assert all(e["decision"] == "allow" and e["work_item"] == ticket for e in entries)


def test_network_provisioning_gets_the_route_without_the_order(world: World, ticket: str) -> None:
    network = world.add_staff("network_provisioning")
    answer = _route(network, ticket, "91234567", purpose="provisioning")
    assert answer.status_code == 200, answer.text
    assert (answer.json()["route_reason"], answer.json()["order_id"]) == ("CPS", None)


def test_a_line_off_the_ticket_and_bad_input_are_refused(
    world: World, ops: Staff, ticket: str
) -> None:
    other = ops.get(
        "/v1/staff/lines/22334466/route", purpose=REPAIR, work_item=ticket, dialled="91234567"
    )
    problem(other, 403, "E_WORK_ITEM_MISMATCH")
    problem(_route(ops, ticket, "9123x567"), 422, "E_VALIDATION")
    problem(_route(ops, ticket, "91234567", at="2026-12-01T10:00:00"), 422, "E_VALIDATION")


def test_billing_is_refused_whatever_run_it_names(
    world: World, alpha: Operator, ticket: str
) -> None:
    """A settlement run is not bound to lines: it would answer for any line."""
    billing = world.add_staff("wholesale_billing")
    run = billing.opened(
        "settlement",
        kind="settlement_run",
        summary="November",
        operator="alfatel",
        period="2026-11",
    )
    problem(_route(billing, run, "91234567", purpose="settlement"), 403, "E_FORBIDDEN")
