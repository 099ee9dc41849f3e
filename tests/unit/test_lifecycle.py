"""The order life cycle as pure steps: intake, complete, cancel_own, next_due_at, Effects."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from forvalg.domain.lifecycle import (
    Effects,
    NotCancellable,
    TooLate,
    cancel_own,
    complete,
    intake,
    next_due_at,
)
from forvalg.domain.lines import Line, LineType
from forvalg.domain.notifications import LetterTemplate, NoticeType, OperatorNotice
from forvalg.domain.orders import (
    Authorisation,
    CancelReason,
    InvalidTransition,
    Option,
    Order,
    OrderEvent,
    OrderState,
    OrderType,
    StateChange,
    new_order,
)
from forvalg.domain.preselection import Closed, Opened, Preselection
from forvalg.domain.reasons import ReasonCode
from forvalg.domain.validation import LineFacts, OperatorStanding, OrderRules

S = OrderState
RULES = OrderRules()
CAL = RULES.calendar
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 10:00 Oslo
DUE = date(2026, 12, 7)  # ten working days later, a Monday
CUTOFF = datetime(2026, 12, 4, 11, 0, tzinfo=UTC)  # Friday 12:00 Oslo (CET)
SWITCH = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)  # Monday 00:00 Oslo
NUMBER = "22334455"
LINE = Line(NUMBER, "0150", LineType.PSTN, "ACTIVE")
SERVING, SERVING_NAME = "telco-a", "Alfa Tele AS"
GAINING, GAINING_NAME = "telco-b", "Blåtelefon AS"
NAMES = {SERVING: SERVING_NAME, GAINING: GAINING_NAME}


def auth(received_at: datetime = T0) -> Authorisation:
    return Authorisation("consent-9", received_at.date() - timedelta(days=2), "PHONE")


def make(
    order_type: OrderType = OrderType.PROVIDE,
    *,
    order_id: str = "ord-1",
    operator_id: str = GAINING,
    at: datetime = T0,
    **kwargs: Any,
) -> Order:
    if order_type in (OrderType.PROVIDE, OrderType.TRANSFER):
        kwargs.setdefault("option", Option.ALL)
        kwargs.setdefault("authorisation", auth(at))
    if order_type is OrderType.MODIFY:
        kwargs.setdefault("option", Option.NATIONAL)
    if order_type is OrderType.CANCEL_OTHER:
        kwargs.setdefault("cancel_reason", CancelReason.NOT_ORDERED)
    return new_order(
        order_id=order_id,
        order_type=order_type,
        number=NUMBER,
        operator_id=operator_id,
        received_at=at,
        **kwargs,
    )


def current(operator_id: str = SERVING, option: Option = Option.ALL) -> Preselection:
    return Preselection(NUMBER, operator_id, option, T0 - timedelta(days=365), "ord-old")


def facts(cur: Preselection | None = None, holding: str | None = None, line=LINE) -> LineFacts:
    return LineFacts(line=line, current=cur, holding_order=holding)


def run_intake(order: Order, f: LineFacts, target: Order | None = None) -> Effects:
    return intake(
        order,
        f,
        OperatorStanding(order.operator_id, True),
        RULES,
        operator_name=NAMES[order.operator_id],
        target=target,
    )


def committed(order_type: OrderType = OrderType.PROVIDE, **kwargs: Any) -> Order:
    order = make(order_type, **kwargs)
    cur = None if order_type is OrderType.PROVIDE else current()
    run_intake(order, facts(cur))
    assert order.state is S.COMMITTED
    return order


def strings(value: Any) -> Iterator[str]:
    """Every key and scalar in a nested payload, as text."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from strings(v)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            yield from strings(v)
    else:
        yield str(value)


def assert_never_names_the_gaining_operator(notice: OperatorNotice) -> None:
    assert notice.operator_id != GAINING
    for text in [*strings(notice.payload), notice.number]:
        assert GAINING not in text
        assert GAINING_NAME not in text


def by_type(effects: Effects, kind: NoticeType) -> list[OperatorNotice]:
    return [n for n in effects.notices if n.type is kind]


# --- intake ---------------------------------------------------------------------------------


