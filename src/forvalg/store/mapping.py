"""Rows to domain objects and back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping

from forvalg.domain.lines import Line, LineType
from forvalg.domain.orders import (
    Authorisation,
    CancelReason,
    Option,
    Order,
    OrderState,
    OrderType,
    StateChange,
)
from forvalg.domain.preselection import Preselection
from forvalg.domain.reasons import ReasonCode


def order_from_row(row: RowMapping, history: list[StateChange] | None = None) -> Order:
    auth = None
    if row["auth_reference"] is not None:
        auth = Authorisation(row["auth_reference"], row["auth_signed_at"], row["auth_channel"])
    return Order(
        id=row["id"],
        type=OrderType(row["type"]),
        number=row["number"],
        operator_id=row["operator_id"],
        created_at=row["created_at"],
        option=None if row["option"] is None else Option(row["option"]),
        postcode=row["postcode"],
        authorisation=auth,
        requested_date=row["requested_date"],
        target_order=row["target_order"],
        cancel_reason=None if row["cancel_reason"] is None else CancelReason(row["cancel_reason"]),
        state=OrderState(row["state"]),
        reason_code=None if row["reason_code"] is None else ReasonCode(row["reason_code"]),
        due_date=row["due_date"],
        updated_at=row["updated_at"],
        history=history if history is not None else [],
    )


def order_values(order: Order) -> dict[str, Any]:
    auth = order.authorisation
    return {
        "id": order.id,
        "type": order.type.value,
        "number": order.number,
        "operator_id": order.operator_id,
        "option": None if order.option is None else order.option.value,
        "postcode": order.postcode,
        "auth_reference": None if auth is None else auth.reference,
        "auth_signed_at": None if auth is None else auth.signed_at,
        "auth_channel": None if auth is None else auth.channel,
        "requested_date": order.requested_date,
        "target_order": order.target_order,
        "cancel_reason": None if order.cancel_reason is None else order.cancel_reason.value,
        "state": order.state.value,
        "reason_code": None if order.reason_code is None else order.reason_code.value,
        "due_date": order.due_date,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
    }


def change_from_row(row: RowMapping) -> StateChange:
    reason = row["reason_code"]
    return StateChange(
        OrderState(row["state"]), row["at"], None if reason is None else ReasonCode(reason)
    )


def line_from_row(row: RowMapping) -> Line:
    return Line(row["number"], row["postcode"], LineType(row["line_type"]), row["status"])


def preselection_from_row(row: RowMapping) -> Preselection:
    return Preselection(
        row["number"],
        row["operator_id"],
        Option(row["option"]),
        row["valid_from"],
        row["order_id"],
        row["valid_to"],
    )
