"""The order life cycle as pure steps: given an order and what is known, what happens.

The processor calls `intake` at the order's receipt and `complete` at its switch instant,
always in time order, and persists the returned `Effects`. `LineFacts` passed in are
updated by the caller from the effects, so a batch sees its own earlier decisions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from forvalg.domain.calendar import WorkingCalendar
from forvalg.domain.notifications import (
    CustomerLetter,
    OperatorNotice,
    customer_letter,
    loss_cancelled_notice,
    loss_notice,
    state_notice,
)
from forvalg.domain.orders import Order, OrderEvent, OrderState, OrderType, StateChange
from forvalg.domain.preselection import Closed, Opened, Preselection
from forvalg.domain.reasons import ReasonCode
from forvalg.domain.validation import LineFacts, OperatorStanding, OrderRules, validate


class TooLate(Exception):
    """A cancel after the cut-off."""


class NotCancellable(Exception):
    """A cancel of an order that is final, or of a CANCEL_OTHER."""


@dataclass
class Effects:
    """Everything one step changed; the caller persists it in one transaction."""

    orders: list[Order] = field(default_factory=list)
    notices: list[OperatorNotice] = field(default_factory=list)
    letters: list[CustomerLetter] = field(default_factory=list)
    opened: list[Opened] = field(default_factory=list)
    closed: list[Closed] = field(default_factory=list)
    history: list[tuple[str, StateChange]] = field(default_factory=list)
    _ids: set[str] = field(default_factory=set, repr=False, compare=False)

    def _touch(self, order: Order) -> None:
        if order.id not in self._ids:
            self._ids.add(order.id)
            self.orders.append(order)

    @property
    def transitions(self) -> int:
        return len(self.history)

    def decided(self, order_id: str) -> bool:
        """Whether these effects change the order (it is saved with them)."""
        return order_id in self._ids

    def change(
        self, order: Order, event: OrderEvent, at: datetime, reason: ReasonCode | None = None
    ) -> None:
        change = order.apply(event, at, reason)
        self._touch(order)
        self.history.append((order.id, change))
        self.notices.append(state_notice(order, change))

    def merge(self, other: Effects) -> None:
        for order in other.orders:
            self._touch(order)
        self.notices += other.notices
        self.letters += other.letters
        self.opened += other.opened
        self.closed += other.closed
        self.history += other.history


def next_due_at(order: Order, calendar: WorkingCalendar) -> datetime | None:
    """When the processor must next look at the order; None once it is final."""
    if order.state in (OrderState.RECEIVED, OrderState.VALIDATED):
        return order.created_at
    if order.state is OrderState.COMMITTED and order.due_date is not None:
        return calendar.switch_at(order.due_date)
    return None


def intake(
    order: Order,
    facts: LineFacts,
    operator: OperatorStanding | None,
    rules: OrderRules,
    *,
    operator_name: str,
    target: Order | None = None,
) -> Effects:
    """Validate at receipt; commit with a due date, or reject; CANCEL_OTHER acts at once."""
    at = order.created_at
    effects = Effects()
    reason = validate(order, facts, operator, rules, target)
    if reason is not None:
        effects.change(order, OrderEvent.REJECT, at, reason)
        return effects
    effects.change(order, OrderEvent.ACCEPT, at)
    if order.type is OrderType.CANCEL_OTHER:
        assert target is not None
        _cancel(target, at, ReasonCode.C_CANCELLED_BY_SERVING_OPERATOR, effects, facts)
        effects.change(order, OrderEvent.COMPLETE, at)
        return effects
    calendar = rules.calendar
    order.due_date = calendar.due_date(at, order.requested_date)
    effects.change(order, OrderEvent.COMMIT, at)
    letter = customer_letter(
        order,
        operator_name=operator_name,
        effective=order.due_date,
        cooling_off_ends=calendar.cooling_off_ends(at),
        at=at,
    )
    if letter is not None:
        effects.letters.append(letter)
    if order.type is OrderType.TRANSFER and facts.current is not None:
        effects.notices.append(loss_notice(facts.current.operator_id, order, order.due_date, at))
    return effects


def complete(order: Order, facts: LineFacts, calendar: WorkingCalendar) -> Effects:
    """At the switch instant: end the old preselection period, start the new one."""
    assert order.due_date is not None
    at = calendar.switch_at(order.due_date)
    effects = Effects()
    current = facts.current
    if current is not None and order.type is not OrderType.PROVIDE:
        effects.closed.append(Closed(order.number, current.operator_id, at, order.id))
    if order.type in (OrderType.PROVIDE, OrderType.TRANSFER, OrderType.MODIFY):
        assert order.option is not None
        effects.opened.append(
            Opened(Preselection(order.number, order.operator_id, order.option, at, order.id))
        )
    effects.change(order, OrderEvent.COMPLETE, at)
    return effects


def cancel_own(order: Order, now: datetime, facts: LineFacts, calendar: WorkingCalendar) -> Effects:
    """The placing operator cancels its own open order, before the cut-off."""
    if order.type is OrderType.CANCEL_OTHER or not order.is_open:
        raise NotCancellable(f"order {order.id} is {order.state}")
    if order.state is OrderState.COMMITTED and order.due_date is not None:
        if now >= calendar.cancel_cutoff(order.due_date):
            cutoff = calendar.cancel_cutoff(order.due_date).isoformat()
            raise TooLate(f"the cut-off for order {order.id} was {cutoff}")
    effects = Effects()
    _cancel(order, now, ReasonCode.C_CANCELLED_BY_OPERATOR, effects, facts)
    return effects


def _cancel(
    order: Order, at: datetime, reason: ReasonCode, effects: Effects, facts: LineFacts
) -> None:
    was_committed = order.state is OrderState.COMMITTED
    effects.change(order, OrderEvent.CANCEL, at, reason)
    if was_committed and order.type is OrderType.TRANSFER and facts.current is not None:
        effects.notices.append(loss_cancelled_notice(facts.current.operator_id, order, at))
