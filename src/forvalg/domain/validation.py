"""Order validation: each rule returns the reason code of the first business rule broken."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from forvalg.domain.calendar import WorkingCalendar
from forvalg.domain.lines import Line, eligibility
from forvalg.domain.orders import (
    NEEDS_AUTHORISATION,
    NEEDS_OPTION,
    Option,
    Order,
    OrderState,
    OrderType,
)
from forvalg.domain.preselection import Preselection
from forvalg.domain.reasons import ReasonCode


@dataclass(frozen=True)
class OrderRules:
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    offered_options: frozenset[Option] = frozenset(Option)


@dataclass(frozen=True, slots=True)
class OperatorStanding:
    operator_id: str
    agreement_active: bool


@dataclass(frozen=True, slots=True)
class LineFacts:
    """What validation may know of a line at the order's receipt."""

    line: Line | None
    current: Preselection | None
    holding_order: str | None  # id of the open order that holds the line, if any


def validate(
    order: Order,
    facts: LineFacts,
    operator: OperatorStanding | None,
    rules: OrderRules,
    target: Order | None = None,
) -> ReasonCode | None:
    """The reason the order must be rejected, or None. Rules run in a fixed, documented order."""
    for rule in (_line, _agreement, _option, _authorisation, _date, _holding, _by_type):
        reason = rule(order, facts, operator, rules, target)
        if reason is not None:
            return reason
    return None


def _line(
    order: Order, facts: LineFacts, _op: OperatorStanding | None, _r: OrderRules, _t: Order | None
) -> ReasonCode | None:
    reason = eligibility(facts.line)
    if reason is None and facts.line is not None and order.postcode is not None:
        if order.postcode != facts.line.postcode:
            return ReasonCode.E_POSTCODE_MISMATCH
    return reason


def _agreement(
    _o: Order, _f: LineFacts, op: OperatorStanding | None, _r: OrderRules, _t: Order | None
) -> ReasonCode | None:
    return None if op is not None and op.agreement_active else ReasonCode.E_NO_AGREEMENT


def _option(
    order: Order, _f: LineFacts, _op: OperatorStanding | None, rules: OrderRules, _t: Order | None
) -> ReasonCode | None:
    if order.type in NEEDS_OPTION and (
        order.option is None or order.option not in rules.offered_options
    ):
        return ReasonCode.E_OPTION_NOT_OFFERED
    return None


def _authorisation(
    order: Order, _f: LineFacts, _op: OperatorStanding | None, rules: OrderRules, _t: Order | None
) -> ReasonCode | None:
    if order.type not in NEEDS_AUTHORISATION:
        return None
    auth = order.authorisation
    if auth is None or not auth.reference.strip() or not auth.channel.strip():
        return ReasonCode.E_AUTHORISATION_MISSING
    received = rules.calendar.local_date(order.created_at)
    max_age = timedelta(days=rules.calendar.rules.authorisation_max_age_days)
    if auth.signed_at > received or received - auth.signed_at > max_age:
        return ReasonCode.E_AUTHORISATION_INVALID
    return None


def _date(
    order: Order, _f: LineFacts, _op: OperatorStanding | None, rules: OrderRules, _t: Order | None
) -> ReasonCode | None:
    requested = order.requested_date
    if requested is None:
        return None
    if requested <= rules.calendar.local_date(order.created_at):
        return ReasonCode.E_DATE_INVALID
    if not rules.calendar.is_working_day(requested):
        return ReasonCode.E_DATE_INVALID
    return None


def _holding(
    order: Order, facts: LineFacts, _op: OperatorStanding | None, _r: OrderRules, _t: Order | None
) -> ReasonCode | None:
    if order.type is OrderType.CANCEL_OTHER:
        return None
    if facts.holding_order is not None and facts.holding_order != order.id:
        return ReasonCode.E_OPEN_ORDER
    return None


def _by_type(
    order: Order,
    facts: LineFacts,
    _op: OperatorStanding | None,
    rules: OrderRules,
    target: Order | None,
) -> ReasonCode | None:
    current = facts.current
    serving = current is not None and current.operator_id == order.operator_id
    match order.type:
        case OrderType.PROVIDE:
            return ReasonCode.E_LINE_PRESELECTED if current is not None else None
        case OrderType.TRANSFER:
            if current is None:
                return ReasonCode.E_NOT_PRESELECTED
            return ReasonCode.E_ALREADY_SERVING if serving else None
        case OrderType.MODIFY:
            if current is None:
                return ReasonCode.E_NOT_PRESELECTED
            if not serving:
                return ReasonCode.E_NOT_SERVING
            return ReasonCode.E_SAME_OPTION if current.option == order.option else None
        case OrderType.CEASE:
            if current is None:
                return ReasonCode.E_NOT_PRESELECTED
            return None if serving else ReasonCode.E_NOT_SERVING
        case OrderType.CANCEL_OTHER:
            return _cancel_other(order, serving, rules, target)
    raise AssertionError(order.type)  # pragma: no cover


def _cancel_other(
    order: Order, serving: bool, rules: OrderRules, target: Order | None
) -> ReasonCode | None:
    if not serving:
        return ReasonCode.E_NOT_SERVING
    if target is None or target.number != order.number or not target.is_open:
        return ReasonCode.E_TARGET_NOT_FOUND
    if target.type is not OrderType.TRANSFER:
        return ReasonCode.E_TARGET_NOT_CANCELLABLE
    if target.state is OrderState.COMMITTED and target.due_date is not None:
        if order.created_at >= rules.calendar.cancel_cutoff(target.due_date):
            return ReasonCode.E_TARGET_NOT_CANCELLABLE
    return None