def test_intake_provide_commits_with_a_due_date() -> None:
    order = make()
    effects = run_intake(order, facts())
    assert order.state is S.COMMITTED
    assert order.due_date == DUE
    assert order.updated_at == T0
    assert order.reason_code is None
    assert order.history == [
        StateChange(S.RECEIVED, T0),
        StateChange(S.VALIDATED, T0),
        StateChange(S.COMMITTED, T0),
    ]
    assert len(effects.orders) == 1
    assert effects.orders[0] is order
    assert effects.history == [
        ("ord-1", StateChange(S.VALIDATED, T0)),
        ("ord-1", StateChange(S.COMMITTED, T0)),
    ]
    assert effects.transitions == 2
    assert effects.opened == []
    assert effects.closed == []


def test_intake_provide_notifies_the_ordering_operator_of_each_state() -> None:
    effects = run_intake(make(), facts())
    assert [n.type for n in effects.notices] == [NoticeType.ORDER_STATE] * 2
    assert {n.operator_id for n in effects.notices} == {GAINING}
    validated, committed_ = (n.payload for n in effects.notices)
    assert validated["state"] == "VALIDATED"
    assert validated["due_date"] is None
    assert committed_ == {
        "order_id": "ord-1",
        "order_type": "PROVIDE",
        "state": "COMMITTED",
        "at": "2026-11-23T09:00:00Z",
        "reason_code": None,
        "due_date": "2026-12-07",
    }


def test_intake_provide_sends_a_customer_letter_with_the_cooling_off_end() -> None:
    order = make(requested_date=date(2026, 12, 14))
    effects = run_intake(order, facts())
    assert order.due_date == date(2026, 12, 14)
    [letter] = effects.letters
    assert letter.template is LetterTemplate.PRESELECTION_CONFIRMATION
    assert letter.number == NUMBER
    assert letter.order_id == "ord-1"
    assert letter.at == T0
    assert letter.fields == {
        "number": NUMBER,
        "effective_date": "2026-12-14",
        "operator_name": GAINING_NAME,
        "cooling_off_ends": "2026-12-07",  # 14 days after 2026-11-23
    }
    text = letter.text()
    for part in (NUMBER, "2026-12-14", "2026-12-07", GAINING_NAME):
        assert part in text


def test_intake_requested_date_before_the_earliest_uses_the_earliest() -> None:
    order = make(requested_date=date(2026, 11, 25))
    run_intake(order, facts())
    assert order.due_date == DUE


def test_intake_requested_weekend_after_the_earliest_is_refused() -> None:
    order = make(requested_date=date(2026, 12, 12))
    run_intake(order, facts())
    assert order.state is S.REJECTED
    assert order.reason_code is ReasonCode.E_DATE_INVALID


@pytest.mark.parametrize("order_type", list(OrderType))
def test_intake_rejects_with_the_reason(order_type: OrderType) -> None:
    order = make(order_type, operator_id=SERVING, target_order="ord-x")
    effects = run_intake(order, facts(current(), line=None))
    assert order.state is S.REJECTED
    assert order.reason_code is ReasonCode.E_LINE_UNKNOWN
    assert order.due_date is None
    assert effects.transitions == 1
    assert effects.history == [("ord-1", StateChange(S.REJECTED, T0, ReasonCode.E_LINE_UNKNOWN))]
    [notice] = effects.notices
    assert notice.operator_id == SERVING
    assert notice.payload["state"] == "REJECTED"
    assert notice.payload["reason_code"] == "E_LINE_UNKNOWN"
    assert effects.letters == []
    assert effects.opened == effects.closed == []


def test_rejected_transfer_sends_no_loss_notice() -> None:
    order = make(OrderType.TRANSFER, authorisation=None)
    effects = run_intake(order, facts(current()))
    assert order.reason_code is ReasonCode.E_AUTHORISATION_MISSING
    assert by_type(effects, NoticeType.LOSS) == []


def test_intake_transfer_sends_a_loss_notice_to_the_losing_operator() -> None:
    order = make(OrderType.TRANSFER, order_id="ord-77")
    effects = run_intake(order, facts(current(SERVING)))
    assert order.state is S.COMMITTED
    assert order.due_date == DUE
    [loss] = by_type(effects, NoticeType.LOSS)
    assert loss.operator_id == SERVING
    assert loss.number == NUMBER
    assert loss.at == T0
    assert loss.payload["effective_date"] == "2026-12-07"
    assert set(loss.payload) <= {"effective_date", "order_id"}
    assert_never_names_the_gaining_operator(loss)
    state_notices = by_type(effects, NoticeType.ORDER_STATE)
    assert [n.operator_id for n in state_notices] == [GAINING, GAINING]
    assert effects.transitions == 2


