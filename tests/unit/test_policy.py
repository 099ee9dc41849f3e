"""The Cedar policy: it validates against its schema, default deny, retail gets nothing
whatever it asks, masks and row filters come from the policy's annotations, and the
decision cache can never outlive the policy that filled it."""

from __future__ import annotations

import itertools
from pathlib import Path

import cedarpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

from forvalg.domain.categories import Category
from forvalg.domain.work_items import WorkItemKind
from forvalg.wall.policy import (
    POLICY_DIR,
    POLICY_FILE,
    ROLE_GROUPS,
    SCHEMA_FILE,
    Action,
    Policy,
    PolicyInvalid,
    Question,
    Scope,
    View,
)
from forvalg.wall.principals import PrincipalKind, Purpose, StaffRole

POLICY = Policy.load()
POLICIES = (POLICY_DIR / POLICY_FILE).read_text()
SCHEMA = (POLICY_DIR / SCHEMA_FILE).read_text()
SYSTEM_ROLES = [
    "cps_operator",
    "order_processor",
    "routing_exporter",
    "wholesale_admin",
    "user_admin",
    "ledger_clerk",
    "compliance_reporter",
    "subscriber",
    "subscriber_desk",
    "traffic_rater",
    "settlement_run",
    "crm_sync",
    "compliance_detector",
    "canary_keeper",
    "incident_clerk",
    "inquiry_clerk",
]
ROLES = [r.value for r in StaffRole] + SYSTEM_ROLES
RETAIL = sorted(ROLE_GROUPS)
KINDS = ["", *(k.value for k in WorkItemKind)]
PURPOSES = ["", *(p.value for p in Purpose)]


def ask(
    role: str,
    category: Category,
    *,
    action: Action = Action.READ,
    purpose: str = "",
    work_item: str = "",
    kind: PrincipalKind = PrincipalKind.STAFF,
    break_glass: bool = False,
) -> Question:
    return Question(
        frozenset({role}), kind.value, action, category, purpose, work_item, break_glass
    )


def test_the_shipped_policy_validates_against_its_schema() -> None:
    result = cedarpy.validate_policies(POLICIES, SCHEMA)
    assert result.validation_passed, [str(e) for e in result.errors]
    assert POLICY.version.startswith("cedar:")


def test_a_policy_that_does_not_validate_is_refused_with_cedars_error(tmp_path: Path) -> None:
    (tmp_path / SCHEMA_FILE).write_text(SCHEMA)
    (tmp_path / POLICY_FILE).write_text(POLICIES.replace("context.purpose", "context.purpse", 1))
    with pytest.raises(PolicyInvalid, match=r"does not validate.*purpse"):
        Policy.load(tmp_path)
    (tmp_path / POLICY_FILE).write_text("permit (principal,")
    with pytest.raises(PolicyInvalid, match="does not parse"):
        Policy.load(tmp_path)
    with pytest.raises(PolicyInvalid, match="cannot read"):
        Policy.load(tmp_path / "nowhere")


def test_the_version_is_the_content() -> None:
    assert Policy(POLICIES, SCHEMA).version == POLICY.version
    assert Policy(POLICIES + "\n// reviewed\n", SCHEMA).version != POLICY.version


def test_default_deny() -> None:
    nobody = [
        Question(frozenset(), who.value, a, c, p, k, False)
        for who, c, a, p, k in itertools.product(PrincipalKind, Category, Action, PURPOSES, KINDS)
    ]
    assert not any(POLICY.decide(q).allowed for q in nobody)
    assert POLICY.decide(nobody[0]).reason.startswith("no permit for read")


@pytest.mark.parametrize("role", RETAIL)
def test_retail_may_write_its_contacts_and_is_refused_everything_else(role: str) -> None:
    allowed = [
        q
        for c, a, p, k, glass in itertools.product(Category, Action, PURPOSES, KINDS, (False, True))
        if (q := ask(role, c, action=a, purpose=p, work_item=k, break_glass=glass))
        and POLICY.decide(q).allowed
    ]
    assert allowed
    assert all(
        (q.action, q.category, q.purpose) == (Action.WRITE, Category.CONTACT, "crm_sync")
        for q in allowed
    )
    # Without naming a work item, as staff or as the CRM's sync job.
    for kind in (PrincipalKind.STAFF, PrincipalKind.SYSTEM):
        q = ask(role, Category.CONTACT, action=Action.WRITE, purpose="crm_sync", kind=kind)
        assert POLICY.decide(q).allowed
    assert not POLICY.decide(ask(role, Category.CONTACT, purpose="crm_sync")).allowed


