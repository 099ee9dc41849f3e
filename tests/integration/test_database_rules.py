"""Rules the database itself enforces, whatever the code above it does: raw SQL inserts and
updates that break them raise IntegrityError on SQLite and on PostgreSQL alike."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, update
from sqlalchemy.exc import IntegrityError

from forvalg.store.tables import operators, orders, preselections

from .world import T0

NUMBER = "22334455"


@pytest.fixture
def db(engine: Engine) -> Engine:
    with engine.begin() as connection:
        connection.execute(
            insert(operators),
            [
                {
                    "id": op,
                    "name": op.title(),
                    "csc": csc,
                    "agreement_active": True,
                    "created_at": T0,
                }
                for op, csc in (("alfatel", "1501"), ("betanett", "1502"))
            ],
        )
    return engine


_serial = iter(range(1, 1_000_000))


def _order(
    state: str, *, number: str = NUMBER, type_: str = "PROVIDE", **extra: Any
) -> dict[str, Any]:
    n = next(_serial)
    return {
        "id": f"o{n:026d}",
        "type": type_,
        "number": number,
        "operator_id": "alfatel",
        "option": "ALL",
        "state": state,
        "idempotency_key": f"key-{n}",
        "request_hash": "0" * 64,
        "created_at": T0,
        "updated_at": T0,
    } | extra


def _add(engine: Engine, table: Any, *rows: dict[str, Any]) -> None:
    with engine.begin() as connection:
        for row in rows:
            connection.execute(insert(table).values(row))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("VALIDATED", "VALIDATED"),
        ("VALIDATED", "COMMITTED"),
        ("COMMITTED", "VALIDATED"),
        ("COMMITTED", "COMMITTED"),
    ],
)
def test_second_holding_order_on_a_line_is_refused(db: Engine, first: str, second: str) -> None:
    _add(db, orders, _order(first))

    with pytest.raises(IntegrityError):
        _add(db, orders, _order(second, operator_id="betanett", type_="TRANSFER"))

    # In one transaction too.
    with pytest.raises(IntegrityError):
        _add(
            db,
            orders,
            _order("RECEIVED", number="22334466"),
            _order(second, number="22334466"),
            _order(first, number="22334466"),
        )


def test_moving_a_second_order_into_a_holding_state_is_refused(db: Engine) -> None:
    _add(db, orders, _order("COMMITTED"))
    waiting = _order("RECEIVED", operator_id="betanett")
    _add(db, orders, waiting)

    for state in ("VALIDATED", "COMMITTED"):
        with pytest.raises(IntegrityError), db.begin() as connection:
            connection.execute(
                update(orders).where(orders.c.id == waiting["id"]).values(state=state)
            )


@pytest.mark.parametrize(
    "other",
    [
        _order("RECEIVED"),
        _order("REJECTED", reason_code="E_OPEN_ORDER"),
        _order("COMPLETED"),
        _order("CANCELLED"),
        _order("VALIDATED", type_="CANCEL_OTHER", option=None, target_order="o1"),
        _order("COMPLETED", type_="CANCEL_OTHER", option=None, target_order="o1"),
        _order("COMMITTED", number="22334466"),
    ],
    ids=["received", "rejected", "completed", "cancelled", "cancel-other", "done", "other-line"],
)
def test_orders_that_do_not_hold_the_line_are_allowed(db: Engine, other: dict[str, Any]) -> None:
    _add(db, orders, _order("COMMITTED"))
    _add(db, orders, other)


def test_idempotency_key_is_unique_per_operator(db: Engine) -> None:
    _add(db, orders, _order("RECEIVED", idempotency_key="same"))
    _add(db, orders, _order("RECEIVED", idempotency_key="same", operator_id="betanett"))
    with pytest.raises(IntegrityError):
        _add(db, orders, _order("RECEIVED", idempotency_key="same"))


def _preselection(order_id: str, *, number: str = NUMBER, **extra: Any) -> dict[str, Any]:
    return {
        "number": number,
        "operator_id": "alfatel",
        "option": "ALL",
        "valid_from": T0,
        "valid_to": None,
        "recorded_at": T0,
        "order_id": order_id,
    } | extra


@pytest.fixture
def completed(db: Engine) -> list[str]:
    done = [_order("COMPLETED") for _ in range(3)]
    _add(db, orders, *done)
    return [o["id"] for o in done]


def test_second_current_preselection_on_a_line_is_refused(db: Engine, completed: list[str]) -> None:
    _add(db, preselections, _preselection(completed[0]))

    with pytest.raises(IntegrityError):
        _add(db, preselections, _preselection(completed[1], operator_id="betanett"))
    with pytest.raises(IntegrityError):
        _add(db, preselections, _preselection(completed[1], option="NATIONAL"))


def test_closed_periods_and_other_lines_are_allowed(db: Engine, completed: list[str]) -> None:
    later = T0 + timedelta(days=14)
    _add(
        db,
        preselections,
        _preselection(completed[0], valid_to=later, closed_at=later, closed_by_order=completed[1]),
        _preselection(completed[1], valid_from=later),
        _preselection(completed[2], number="22334466"),
    )
    # Re-opening the closed period would make two current ones.
    with pytest.raises(IntegrityError), db.begin() as connection:
        connection.execute(
            update(preselections)
            .where(preselections.c.order_id == completed[0])
            .values(valid_to=None, closed_at=None, closed_by_order=None)
        )
