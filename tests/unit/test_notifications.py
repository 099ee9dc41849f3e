"""Who is told what: operator notices, neutral LOSS notices, template-only customer letters.

The incumbent's retail arm is never a recipient: every notice goes to a CPS operator, and
letters go to the line's customer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from forvalg.domain.lifecycle import Effects, TooLate, cancel_own, complete, intake
from forvalg.domain.lines import Line, LineType
from forvalg.domain.notifications import (
    LETTER_TEXT,
    CustomerLetter,
    LetterTemplate,
    NoticeType,
    OperatorNotice,
    customer_letter,
    loss_cancelled_notice,
    loss_notice,
    state_notice,
)
from forvalg.domain.operators import RESERVED_IDS, new_operator
from forvalg.domain.orders import (
    Authorisation,
    CancelReason,
    Option,
    Order,
    OrderState,
    OrderType,
    StateChange,
    new_order,
)
from forvalg.domain.preselection import Preselection
from forvalg.domain.reasons import ReasonCode
from forvalg.domain.validation import LineFacts, OperatorStanding, OrderRules

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
NUMBER = "22334455"
RULES = OrderRules()
CAL = RULES.calendar
OPERATORS = {
    op.id: op
    for op in (
        new_operator("telco-a", "Alfa Tele AS", "1505"),
        new_operator("telco-b", "Blåtelefon AS", "1510"),
        new_operator("telco-c", "Cirkel Samband", "1549"),
    )
}
CPS_IDS = frozenset(OPERATORS)
# Words a neutral letter must not contain (offers, prices, winback).
SALES_WORDS = ("offer", "discount", "price", "pris", "tilbud", "rabatt", "free", "gratis", "%")


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from strings(v)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            yield from strings(v)
    else:
        yield str(value)


def make(order_type: OrderType, operator_id: str = "telco-b", **kwargs: Any) -> Order:
    return new_order(
        order_id=kwargs.pop("order_id", "ord-1"),
        order_type=order_type,
        number=NUMBER,
        operator_id=operator_id,
        received_at=kwargs.pop("received_at", T0),
        **kwargs,
    )


# --- the builders ---------------------------------------------------------------------------


def test_notice_types() -> None:
    assert {t.value for t in NoticeType} == {"ORDER_STATE", "LOSS", "LOSS_CANCELLED"}


def test_state_notice_goes_to_the_orders_own_operator() -> None:
    order = make(OrderType.PROVIDE)
    order.due_date = date(2026, 12, 7)
    change = StateChange(OrderState.REJECTED, T0, ReasonCode.E_OPEN_ORDER)
    notice = state_notice(order, change)
    assert notice == OperatorNotice(
        operator_id="telco-b",
        type=NoticeType.ORDER_STATE,
        number=NUMBER,
        at=T0,
        payload={
            "order_id": "ord-1",
            "order_type": "PROVIDE",
            "state": "REJECTED",
            "at": "2026-11-23T09:00:00Z",
            "reason_code": "E_OPEN_ORDER",
            "due_date": "2026-12-07",
        },
    )


def test_state_notice_without_reason_or_due_date() -> None:
    notice = state_notice(make(OrderType.CEASE), StateChange(OrderState.VALIDATED, T0))
    assert notice.payload["reason_code"] is None
    assert notice.payload["due_date"] is None
    assert notice.payload["order_type"] == "CEASE"


def test_loss_notice_is_line_and_date_only() -> None:
    transfer = make(OrderType.TRANSFER, operator_id="telco-b", order_id="ord-9")
    notice = loss_notice("telco-a", transfer, date(2026, 12, 7), T0)
    assert notice.operator_id == "telco-a"
    assert notice.type is NoticeType.LOSS
    assert notice.number == NUMBER
    assert notice.at == T0
    assert notice.payload["effective_date"] == "2026-12-07"
    assert set(notice.payload) <= {"effective_date", "order_id"}
    for text in strings(notice.payload):
        assert "telco-b" not in text
        assert "Blåtelefon" not in text


def test_loss_cancelled_notice() -> None:
    transfer = make(OrderType.TRANSFER, operator_id="telco-b", order_id="ord-9")
    notice = loss_cancelled_notice("telco-a", transfer, T0)
    assert notice == OperatorNotice(
        "telco-a", NoticeType.LOSS_CANCELLED, NUMBER, T0, {"order_id": "ord-9"}
    )


@pytest.mark.parametrize("order_type", [OrderType.PROVIDE, OrderType.TRANSFER])
def test_confirmation_letter(order_type: OrderType) -> None:
    letter = customer_letter(
        make(order_type),
        operator_name="Blåtelefon AS",
        effective=date(2026, 12, 7),
        cooling_off_ends=date(2026, 12, 7),
        at=T0,
    )
    assert letter is not None
    assert letter.template is LetterTemplate.PRESELECTION_CONFIRMATION
    assert letter.text() == (
        "Line 22334455: as you requested, from 2026-12-07 your calls will be carried by "
        "Blåtelefon AS. You may withdraw this choice until 2026-12-07 by contacting "
        "Blåtelefon AS. This letter is sent for information only."
    )


def test_end_letter() -> None:
    letter = customer_letter(
        make(OrderType.CEASE, operator_id="telco-a"),
        operator_name="Alfa Tele AS",
        effective=date(2026, 12, 14),
        cooling_off_ends=date(2026, 12, 7),
        at=T0,
    )
    assert letter is not None
    assert letter.template is LetterTemplate.PRESELECTION_ENDS
    assert letter.text() == (
        "Line 22334455: as requested, carrier preselection ends on 2026-12-14. "
        "This letter is sent for information only."
    )
    assert "Alfa" not in letter.text()


@pytest.mark.parametrize("order_type", [OrderType.MODIFY, OrderType.CANCEL_OTHER])
def test_no_letter_for_modify_or_cancel_other(order_type: OrderType) -> None:
    letter = customer_letter(
        make(order_type),
        operator_name="Blåtelefon AS",
        effective=date(2026, 12, 7),
        cooling_off_ends=date(2026, 12, 7),
        at=T0,
    )
    assert letter is None


@pytest.mark.parametrize("template", list(LetterTemplate))
def test_letter_templates_are_neutral(template: LetterTemplate) -> None:
    text = LETTER_TEXT[template].template.lower()
    for word in SALES_WORDS:
        assert word not in text
    assert "information only" in text
    assert LETTER_TEXT[template].is_valid()


def test_every_template_has_a_text() -> None:
    assert set(LETTER_TEXT) == set(LetterTemplate)


def test_a_letter_names_no_recipient_but_the_line() -> None:
    names = {f.name for f in dataclasses.fields(CustomerLetter)}
    assert names == {"number", "order_id", "template", "fields", "at"}


# --- scenarios: nobody but CPS operators is ever told anything -------------------------------


def check_effects(effects: Effects, gaining: str | None) -> None:
    for notice in effects.notices:
        assert notice.operator_id in CPS_IDS
        assert notice.operator_id not in RESERVED_IDS
        assert "retail" not in notice.operator_id
        assert notice.number == NUMBER
        if notice.type in (NoticeType.LOSS, NoticeType.LOSS_CANCELLED):
            assert gaining is not None
            assert notice.operator_id != gaining
            for text in strings(notice.payload):
                assert gaining not in text
                assert OPERATORS[gaining].name not in text
    for letter in effects.letters:
        template = LETTER_TEXT[letter.template]
        assert set(letter.fields) == set(template.get_identifiers())
        assert letter.number == NUMBER
        text = letter.text().lower()
        for word in SALES_WORDS:
            assert word not in text
        # Only the operator the customer chose may be named.
        for op in OPERATORS.values():
            if op.name.lower() in text:
                assert letter.fields.get("operator_name") == op.name


def state_notices_go_to_their_orders(effects: Effects, orders: dict[str, Order]) -> None:
    for notice in effects.notices:
        if notice.type is NoticeType.ORDER_STATE:
            assert notice.operator_id == orders[notice.payload["order_id"]].operator_id


GOOD_LINE = Line(NUMBER, "0150", LineType.PSTN, "ACTIVE")
LINES = st.just(GOOD_LINE) | st.sampled_from(
    [
        GOOD_LINE,
        Line(NUMBER, "0150", LineType.ISDN_BRA, "ACTIVE"),
        Line(NUMBER, "0150", LineType.PAYPHONE, "ACTIVE"),
        Line(NUMBER, "0150", LineType.PSTN, "CEASED"),
        None,
    ]
)
OPS = st.sampled_from(sorted(CPS_IDS))


@settings(max_examples=150, deadline=None)
@given(
    order_type=st.sampled_from([t for t in OrderType if t is not OrderType.CANCEL_OTHER]),
    placing=OPS,
    serving=st.none() | OPS,
    line=LINES,
    option=st.sampled_from(Option),
    current_option=st.sampled_from(Option),
    received=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 1), timezones=st.just(UTC)
    ),
    coherent=st.booleans(),
    then=st.sampled_from(["complete", "cancel", "cancel_other", "late_cancel"]),
    cancel_after=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)),
)
def test_only_cps_operators_are_ever_notified(
    order_type: OrderType,
    placing: str,
    serving: str | None,
    line: Line | None,
    option: Option,
    current_option: Option,
    received: datetime,
    coherent: bool,
    then: str,
    cancel_after: timedelta,
) -> None:
    if coherent:  # mostly orders that pass validation
        others = sorted(CPS_IDS - {placing})
        serving = {
            OrderType.PROVIDE: None,
            OrderType.TRANSFER: serving if serving in others else others[0],
            OrderType.MODIFY: placing,
            OrderType.CEASE: placing,
        }[order_type]
    current = (
        None
        if serving is None
        else Preselection(NUMBER, serving, current_option, received - timedelta(days=99), "o-0")
    )
    facts = LineFacts(line=line, current=current, holding_order=None)
    order = make(
        order_type,
        operator_id=placing,
        received_at=received,
        option=option,
        postcode="0150",
        authorisation=Authorisation("ref", received.date() - timedelta(days=1), "EMAIL"),
    )
    orders = {order.id: order}
    gaining = placing if order_type is OrderType.TRANSFER else None
    effects = intake(
        order,
        facts,
        OperatorStanding(placing, True),
        RULES,
        operator_name=OPERATORS[placing].name,
    )
    check_effects(effects, gaining)
    state_notices_go_to_their_orders(effects, orders)
    event(f"{order_type} {order.state}")
    if order.state is not OrderState.COMMITTED:
        assert order.state is OrderState.REJECTED
        return
    assert order.due_date is not None
    held = LineFacts(line=line, current=current, holding_order=order.id)
    now = received + cancel_after
    if then == "complete":
        later = complete(order, held, CAL)
    elif then == "cancel_other" and order_type is OrderType.TRANSFER and serving is not None:
        cancel = make(
            OrderType.CANCEL_OTHER,
            operator_id=serving,
            order_id="ord-c",
            received_at=now,
            target_order=order.id,
            cancel_reason=CancelReason.CONSENT_WITHDRAWN,
        )
        orders[cancel.id] = cancel
        later = intake(
            cancel,
            held,
            OperatorStanding(serving, True),
            RULES,
            operator_name=OPERATORS[serving].name,
            target=order,
        )
        before_cutoff = now < CAL.cancel_cutoff(order.due_date)
        assert order.state is (OrderState.CANCELLED if before_cutoff else OrderState.COMMITTED)
    else:
        try:
            later = cancel_own(order, now, held, CAL)
        except TooLate:
            assert now >= CAL.cancel_cutoff(order.due_date)
            return
    event(f"then {then}: {order.state}")
    check_effects(later, gaining)
    state_notices_go_to_their_orders(later, orders)
