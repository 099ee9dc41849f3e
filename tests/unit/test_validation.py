"""Order validation: every reason code `validate` can give, and the order the rules run in."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from forvalg.domain.calendar import CalendarRules, WorkingCalendar
from forvalg.domain.lines import Line, LineType
from forvalg.domain.orders import (
    Authorisation,
    CancelReason,
    Option,
    Order,
    OrderEvent,
    OrderType,
    new_order,
)
from forvalg.domain.preselection import Preselection
from forvalg.domain.reasons import ReasonCode
from forvalg.domain.validation import LineFacts, OperatorStanding, OrderRules, validate

R = ReasonCode
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday, 10:00 in Oslo
TODAY = date(2026, 11, 23)
NUMBER = "22334455"
POSTCODE = "0150"
RULES = OrderRules()
LINE = Line(NUMBER, POSTCODE, LineType.PSTN, "ACTIVE")
AUTH = Authorisation("consent-123", TODAY - timedelta(days=3), "PHONE")
SERVING = "telco-a"
GAINING = "telco-b"


def preselection(operator_id: str = SERVING, option: Option = Option.ALL) -> Preselection:
    return Preselection(NUMBER, operator_id, option, T0 - timedelta(days=100), "ord-old")


def order(
    order_type: OrderType = OrderType.PROVIDE,
    *,
    order_id: str = "ord-1",
    operator_id: str = GAINING,
    number: str = NUMBER,
    received_at: datetime = T0,
    **kwargs: Any,
) -> Order:
    defaults: dict[str, Any] = {}
    if order_type in (OrderType.PROVIDE, OrderType.TRANSFER):
        defaults = {"option": Option.ALL, "postcode": POSTCODE, "authorisation": AUTH}
    elif order_type is OrderType.MODIFY:
        defaults = {"option": Option.NATIONAL}
    elif order_type is OrderType.CANCEL_OTHER:
        defaults = {"target_order": "ord-t", "cancel_reason": CancelReason.NOT_ORDERED}
    defaults.update(kwargs)
    return new_order(
        order_id=order_id,
        order_type=order_type,
        number=number,
        operator_id=operator_id,
        received_at=received_at,
        **defaults,
    )


def facts(
    line: Line | None = LINE,
    current: Preselection | None = None,
    holding_order: str | None = None,
) -> LineFacts:
    return LineFacts(line=line, current=current, holding_order=holding_order)


def standing(operator_id: str = GAINING, active: bool = True) -> OperatorStanding:
    return OperatorStanding(operator_id, active)


_OWN_STANDING: Any = object()


def check(
    o: Order,
    f: LineFacts | None = None,
    op: OperatorStanding | None = _OWN_STANDING,
    rules: OrderRules = RULES,
    target: Order | None = None,
) -> ReasonCode | None:
    """Validate `o`; by default its operator has an active agreement and the line is plain."""
    operator = standing(o.operator_id) if op is _OWN_STANDING else op
    return validate(o, f if f is not None else facts(), operator, rules, target)


# --- valid orders of every type ------------------------------------------------------------


def test_valid_provide() -> None:
    assert check(order()) is None


def test_valid_transfer() -> None:
    assert check(order(OrderType.TRANSFER), facts(current=preselection())) is None


def test_valid_modify() -> None:
    o = order(OrderType.MODIFY, operator_id=SERVING)
    assert check(o, facts(current=preselection(option=Option.ALL))) is None


def test_valid_cease() -> None:
    assert check(order(OrderType.CEASE, operator_id=SERVING), facts(current=preselection())) is None


def test_valid_on_an_isdn_bra_line() -> None:
    assert check(order(), facts(line=Line(NUMBER, POSTCODE, LineType.ISDN_BRA, "ACTIVE"))) is None


def test_postcode_is_optional() -> None:
    assert check(order(postcode=None)) is None


def test_modify_and_cease_need_no_authorisation() -> None:
    assert (
        check(
            order(OrderType.MODIFY, operator_id=SERVING, authorisation=None),
            facts(current=preselection()),
        )
        is None
    )
    assert (
        check(
            order(OrderType.CEASE, operator_id=SERVING, authorisation=None),
            facts(current=preselection()),
        )
        is None
    )


def test_cease_and_cancel_other_need_no_option() -> None:
    assert check(order(OrderType.CEASE, operator_id=SERVING), facts(current=preselection())) is None
    rules = OrderRules(offered_options=frozenset())
    assert (
        check(
            order(OrderType.CEASE, operator_id=SERVING), facts(current=preselection()), rules=rules
        )
        is None
    )


# --- line rules ----------------------------------------------------------------------------


def test_unknown_line() -> None:
    assert check(order(), facts(line=None)) is R.E_LINE_UNKNOWN


def test_ceased_line() -> None:
    assert (
        check(order(), facts(line=Line(NUMBER, POSTCODE, LineType.PSTN, "CEASED")))
        is R.E_LINE_NOT_ACTIVE
    )


@pytest.mark.parametrize(
    "line",
    [
        Line(NUMBER, POSTCODE, LineType.PAYPHONE, "ACTIVE"),
        Line(NUMBER, POSTCODE, LineType.ISDN_PRA, "ACTIVE"),
        Line(NUMBER, POSTCODE, LineType.PSTN, "WLR:other-telco"),
    ],
    ids=["payphone", "isdn-pra", "wlr"],
)
def test_ineligible_lines(line: Line) -> None:
    assert check(order(), facts(line=line)) is R.E_LINE_NOT_ELIGIBLE


def test_postcode_mismatch() -> None:
    assert check(order(postcode="0151")) is R.E_POSTCODE_MISMATCH


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (None, R.E_LINE_UNKNOWN),
        (Line(NUMBER, POSTCODE, LineType.PSTN, "CEASED"), R.E_LINE_NOT_ACTIVE),
        (Line(NUMBER, POSTCODE, LineType.PAYPHONE, "ACTIVE"), R.E_LINE_NOT_ELIGIBLE),
    ],
)
def test_line_status_beats_postcode_mismatch(line: Line | None, expected: ReasonCode) -> None:
    assert check(order(postcode="9999"), facts(line=line)) is expected


@pytest.mark.parametrize("order_type", list(OrderType))
def test_line_rules_apply_to_every_order_type(order_type: OrderType) -> None:
    o = order(order_type, operator_id=SERVING)
    assert check(o, facts(line=None, current=preselection())) is R.E_LINE_UNKNOWN


# --- operator agreement --------------------------------------------------------------------


def test_no_operator_standing_is_no_agreement() -> None:
    assert check(order(), op=None) is R.E_NO_AGREEMENT


def test_inactive_agreement() -> None:
    assert check(order(), op=standing(active=False)) is R.E_NO_AGREEMENT


# --- option ---------------------------------------------------------------------------------


@pytest.mark.parametrize("order_type", [OrderType.PROVIDE, OrderType.TRANSFER, OrderType.MODIFY])
def test_missing_option(order_type: OrderType) -> None:
    o = order(order_type, option=None, operator_id=SERVING)
    assert check(o, facts(current=preselection("telco-c"))) is R.E_OPTION_NOT_OFFERED


@pytest.mark.parametrize("option", list(Option))
def test_offered_options_is_a_configurable_subset(option: Option) -> None:
    rules = OrderRules(offered_options=frozenset({Option.ALL}))
    expected = None if option is Option.ALL else R.E_OPTION_NOT_OFFERED
    assert check(order(option=option), rules=rules) is expected
    assert check(order(option=option)) is None


def test_modify_to_an_option_not_offered() -> None:
    rules = OrderRules(offered_options=frozenset({Option.ALL, Option.NATIONAL}))
    o = order(OrderType.MODIFY, operator_id=SERVING, option=Option.INTERNATIONAL)
    assert check(o, facts(current=preselection()), rules=rules) is R.E_OPTION_NOT_OFFERED


# --- authorisation --------------------------------------------------------------------------


@pytest.mark.parametrize("order_type", [OrderType.PROVIDE, OrderType.TRANSFER])
@pytest.mark.parametrize(
    "auth",
    [
        None,
        Authorisation("", TODAY, "PHONE"),
        Authorisation("   ", TODAY, "PHONE"),
        Authorisation("consent-1", TODAY, ""),
        Authorisation("consent-1", TODAY, " \t"),
    ],
    ids=["none", "empty-ref", "blank-ref", "empty-channel", "blank-channel"],
)
def test_missing_authorisation(order_type: OrderType, auth: Authorisation | None) -> None:
    o = order(order_type, authorisation=auth)
    assert check(o, facts(current=preselection())) is R.E_AUTHORISATION_MISSING


@pytest.mark.parametrize(
    ("signed", "expected"),
    [
        (TODAY + timedelta(days=1), R.E_AUTHORISATION_INVALID),  # signed in the future
        (TODAY + timedelta(days=400), R.E_AUTHORISATION_INVALID),
        (TODAY, None),
        (TODAY - timedelta(days=90), None),  # exactly the allowed age
        (TODAY - timedelta(days=91), R.E_AUTHORISATION_INVALID),  # too old
        (TODAY - timedelta(days=3650), R.E_AUTHORISATION_INVALID),
    ],
)
def test_authorisation_date(signed: date, expected: ReasonCode | None) -> None:
    assert check(order(authorisation=Authorisation("c-1", signed, "EMAIL"))) is expected


def test_authorisation_date_is_compared_with_the_oslo_receipt_date() -> None:
    # 23:30 UTC on 2026-11-23 is 00:30 on 2026-11-24 in Oslo: a consent signed on the 24th
    # is not in the future.
    late = T0.replace(hour=23, minute=30)
    signed_24th = Authorisation("c-1", date(2026, 11, 24), "EMAIL")
    assert check(order(received_at=late, authorisation=signed_24th)) is None
    early = T0.replace(hour=22, minute=30)
    assert check(order(received_at=early, authorisation=signed_24th)) is R.E_AUTHORISATION_INVALID


def test_authorisation_max_age_is_configurable() -> None:
    rules = OrderRules(calendar=WorkingCalendar(CalendarRules(authorisation_max_age_days=30)))
    ok = Authorisation("c-1", TODAY - timedelta(days=30), "EMAIL")
    old = Authorisation("c-1", TODAY - timedelta(days=31), "EMAIL")
    assert check(order(authorisation=ok), rules=rules) is None
    assert check(order(authorisation=old), rules=rules) is R.E_AUTHORISATION_INVALID


def test_missing_beats_invalid() -> None:
    auth = Authorisation(" ", TODAY + timedelta(days=5), "EMAIL")
    assert check(order(authorisation=auth)) is R.E_AUTHORISATION_MISSING


def test_an_authorisation_on_other_types_is_ignored() -> None:
    bad = Authorisation("", TODAY + timedelta(days=5), "")
    o = order(OrderType.CEASE, operator_id=SERVING, authorisation=bad)
    assert check(o, facts(current=preselection())) is None


# --- requested date -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "requested",
    [
        TODAY,  # not in the future
        TODAY - timedelta(days=1),
        date(2020, 1, 6),
        date(2026, 12, 12),  # a Saturday
        date(2026, 12, 13),  # a Sunday
        date(2026, 12, 25),  # Christmas Day
        date(2027, 3, 25),  # Maundy Thursday 2027
        date(2027, 5, 17),  # Constitution Day 2027, a Monday
    ],
)
def test_invalid_requested_dates(requested: date) -> None:
    assert check(order(requested_date=requested)) is R.E_DATE_INVALID


@pytest.mark.parametrize(
    "requested",
    [
        TODAY + timedelta(days=1),  # before the earliest due date: the earliest is used
        date(2026, 12, 7),
        date(2026, 12, 24),  # Christmas Eve is a working day
        date(2027, 1, 4),
    ],
)
def test_valid_requested_dates(requested: date) -> None:
    assert check(order(requested_date=requested)) is None


def test_requested_date_is_compared_with_the_oslo_receipt_date() -> None:
    late = T0.replace(hour=23, minute=30)  # 00:30 Tuesday 2026-11-24 in Oslo
    assert check(order(received_at=late, requested_date=date(2026, 11, 24))) is R.E_DATE_INVALID
    assert check(order(received_at=late, requested_date=date(2026, 11, 25))) is None


@pytest.mark.parametrize("order_type", [OrderType.MODIFY, OrderType.CEASE])
def test_requested_date_applies_to_other_types(order_type: OrderType) -> None:
    o = order(order_type, operator_id=SERVING, requested_date=date(2026, 12, 12))
    assert check(o, facts(current=preselection())) is R.E_DATE_INVALID


# --- open orders ----------------------------------------------------------------------------


def test_another_open_order_holds_the_line() -> None:
    assert check(order(), facts(holding_order="ord-other")) is R.E_OPEN_ORDER


def test_the_order_itself_holding_the_line_is_fine() -> None:
    assert check(order(order_id="ord-1"), facts(holding_order="ord-1")) is None


@pytest.mark.parametrize("order_type", [t for t in OrderType if t is not OrderType.CANCEL_OTHER])
def test_open_order_applies_to_every_line_order(order_type: OrderType) -> None:
    o = order(order_type, operator_id=SERVING)
    assert check(o, facts(current=preselection(), holding_order="ord-x")) is R.E_OPEN_ORDER


# --- per-type rules -------------------------------------------------------------------------


def test_provide_on_a_preselected_line() -> None:
    assert check(order(), facts(current=preselection())) is R.E_LINE_PRESELECTED
    assert check(order(operator_id=SERVING), facts(current=preselection())) is R.E_LINE_PRESELECTED


def test_transfer_on_a_line_without_preselection() -> None:
    assert check(order(OrderType.TRANSFER)) is R.E_NOT_PRESELECTED


def test_transfer_to_the_serving_operator() -> None:
    o = order(OrderType.TRANSFER, operator_id=SERVING)
    assert check(o, facts(current=preselection())) is R.E_ALREADY_SERVING


def test_modify_on_a_line_without_preselection() -> None:
    assert check(order(OrderType.MODIFY, operator_id=SERVING)) is R.E_NOT_PRESELECTED


def test_modify_by_an_operator_not_serving() -> None:
    o = order(OrderType.MODIFY, operator_id=GAINING)
    assert check(o, facts(current=preselection())) is R.E_NOT_SERVING


@pytest.mark.parametrize("option", list(Option))
def test_modify_to_the_same_option(option: Option) -> None:
    o = order(OrderType.MODIFY, operator_id=SERVING, option=option)
    assert check(o, facts(current=preselection(option=option))) is R.E_SAME_OPTION
    other = next(x for x in Option if x is not option)
    assert check(o, facts(current=preselection(option=other))) is None


def test_cease_on_a_line_without_preselection() -> None:
    assert check(order(OrderType.CEASE, operator_id=SERVING)) is R.E_NOT_PRESELECTED


def test_cease_by_an_operator_not_serving() -> None:
    o = order(OrderType.CEASE, operator_id=GAINING)
    assert check(o, facts(current=preselection())) is R.E_NOT_SERVING


# --- CANCEL_OTHER ---------------------------------------------------------------------------


CAL = RULES.calendar


def transfer_target(state: str = "COMMITTED", **kwargs: Any) -> Order:
    """A TRANSFER by the gaining operator on NUMBER, received a day before T0."""
    kwargs.setdefault("order_type", OrderType.TRANSFER)
    kwargs.setdefault("received_at", T0 - timedelta(days=1))
    target = order(order_id="ord-t", operator_id=GAINING, **kwargs)
    if state in ("VALIDATED", "COMMITTED", "COMPLETED", "CANCELLED"):
        target.apply(OrderEvent.ACCEPT, target.created_at)
    if state in ("COMMITTED", "COMPLETED"):
        target.due_date = CAL.due_date(target.created_at)
        target.apply(OrderEvent.COMMIT, target.created_at)
    if state == "COMPLETED":
        target.apply(OrderEvent.COMPLETE, CAL.switch_at(target.due_date))
    if state == "CANCELLED":
        target.apply(OrderEvent.CANCEL, target.created_at, R.C_CANCELLED_BY_OPERATOR)
    if state == "REJECTED":
        target.apply(OrderEvent.REJECT, target.created_at, R.E_OPEN_ORDER)
    assert target.state == state
    return target


def cancel_other(received_at: datetime = T0, operator_id: str = SERVING, **kwargs: Any) -> Order:
    return order(
        OrderType.CANCEL_OTHER,
        order_id="ord-c",
        operator_id=operator_id,
        received_at=received_at,
        **kwargs,
    )


SERVED = facts(current=preselection(SERVING), holding_order="ord-t")


@pytest.mark.parametrize("state", ["RECEIVED", "VALIDATED", "COMMITTED"])
def test_cancel_other_of_an_open_transfer(state: str) -> None:
    assert check(cancel_other(), SERVED, target=transfer_target(state)) is None


def test_cancel_other_ignores_the_open_order_rule() -> None:
    """The line is held by the very transfer being cancelled."""
    assert check(cancel_other(), SERVED, target=transfer_target()) is None


def test_cancel_other_by_an_operator_not_serving() -> None:
    o = cancel_other(operator_id="telco-c")
    assert check(o, SERVED, target=transfer_target()) is R.E_NOT_SERVING


def test_cancel_other_on_a_line_without_preselection() -> None:
    f = facts(current=None, holding_order="ord-t")
    assert check(cancel_other(), f, target=transfer_target()) is R.E_NOT_SERVING


def test_cancel_other_without_a_target() -> None:
    assert check(cancel_other(), SERVED, target=None) is R.E_TARGET_NOT_FOUND


def test_cancel_other_of_an_order_on_another_line() -> None:
    target = transfer_target(number="99887766")
    assert check(cancel_other(), SERVED, target=target) is R.E_TARGET_NOT_FOUND


@pytest.mark.parametrize("state", ["COMPLETED", "CANCELLED", "REJECTED"])
def test_cancel_other_of_a_final_order(state: str) -> None:
    assert check(cancel_other(), SERVED, target=transfer_target(state)) is R.E_TARGET_NOT_FOUND


@pytest.mark.parametrize(
    "order_type", [OrderType.PROVIDE, OrderType.MODIFY, OrderType.CEASE, OrderType.CANCEL_OTHER]
)
def test_cancel_other_of_an_order_that_is_not_a_transfer(order_type: OrderType) -> None:
    target = transfer_target("VALIDATED", order_type=order_type)
    assert check(cancel_other(), SERVED, target=target) is R.E_TARGET_NOT_CANCELLABLE


def test_cancel_other_up_to_the_targets_cut_off() -> None:
    target = transfer_target()
    # Received 2026-11-22 (a Sunday in Oslo) -> due Friday 2026-12-04, cut-off Thu 12:00.
    assert target.due_date == date(2026, 12, 4)
    cutoff = CAL.cancel_cutoff(target.due_date)
    assert cutoff == datetime(2026, 12, 3, 11, 0, tzinfo=UTC)
    just_before = cancel_other(received_at=cutoff - timedelta(microseconds=1))
    assert check(just_before, SERVED, target=target) is None
    at_cutoff = cancel_other(received_at=cutoff)
    assert check(at_cutoff, SERVED, target=target) is R.E_TARGET_NOT_CANCELLABLE
    after = cancel_other(received_at=cutoff + timedelta(hours=1))
    assert check(after, SERVED, target=target) is R.E_TARGET_NOT_CANCELLABLE


def test_cancel_other_order_of_its_own_rules() -> None:
    # Not serving beats a missing target; another line beats not-a-transfer.
    assert check(cancel_other(operator_id="telco-c"), SERVED, target=None) is R.E_NOT_SERVING
    wrong = transfer_target("VALIDATED", order_type=OrderType.PROVIDE, number="99887766")
    assert check(cancel_other(), SERVED, target=wrong) is R.E_TARGET_NOT_FOUND


# --- the order the rules run in ------------------------------------------------------------


@dataclass
class Scenario:
    """A valid PROVIDE, which each breaker spoils in exactly one place."""

    order_kwargs: dict[str, Any] = field(default_factory=dict)
    line_facts: LineFacts = field(default_factory=facts)
    operator: OperatorStanding | None = field(default_factory=standing)
    rules: OrderRules = RULES

    def run(self) -> ReasonCode | None:
        return validate(order(**self.order_kwargs), self.line_facts, self.operator, self.rules)


def _unknown_line(s: Scenario) -> None:
    s.line_facts = replace(s.line_facts, line=None)


def _no_agreement(s: Scenario) -> None:
    s.operator = standing(active=False)


def _option_not_offered(s: Scenario) -> None:
    s.rules = replace(s.rules, offered_options=frozenset({Option.NATIONAL}))


def _authorisation_missing(s: Scenario) -> None:
    s.order_kwargs["authorisation"] = None


def _date_invalid(s: Scenario) -> None:
    s.order_kwargs["requested_date"] = TODAY


def _open_order(s: Scenario) -> None:
    s.line_facts = replace(s.line_facts, holding_order="ord-other")


def _line_preselected(s: Scenario) -> None:
    s.line_facts = replace(s.line_facts, current=preselection())


BREAKERS: list[tuple[ReasonCode, Callable[[Scenario], None]]] = [
    (R.E_LINE_UNKNOWN, _unknown_line),
    (R.E_NO_AGREEMENT, _no_agreement),
    (R.E_OPTION_NOT_OFFERED, _option_not_offered),
    (R.E_AUTHORISATION_MISSING, _authorisation_missing),
    (R.E_DATE_INVALID, _date_invalid),
    (R.E_OPEN_ORDER, _open_order),
    (R.E_LINE_PRESELECTED, _line_preselected),
]


def test_the_unbroken_scenario_is_valid() -> None:
    assert Scenario().run() is None


@pytest.mark.parametrize(("code", "breaker"), BREAKERS, ids=[c.value for c, _ in BREAKERS])
def test_each_breaker_alone(code: ReasonCode, breaker: Callable[[Scenario], None]) -> None:
    s = Scenario()
    breaker(s)
    assert s.run() is code


@pytest.mark.parametrize(
    ("first", "second"),
    list(itertools.combinations(BREAKERS, 2)),
    ids=[f"{a[0].value}>{b[0].value}" for a, b in itertools.combinations(BREAKERS, 2)],
)
def test_the_earlier_rule_wins(
    first: tuple[ReasonCode, Callable[[Scenario], None]],
    second: tuple[ReasonCode, Callable[[Scenario], None]],
) -> None:
    s = Scenario()
    second[1](s)
    first[1](s)
    assert s.run() is first[0]


def test_everything_broken_yields_the_first_rule() -> None:
    s = Scenario()
    for _, breaker in reversed(BREAKERS):
        breaker(s)
    assert s.run() is R.E_LINE_UNKNOWN


def test_unknown_line_with_bad_authorisation_is_unknown_line() -> None:
    future = Authorisation("c-1", TODAY + timedelta(days=10), "EMAIL")
    assert check(order(authorisation=future)) is R.E_AUTHORISATION_INVALID
    assert check(order(authorisation=future), facts(line=None)) is R.E_LINE_UNKNOWN


def test_postcode_mismatch_beats_the_later_rules() -> None:
    o = order(postcode="9999", authorisation=None, requested_date=TODAY)
    assert check(o, facts(current=preselection(), holding_order="x"), op=None) is (
        R.E_POSTCODE_MISMATCH
    )


def test_authorisation_invalid_beats_date_invalid() -> None:
    o = order(
        authorisation=Authorisation("c", TODAY + timedelta(days=1), "SMS"), requested_date=TODAY
    )
    assert check(o) is R.E_AUTHORISATION_INVALID


def test_date_invalid_beats_per_type_rules_for_cancel_other() -> None:
    o = cancel_other(requested_date=TODAY, operator_id="telco-c")
    assert check(o, SERVED, target=None) is R.E_DATE_INVALID


def test_validate_does_not_change_the_order() -> None:
    o = order()
    before = (o.state, list(o.history), o.due_date, o.reason_code)
    check(o, facts(line=None))
    assert (o.state, o.history, o.due_date, o.reason_code) == before
