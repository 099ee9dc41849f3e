"""The order state machine, checked against an expectation written from orders.py's docstring:

RECEIVED ─accept─▶ VALIDATED ─commit─▶ COMMITTED ─complete─▶ COMPLETED
    └─reject─▶ REJECTED        any open state ─cancel─▶ CANCELLED

CANCEL_OTHER orders take effect at once: VALIDATED ─complete─▶ COMPLETED
(and a CANCEL_OTHER is never committed and never cancelled itself).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forvalg.domain.orders import (
    FINAL_STATES,
    HOLDING_STATES,
    LINE_ORDERS,
    OPEN_STATES,
    TRANSITIONS,
    TYPE_TRANSITIONS,
    InvalidTransition,
    Option,
    OrderEvent,
    OrderState,
    OrderType,
    StateChange,
    new_order,
    next_state,
)
from forvalg.domain.reasons import ReasonCode

S, E, T = OrderState, OrderEvent, OrderType
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def expected_next(order_type: OrderType, state: OrderState, event: OrderEvent) -> OrderState | None:
    """The independent expectation: the target state, or None where no transition exists."""
    open_states = {S.RECEIVED, S.VALIDATED, S.COMMITTED}
    if order_type is T.CANCEL_OTHER:
        if event is E.CANCEL or event is E.COMMIT:
            return None
        if (state, event) == (S.VALIDATED, E.COMPLETE):
            return S.COMPLETED
    if event is E.CANCEL and state in open_states:
        return S.CANCELLED
    return {
        (S.RECEIVED, E.ACCEPT): S.VALIDATED,
        (S.RECEIVED, E.REJECT): S.REJECTED,
        (S.VALIDATED, E.COMMIT): S.COMMITTED,
        (S.COMMITTED, E.COMPLETE): S.COMPLETED,
    }.get((state, event))


ALL_TRIPLES = list(itertools.product(OrderType, OrderState, OrderEvent))


# --- the tables themselves ----------------------------------------------------------------


def test_transitions_table_is_exactly_the_documented_graph() -> None:
    assert {
        (S.RECEIVED, E.ACCEPT): S.VALIDATED,
        (S.RECEIVED, E.REJECT): S.REJECTED,
        (S.VALIDATED, E.COMMIT): S.COMMITTED,
        (S.COMMITTED, E.COMPLETE): S.COMPLETED,
        (S.RECEIVED, E.CANCEL): S.CANCELLED,
        (S.VALIDATED, E.CANCEL): S.CANCELLED,
        (S.COMMITTED, E.CANCEL): S.CANCELLED,
    } == TRANSITIONS


def test_type_transitions_table_is_exactly_the_cancel_other_exceptions() -> None:
    assert set(TYPE_TRANSITIONS) == {T.CANCEL_OTHER}
    assert TYPE_TRANSITIONS[T.CANCEL_OTHER] == {
        (S.VALIDATED, E.COMPLETE): S.COMPLETED,
        (S.VALIDATED, E.COMMIT): None,
        (S.RECEIVED, E.CANCEL): None,
        (S.VALIDATED, E.CANCEL): None,
        (S.COMMITTED, E.CANCEL): None,
    }


@pytest.mark.parametrize("order_type", [t for t in OrderType if t not in TYPE_TRANSITIONS])
@pytest.mark.parametrize(("key", "target"), list(TRANSITIONS.items()))
def test_every_transitions_entry_holds_for_types_without_exceptions(
    order_type: OrderType, key: tuple[OrderState, OrderEvent], target: OrderState
) -> None:
    state, event = key
    assert next_state(order_type, state, event) is target


@pytest.mark.parametrize(("key", "target"), list(TYPE_TRANSITIONS[T.CANCEL_OTHER].items()), ids=str)
def test_every_type_transitions_entry_overrides_the_table(
    key: tuple[OrderState, OrderEvent], target: OrderState | None
) -> None:
    state, event = key
    if target is None:
        with pytest.raises(InvalidTransition):
            next_state(T.CANCEL_OTHER, state, event)
    else:
        assert next_state(T.CANCEL_OTHER, state, event) is target


def test_cancel_other_keeps_the_generic_entries_it_does_not_override() -> None:
    assert next_state(T.CANCEL_OTHER, S.RECEIVED, E.ACCEPT) is S.VALIDATED
    assert next_state(T.CANCEL_OTHER, S.RECEIVED, E.REJECT) is S.REJECTED


def test_only_cancel_other_completes_from_validated() -> None:
    for order_type in OrderType:
        if order_type is T.CANCEL_OTHER:
            assert next_state(order_type, S.VALIDATED, E.COMPLETE) is S.COMPLETED
        else:
            with pytest.raises(InvalidTransition):
                next_state(order_type, S.VALIDATED, E.COMPLETE)


# --- every (type, state, event) -----------------------------------------------------------


@given(st.sampled_from(OrderType), st.sampled_from(OrderState), st.sampled_from(OrderEvent))
def test_next_state_matches_the_expectation(
    order_type: OrderType, state: OrderState, event: OrderEvent
) -> None:
    expected = expected_next(order_type, state, event)
    if expected is None:
        with pytest.raises(InvalidTransition) as info:
            next_state(order_type, state, event)
        assert (info.value.order_type, info.value.state, info.value.event) == (
            order_type,
            state,
            event,
        )
        assert str(order_type) in str(info.value)
        assert str(state) in str(info.value)
        assert str(event) in str(info.value)
    else:
        assert next_state(order_type, state, event) is expected


def test_next_state_matches_the_expectation_exhaustively() -> None:
    """The same check over all 150 triples, so none depends on what hypothesis draws."""
    allowed = 0
    for order_type, state, event in ALL_TRIPLES:
        expected = expected_next(order_type, state, event)
        if expected is None:
            with pytest.raises(InvalidTransition):
                next_state(order_type, state, event)
        else:
            allowed += 1
            assert next_state(order_type, state, event) is expected, (order_type, state, event)
    # 4 line-order types x 7 table entries + CANCEL_OTHER's accept, reject, complete x2.
    assert allowed == 4 * 7 + 4


@given(st.sampled_from(OrderType), st.sampled_from(sorted(FINAL_STATES)), st.sampled_from(E))
def test_final_states_have_no_way_out(
    order_type: OrderType, state: OrderState, event: OrderEvent
) -> None:
    with pytest.raises(InvalidTransition):
        next_state(order_type, state, event)


def test_state_sets() -> None:
    assert frozenset({S.RECEIVED, S.VALIDATED, S.COMMITTED}) == OPEN_STATES
    assert frozenset({S.COMPLETED, S.REJECTED, S.CANCELLED}) == FINAL_STATES
    assert frozenset({S.VALIDATED, S.COMMITTED}) == HOLDING_STATES
    assert set(OrderState) == OPEN_STATES | FINAL_STATES
    assert not OPEN_STATES & FINAL_STATES
    assert set(LINE_ORDERS) == set(OrderType) - {T.CANCEL_OTHER}


def test_every_transition_target_is_reachable_only_from_open_states() -> None:
    for order_type, state, event in ALL_TRIPLES:
        if expected_next(order_type, state, event) is not None:
            assert state in OPEN_STATES


# --- Order.apply --------------------------------------------------------------------------


def make(order_type: OrderType = T.PROVIDE):
    return new_order(
        order_id="ord-1",
        order_type=order_type,
        number="22334455",
        operator_id="telco-a",
        received_at=T0,
        option=Option.ALL,
    )


def test_new_order_starts_received_with_one_history_entry() -> None:
    order = make()
    assert order.state is S.RECEIVED
    assert order.history == [StateChange(S.RECEIVED, T0)]
    assert order.created_at == order.updated_at == T0
    assert order.reason_code is None
    assert order.due_date is None
    assert order.is_open
    assert not order.holds_line


def test_apply_walks_the_happy_path_and_records_history() -> None:
    order = make()
    t1, t2, t3 = (T0 + timedelta(hours=n) for n in (1, 2, 3))
    assert order.apply(E.ACCEPT, t1) == StateChange(S.VALIDATED, t1)
    assert order.holds_line
    assert order.apply(E.COMMIT, t2) == StateChange(S.COMMITTED, t2)
    assert order.holds_line
    assert order.apply(E.COMPLETE, t3) == StateChange(S.COMPLETED, t3)
    assert order.state is S.COMPLETED
    assert not order.is_open
    assert not order.holds_line
    assert order.updated_at == t3
    assert [c.state for c in order.history] == [S.RECEIVED, S.VALIDATED, S.COMMITTED, S.COMPLETED]
    assert [c.at for c in order.history] == [T0, t1, t2, t3]
    assert order.reason_code is None


def test_apply_reject_records_the_reason() -> None:
    order = make()
    change = order.apply(E.REJECT, T0, ReasonCode.E_LINE_UNKNOWN)
    assert change == StateChange(S.REJECTED, T0, ReasonCode.E_LINE_UNKNOWN)
    assert order.reason_code is ReasonCode.E_LINE_UNKNOWN
    assert order.history[-1] == change


def test_apply_cancel_records_the_reason() -> None:
    order = make()
    order.apply(E.ACCEPT, T0)
    order.apply(E.CANCEL, T0, ReasonCode.C_CANCELLED_BY_OPERATOR)
    assert order.state is S.CANCELLED
    assert order.reason_code is ReasonCode.C_CANCELLED_BY_OPERATOR


def test_apply_an_invalid_event_changes_nothing() -> None:
    order = make()
    before = (order.state, list(order.history), order.updated_at, order.reason_code)
    with pytest.raises(InvalidTransition):
        order.apply(E.COMPLETE, T0 + timedelta(days=1), ReasonCode.E_LINE_UNKNOWN)
    assert (order.state, order.history, order.updated_at, order.reason_code) == before


def test_cancel_other_holds_no_line() -> None:
    order = make(T.CANCEL_OTHER)
    order.apply(E.ACCEPT, T0)
    assert order.is_open
    assert not order.holds_line
    with pytest.raises(InvalidTransition):
        order.apply(E.CANCEL, T0)
    order.apply(E.COMPLETE, T0)
    assert order.state is S.COMPLETED


@given(st.lists(st.sampled_from(OrderEvent), max_size=8), st.sampled_from(OrderType))
def test_any_event_sequence_follows_the_expectation(
    events: list[OrderEvent], order_type: OrderType
) -> None:
    order = make(order_type)
    state = S.RECEIVED
    for n, event in enumerate(events):
        expected = expected_next(order_type, state, event)
        if expected is None:
            with pytest.raises(InvalidTransition):
                order.apply(event, T0)
        else:
            order.apply(event, T0 + timedelta(minutes=n))
            state = expected
        assert order.state is state
    assert [c.state for c in order.history][-1] is state
