"""The authorisation matrix: every route of the application × every kind of caller, with
the outcome the wall must give. The rows are checked against the app's route table, so a
new route cannot be added without deciding who may call it.

Staff state their natural purpose and name a work item of their own (wholesale
operations a fault ticket on the line, billing a settlement run, compliance and the
regulator an audit); retail roles try the fault ticket with a retail purpose. Whatever
the outcome, no answer to a retail role, an operator about another's order, or anyone
without a credential carries a CPS fact.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from forvalg.api.app import create_app
from forvalg.bootstrap import Services
from forvalg.compliance.detectors.findings import Finding
from forvalg.domain.incidents import IncidentState
from forvalg.domain.statistics import Severity
from forvalg.wall.principals import INCIDENT_CLERK, StaffRole
from tests import rated

from .test_openapi import _api_routes
from .world import Operator, Staff, TestClient, World, provide

LINE = "22334455"
PERIOD = "2026-11"
STAFF = [r.value for r in StaffRole]
CALLERS = ["anonymous", "own_operator", "other_operator", "subscriber", *STAFF]
RETAIL = {"retail_sales", "retail_marketing", "retail_customer_service"}
LEDGER = {"compliance_officer", "regulator"}
PURPOSES = {
    "wholesale_ops": "fault_repair",
    "network_provisioning": "provisioning",
    "wholesale_billing": "settlement",
    "retail_sales": "sales",
    "retail_marketing": "marketing",
    "retail_customer_service": "fault_repair",
    "compliance_officer": "compliance_audit",
    "regulator": "regulatory_inspection",
}


@dataclass
class Scene:
    world: World
    alpha: Operator
    beta: Operator
    order: dict[str, Any]
    ticket: str
    items: dict[str, str]  # staff role -> the work item it names
    clients: dict[str, TestClient] = field(default_factory=dict)
    openers: dict[str, Staff] = field(default_factory=dict)

    def headers(self, caller: str) -> dict[str, str]:
        if caller not in PURPOSES:
            return {}
        return {"X-Forvalg-Purpose": PURPOSES[caller], "X-Forvalg-Work-Item": self.items[caller]}

    def closable(self, caller: str) -> str:
        """A fresh work item of the caller's own kind (the ticket for everyone else)."""
        if caller not in PURPOSES or caller not in self.openers:
            return self.ticket
        opened: str = self.openers[caller].opened(PURPOSES[caller], **_work_item_body(caller))
        return opened

    def fresh_order(self) -> str:
        placed: str = self.alpha.order(provide("22334466"))["id"]
        return placed

    def rejected_order(self) -> str:
        """An order just rejected (a wrong postcode), for taking from the work queue."""
        placed: str = self.alpha.order(provide("22334499", postcode="9999"))["id"]
        self.world.process()
        return placed

    def answered_inquiry(self) -> str:
        """An inquiry the regulator opened and compliance answered (once per scene)."""
        if "inquiry" not in self.items:
            regulator = self.openers["regulator"]
            inquiry = regulator.opened(
                PURPOSES["regulator"],
                kind="inquiry",
                summary="Who read line 22334455?",
                period=PERIOD,
                due_at="2099-01-01T00:00:00Z",
            )
            out = self.world.tmp_path / "inquiry.zip"
            self.world.services.inquiries.answer(inquiry, out=out, by="matrix")
            self.items["inquiry"] = inquiry
        return self.items["inquiry"]

    def fresh_incident(self, *, reported: bool = False) -> str:
        """A new open incident (or one reported to the regulator), for the routes that
        read or move one."""
        desk = self.world.services.incidents
        finding = Finding(
            id=f"targeting-{uuid.uuid4().hex[:16]}",
            detector="targeting",
            severity=Severity.HIGH,
            subject={"campaign_id": "WB"},
            summary="Campaign WB contacted lines after a CPS event 3.6 times as often.",
            statistics={"p_value": 1e-9, "lift": 3.6, "n": 120},
            evidence={},
        )
        (incident,) = desk.open_from_findings([finding]).opened.values()
        if reported:
            for to in (IncidentState.INVESTIGATING, IncidentState.REPORTED):
                desk.move(INCIDENT_CLERK, incident, to, by="matrix")
        return incident


