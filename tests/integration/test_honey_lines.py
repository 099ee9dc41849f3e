"""Honey-lines (`forvalg canary add`): real-looking lines and decoy orders that only
compliance can tell apart, hidden from the operator they name (docs/DETECTION.md)."""

from __future__ import annotations

import random

import pytest

from forvalg.compliance.canaries import CanaryDesk, CanaryError
from forvalg.domain.reasons import ReasonCode
from forvalg.store import tables
from forvalg.wall import Purpose
from forvalg.wall.errors import AccessDenied
from forvalg.wall.principals import CRM_SYNC, DETECTOR, ORDER_PROCESSOR, REPORTER

from .world import LINES, Operator, World


def desk(world: World, seed: int = 7) -> CanaryDesk:
    svc = world.services
    return CanaryDesk(wall=svc.wall, rules=svc.rules, clock=svc.clock, rng=random.Random(seed))


def test_honey_lines_are_ordinary_lines_with_ordinary_orders(
    world: World, alpha: Operator, beta: Operator
) -> None:
    made = desk(world).add(3)
    assert len({h.number for h in made}) == 3
    for honey in made:
        assert honey.number not in LINES
        assert any(n[:5] == honey.number[:5] for n in LINES)  # a block in use
        (line,) = world.rows(tables.lines, tables.lines.c.number == honey.number)
        assert (line["line_type"], line["status"]) == ("PSTN", "ACTIVE")
        (order,) = world.rows(tables.orders, tables.orders.c.id == honey.order_id)
        assert (order["type"], order["state"], order["operator_id"]) == (
            "PROVIDE",
            "RECEIVED",
            honey.operator_id,
        )
        assert honey.operator_id in {"alfatel", "betanett"}
    assert world.count(tables.honey_lines) == 3
    # The processor works them like any order.
    world.process()
    states = {o["state"] for o in world.rows(tables.orders)}
    assert states == {"COMMITTED"}


def test_the_operator_named_never_sees_its_decoys(world: World, alpha: Operator) -> None:
    real = world.preselect(alpha, "22334455")
    (honey,) = desk(world).add(1)
    world.process()
    listed = alpha.list_orders().json()["items"]
    assert [o["id"] for o in listed] == [real["id"]]
    assert alpha.get(honey.order_id).status_code == 404
    assert {e["number"] for e in alpha.all_events()} == {"22334455"}


def test_only_compliance_reads_the_honey_lines(world: World, alpha: Operator) -> None:
    desk(world).add(2)
    with world.services.wall.access(DETECTOR, Purpose.COMPLIANCE_AUDIT, "detect") as guard:
        assert guard.honey_lines.table().num_rows == 2
    for principal, purpose in [
        (CRM_SYNC, Purpose.CRM_SYNC),
        (REPORTER, Purpose.COMPLIANCE_AUDIT),
        (ORDER_PROCESSOR, Purpose.PROVISIONING),
    ]:
        with (
            pytest.raises(AccessDenied) as denied,
            world.services.wall.access(principal, purpose, "peek") as guard,
        ):
            guard.honey_lines.table()
        assert denied.value.code is ReasonCode.E_FORBIDDEN


def test_a_run_makes_all_or_nothing(world: World, alpha: Operator) -> None:
    with pytest.raises(CanaryError, match="operator"):
        desk(world).add(2, operator="nosuch")
    with pytest.raises(CanaryError, match="between 1 and"):
        desk(world).add(0)
    assert world.count(tables.honey_lines) == 0
    assert world.count(tables.lines) == len(LINES)
    assert world.count(tables.orders) == 0
