"""GET /v1/events: the operator's own notification feed, oldest first, cursor `after`."""

from __future__ import annotations

import base64
from typing import Any

from .world import DUE_T0, SWITCH_T0, UNKNOWN_NUMBER, Operator, World, problem, provide


def test_feed_is_empty_before_anything_happens(alpha: Operator) -> None:
    response = alpha.events()

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"items": [], "next_cursor": None}


def test_feed_lists_own_state_changes_oldest_first(
    world: World, alpha: Operator, beta: Operator
) -> None:
    committed = alpha.order(provide("22334455"))["id"]
    rejected = alpha.order(provide(UNKNOWN_NUMBER))["id"]
    theirs = beta.order(provide("22334466"))["id"]
    world.process()

    items = alpha.all_events()

    assert [(e["order_id"], e["state"]) for e in items] == [
        (committed, "VALIDATED"),
        (committed, "COMMITTED"),
        (rejected, "REJECTED"),
    ]
    assert {e["type"] for e in items} == {"ORDER_STATE"}
    assert all(set(e) >= {"cursor", "type", "number"} for e in items)
    assert items[1] | {"cursor": None} == {
        "cursor": None,
        "type": "ORDER_STATE",
        "number": "22334455",
        "order_id": committed,
        "order_type": "PROVIDE",
        "state": "COMMITTED",
        "at": "2026-11-23T09:00:00Z",
        "reason_code": None,
        "due_date": DUE_T0,
    }
    assert items[2]["reason_code"] == "E_LINE_UNKNOWN"
    assert items[2]["number"] == UNKNOWN_NUMBER
    # Only own events: beta's feed holds beta's order, alpha's holds none of it.
    assert {e["order_id"] for e in beta.all_events()} == {theirs}
    assert theirs not in alpha.events(limit=500).text
    assert "22334466" not in alpha.events(limit=500).text


def test_after_cursor_continues_without_gaps_or_repeats(world: World, alpha: Operator) -> None:
    for _ in range(4):
        alpha.order(provide(UNKNOWN_NUMBER))
    alpha.order(provide("22334455"))
    world.process()
    everything = alpha.all_events()
    assert len(everything) == 6

    walked: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(10):
        body = alpha.events(limit=2, **({} if after is None else {"after": after})).json()
        if not body["items"]:
            assert body["next_cursor"] == after  # polling again later starts here
            break
        walked += body["items"]
        assert body["next_cursor"] == body["items"][-1]["cursor"]
        after = body["next_cursor"]

    assert walked == everything
    assert len({e["cursor"] for e in walked}) == len(walked)


def test_feed_continues_after_new_events(world: World, alpha: Operator) -> None:
    first = alpha.order(provide("22334455"))["id"]
    world.process()
    body = alpha.events().json()
    assert [e["state"] for e in body["items"]] == ["VALIDATED", "COMMITTED"]

    world.process(SWITCH_T0)
    newer = alpha.events(after=body["next_cursor"]).json()

    assert [(e["order_id"], e["state"]) for e in newer["items"]] == [(first, "COMPLETED")]


def test_other_operators_cursor_reveals_nothing(
    world: World, alpha: Operator, beta: Operator
) -> None:
    alpha.order(provide("22334455"))
    beta.order(provide("22334466"))
    world.process()
    beta_cursor = beta.events().json()["next_cursor"]

    response = alpha.events(after=beta_cursor)

    # Cursors are sealed to their operator: another's is refused, not interpreted.
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"parameter": "after", "reason": "not a cursor this API gave you"}
    ]
    # And a cursor does not carry its position in the clear.
    raw = base64.urlsafe_b64decode(beta_cursor + "=" * (-len(beta_cursor) % 4))
    assert b"e:" not in raw


def test_orders_cursor_is_not_an_events_cursor(world: World, alpha: Operator) -> None:
    for _ in range(3):
        alpha.order(provide(UNKNOWN_NUMBER))
    order_cursor = alpha.list_orders(limit=1).json()["next_cursor"]
    assert order_cursor

    found = problem(alpha.events(after=order_cursor), 422, "E_VALIDATION")
    assert [e["parameter"] for e in found["errors"]] == ["after"]
