"""Every staff role of DOMAIN.md can be given a token; only the ledger's readers get
anything with it, and the incumbent's own units, retail above all, get nothing."""

from __future__ import annotations

import pytest

from forvalg.wall.principals import StaffRole

from .world import Operator, World, provide

LEDGER_READERS = {StaffRole.REGULATOR, StaffRole.COMPLIANCE_OFFICER}
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
    user = world.services.users.add(f"someone in {role}", role)
    client = world.client(user.token)
    before = world.last_log_seq()

    reads = {
        "/v1/log/checkpoint": client.get("/v1/log/checkpoint"),
        "/v1/orders": client.get("/v1/orders"),
        f"/v1/orders/{order['id']}": client.get(f"/v1/orders/{order['id']}"),
        "/v1/events": client.get("/v1/events"),
    }

    for path, response in reads.items():
        allowed = path.startswith("/v1/log/") and role in LEDGER_READERS
        assert response.status_code == (200 if allowed else 403), (path, response.text)
        assert "22334455" not in response.text
        assert order["id"] not in response.text
    decisions = [e for e in world.access_log(before) if e["principal"] == f"user:{user.user_id}"]
    assert {e["organisation"] for e in decisions} == {ORGANISATIONS[role]}
    denied = [e for e in decisions if e["decision"] == "deny"]
    assert len(denied) == (3 if role in LEDGER_READERS else 4)


def test_an_unknown_role_is_refused(world: World) -> None:
    with pytest.raises(ValueError, match="unknown role 'marketing_intern'"):
        world.services.users.add("someone", "marketing_intern")