def test_contacts_are_read_by_compliance_only() -> None:
    readers = {
        role
        for role, p, k in itertools.product(ROLES, PURPOSES, KINDS)
        if POLICY.decide(ask(role, Category.CONTACT, purpose=p, work_item=k)).allowed
    }
    assert readers == {"compliance_officer", "compliance_detector"}
    officer = ask("compliance_officer", Category.CONTACT, purpose="compliance_audit")
    assert not POLICY.decide(officer).allowed  # no work item, no data
    audit = ask(
        "compliance_officer", Category.CONTACT, purpose="compliance_audit", work_item="audit"
    )
    assert POLICY.decide(audit).allowed


def test_no_staff_read_without_a_work_item() -> None:
    for role, category, purpose in itertools.product(ROLES, Category, PURPOSES):
        question = ask(role, category, purpose=purpose)
        assert not POLICY.decide(question).allowed, question


def test_marketing_and_sales_purposes_never_reach_cps_data() -> None:
    for role, category, kind in itertools.product(ROLES, Category, KINDS):
        if category.family != "cps":
            continue
        for purpose in ("marketing", "sales"):
            for who in PrincipalKind:
                question = ask(role, category, purpose=purpose, work_item=kind, kind=who)
                assert not POLICY.decide(question).allowed, question


def test_masks_and_row_filters_come_from_the_annotations() -> None:
    network = POLICY.decide(
        ask(
            "network_provisioning",
            Category.ROUTING,
            purpose="provisioning",
            work_item="fault_ticket",
        )
    )
    assert (network.allowed, network.scope, network.view) == (True, Scope.ALL, View.ROUTING)
    assert not POLICY.decide(
        ask(
            "network_provisioning",
            Category.TRAFFIC,
            purpose="settlement",
            work_item="settlement_run",
        )
    ).allowed
    operator = POLICY.decide(
        ask("cps_operator", Category.ORDER, purpose="order_management", kind=PrincipalKind.OPERATOR)
    )
    assert (operator.scope, operator.view) == (Scope.OWN, View.FULL)
    ops = POLICY.decide(
        ask("wholesale_ops", Category.ROUTING, purpose="fault_repair", work_item="fault_ticket")
    )
    assert (ops.scope, ops.view, ops.break_glass) == (Scope.ALL, View.FULL, False)
    glass = POLICY.decide(
        ask("wholesale_ops", Category.ROUTING, purpose="fault_repair", break_glass=True)
    )
    assert (glass.allowed, glass.break_glass) == (True, True)
    assert "wholesale-ops-break-glass" in glass.reason


def test_the_queue_is_own_work_items_and_orders_without_their_line() -> None:
    """Under a queue work item, wholesale operations read their own work items and orders
    through the queue view only, and nothing else of the CPS side; nobody else does."""
    queue = {"purpose": "provisioning", "work_item": "queue"}
    items = POLICY.decide(ask("wholesale_ops", Category.WORK_ITEM, **queue))
    assert (items.allowed, items.scope) == (True, Scope.OWN)
    opening = POLICY.decide(ask("wholesale_ops", Category.WORK_ITEM, action=Action.WRITE, **queue))
    assert (opening.allowed, opening.scope) == (True, Scope.OWN)
    orders = POLICY.decide(ask("wholesale_ops", Category.ORDER, **queue))
    assert (orders.allowed, orders.scope, orders.view) == (True, Scope.ALL, View.QUEUE)
    assert "wholesale-ops-lists-the-queue" in orders.reason
    staff = [r.value for r in StaffRole]
    reads = {
        (role, category)
        for role, category, purpose in itertools.product(staff, Category, PURPOSES)
        if POLICY.decide(ask(role, category, purpose=purpose, work_item="queue")).allowed
    }
    assert reads == {("wholesale_ops", Category.WORK_ITEM), ("wholesale_ops", Category.ORDER)}
    # Under an order or a fault ticket the full view is as before: the queue view is the
    # narrowest a permit can combine to, so it never hides what another permit shows.
    full = POLICY.decide(
        ask("wholesale_ops", Category.ORDER, purpose="provisioning", work_item="order")
    )
    assert full.view is View.FULL


