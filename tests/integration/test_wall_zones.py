"""The wall enters each principal's database zone (PostgreSQL), so a query the code gets
wrong inside a unit of work finds only what that zone may see."""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from forvalg.domain.categories import Category
from forvalg.wall import AccessDenied, Purpose
from forvalg.wall.policy import Action
from forvalg.wall.principals import (
    LEDGER_CLERK,
    ORDER_PROCESSOR,
    SUBSCRIBER_DESK,
    Principal,
    StaffRole,
    operator_principal,
    staff_principal,
    subscriber_principal,
)

from .world import Operator, World, provide

POSTGRES = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

ZONES = [
    (operator_principal("alfatel"), "forvalg_api"),
    (staff_principal("u1", StaffRole.WHOLESALE_OPS), "forvalg_wholesale"),
    (staff_principal("u2", StaffRole.NETWORK_PROVISIONING), "forvalg_wholesale"),
    (staff_principal("u3", StaffRole.WHOLESALE_BILLING), "forvalg_billing"),
    (staff_principal("u4", StaffRole.RETAIL_MARKETING), "forvalg_retail"),
    (staff_principal("u5", StaffRole.COMPLIANCE_OFFICER), "forvalg_compliance"),
    (staff_principal("u6", StaffRole.REGULATOR), "forvalg_regulator"),
    (subscriber_principal("SUB-000000000000"), "forvalg_compliance"),
    (ORDER_PROCESSOR, "forvalg_wholesale"),
    (SUBSCRIBER_DESK, "forvalg_compliance"),
    (LEDGER_CLERK, "forvalg_compliance"),
]


@POSTGRES
@pytest.mark.parametrize(("principal", "zone"), ZONES, ids=lambda p: getattr(p, "id", p))
def test_each_principal_works_in_its_zone(world: World, principal: Principal, zone: str) -> None:
    with world.services.wall.access(principal, Purpose.PROVISIONING, "probe") as guard:
        with contextlib.suppress(AccessDenied):  # allowed or denied, the same zone
            guard.permit(Action.READ, Category.ORDER)
        assert guard.session.execute(text("SELECT current_user")).scalar() == zone


@POSTGRES
def test_a_hand_written_query_in_an_operators_unit_of_work_sees_its_own_rows(
    world: World, alpha: Operator, beta: Operator
) -> None:
    alpha.order(provide("22334455"))
    beta.order(provide("22334466"))
    beta.order(provide("22334477"))

    with world.services.wall.access(operator_principal("alfatel"), Purpose.ORDER_MANAGEMENT) as g:
        g.permit(Action.READ, Category.ORDER)
        mine = g.session.execute(text("SELECT operator_id FROM orders")).scalars().all()
        ledger = g.session.execute(text("SELECT has_table_privilege('ledger_entries', 'SELECT')"))

    assert mine == ["alfatel"]
    assert ledger.scalar() is False


@POSTGRES
def test_retail_in_its_zone_cannot_read_a_cps_table_even_if_the_code_tried(world: World) -> None:
    retail = staff_principal("u7", StaffRole.RETAIL_SALES)
    with world.services.wall.access(retail, Purpose.SALES, "FT-000000000000") as guard:
        with pytest.raises(AccessDenied):
            guard.permit(Action.READ, Category.ROUTING)
        for table in ("orders", "preselections", "operator_events", "lines", "ledger_entries"):
            # Not even the name resolves: retail has no USAGE on the wholesale schema.
            with pytest.raises(ProgrammingError), guard.session.begin_nested():
                guard.session.execute(text(f"SELECT * FROM {table}"))
