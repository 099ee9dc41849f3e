"""Races: many operators ordering one line at once, two processors at once, and one
Idempotency-Key sent many times at once. Nothing is lost and the line has one holder."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

import httpx
import pytest

from forvalg.bootstrap import Services, bootstrap
from forvalg.domain.clock import FixedClock
from forvalg.settings import Settings
from forvalg.store import tables
from forvalg.wholesale.processing import ProcessReport

from ..conftest import LEDGER_SIGNER, PSEUDONYM_KEY
from .world import SWITCH_T0, Operator, TestClient, World, provide

NUMBER = "22334455"
ORDERS = 20

T = TypeVar("T")


def _all_at_once(jobs: list[Callable[[], T]]) -> list[T]:
    """Run the jobs in threads that start together; re-raise the first failure."""
    barrier = threading.Barrier(len(jobs))

    def run(job: Callable[[], T]) -> T:
        barrier.wait(timeout=30)
        return job()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(run, job) for job in jobs]
        return [f.result(timeout=120) for f in futures]


@pytest.fixture
def operators(world: World, alpha: Operator, beta: Operator) -> list[Operator]:
    return [
        alpha,
        beta,
        world.add_operator("gammatel", "Gamma Tele AS", "1503"),
        world.add_operator("deltanett", "Delta Nett AS", "1504"),
    ]


@pytest.fixture
def second(settings: Settings, clock: FixedClock) -> Iterator[Services]:
    """A second set of services over the same database (its own engine and pool)."""
    services = bootstrap(
        settings, clock=clock, pseudonym_key=PSEUDONYM_KEY, ledger_signers=[LEDGER_SIGNER]
    )
    yield services
    services.close()


def _client_for(world: World, operator: Operator) -> TestClient:
    return world.client(operator.token)


def _post(client: TestClient, body: dict[str, Any], key: str) -> Callable[[], httpx.Response]:
    return lambda: client.post("/v1/orders", json=body, headers={"Idempotency-Key": key})


def test_concurrent_orders_and_processors_leave_one_holder(
    world: World, operators: list[Operator], second: Services
) -> None:
    # 20 PROVIDE orders for one line from four operators, all at once.
    placed_by = [operators[i % len(operators)] for i in range(ORDERS)]
    jobs = [_post(_client_for(world, op), provide(NUMBER), uuid.uuid4().hex) for op in placed_by]
    responses = _all_at_once(jobs)

    assert [r.status_code for r in responses] == [201] * ORDERS, [r.text for r in responses]
    placed = [r.json() for r in responses]
    assert len({o["id"] for o in placed}) == ORDERS
    assert [o["operator"] for o in placed] == [op.id for op in placed_by]
    assert world.count(tables.orders) == ORDERS

    # Two processors at once, in small batches so they interleave: first intake ...
    def run(services: Services, at: datetime) -> Callable[[], ProcessReport]:
        return lambda: services.processor.process(at, batch_size=3)

    intake = _all_at_once([run(world.services, world.clock.at), run(second, world.clock.at)])
    # ... then the switch.
    switch = _all_at_once([run(world.services, SWITCH_T0), run(second, SWITCH_T0)])

    # Every order is accounted for, once.
    final = [op.state(o["id"]) for op, o in zip(placed_by, placed, strict=True)]
    states = Counter(o["state"] for o in final)
    assert states == {"COMPLETED": 1, "REJECTED": ORDERS - 1}, states
    assert {o["reason_code"] for o in final if o["state"] == "REJECTED"} <= {
        "E_OPEN_ORDER",
        "E_LINE_PRESELECTED",
    }
    [winner] = [o for o in final if o["state"] == "COMPLETED"]
    assert [h["state"] for h in winner["history"]] == [
        "RECEIVED",
        "VALIDATED",
        "COMMITTED",
        "COMPLETED",
    ]
    for order in final:
        if order["state"] == "REJECTED":
            assert [h["state"] for h in order["history"]] == ["RECEIVED", "REJECTED"]
    # No transition was done twice: 3 for the winner, 1 for each loser.
    assert sum(r.transitions for r in intake + switch) == 3 + (ORDERS - 1)
    assert world.count(tables.order_history) == 4 + 2 * (ORDERS - 1)
    assert world.count(tables.operator_events) == 3 + (ORDERS - 1)
    # Exactly one current preselection, the winner's.
    [current] = world.current_preselections(NUMBER)
    assert current["order_id"] == winner["id"]
    assert current["operator_id"] == winner["operator"]
    assert world.count(tables.preselections) == 1
    assert world.count(tables.orders, tables.orders.c.next_due_at.is_not(None)) == 0


def test_concurrent_replays_of_one_idempotency_key_create_one_order(
    world: World, alpha: Operator
) -> None:
    body = provide(NUMBER)
    jobs = [_post(_client_for(world, alpha), body, "one-key") for _ in range(ORDERS)]

    responses = _all_at_once(jobs)

    assert [r.status_code for r in responses] == [201] * ORDERS, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    originals = [r for r in responses if "Idempotent-Replayed" not in r.headers]
    assert len(originals) == 1
    assert world.count(tables.orders) == 1
    assert world.count(tables.order_history) == 1
    assert [o["id"] for o in alpha.list_orders().json()["items"]] == [responses[0].json()["id"]]


def test_concurrent_same_key_with_different_bodies_keeps_one(world: World, alpha: Operator) -> None:
    bodies = [provide(NUMBER, option=("ALL", "NATIONAL")[i % 2]) for i in range(10)]
    jobs = [_post(_client_for(world, alpha), b, "contested") for b in bodies]

    responses = _all_at_once(jobs)

    assert world.count(tables.orders) == 1
    [stored] = world.rows(tables.orders)
    for body, response in zip(bodies, responses, strict=True):
        if body["option"] == stored["option"]:
            assert response.status_code == 201
            assert response.json()["id"] == stored["id"]
        else:
            assert response.status_code == 409
            assert response.json()["code"] == "E_CONFLICT"
