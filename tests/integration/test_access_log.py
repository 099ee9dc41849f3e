"""Decision -> log -> data: every API access leaves an access_log row first, and the log
names subscribers only by digest, never by number."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from .world import (
    LINES,
    SWITCH_T0,
    UNKNOWN_NUMBER,
    Operator,
    TestClient,
    World,
    cancel_other,
    provide,
    transfer,
)

NUMBERS = [*LINES, UNKNOWN_NUMBER]


def _assert_no_raw_number(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        for column, value in row.items():
            for number in NUMBERS:
                assert number not in str(value), (row["seq"], column, value)


def test_get_of_an_order_leaves_one_allow_row(world: World, alpha: Operator) -> None:
    order = alpha.order(provide("22334455"))
    before = world.last_log_seq()

    assert alpha.get(order["id"]).status_code == 200

    [row] = world.access_log(before)
    assert row["decision"] == "allow"
    assert row["principal"] == "operator:alfatel"
    assert row["organisation"] == "alfatel"
    assert row["roles"] == ["cps_operator"]
    assert row["purpose"] == "order_management"
    assert row["action"] == "read"
    assert row["resource"] == "cps.order"
    assert row["work_item"] == f"order:{order['id']}"
    assert row["policy_version"]
    assert row["at"] == world.clock.at.isoformat()
    _assert_no_raw_number([row])


def test_reading_another_operators_order_is_logged_too(
    world: World, alpha: Operator, beta: Operator
) -> None:
    order = alpha.order(provide("22334455"))
    before = world.last_log_seq()

    assert beta.get(order["id"]).status_code == 404

    [row] = world.access_log(before)
    assert (row["principal"], row["resource"], row["decision"]) == (
        "operator:betanett",
        "cps.order",
        "allow",
    )


@pytest.mark.parametrize(
    ("call", "resources"),
    [
        (lambda op: op.list_orders(), {"cps.order"}),
        (lambda op: op.list_orders(number="22334455"), {"cps.order"}),
        (lambda op: op.events(), {"cps.event"}),
        (lambda op: op.place(provide("22334466")), {"cps.order"}),
        (lambda op: op.eligibility("22334466"), {"line.eligibility"}),
    ],
    ids=["list", "list-by-number", "events", "place", "eligibility"],
)
def test_every_call_is_logged_before_it_answers(
    world: World, alpha: Operator, call: Any, resources: set[str]
) -> None:
    before = world.last_log_seq()

    response = call(alpha)

    assert response.status_code in (200, 201)
    rows = world.access_log(before)
    assert rows
    assert {r["resource"] for r in rows} == resources
    assert {(r["principal"], r["decision"]) for r in rows} == {("operator:alfatel", "allow")}


def test_list_by_number_names_the_subject_by_digest(world: World, alpha: Operator) -> None:
    before = world.last_log_seq()
    alpha.list_orders(number="22334455")
    [row] = world.access_log(before)
    assert row["subject_count"] == 1
    assert row["subjects_digest"]
    assert len(row["subjects_digest"]) == 64
    _assert_no_raw_number([row])


def test_whole_life_cycle_leaves_no_raw_number_in_the_log(
    world: World, alpha: Operator, beta: Operator
) -> None:
    """Everything but eligibility (tested on its own in test_api_lines)."""
    world.preselect(alpha, "22334455")
    gained = beta.order(transfer("22334455"))
    mine = alpha.order(provide("22334466"))
    beta.order(provide(UNKNOWN_NUMBER))
    world.process()
    alpha.list_orders(number="22334466")
    alpha.get(mine["id"])
    alpha.cancel(mine["id"])
    loss = next(e for e in alpha.all_events() if e["type"] == "LOSS")
    alpha.order(cancel_other("22334455", loss["order_id"]))
    world.process()
    beta.all_events()
    beta.get(gained["id"])

    rows = world.access_log()
    assert len(rows) > 20
    assert {r["decision"] for r in rows} == {"allow"}
    _assert_no_raw_number(rows)


@pytest.fixture
def broken_log(world: World) -> Iterator[None]:
    """Every insert into the ledger's inbox fails, as if the ledger could not be written."""
    dialect = world.engine.dialect.name
    with world.engine.begin() as connection:
        if dialect == "sqlite":
            connection.execute(
                text(
                    "CREATE TRIGGER test_log_down BEFORE INSERT ON ledger_inbox "
                    "BEGIN SELECT RAISE(ABORT, 'access log unavailable'); END"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE FUNCTION test_log_down() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'access log unavailable'; END $$"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER test_log_down BEFORE INSERT ON ledger_inbox "
                    "FOR EACH ROW EXECUTE FUNCTION test_log_down()"
                )
            )
    try:
        yield
    finally:
        with world.engine.begin() as connection:
            if dialect == "sqlite":
                connection.execute(text("DROP TRIGGER test_log_down"))
            else:
                connection.execute(text("DROP TRIGGER test_log_down ON ledger_inbox"))
                connection.execute(text("DROP FUNCTION test_log_down()"))


def test_no_data_leaves_when_the_log_cannot_be_written(
    world: World, alpha: Operator, request: pytest.FixtureRequest
) -> None:
    order = alpha.order(provide("22334455", option="NATIONAL"))
    world.process()
    assert world.process(SWITCH_T0).transitions == 1
    request.getfixturevalue("broken_log")

    with TestClient(
        world.app,
        headers={"Authorization": f"Bearer {alpha.token}"},
        raise_server_exceptions=False,
    ) as client:
        answers = [
            client.get(f"/v1/orders/{order['id']}"),
            client.get("/v1/orders"),
            client.get("/v1/events"),
        ]

    for response in answers:
        assert response.status_code >= 500
        assert order["id"] not in response.text
        assert "22334455" not in response.text
        assert "NATIONAL" not in response.text
