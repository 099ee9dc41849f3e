"""Rate limits: a bucket per API key and one per operator (a request takes from both, so
an operator holding two keys during a rotation still has one operator's share), `429`
problem+json with `Retry-After`, and requests without a valid credential limited per
client address before any database work. The limiter's clock is stopped
(`create_app(monotonic=...)`): the tests count requests, not seconds."""

from __future__ import annotations

from dataclasses import replace

from fastapi.testclient import TestClient

from forvalg.api.app import create_app
from forvalg.api.signin import FAILURE_BURST
from forvalg.store import tables

from .world import LINES, Operator, World, problem


class Stopped:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.at = 0.0

    def __call__(self) -> float:
        return self.at


def limited_app(world: World, clock: Stopped, **limits: float) -> TestClient:
    settings = replace(world.services.settings, **limits)
    app = create_app(replace(world.services, settings=settings), monotonic=clock)
    client = TestClient(app)
    world.clients.append(client)
    return client


def statuses(client: TestClient, token: str, count: int) -> list[int]:
    headers = {"Authorization": f"Bearer {token}"}
    return [client.get("/v1/orders", headers=headers).status_code for _ in range(count)]


def test_each_key_has_its_own_bucket_within_one_share_per_operator(
    world: World, alpha: Operator, beta: Operator
) -> None:
    clock = Stopped()
    client = limited_app(
        world,
        clock,
        rate_limit_per_s=0.01,
        rate_limit_burst=5,
        key_rate_limit_per_s=0.01,
        key_rate_limit_burst=3,
    )
    second = world.services.operators.new_key(alpha.id).token  # a rotation under way

    assert statuses(client, alpha.token, 4) == [200, 200, 200, 429]  # the key's 3
    # The second key has a bucket of its own, but the operator's 5 are nearly spent.
    assert statuses(client, second, 3) == [200, 200, 429]
    limited = client.get("/v1/orders", headers={"Authorization": f"Bearer {second}"})
    body = problem(limited, 429, "E_RATE_LIMITED")
    assert limited.headers["content-type"].startswith("application/problem+json")
    assert body["status"] == 429
    assert int(limited.headers["Retry-After"]) >= 1
    # Another operator is not slowed down by alpha's rate.
    assert statuses(client, beta.token, 3) == [200] * 3
    # A refused request took from neither bucket: after one token's time, one more.
    clock.at += 100.0  # 0.01 per second: one token
    assert statuses(client, second, 2) == [200, 429]


def test_retry_after_says_when_the_bucket_allows_one_more(world: World, alpha: Operator) -> None:
    clock = Stopped()
    client = limited_app(world, clock, rate_limit_per_s=0.25, rate_limit_burst=1)
    assert statuses(client, alpha.token, 1) == [200]

    limited = client.get("/v1/orders", headers={"Authorization": f"Bearer {alpha.token}"})

    problem(limited, 429, "E_RATE_LIMITED")
    assert limited.headers["Retry-After"] == "4"
    clock.at = 3.75
    assert statuses(client, alpha.token, 1) == [429]
    clock.at = 4.0
    assert statuses(client, alpha.token, 1) == [200]


def test_a_revoked_key_is_refused_and_the_new_one_keeps_the_operators_share(
    world: World, alpha: Operator
) -> None:
    """Rotation: issue a new key, move the client over, revoke the old one."""
    clock = Stopped()
    client = limited_app(world, clock, rate_limit_per_s=0.01, rate_limit_burst=4)
    new = world.services.operators.new_key(alpha.id)
    assert statuses(client, alpha.token, 2) == [200, 200]

    assert world.services.operators.revoke_key(alpha.id, alpha.key_id)

    problem(
        client.get("/v1/orders", headers={"Authorization": f"Bearer {alpha.token}"}),
        401,
        "E_AUTH",
    )
    assert statuses(client, new.token, 3) == [200, 200, 429]  # 4 in all for the operator


def test_requests_without_a_credential_are_limited_per_address_before_the_database(
    world: World,
) -> None:
    clock = Stopped()
    client = limited_app(world, clock)
    other = TestClient(client.app, client=("192.0.2.7", 50000))
    world.clients.append(other)
    number = next(iter(LINES))
    before = world.last_log_seq()

    answers = [
        client.post("/v1/subscriber/codes", json={"number": number}).status_code
        for _ in range(FAILURE_BURST + 5)
    ]

    assert answers == [202] * FAILURE_BURST + [429] * 5
    logged = len(world.access_log(before))
    messages = world.count(tables.subscriber_messages)
    # Refused before any database work: no entry, no message, whatever is asked.
    for _ in range(5):
        problem(client.get("/v1/orders"), 429, "E_RATE_LIMITED")
        problem(
            client.post("/v1/subscriber/sessions", json={"number": number, "code": "12345678"}),
            429,
            "E_RATE_LIMITED",
        )
    assert len(world.access_log(before)) == logged
    assert world.count(tables.subscriber_messages) == messages
    # Another address has its own bucket.
    assert other.post("/v1/subscriber/codes", json={"number": number}).status_code == 202