def _default(status: int) -> dict[str, int]:
    return dict.fromkeys(CALLERS, status)


def _row(default: int, **cells: int) -> dict[str, int]:
    """Every caller gets `default` except those named; anonymous is 401 unless named."""
    return _default(default) | {"anonymous": 401} | cells


OPERATORS_ONLY = _row(403, own_operator=200, other_operator=200)
LEDGER_READ = _row(403, compliance_officer=200, regulator=200)
SUBSCRIBER_ONLY = _row(403, subscriber=200)
PUBLIC_CODE = _default(202)

Call = Callable[[Scene, str], tuple[str, str, dict[str, Any] | None]]


def _get(path: Callable[[Scene, str], str]) -> Call:
    return lambda s, caller: ("GET", path(s, caller), None)


def _work_item_body(caller: str) -> dict[str, Any]:
    if caller == "wholesale_billing":
        return {
            "kind": "settlement_run",
            "summary": "m",
            "operator": "alfatel",
            "period": "2026-11",
        }
    if caller in LEDGER:
        return {"kind": "audit", "summary": "a look"}
    return {"kind": "fault_ticket", "summary": "no tone", "lines": [LINE]}


def _contact(caller: str) -> dict[str, Any]:
    return {
        "contact_id": f"c-{caller}",
        "time_utc": "2026-11-20T10:00:00Z",
        "number": LINE,
        "channel": "PHONE",
        "direction": "OUTBOUND",
        "agent_id": "agent-1",
    }


