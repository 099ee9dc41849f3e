"""CPS orders: types, options, states and the table-driven life cycle.

    RECEIVED ─accept─▶ VALIDATED ─commit─▶ COMMITTED ─complete─▶ COMPLETED
        └─reject─▶ REJECTED        any open state ─cancel─▶ CANCELLED

CANCEL_OTHER orders take effect at once: VALIDATED ─complete─▶ COMPLETED.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from enum import StrEnum

from forvalg.domain.reasons import ReasonCode


class OrderType(StrEnum):
    PROVIDE = "PROVIDE"
    TRANSFER = "TRANSFER"
    MODIFY = "MODIFY"
    CEASE = "CEASE"
    CANCEL_OTHER = "CANCEL_OTHER"


class Option(StrEnum):
    ALL = "ALL"
    NATIONAL = "NATIONAL"
    INTERNATIONAL = "INTERNATIONAL"


class OrderState(StrEnum):
    RECEIVED = "RECEIVED"
    VALIDATED = "VALIDATED"
    COMMITTED = "COMMITTED"
    COMPLETED = "COMPLETED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"


class OrderEvent(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    COMMIT = "commit"
    COMPLETE = "complete"
    CANCEL = "cancel"


class CancelReason(StrEnum):
    """The closed list a serving operator may give for CANCEL_OTHER (anti-slamming only)."""

    NOT_ORDERED = "NOT_ORDERED"  # the customer never agreed to the transfer
    CONSENT_WITHDRAWN = "CONSENT_WITHDRAWN"  # the customer withdrew within cooling-off
    WRONG_LINE = "WRONG_LINE"  # the gaining operator ordered the wrong number


# Orders that change a line's preselection and so hold the line while open.
LINE_ORDERS = frozenset({OrderType.PROVIDE, OrderType.TRANSFER, OrderType.MODIFY, OrderType.CEASE})
NEEDS_OPTION = frozenset({OrderType.PROVIDE, OrderType.TRANSFER, OrderType.MODIFY})
NEEDS_AUTHORISATION = frozenset({OrderType.PROVIDE, OrderType.TRANSFER})
OPEN_STATES = frozenset({OrderState.RECEIVED, OrderState.VALIDATED, OrderState.COMMITTED})
HOLDING_STATES = frozenset({OrderState.VALIDATED, OrderState.COMMITTED})
FINAL_STATES = frozenset({OrderState.COMPLETED, OrderState.REJECTED, OrderState.CANCELLED})

_S, _E = OrderState, OrderEvent
TRANSITIONS: dict[tuple[OrderState, OrderEvent], OrderState] = {
    (_S.RECEIVED, _E.ACCEPT): _S.VALIDATED,
    (_S.RECEIVED, _E.REJECT): _S.REJECTED,
    (_S.VALIDATED, _E.COMMIT): _S.COMMITTED,
    (_S.COMMITTED, _E.COMPLETE): _S.COMPLETED,
    (_S.RECEIVED, _E.CANCEL): _S.CANCELLED,
    (_S.VALIDATED, _E.CANCEL): _S.CANCELLED,
    (_S.COMMITTED, _E.CANCEL): _S.CANCELLED,
}
# Per-type exceptions to the table: a CANCEL_OTHER acts at once and is never cancelled itself.
TYPE_TRANSITIONS: dict[OrderType, dict[tuple[OrderState, OrderEvent], OrderState | None]] = {
    OrderType.CANCEL_OTHER: {
        (_S.VALIDATED, _E.COMPLETE): _S.COMPLETED,
        (_S.VALIDATED, _E.COMMIT): None,
        (_S.RECEIVED, _E.CANCEL): None,
        (_S.VALIDATED, _E.CANCEL): None,
        (_S.COMMITTED, _E.CANCEL): None,
    },
}


class InvalidTransition(Exception):
    def __init__(self, order_type: OrderType, state: OrderState, event: OrderEvent) -> None:
        super().__init__(f"{order_type} order in state {state} cannot {event}")
        self.order_type, self.state, self.event = order_type, state, event


def next_state(order_type: OrderType, state: OrderState, event: OrderEvent) -> OrderState:
    """Look the transition up in the table; raise `InvalidTransition` if it is not there."""
    override = TYPE_TRANSITIONS.get(order_type, {})
    target = (
        override[(state, event)] if (state, event) in override else TRANSITIONS.get((state, event))
    )
    if target is None:
        raise InvalidTransition(order_type, state, event)
    return target


@dataclass(frozen=True, slots=True)
class Authorisation:
    """The customer's consent, held by the gaining operator; we keep its reference."""

    reference: str
    signed_at: date
    channel: str


@dataclass(frozen=True, slots=True)
class StateChange:
    state: OrderState
    at: datetime
    reason_code: ReasonCode | None = None


@dataclass(eq=False)
class Order:
    """An order and its dated history. Only `apply` changes the state.

    An entity: two `Order` objects are the same order only if they are the same object."""

    id: str
    type: OrderType
    number: str
    operator_id: str
    created_at: datetime
    option: Option | None = None
    postcode: str | None = None
    authorisation: Authorisation | None = None
    requested_date: date | None = None
    target_order: str | None = None
    cancel_reason: CancelReason | None = None
    state: OrderState = OrderState.RECEIVED
    reason_code: ReasonCode | None = None
    due_date: date | None = None
    updated_at: datetime | None = None
    history: list[StateChange] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def holds_line(self) -> bool:
        return self.type in LINE_ORDERS and self.state in HOLDING_STATES

    def apply(
        self, event: OrderEvent, at: datetime, reason: ReasonCode | None = None
    ) -> StateChange:
        if at.tzinfo is None:
            raise ValueError(f"{at!r} has no timezone")
        self.state = next_state(self.type, self.state, event)
        if event in (OrderEvent.REJECT, OrderEvent.CANCEL):
            self.reason_code = reason
        self.updated_at = at
        change = StateChange(self.state, at, reason)
        self.history.append(change)
        return change


def new_order(
    *,
    order_id: str,
    order_type: OrderType,
    number: str,
    operator_id: str,
    received_at: datetime,
    option: Option | None = None,
    postcode: str | None = None,
    authorisation: Authorisation | None = None,
    requested_date: date | None = None,
    target_order: str | None = None,
    cancel_reason: CancelReason | None = None,
) -> Order:
    return Order(
        id=order_id,
        type=order_type,
        number=number,
        operator_id=operator_id,
        created_at=received_at,
        updated_at=received_at,
        option=option,
        postcode=postcode,
        authorisation=authorisation,
        requested_date=requested_date,
        target_order=target_order,
        cancel_reason=cancel_reason,
        history=[StateChange(OrderState.RECEIVED, received_at)],
    )


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A well-formed order as the operator sent it (the API has checked its shape)."""

    type: OrderType
    number: str
    option: Option | None = None
    postcode: str | None = None
    authorisation: Authorisation | None = None
    requested_date: date | None = None
    target_order: str | None = None
    reason: CancelReason | None = None

    def fingerprint(self) -> str:
        values = [getattr(self, f.name) for f in fields(self)]
        return hashlib.sha256(json.dumps(values, default=str).encode()).hexdigest()