def test_intake_transfer_letter_names_only_the_operator_the_customer_chose() -> None:
    effects = run_intake(make(OrderType.TRANSFER), facts(current(SERVING)))
    [letter] = effects.letters
    assert letter.template is LetterTemplate.PRESELECTION_CONFIRMATION
    assert letter.fields["operator_name"] == GAINING_NAME
    text = letter.text()
    assert SERVING not in text
    assert SERVING_NAME not in text


def test_intake_modify_sends_no_letter_and_no_loss_notice() -> None:
    order = make(OrderType.MODIFY, operator_id=SERVING)
    effects = run_intake(order, facts(current(SERVING)))
    assert order.state is S.COMMITTED
    assert order.due_date == DUE
    assert effects.letters == []
    assert [n.type for n in effects.notices] == [NoticeType.ORDER_STATE] * 2


def test_intake_cease_sends_a_neutral_end_letter() -> None:
    order = make(OrderType.CEASE, operator_id=SERVING)
    effects = run_intake(order, facts(current(SERVING)))
    assert order.state is S.COMMITTED
    [letter] = effects.letters
    assert letter.template is LetterTemplate.PRESELECTION_ENDS
    assert letter.fields == {"number": NUMBER, "effective_date": "2026-12-07"}
    assert SERVING_NAME not in letter.text()
    assert by_type(effects, NoticeType.LOSS) == []


def test_intake_of_an_order_already_processed_is_an_invalid_transition() -> None:
    order = committed()
    with pytest.raises(InvalidTransition):
        run_intake(order, facts(holding=order.id))


# --- CANCEL_OTHER ---------------------------------------------------------------------------


def cancel_other_of(target: Order, at: datetime) -> Order:
    return make(
        OrderType.CANCEL_OTHER,
        order_id="ord-c",
        operator_id=SERVING,
        at=at,
        target_order=target.id,
    )


def test_cancel_other_cancels_a_committed_transfer_and_completes_at_once() -> None:
    target = committed(OrderType.TRANSFER, order_id="ord-t")
    at = T0 + timedelta(days=2)
    cancel = cancel_other_of(target, at)
    effects = run_intake(cancel, facts(current(SERVING), holding="ord-t"), target=target)

    assert target.state is S.CANCELLED
    assert target.reason_code is ReasonCode.C_CANCELLED_BY_SERVING_OPERATOR
    assert target.updated_at == at
    assert target.history[-1] == StateChange(
        S.CANCELLED, at, ReasonCode.C_CANCELLED_BY_SERVING_OPERATOR
    )
    assert cancel.state is S.COMPLETED
    assert cancel.due_date is None
    assert [c.state for c in cancel.history] == [S.RECEIVED, S.VALIDATED, S.COMPLETED]

    assert effects.transitions == 3
    assert [(oid, c.state) for oid, c in effects.history] == [
        ("ord-c", S.VALIDATED),
        ("ord-t", S.CANCELLED),
        ("ord-c", S.COMPLETED),
    ]
    assert {id(o) for o in effects.orders} == {id(cancel), id(target)}
    assert effects.letters == []
    assert effects.opened == effects.closed == []
    assert next_due_at(cancel, CAL) is None
    assert next_due_at(target, CAL) is None


def test_cancel_other_of_a_committed_transfer_sends_loss_cancelled() -> None:
    target = committed(OrderType.TRANSFER, order_id="ord-t")
    at = T0 + timedelta(days=2)
    effects = run_intake(
        cancel_other_of(target, at), facts(current(SERVING), holding="ord-t"), target=target
    )
    [notice] = by_type(effects, NoticeType.LOSS_CANCELLED)
    assert notice.operator_id == SERVING
    assert notice.number == NUMBER
    assert notice.at == at
    assert notice.payload == {"order_id": "ord-t"}
    assert_never_names_the_gaining_operator(notice)
    # The gaining operator learns its order was cancelled, and why.
    to_gaining = [n for n in effects.notices if n.operator_id == GAINING]
    assert [n.payload["state"] for n in to_gaining] == ["CANCELLED"]
    assert to_gaining[0].payload["reason_code"] == "C_CANCELLED_BY_SERVING_OPERATOR"
    to_serving_states = [
        n.payload["state"]
        for n in by_type(effects, NoticeType.ORDER_STATE)
        if n.operator_id == SERVING
    ]
    assert to_serving_states == ["VALIDATED", "COMPLETED"]