# (method, path template) -> (how to call it, expected status per caller)
MATRIX: dict[tuple[str, str], tuple[Call, dict[str, int]]] = {
    ("POST", "/v1/orders"): (
        lambda s, c: ("POST", "/v1/orders", provide("22334477")),
        _row(403, own_operator=201, other_operator=201),
    ),
    ("GET", "/v1/orders"): (_get(lambda s, c: "/v1/orders"), OPERATORS_ONLY),
    ("GET", "/v1/orders/{order_id}"): (
        _get(lambda s, c: f"/v1/orders/{s.order['id']}"),
        _row(403, own_operator=200, other_operator=404),
    ),
    ("POST", "/v1/orders/{order_id}/cancel"): (
        lambda s, c: ("POST", f"/v1/orders/{s.fresh_order()}/cancel", None),
        _row(403, own_operator=200, other_operator=404),
    ),
    ("GET", "/v1/lines/{number}/eligibility"): (
        _get(lambda s, c: f"/v1/lines/{LINE}/eligibility"),
        OPERATORS_ONLY,
    ),
    ("GET", "/v1/events"): (_get(lambda s, c: "/v1/events"), OPERATORS_ONLY),
    # Only alfatel has a statement for the month; staff (billing too) are refused.
    ("GET", "/v1/statements"): (
        _get(lambda s, c: f"/v1/statements?period={PERIOD}"),
        _row(403, own_operator=200, other_operator=404),
    ),
    ("GET", "/v1/log/checkpoint"): (_get(lambda s, c: "/v1/log/checkpoint"), LEDGER_READ),
    ("GET", "/v1/log/key"): (_get(lambda s, c: "/v1/log/key"), LEDGER_READ),
    ("GET", "/v1/log/entries"): (_get(lambda s, c: "/v1/log/entries?start=0&end=2"), LEDGER_READ),
    ("GET", "/v1/log/proof/inclusion"): (
        _get(lambda s, c: "/v1/log/proof/inclusion?index=0&size=2"),
        LEDGER_READ,
    ),
    ("GET", "/v1/log/proof/consistency"): (
        _get(lambda s, c: "/v1/log/proof/consistency?from=1&to=2"),
        LEDGER_READ,
    ),
    ("POST", "/v1/work-items"): (
        lambda s, c: ("POST", "/v1/work-items", _work_item_body(c)),
        _row(403, wholesale_ops=201, wholesale_billing=201, compliance_officer=201, regulator=201),
    ),
    ("GET", "/v1/work-items/{item_id}"): (
        _get(lambda s, c: f"/v1/work-items/{s.items.get(c, s.ticket)}"),
        _row(403, wholesale_ops=200, wholesale_billing=200, compliance_officer=200, regulator=200),
    ),
    ("POST", "/v1/work-items/{item_id}/close"): (
        lambda s, c: ("POST", f"/v1/work-items/{s.closable(c)}/close", None),
        _row(403, wholesale_ops=200, wholesale_billing=200, compliance_officer=200, regulator=200),
    ),
    ("GET", "/v1/staff/lines/{number}"): (
        _get(lambda s, c: f"/v1/staff/lines/{LINE}"),
        # The subscriber's own line, in the policy's status view (the test checks the mask).
        _row(403, wholesale_ops=200, network_provisioning=200, subscriber=200),
    ),
    ("GET", "/v1/staff/lines/{number}/route"): (
        _get(lambda s, c: f"/v1/staff/lines/{LINE}/route?dialled=91234567"),
        # The line's routing, the carrier codes and (unmasked) the order behind them: not
        # billing, whose settlement runs are not bound to lines.
        _row(403, wholesale_ops=200, network_provisioning=200, subscriber=200),
    ),
    ("GET", "/v1/staff/orders/{order_id}"): (
        _get(lambda s, c: f"/v1/staff/orders/{s.order['id']}"),
        _row(403, wholesale_ops=200),
    ),
    # The work queue is listed under a queue work item (WQ-…, purpose provisioning), which
    # no statement of the matrix names: so it is 403 to everyone here (the 200 is in
    # test_work_queue.py). Taking a rejected order opens a fault ticket for its line.
    ("GET", "/v1/staff/queue"): (_get(lambda s, c: "/v1/staff/queue"), _row(403)),
    ("POST", "/v1/staff/queue/orders/{order_id}/take"): (
        lambda s, c: ("POST", f"/v1/staff/queue/orders/{s.rejected_order()}/take", None),
        _row(403, wholesale_ops=201),
    ),
    # Incidents: compliance works them under its audit; the regulator reads the reported
    # ones (its audit), and may not move them.
    ("GET", "/v1/staff/incidents"): (
        _get(lambda s, c: "/v1/staff/incidents"),
        _row(403, compliance_officer=200, regulator=200),
    ),
    ("GET", "/v1/staff/incidents/{incident_id}"): (
        _get(lambda s, c: f"/v1/staff/incidents/{s.fresh_incident(reported=True)}"),
        _row(403, compliance_officer=200, regulator=200),
    ),
    ("POST", "/v1/staff/incidents/{incident_id}/transitions"): (
        lambda s, c: (
            "POST",
            f"/v1/staff/incidents/{s.fresh_incident()}/transitions",
            {"to": "investigating"},
        ),
        _row(403, compliance_officer=200),
    ),
    # Inquiries: compliance and the regulator list them; a bundle is read only under the
    # inquiry it answers, so under the matrix's audits it is 404 to everyone (the 200 is
    # in test_inquiries.py).
    ("GET", "/v1/inquiries"): (_get(lambda s, c: "/v1/inquiries"), LEDGER_READ),
    ("GET", "/v1/inquiries/{inquiry_id}/bundle"): (
        _get(lambda s, c: f"/v1/inquiries/{s.answered_inquiry()}/bundle"),
        _row(404),
    ),
    ("GET", "/v1/compliance/alerts"): (
        _get(lambda s, c: "/v1/compliance/alerts"),
        _row(403, compliance_officer=200),
    ),
    # The access-log search is compliance's: it reads for compliance_audit, whoever asks.
    ("GET", "/v1/compliance/access-log"): (
        _get(lambda s, c: f"/v1/compliance/access-log?line={LINE}"),
        _row(403, compliance_officer=200),
    ),
    # Retail writes its CRM's contacts (and nothing else); the answer is counts only.
    ("POST", "/v1/retail/contacts"): (
        lambda s, c: ("POST", "/v1/retail/contacts", {"contacts": [_contact(c)]}),
        _row(403, retail_sales=201, retail_marketing=201, retail_customer_service=201),
    ),
    ("POST", "/v1/subscriber/codes"): (
        lambda s, c: ("POST", "/v1/subscriber/codes", {"number": LINE, "channel": "sms"}),
        PUBLIC_CODE,
    ),
    ("POST", "/v1/subscriber/sessions"): (
        lambda s, c: ("POST", "/v1/subscriber/sessions", {"number": LINE, "code": "00000000"}),
        _default(401),  # public; a wrong code is refused whoever asks
    ),
    ("GET", "/v1/subscriber/line"): (_get(lambda s, c: "/v1/subscriber/line"), SUBSCRIBER_ONLY),
    ("GET", "/v1/subscriber/accesses"): (
        _get(lambda s, c: "/v1/subscriber/accesses"),
        SUBSCRIBER_ONLY,
    ),
}


