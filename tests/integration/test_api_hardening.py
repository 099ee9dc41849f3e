"""Edges found in review: strict dates, sign-in before the size limit, delegated denials."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from forvalg.api.app import create_app
from forvalg.api.signin import FAILURE_BURST
from forvalg.domain.categories import Category
from forvalg.wall import AccessDenied, Purpose
from forvalg.wall.policy import Action
from forvalg.wall.principals import Principal, PrincipalKind, operator_principal

from .world import Operator, World, problem, provide


def test_a_date_given_as_a_json_number_is_a_type_error(alpha: Operator) -> None:
    body = provide("22334455")
    body["authorisation"] = body["authorisation"] | {"signed_at": 1763596800}  # not shared

    errors = problem(alpha.place(body), 422, "E_VALIDATION")["errors"]

    assert {"pointer": "/authorisation/signed_at"}.items() <= errors[0].items()


def test_an_oversized_request_without_a_key_is_refused_as_unauthenticated(world: World) -> None:
    before = world.last_log_seq()
    response = world.client().post(
        "/v1/orders", content=b"x" * 100_000, headers={"content-type": "application/json"}
    )

    problem(response, 401, "E_AUTH")
    assert [e["decision"] for e in world.access_log(before)] == ["deny"]


def test_a_delegates_denial_is_recorded_with_the_unit_of_work(world: World) -> None:
    nobody = Principal("system:nobody", PrincipalKind.SYSTEM, "incumbent:test", frozenset())
    before = world.last_log_seq()

    with (
        pytest.raises(AccessDenied),
        world.services.wall.access(operator_principal("alfatel"), Purpose.ORDER_MANAGEMENT) as g,
    ):
        g.delegate(nobody, Purpose.PROVISIONING).authorize(Action.READ, Category.ROUTING)

    denials = [e for e in world.access_log(before) if e["decision"] == "deny"]
    assert [(e["principal"], e["resource"]) for e in denials] == [("system:nobody", "cps.routing")]


def test_reads_are_logged_with_the_subjects_actually_read(world: World, alpha: Operator) -> None:
    first = alpha.order(provide("22334455"))
    alpha.order(provide("22334466"))
    world.process()

    before = world.last_log_seq()
    alpha.get(first["id"])
    alpha.events()
    rows = world.access_log(before)

    assert [(r["resource"], r["subject_count"]) for r in rows] == [
        ("cps.order", 1),
        ("cps.event", 2),
    ]
    assert all(r["subjects_digest"] for r in rows)


def test_a_client_that_keeps_failing_sign_in_cannot_flood_the_log(world: World) -> None:
    # The limiter's time stands still: the test counts requests, not seconds (a slow
    # database used to let the bucket refill and the test fail).
    client = TestClient(create_app(world.services, monotonic=lambda: 0.0))
    world.clients.append(client)
    before = world.last_log_seq()

    statuses = [
        client.get("/v1/orders", headers={"Authorization": "Bearer wrong"}).status_code
        for _ in range(FAILURE_BURST + 30)
    ]

    assert statuses == [401] * FAILURE_BURST + [429] * 30
    # Each refused sign-in is logged once; a 429 is refused before any database work.
    denials = [e for e in world.access_log(before) if e["decision"] == "deny"]
    assert len(denials) == statuses.count(401) < len(statuses)
