"""POST/GET /v1/orders: the order object, idempotency, own orders only, listing."""

from __future__ import annotations

import base64

import pytest

from forvalg.store import tables

from .world import (
    AUTH,
    DUE_T0,
    ORDER_KEYS,
    T0_ISO,
    UNKNOWN_NUMBER,
    Operator,
    World,
    cancel_other,
    problem,
    provide,
)


def test_post_returns_the_order_object_of_the_contract(world: World, alpha: Operator) -> None:
    response = alpha.place(provide("22334455", option="NATIONAL"), key="order-1")

    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    order = response.json()
    assert set(order) == ORDER_KEYS
    assert order["id"]
    assert order == {
        "id": order["id"],
        "type": "PROVIDE",
        "number": "22334455",
        "operator": "alfatel",
        "option": "NATIONAL",
        "state": "RECEIVED",
        "reason_code": None,
        "due_date": None,
        "created_at": T0_ISO,
        "updated_at": T0_ISO,
        "history": [{"state": "RECEIVED", "at": T0_ISO, "reason_code": None}],
    }
    assert response.headers["Location"] == f"/v1/orders/{order['id']}"
    assert "Idempotent-Replayed" not in response.headers
    # Reading it back gives the same object.
    assert alpha.state(order["id"]) == order
    stored = world.rows(tables.orders)
    assert len(stored) == 1
    assert stored[0]["auth_reference"] == AUTH["reference"]
    assert stored[0]["idempotency_key"] == "order-1"


def test_committed_order_has_due_date_and_history(world: World, alpha: Operator) -> None:
    placed = alpha.order(provide("22334455"))
    world.process()

    order = alpha.state(placed["id"])
    assert set(order) == ORDER_KEYS
    assert order["state"] == "COMMITTED"
    assert order["due_date"] == DUE_T0
    assert [set(h) for h in order["history"]] == [{"state", "at", "reason_code"}] * 3
    assert [h["state"] for h in order["history"]] == ["RECEIVED", "VALIDATED", "COMMITTED"]


@pytest.mark.parametrize("key", [None, "", "k" * 201])
def test_idempotency_key_is_required(world: World, alpha: Operator, key: str | None) -> None:
    headers = {} if key is None else {"Idempotency-Key": key}
    response = alpha.client.post("/v1/orders", json=provide("22334455"), headers=headers)

    body = problem(response, 422, "E_VALIDATION")
    assert [e.get("parameter") for e in body["errors"]] == ["Idempotency-Key"]
    assert world.count(tables.orders) == 0


def test_idempotency_key_of_200_characters_is_accepted(alpha: Operator) -> None:
    assert alpha.place(provide("22334455"), key="k" * 200).status_code == 201


def test_replay_with_same_key_and_body_returns_the_same_order(
    world: World, alpha: Operator
) -> None:
    first = alpha.place(provide("22334455"), key="same")
    again = alpha.place(provide("22334455"), key="same")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert world.count(tables.orders) == 1


def test_replay_after_processing_returns_the_order_as_it_is_now(
    world: World, alpha: Operator
) -> None:
    first = alpha.order(provide("22334455"), key="later")
    world.process()
    world.clock.at = world.clock.at.replace(hour=15)  # the replay comes hours later

    again = alpha.place(provide("22334455"), key="later")

    assert again.status_code == 201
    assert again.json()["id"] == first["id"]
    assert again.json()["state"] == "COMMITTED"
    assert again.json() == alpha.state(first["id"])
    assert world.count(tables.orders) == 1


def test_same_key_with_another_body_is_409(
    world: World, alpha: Operator, subtests: pytest.Subtests
) -> None:
    first = alpha.order(provide("22334455"), key="dup")

    for name, other in [
        ("number", provide("22334466")),
        ("option", provide("22334455", option="INTERNATIONAL")),
        ("requested_date", provide("22334455", requested_date="2026-12-15")),
        ("authorisation", provide("22334455", authorisation=AUTH | {"reference": "LOA-2"})),
        ("type", provide("22334455") | {"type": "TRANSFER"}),
    ]:
        with subtests.test(name):
            body = problem(alpha.place(other, key="dup"), 409, "E_CONFLICT")
            assert "dup" in body["detail"]

    assert world.count(tables.orders) == 1
    assert alpha.state(first["id"])["number"] == "22334455"


def test_idempotency_keys_are_per_operator(world: World, alpha: Operator, beta: Operator) -> None:
    a = alpha.order(provide("22334455"), key="shared-key")
    b = beta.place(provide("22334466"), key="shared-key")

    assert b.status_code == 201
    assert "Idempotent-Replayed" not in b.headers
    assert b.json()["id"] != a["id"]
    assert b.json()["operator"] == "betanett"
    assert world.count(tables.orders) == 2