def test_every_route_has_a_row_and_every_row_a_route(services: Services) -> None:
    routes = {
        (method, route.path)
        for route in _api_routes(create_app(services).routes)
        for method in route.methods or ()
    }
    assert routes == set(MATRIX), (
        f"missing rows: {sorted(routes - set(MATRIX))}; rows without a route: "
        f"{sorted(set(MATRIX) - routes)}"
    )
    for _, expected in MATRIX.values():
        assert set(expected) == set(CALLERS)


@pytest.fixture
def scene(world: World, alpha: Operator, beta: Operator) -> Scene:
    order = world.preselect(alpha, LINE)
    calls = [rated.Call(rated.at(2026, 11, 30, 8))]
    cdrs = rated.write_parquet(world.tmp_path / "rated.parquet", calls)
    world.services.settlement.settle(PERIOD, [cdrs], world.tmp_path / "statements")
    staff = {role: world.add_staff(role) for role in STAFF}
    ops = staff["wholesale_ops"]
    ticket = ops.opened("fault_repair", kind="fault_ticket", summary="no tone", lines=[LINE])
    items = dict.fromkeys(STAFF, ticket)
    for role in ("wholesale_billing", "compliance_officer", "regulator"):
        body = _work_item_body(role)
        items[role] = staff[role].opened(PURPOSES[role], **body)
    scene = Scene(world, alpha, beta, order, ticket, items)
    openers = ("wholesale_ops", "wholesale_billing", "compliance_officer", "regulator")
    scene.openers = {role: staff[role] for role in openers}
    scene.clients = {"anonymous": world.client()} | {r: s.client for r, s in staff.items()}
    scene.clients |= {"own_operator": alpha.client, "other_operator": beta.client}
    scene.clients["subscriber"] = _subscriber(world)
    return scene


def _subscriber(world: World) -> TestClient:
    from .test_subscriber import session

    return session(world, channel="sms")


def _call(scene: Scene, caller: str, call: Call) -> httpx.Response:
    method, path, body = call(scene, caller)
    headers = scene.headers(caller)
    if path == "/v1/orders" and method == "POST":
        headers["Idempotency-Key"] = uuid.uuid4().hex
    client = scene.clients[caller]
    response: httpx.Response = client.request(method, path, json=body, headers=headers)
    return response


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
def test_the_matrix(scene: Scene, route: tuple[str, str]) -> None:
    call, expected = MATRIX[route]
    outcomes = {caller: _call(scene, caller, call) for caller in CALLERS}

    got = {caller: r.status_code for caller, r in outcomes.items()}
    assert got == expected
    secrets = {"alfatel", "Alfa Telecom", "1501", scene.order["id"]}
    for caller, response in outcomes.items():
        if caller in RETAIL | {"anonymous", "other_operator"}:
            asked = str(response.request.url)  # echoing what the caller sent is no leak
            leaked = {s for s in secrets if s in response.text and s not in asked}
            assert not leaked, (caller, leaked, response.text)