def test_the_routing_exporter_reads_routing_and_carrier_codes_for_provisioning_only() -> None:
    system = PrincipalKind.SYSTEM
    granted = {
        (category, action, purpose)
        for category in Category
        for action in Action
        for purpose in PURPOSES
        if POLICY.decide(
            ask("routing_exporter", category, action=action, purpose=purpose, kind=system)
        ).allowed
    }
    assert granted == {
        (Category.ROUTING, Action.READ, "provisioning"),
        (Category.OPERATOR, Action.READ, "provisioning"),
    }
    export = POLICY.decide(
        ask("routing_exporter", Category.ROUTING, purpose="provisioning", kind=system)
    )
    assert (export.scope, export.view) == (Scope.ALL, View.FULL)


questions = st.builds(
    Question,
    roles=st.frozensets(st.sampled_from(ROLES), max_size=2),
    kind=st.sampled_from([k.value for k in PrincipalKind]),
    action=st.sampled_from(Action),
    category=st.sampled_from(Category),
    purpose=st.sampled_from(PURPOSES),
    work_item=st.sampled_from(KINDS),
    break_glass=st.booleans(),
)


@given(questions)
def test_the_cache_answers_what_cedar_answers(question: Question) -> None:
    assert POLICY.decide(question) == POLICY.evaluate(question)


@given(questions)
def test_a_changed_policy_never_serves_the_old_policys_allow(question: Question) -> None:
    old = Policy(POLICIES, SCHEMA)
    old.decide(question)  # warm the old policy's cache
    stricter = Policy(POLICIES + "\nforbid (principal, action, resource);\n", SCHEMA)
    assert not stricter.decide(question).allowed
    assert stricter.version != old.version


def test_incidents_are_compliances_and_the_regulator_reads_the_reported_ones() -> None:
    """Who may do what with incidents and their evidence (docs/INCIDENTS.md): compliance
    officers under an audit, the detectors' job, the incident CLI, and the regulator
    reading (with the `reported` row filter); nobody else, whatever they state."""
    granted = {
        (role, category, action)
        for role, category, action, p, k in itertools.product(
            ROLES, (Category.INCIDENT, Category.EVIDENCE), Action, PURPOSES, KINDS
        )
        if POLICY.decide(ask(role, category, action=action, purpose=p, work_item=k)).allowed
        or POLICY.decide(
            ask(role, category, action=action, purpose=p, kind=PrincipalKind.SYSTEM)
        ).allowed
    }
    R, W, INC, E = Action.READ, Action.WRITE, Category.INCIDENT, Category.EVIDENCE
    assert granted == {
        ("compliance_officer", INC, R),
        ("compliance_officer", INC, W),
        ("compliance_officer", E, R),
        ("compliance_detector", INC, R),
        ("compliance_detector", INC, W),
        ("compliance_detector", E, W),
        ("incident_clerk", INC, R),
        ("incident_clerk", INC, W),
        ("incident_clerk", E, R),
        ("compliance_reporter", INC, R),  # the compliance report lists them
        ("regulator", INC, R),
        ("regulator", E, R),
    }
    audit = ask("compliance_officer", INC, action=W, purpose="compliance_audit", work_item="audit")
    assert POLICY.decide(audit).scope is Scope.ALL
    inquiry = ask("compliance_officer", INC, purpose="compliance_audit", work_item="inquiry")
    assert not POLICY.decide(inquiry).allowed  # incidents are worked under an audit
    regulator = POLICY.decide(
        ask("regulator", INC, purpose="regulatory_inspection", work_item="inquiry")
    )
    assert (regulator.allowed, regulator.scope) == (True, Scope.REPORTED)
    evidence = POLICY.decide(
        ask("regulator", E, purpose="regulatory_inspection", work_item="audit")
    )
    assert (evidence.allowed, evidence.scope) == (True, Scope.REPORTED)
    # The evidence is competitor-derived: marketing and sales purposes never reach it.
    assert Category.EVIDENCE.family == "cps"