def test_cancel_other_of_a_transfer_not_yet_committed_sends_no_loss_cancelled() -> None:
    target = make(OrderType.TRANSFER, order_id="ord-t")  # still RECEIVED: no LOSS was sent
    effects = run_intake(
        cancel_other_of(target, T0 + timedelta(minutes=5)), facts(current(SERVING)), target=target
    )
    assert target.state is S.CANCELLED
    assert by_type(effects, NoticeType.LOSS_CANCELLED) == []


def test_cancel_other_past_the_cut_off_is_rejected_and_leaves_the_target() -> None:
    target = committed(OrderType.TRANSFER, order_id="ord-t")
    cancel = cancel_other_of(target, CUTOFF)
    effects = run_intake(cancel, facts(current(SERVING), holding="ord-t"), target=target)
    assert cancel.state is S.REJECTED
    assert cancel.reason_code is ReasonCode.E_TARGET_NOT_CANCELLABLE
    assert target.state is S.COMMITTED
    assert effects.transitions == 1
    assert by_type(effects, NoticeType.LOSS_CANCELLED) == []


# --- complete -------------------------------------------------------------------------------


def test_complete_provide_opens_a_period() -> None:
    order = committed(OrderType.PROVIDE)
    effects = complete(order, facts(holding=order.id), CAL)
    assert effects.opened == [Opened(Preselection(NUMBER, GAINING, Option.ALL, SWITCH, "ord-1"))]
    assert effects.closed == []
    assert order.state is S.COMPLETED
    assert order.updated_at == SWITCH
    assert order.history[-1] == StateChange(S.COMPLETED, SWITCH)
    assert effects.transitions == 1
    [notice] = effects.notices
    assert notice.operator_id == GAINING
    assert notice.payload["state"] == "COMPLETED"
    assert notice.at == SWITCH
    assert effects.letters == []


def test_complete_transfer_closes_the_losing_period_and_opens_the_gaining_one() -> None:
    order = committed(OrderType.TRANSFER, option=Option.INTERNATIONAL)
    effects = complete(order, facts(current(SERVING), holding=order.id), CAL)
    assert effects.closed == [Closed(NUMBER, SERVING, SWITCH, "ord-1")]
    assert effects.opened == [
        Opened(Preselection(NUMBER, GAINING, Option.INTERNATIONAL, SWITCH, "ord-1"))
    ]
    assert order.state is S.COMPLETED
    assert [n.operator_id for n in effects.notices] == [GAINING]


def test_complete_modify_reopens_with_the_new_option() -> None:
    order = committed(OrderType.MODIFY, operator_id=SERVING, option=Option.NATIONAL)
    effects = complete(order, facts(current(SERVING, Option.ALL)), CAL)
    assert effects.closed == [Closed(NUMBER, SERVING, SWITCH, "ord-1")]
    assert effects.opened == [
        Opened(Preselection(NUMBER, SERVING, Option.NATIONAL, SWITCH, "ord-1"))
    ]


def test_complete_cease_only_closes() -> None:
    order = committed(OrderType.CEASE, operator_id=SERVING)
    effects = complete(order, facts(current(SERVING)), CAL)
    assert effects.closed == [Closed(NUMBER, SERVING, SWITCH, "ord-1")]
    assert effects.opened == []
    assert order.state is S.COMPLETED


def test_complete_at_the_summer_switch_instant() -> None:
    at = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    order = make(at=at)
    run_intake(order, facts())
    assert order.due_date == date(2026, 6, 15)
    effects = complete(order, facts(), CAL)
    assert effects.opened[0].preselection.valid_from == datetime(2026, 6, 14, 22, 0, tzinfo=UTC)


@pytest.mark.parametrize("state", ["VALIDATED", "CANCELLED"])
def test_complete_of_an_order_not_committed_is_refused(state: str) -> None:
    order = make()
    order.due_date = DUE
    order.apply(OrderEvent.ACCEPT, T0)
    if state == "CANCELLED":
        order.apply(OrderEvent.CANCEL, T0, ReasonCode.C_CANCELLED_BY_OPERATOR)
    with pytest.raises(InvalidTransition):
        complete(order, facts(), CAL)
    assert order.state == state


