"""What the order desk tells whom. The incumbent's retail arm is never a recipient.

Operators get their own orders' state changes and neutral loss notices (line and date,
never the gaining operator). Customers get a template-only letter: no offers, no names
beyond the operator they chose themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from string import Template
from typing import Any

from forvalg.domain.orders import Order, OrderType, StateChange


class NoticeType(StrEnum):
    ORDER_STATE = "ORDER_STATE"
    LOSS = "LOSS"
    LOSS_CANCELLED = "LOSS_CANCELLED"


@dataclass(frozen=True, slots=True)
class OperatorNotice:
    """One item in an operator's event feed."""

    operator_id: str
    type: NoticeType
    number: str
    at: datetime
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class FeedItem:
    """A notice as stored in an operator's feed, with its position."""

    seq: int
    type: str
    number: str
    at: datetime
    payload: dict[str, Any]


def state_notice(order: Order, change: StateChange) -> OperatorNotice:
    return OperatorNotice(
        operator_id=order.operator_id,
        type=NoticeType.ORDER_STATE,
        number=order.number,
        at=change.at,
        payload={
            "order_id": order.id,
            "order_type": order.type.value,
            "state": change.state.value,
            "at": _instant(change.at),
            "reason_code": None if change.reason_code is None else change.reason_code.value,
            "due_date": None if order.due_date is None else order.due_date.isoformat(),
        },
    )


def _instant(at: datetime) -> str:
    """UTC in ISO 8601 with `Z`, as the API writes every other instant."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def loss_notice(
    losing_operator: str, transfer: Order, effective: date, at: datetime
) -> OperatorNotice:
    """The serving operator's notice of a pending loss. Never names the gaining operator."""
    return OperatorNotice(
        operator_id=losing_operator,
        type=NoticeType.LOSS,
        number=transfer.number,
        at=at,
        payload={"effective_date": effective.isoformat(), "order_id": transfer.id},
    )


def loss_cancelled_notice(losing_operator: str, transfer: Order, at: datetime) -> OperatorNotice:
    return OperatorNotice(
        operator_id=losing_operator,
        type=NoticeType.LOSS_CANCELLED,
        number=transfer.number,
        at=at,
        payload={"order_id": transfer.id},
    )


class LetterTemplate(StrEnum):
    PRESELECTION_CONFIRMATION = "PRESELECTION_CONFIRMATION"
    PRESELECTION_ENDS = "PRESELECTION_ENDS"


LETTER_TEXT: dict[LetterTemplate, Template] = {
    LetterTemplate.PRESELECTION_CONFIRMATION: Template(
        "Line $number: as you requested, from $effective_date your calls will be carried "
        "by $operator_name. You may withdraw this choice until $cooling_off_ends by "
        "contacting $operator_name. This letter is sent for information only."
    ),
    LetterTemplate.PRESELECTION_ENDS: Template(
        "Line $number: as requested, carrier preselection ends on $effective_date. "
        "This letter is sent for information only."
    ),
}


@dataclass(frozen=True, slots=True)
class CustomerLetter:
    number: str
    order_id: str
    template: LetterTemplate
    fields: dict[str, str]
    at: datetime

    def text(self) -> str:
        return LETTER_TEXT[self.template].substitute(self.fields)


def customer_letter(
    order: Order, *, operator_name: str, effective: date, cooling_off_ends: date, at: datetime
) -> CustomerLetter | None:
    """The neutral letter for a committed order, or None for orders that warrant none."""
    if order.type in (OrderType.PROVIDE, OrderType.TRANSFER):
        template = LetterTemplate.PRESELECTION_CONFIRMATION
        fields = {
            "number": order.number,
            "effective_date": effective.isoformat(),
            "operator_name": operator_name,
            "cooling_off_ends": cooling_off_ends.isoformat(),
        }
    elif order.type is OrderType.CEASE:
        template = LetterTemplate.PRESELECTION_ENDS
        fields = {"number": order.number, "effective_date": effective.isoformat()}
    else:
        return None
    return CustomerLetter(order.number, order.id, template, fields, at)
