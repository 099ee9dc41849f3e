"""The order desk: what a CPS operator can do with its orders."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import datetime

from forvalg.domain.clock import Clock
from forvalg.domain.ids import new_order_id
from forvalg.domain.lifecycle import NotCancellable, TooLate, cancel_own, next_due_at
from forvalg.domain.orders import Order, OrderRequest, OrderState, new_order
from forvalg.domain.reasons import ReasonCode
from forvalg.domain.validation import OrderRules
from forvalg.wall import Guard, Principal, Purpose, Wall
from forvalg.wall.principals import UNSTATED, Statement, system_job

# The desk's own system job: sends the notices a cancel causes to other operators.
ORDER_DESK = system_job("order-desk", "order_processor")


class OrderNotFound(Exception):
    """No such order, or not one of the caller's (the two are indistinguishable)."""


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before with another request body."""


class CancelRefused(Exception):
    def __init__(self, code: ReasonCode, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Submitted:
    order: Order
    replayed: bool


@dataclass(frozen=True, slots=True)
class OrderPage:
    items: list[Order]
    next_cursor: int | None


def managing(stated: Statement) -> Statement:
    """What a request to the order desk states: its purpose is order management,
    whatever else was claimed."""
    return replace(stated, purpose=Purpose.ORDER_MANAGEMENT) if stated.purpose else stated


class OrderDesk:
    def __init__(
        self,
        *,
        wall: Wall,
        rules: OrderRules,
        clock: Clock,
        ids: Callable[[datetime], str] = new_order_id,
    ) -> None:
        self._wall = wall
        self._rules = rules
        self._clock = clock
        self._ids = ids

    def _desk(
        self, principal: Principal, stated: Statement, label: str | None = None
    ) -> AbstractContextManager[Guard]:
        """The desk is the operators', and it serves one purpose: order management.
        Staff who state their work are judged as doing that here, and refused by the
        policy; staff who state nothing are told to (both ledgered)."""
        return self._wall.access_for(principal, managing(stated), Purpose.ORDER_MANAGEMENT, label)

    def submit(
        self,
        principal: Principal,
        request: OrderRequest,
        *,
        idempotency_key: str,
        stated: Statement = UNSTATED,
    ) -> Submitted:
        """Accept a well-formed order as RECEIVED; business rules are checked in processing."""
        fingerprint = request.fingerprint()
        now = self._clock.now()
        order = new_order(
            order_id=self._ids(now),
            order_type=request.type,
            number=request.number,
            operator_id=principal.organisation,
            received_at=now,
            option=request.option,
            postcode=request.postcode,
            authorisation=request.authorisation,
            requested_date=request.requested_date,
            target_order=request.target_order,
            cancel_reason=request.reason,
        )
        with self._desk(principal, stated) as guard:
            placed = guard.orders.add(
                order,
                next_due_at=next_due_at(order, self._rules.calendar),
                idempotency_key=idempotency_key,
                request_hash=fingerprint,
            )
            if placed:
                return Submitted(order, replayed=False)
            # A replay: the key was used before (perhaps by a request still in flight,
            # whose commit the insert waited for).
            prior = guard.orders.by_idempotency_key(principal.organisation, idempotency_key)
        assert prior is not None, "ON CONFLICT found the key, so its order exists"
        if prior[1] != fingerprint:
            raise IdempotencyConflict(
                f"Idempotency-Key {idempotency_key!r} was used for order {prior[0].id} "
                "with a different body"
            )
        return Submitted(prior[0], replayed=True)

    def get(self, principal: Principal, order_id: str, stated: Statement = UNSTATED) -> Order:
        with self._desk(principal, stated, f"order:{order_id}") as guard:
            order = guard.orders.get(order_id)
        if order is None:
            raise OrderNotFound(order_id)
        return order

    def list(
        self,
        principal: Principal,
        *,
        state: OrderState | None = None,
        number: str | None = None,
        cursor: int | None = None,
        limit: int = 50,
        stated: Statement = UNSTATED,
    ) -> OrderPage:
        with self._desk(principal, stated) as guard:
            items, more = guard.orders.page(
                state=state, number=number, before_seq=cursor, limit=limit
            )
        return OrderPage(items, more)

    def cancel(self, principal: Principal, order_id: str, stated: Statement = UNSTATED) -> Order:
        """Cancel an own open order; after the cut-off the answer is `E_TOO_LATE`."""
        refused: CancelRefused | None = None
        with self._desk(principal, stated, f"order:{order_id}") as guard:
            order = guard.orders.get(order_id, lock=True)
            if order is not None:
                desk = guard.delegate(ORDER_DESK, Purpose.PROVISIONING)
                facts = desk.lines.facts([order.number])[order.number]
                try:
                    effects = cancel_own(order, self._clock.now(), facts, self._rules.calendar)
                except TooLate as exc:
                    refused = CancelRefused(ReasonCode.E_TOO_LATE, str(exc))
                except NotCancellable as exc:
                    refused = CancelRefused(ReasonCode.E_CONFLICT, str(exc))
                else:
                    desk.orders.save(effects, due={order.id: None})
                if refused is not None:  # kept: the report counts the cut-off misses
                    desk.orders.refused_cancel(order, refused.code)
        # Raised only after the commit, so the read's log entry stays.
        if order is None:
            raise OrderNotFound(order_id)
        if refused is not None:
            raise refused
        return order

    def eligibility(
        self, principal: Principal, number: str, stated: Statement = UNSTATED
    ) -> ReasonCode | None:
        # The number is the subject (logged as a pseudonym), never part of the work item.
        with self._desk(principal, stated, "eligibility-check") as guard:
            return guard.lines.eligibility(number)