def test_another_operators_order_is_404_like_a_nonexistent_one(
    world: World, alpha: Operator, beta: Operator
) -> None:
    theirs = alpha.order(provide("22334455"))["id"]
    missing = "o" + "0" * 26

    for call in (beta.get, beta.cancel):
        hidden, absent = call(theirs), call(missing)
        problem(hidden, 404, "E_NOT_FOUND")
        problem(absent, 404, "E_NOT_FOUND")
        assert hidden.content.replace(theirs.encode(), b"ID") == absent.content.replace(
            missing.encode(), b"ID"
        )
        assert {k: v for k, v in hidden.headers.items() if k != "content-length"} == {
            k: v for k, v in absent.headers.items() if k != "content-length"
        }
    # Still there, untouched, for its owner.
    assert alpha.state(theirs)["state"] == "RECEIVED"


def test_cancel_other_naming_another_operators_order_reveals_nothing(
    world: World, alpha: Operator, beta: Operator
) -> None:
    """A CANCEL_OTHER from a non-serving operator is accepted and rejected later, the same
    whether the target exists or not."""
    theirs = alpha.order(provide("22334455"))["id"]
    real = beta.order(cancel_other("22334455", theirs))
    fake = beta.order(cancel_other("22334455", "o" + "1" * 26))
    world.process()

    assert beta.state(real["id"])["reason_code"] == "E_NOT_SERVING"
    assert beta.state(fake["id"])["reason_code"] == "E_NOT_SERVING"


def _ids(items: list[dict[str, object]]) -> list[object]:
    return [o["id"] for o in items]


def test_list_shows_own_orders_newest_first(world: World, alpha: Operator, beta: Operator) -> None:
    mine = []
    for minute, number in enumerate(["22334455", "22334466", "22334477"]):
        world.clock.at = world.clock.at.replace(minute=minute)
        mine.append(alpha.order(provide(number))["id"])
        beta.order(provide("22334488", requested_date="2026-12-15"))

    response = alpha.list_orders()

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "next_cursor"}
    assert _ids(body["items"]) == list(reversed(mine))
    assert all(o["operator"] == "alfatel" for o in body["items"])
    assert all(set(o) == ORDER_KEYS for o in body["items"])
    assert body["next_cursor"] is None
    assert len(beta.list_orders().json()["items"]) == 3


def test_list_filters_by_state_and_number(world: World, alpha: Operator) -> None:
    committed = alpha.order(provide("22334455"))["id"]
    rejected = alpha.order(provide(UNKNOWN_NUMBER))["id"]
    world.process()
    received = alpha.order(provide("22334466"))["id"]
    second_on_line = alpha.order(provide("22334455"))["id"]  # rejected later: open order

    def ids(**params: str) -> list[object]:
        response = alpha.list_orders(**params)
        assert response.status_code == 200, response.text
        return _ids(response.json()["items"])

    assert ids(state="COMMITTED") == [committed]
    assert ids(state="REJECTED") == [rejected]
    assert ids(state="RECEIVED") == [second_on_line, received]
    assert ids(state="CANCELLED") == []
    assert ids(number="22334455") == [second_on_line, committed]
    assert ids(number=UNKNOWN_NUMBER) == [rejected]
    assert ids(number="22334455", state="RECEIVED") == [second_on_line]
    assert ids(number="23456701") == []


def test_cursor_pagination_walks_every_item_once(world: World, alpha: Operator) -> None:
    placed = [alpha.order(provide(UNKNOWN_NUMBER))["id"] for _ in range(7)]

    seen: list[object] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 3} | ({} if cursor is None else {"cursor": cursor})
        body = alpha.list_orders(**params).json()
        pages += 1
        seen += _ids(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert len(body["items"]) == 3

    assert pages == 3
    assert seen == list(reversed(placed))
    assert len(set(seen)) == len(seen)


def test_cursor_pagination_with_a_filter(world: World, alpha: Operator) -> None:
    for _ in range(3):
        alpha.order(provide(UNKNOWN_NUMBER))
        alpha.order(provide("22334455", option="NATIONAL"))

    first = alpha.list_orders(number=UNKNOWN_NUMBER, limit=2).json()
    second = alpha.list_orders(number=UNKNOWN_NUMBER, limit=2, cursor=first["next_cursor"]).json()

    items = first["items"] + second["items"]
    assert len(items) == 3
    assert {o["number"] for o in items} == {UNKNOWN_NUMBER}
    assert second["next_cursor"] is None


def test_bad_cursor_is_422(alpha: Operator, subtests: pytest.Subtests) -> None:
    for cursor in [
        "not-a-cursor",
        "!!!",
        base64.urlsafe_b64encode(b"e:1").decode().rstrip("="),  # an events cursor
        base64.urlsafe_b64encode(b"o:-1").decode().rstrip("="),
        base64.urlsafe_b64encode(b"o:abc").decode().rstrip("="),
        "x" * 101,
    ]:
        with subtests.test(cursor):
            body = problem(alpha.list_orders(cursor=cursor), 422, "E_VALIDATION")
            assert [e.get("parameter") for e in body["errors"]] == ["cursor"]
