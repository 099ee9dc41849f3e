"""The work queue's pure rules: the window (how far back a rejection counts, how late a
pending order is stuck), an order's age, and the queue work item's id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forvalg.domain.orders import OrderState, OrderType
from forvalg.domain.reasons import ReasonCode
from forvalg.domain.work_items import WorkItemKind, kind_of, new_work_item
from forvalg.domain.work_queue import (
    InvalidWindow,
    OrdersNeedingAttention,
    QueuedOrder,
    QueueWindow,
    is_stuck,
)

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def test_the_window_defaults_to_a_week_and_five_minutes() -> None:
    window = QueueWindow()
    assert window.rejected_since(NOW) == NOW - timedelta(days=7)
    assert window.overdue_before(NOW) == NOW - timedelta(minutes=5)
    assert window.limit == 50


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"rejected_days": 0}, "rejected_days"),
        ({"rejected_days": 91}, "rejected_days"),
        ({"stuck_minutes": -1}, "stuck_minutes"),
        ({"stuck_minutes": 24 * 60 + 1}, "stuck_minutes"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
    ],
)
def test_a_bad_window_names_its_field(fields: dict[str, int], field: str) -> None:
    with pytest.raises(InvalidWindow) as raised:
        QueueWindow(**fields)
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("state", "late", "stuck"),
    [
        (OrderState.RECEIVED, 6, True),
        (OrderState.RECEIVED, 5, False),  # exactly at the grace: not yet
        (OrderState.VALIDATED, 60, True),
        (OrderState.COMMITTED, 6, True),  # past its switch instant
        (OrderState.COMMITTED, -60 * 24, False),  # due tomorrow
        (OrderState.COMPLETED, 600, False),
        (OrderState.REJECTED, 600, False),
        (OrderState.CANCELLED, 600, False),
    ],
)
def test_a_pending_order_is_stuck_past_its_instant_and_the_grace(
    state: OrderState, late: int, stuck: bool
) -> None:
    assert is_stuck(state, NOW - timedelta(minutes=late), now=NOW, grace=5) is stuck
    assert not is_stuck(state, None, now=NOW, grace=5)


def test_age_counts_from_the_instant_due_or_the_rejection() -> None:
    base = QueuedOrder(
        "o1",
        OrderType.PROVIDE,
        "alfatel",
        OrderState.REJECTED,
        ReasonCode.E_POSTCODE_MISMATCH,
        created_at=NOW - timedelta(days=2),
        updated_at=NOW - timedelta(days=1),
    )
    assert base.age(NOW) == timedelta(days=1)
    pending = QueuedOrder(
        "o2",
        OrderType.PROVIDE,
        "alfatel",
        OrderState.RECEIVED,
        None,
        created_at=NOW - timedelta(minutes=9),
        updated_at=NOW - timedelta(minutes=9),
        due_at=NOW - timedelta(minutes=9),
    )
    assert pending.age(NOW) == timedelta(minutes=9)
    assert pending.age(NOW - timedelta(hours=1)) == timedelta(0)  # never negative


def test_counts_are_over_all_not_the_rows_listed() -> None:
    found = OrdersNeedingAttention(
        rejected_by_reason={"E_POSTCODE_MISMATCH": 3, "E_LINE_UNKNOWN": 2},
        stuck_by_state={"RECEIVED": 1},
    )
    assert (found.rejected_count, found.stuck_count) == (5, 1)


def test_a_queue_work_item_names_no_line() -> None:
    assert kind_of("WQ-0123456789ab") is WorkItemKind.QUEUE
    assert kind_of("WQ-0123") is None
    item = new_work_item(
        "WQ-0123456789ab",
        WorkItemKind.QUEUE,
        summary="order exceptions",
        opened_by="user:a",
        opened_at=NOW,
    )
    assert item.lines == frozenset()
    assert item.uncovered(["22334455"]) is None  # covers the queue view, which names no line