# --- cancel_own -----------------------------------------------------------------------------


@pytest.mark.parametrize("events", [[], [OrderEvent.ACCEPT]], ids=["received", "validated"])
def test_cancel_own_before_commitment(events: list[OrderEvent]) -> None:
    order = make()
    for event in events:
        order.apply(event, T0)
    now = T0 + timedelta(minutes=1)
    effects = cancel_own(order, now, facts(), CAL)
    assert order.state is S.CANCELLED
    assert order.reason_code is ReasonCode.C_CANCELLED_BY_OPERATOR
    assert order.history[-1] == StateChange(S.CANCELLED, now, ReasonCode.C_CANCELLED_BY_OPERATOR)
    assert effects.transitions == 1
    [notice] = effects.notices
    assert notice.operator_id == GAINING
    assert notice.payload["state"] == "CANCELLED"
    assert notice.payload["reason_code"] == "C_CANCELLED_BY_OPERATOR"


def test_cancel_own_just_before_the_cut_off() -> None:
    order = committed()
    assert CAL.cancel_cutoff(order.due_date) == CUTOFF
    now = CUTOFF - timedelta(microseconds=1)
    effects = cancel_own(order, now, facts(holding=order.id), CAL)
    assert order.state is S.CANCELLED
    assert order.updated_at == now
    assert effects.transitions == 1
    assert next_due_at(order, CAL) is None


@pytest.mark.parametrize(
    "now",
    [CUTOFF, CUTOFF + timedelta(seconds=1), SWITCH, SWITCH + timedelta(days=3)],
    ids=["at-cutoff", "after-cutoff", "at-switch", "days-later"],
)
def test_cancel_own_at_or_after_the_cut_off_is_too_late(now: datetime) -> None:
    order = committed()
    history = list(order.history)
    with pytest.raises(TooLate, match=CUTOFF.isoformat().replace("+", r"\+")):
        cancel_own(order, now, facts(holding=order.id), CAL)
    assert order.state is S.COMMITTED
    assert order.history == history


def test_cancel_own_cut_off_in_summer_is_ten_utc() -> None:
    at = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # Monday; due Monday 2026-06-15
    order = make(at=at)
    run_intake(order, facts())
    cutoff = datetime(2026, 6, 12, 10, 0, tzinfo=UTC)  # Friday 12:00 CEST
    with pytest.raises(TooLate):
        cancel_own(order, cutoff, facts(), CAL)
    cancel_own(order, cutoff - timedelta(seconds=1), facts(), CAL)
    assert order.state is S.CANCELLED


def test_cancel_own_accepts_a_non_utc_aware_now() -> None:
    order = committed()
    oslo_now = datetime(2026, 12, 4, 11, 59, tzinfo=ZoneInfo("Europe/Oslo"))
    cancel_own(order, oslo_now, facts(), CAL)
    assert order.state is S.CANCELLED


def test_cancel_own_refuses_a_naive_now_on_a_committed_order() -> None:
    order = committed()
    with pytest.raises((TypeError, ValueError)):
        cancel_own(order, datetime(2026, 11, 24, 10, 0), facts(), CAL)
    assert order.state is S.COMMITTED


def test_cancel_own_of_a_committed_transfer_tells_the_losing_operator() -> None:
    order = committed(OrderType.TRANSFER, order_id="ord-t")
    now = T0 + timedelta(days=1)
    effects = cancel_own(order, now, facts(current(SERVING), holding="ord-t"), CAL)
    [notice] = by_type(effects, NoticeType.LOSS_CANCELLED)
    assert notice.operator_id == SERVING
    assert notice.at == now
    assert_never_names_the_gaining_operator(notice)
    assert [n.operator_id for n in by_type(effects, NoticeType.ORDER_STATE)] == [GAINING]


def test_cancel_own_of_an_uncommitted_transfer_sends_no_loss_cancelled() -> None:
    order = make(OrderType.TRANSFER)
    effects = cancel_own(order, T0, facts(current(SERVING)), CAL)
    assert order.state is S.CANCELLED
    assert by_type(effects, NoticeType.LOSS_CANCELLED) == []


