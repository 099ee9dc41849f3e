"""Every staff role of DOMAIN.md can be given a token. Nobody gets anything without
stating a purpose and a work item; with an audit, only the ledger's readers read the
ledger; the operator routes are for operators only. (test_wall.py: what each role gets
when it states its work.)"""

from __future__ import annotations

import pytest

from forvalg.wall.principals import StaffRole

from .world import Operator, World, provide

LEDGER_READERS = {
    StaffRole.REGULATOR: "regulatory_inspection",
    StaffRole.COMPLIANCE_OFFICER: "compliance_audit",
}
ORGANISATIONS = {
    StaffRole.WHOLESALE_OPS: "incumbent:wholesale",
    StaffRole.NETWORK_PROVISIONING: "incumbent:network",
    StaffRole.WHOLESALE_BILLING: "incumbent:billing",
    StaffRole.RETAIL_SALES: "incumbent:retail",
    StaffRole.RETAIL_MARKETING: "incumbent:retail",
    StaffRole.RETAIL_CUSTOMER_SERVICE: "incumbent:retail",
    StaffRole.COMPLIANCE_OFFICER: "incumbent:compliance",
    StaffRole.REGULATOR: "regulator",
}


@pytest.mark.parametrize("role", list(StaffRole))
def test_each_role_signs_in_and_sees_only_what_the_policy_grants(
    world: World, alpha: Operator, role: StaffRole
) -> None:
    order = alpha.order(provide("22334455"))
    user = world.add_staff(role)
    audit = None
    if role in LEDGER_READERS:
        audit = user.opened(LEDGER_READERS[role], kind="audit", summary="a look at the log")
    before = world.last_log_seq()

    paths = ["/v1/log/checkpoint", "/v1/orders", f"/v1/orders/{order['id']}", "/v1/events"]
    unstated = {path: user.get(path) for path in paths}
    stated = {
        path: user.get(path, purpose=LEDGER_READERS.get(role), work_item=audit) for path in paths
    }

    for path, response in unstated.items():
        assert response.status_code == 403, (path, response.text)
        assert response.json()["code"] == "E_PURPOSE_REQUIRED"
    for response in [*unstated.values(), *stated.values()]:
        assert "22334455" not in response.text
        assert order["id"] not in response.text
    for path, response in stated.items():
        allowed = path.startswith("/v1/log/") and role in LEDGER_READERS
        assert response.status_code == (200 if allowed else 403), (path, response.text)
    decisions = [e for e in world.access_log(before) if e["principal"] == user.principal]
    assert {e["organisation"] for e in decisions} == {ORGANISATIONS[role]}
    denied = [e for e in decisions if e["decision"] == "deny"]
    assert len(denied) == (7 if role in LEDGER_READERS else 8)


def test_an_unknown_role_is_refused(world: World) -> None:
    with pytest.raises(ValueError, match="unknown role 'marketing_intern'"):
        world.services.users.add("someone", "marketing_intern")