def _final(state: OrderState) -> Order:
    if state is S.COMPLETED:
        order = committed()
        complete(order, facts(), CAL)
    elif state is S.REJECTED:
        order = make()
        run_intake(order, facts(line=None))
    else:
        order = make()
        cancel_own(order, T0, facts(), CAL)
    assert order.state is state
    return order


@pytest.mark.parametrize("state", [S.COMPLETED, S.REJECTED, S.CANCELLED])
def test_cancel_own_of_a_final_order_is_not_cancellable(state: OrderState) -> None:
    order = _final(state)
    history = list(order.history)
    with pytest.raises(NotCancellable):
        cancel_own(order, T0, facts(), CAL)
    assert order.state is state
    assert order.history == history


@pytest.mark.parametrize("events", [[], [OrderEvent.ACCEPT]], ids=["received", "validated"])
def test_cancel_own_of_a_cancel_other_is_not_cancellable(events: list[OrderEvent]) -> None:
    order = make(OrderType.CANCEL_OTHER, operator_id=SERVING, target_order="ord-t")
    for event in events:
        order.apply(event, T0)
    with pytest.raises(NotCancellable):
        cancel_own(order, T0, facts(current(SERVING)), CAL)
    assert order.is_open


def test_cancel_own_of_a_completed_cancel_other_is_not_cancellable() -> None:
    target = committed(OrderType.TRANSFER, order_id="ord-t")
    cancel = cancel_other_of(target, T0 + timedelta(hours=1))
    run_intake(cancel, facts(current(SERVING), holding="ord-t"), target=target)
    with pytest.raises(NotCancellable):
        cancel_own(cancel, T0 + timedelta(hours=2), facts(current(SERVING)), CAL)


# --- next_due_at ----------------------------------------------------------------------------


def test_next_due_at_received_and_validated_is_the_receipt() -> None:
    order = make(at=T0 + timedelta(minutes=7))
    assert next_due_at(order, CAL) == T0 + timedelta(minutes=7)
    order.apply(OrderEvent.ACCEPT, T0 + timedelta(hours=1))
    assert next_due_at(order, CAL) == T0 + timedelta(minutes=7)


def test_next_due_at_committed_is_the_switch_instant() -> None:
    order = committed()
    assert next_due_at(order, CAL) == SWITCH


def test_next_due_at_committed_without_a_due_date_is_none() -> None:
    order = make()
    order.apply(OrderEvent.ACCEPT, T0)
    order.apply(OrderEvent.COMMIT, T0)
    assert order.due_date is None
    assert next_due_at(order, CAL) is None


@pytest.mark.parametrize("state", [S.COMPLETED, S.REJECTED, S.CANCELLED])
def test_next_due_at_final_is_none(state: OrderState) -> None:
    assert next_due_at(_final(state), CAL) is None


# --- Effects --------------------------------------------------------------------------------


def test_effects_transitions_counts_history_entries() -> None:
    effects = Effects()
    assert effects.transitions == 0
    order = make()
    effects.change(order, OrderEvent.ACCEPT, T0)
    assert effects.transitions == 1
    effects.change(order, OrderEvent.CANCEL, T0, ReasonCode.C_CANCELLED_BY_OPERATOR)
    assert effects.transitions == 2
    assert effects.orders == [order]
    assert len(effects.notices) == 2
    assert effects.history[-1] == (
        "ord-1",
        StateChange(S.CANCELLED, T0, ReasonCode.C_CANCELLED_BY_OPERATOR),
    )


def test_effects_change_of_an_invalid_event_records_nothing() -> None:
    effects = Effects()
    with pytest.raises(InvalidTransition):
        effects.change(make(), OrderEvent.COMPLETE, T0)
    assert effects.transitions == 0
    assert effects.orders == []
    assert effects.notices == []


def test_effects_merge() -> None:
    order = make()
    first = run_intake(order, facts())
    second = complete(order, facts(), CAL)
    first.merge(second)
    assert first.orders == [order]
    assert first.transitions == 3
    assert [c.state for _, c in first.history] == [S.VALIDATED, S.COMMITTED, S.COMPLETED]
    assert len(first.notices) == 3
    assert len(first.letters) == 1
    assert len(first.opened) == 1
    other = make(order_id="ord-2")
    extra = Effects()
    extra.change(other, OrderEvent.ACCEPT, T0)
    first.merge(extra)
    assert [o.id for o in first.orders] == ["ord-1", "ord-2"]
    assert first.transitions == 4
