"""Order processing: advance every order whose next step is due, in time order.

One pass takes the earliest-due orders in batches (locked; other workers skip them on
PostgreSQL), decides each step in the pure domain, and writes the batch in one
transaction with one access decision per batch. A batch that loses a race against
another worker (the database's one-holding-order-per-line index says no) is retried
one order at a time, so the loser is rejected with E_OPEN_ORDER, never lost. An order
waits while an earlier due order on its line is held by another worker, so with several
workers the earlier order still wins the line. A completion also waits for every earlier
due order, wherever it is, so that the routing table's versions, written with the
batch, are numbered in the order they take effect (docs/ROUTING.md).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import takewhile

from forvalg.domain.lifecycle import Effects, complete, intake, next_due_at
from forvalg.domain.orders import Order, OrderState, OrderType
from forvalg.domain.validation import LineFacts, OperatorStanding, OrderRules
from forvalg.wall import Conflict, Guard, Purpose, Wall
from forvalg.wall.principals import ORDER_PROCESSOR

# A conflict that repeats this often one order at a time is not a race but a fault.
MAX_CONSECUTIVE_CONFLICTS = 20
# How long a worker waits for another to finish the earlier orders on its lines.
MAX_WAIT_S = 30.0


@dataclass
class ProcessReport:
    as_of: datetime
    transitions: int = 0
    batches: int = 0
    retried_batches: int = 0
    states: Counter[str] = field(default_factory=Counter)
    rejections: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def add(self, effects: Effects) -> None:
        self.transitions += effects.transitions
        for _, change in effects.history:
            self.states[change.state.value] += 1
            if change.state is OrderState.REJECTED and change.reason_code is not None:
                self.rejections[change.reason_code.value] += 1


class OrderProcessor:
    def __init__(self, *, wall: Wall, rules: OrderRules) -> None:
        self._wall = wall
        self._rules = rules

    def process(
        self,
        as_of: datetime,
        *,
        batch_size: int = 500,
        progress: Callable[[ProcessReport], None] | None = None,
    ) -> ProcessReport:
        """Advance everything due at or before `as_of`; returns what was done."""
        report = ProcessReport(as_of)
        started = time.perf_counter()
        single_steps = 0  # after a lost race, go one order at a time for a while
        consecutive = 0
        waiting_since: float | None = None
        work_item = f"process-run:{as_of.isoformat()}"
        while True:
            limit = 1 if single_steps else batch_size
            try:
                with self._wall.access(ORDER_PROCESSOR, Purpose.PROVISIONING, work_item) as guard:
                    batch = guard.orders.lock_due(as_of, limit)
                    if not batch:
                        break
                    ready = _first_in_line(batch, guard.orders.queues(_numbers(batch), as_of))
                    floor = self._floor(guard, ready, as_of)
                    effects, done = self._step(guard, ready, as_of, floor)
                    guard.orders.save(
                        effects,
                        {o.id: next_due_at(o, self._rules.calendar) for o in effects.orders},
                    )
                if not done:
                    # Every order we took waits for an earlier one another worker holds.
                    waiting_since = waiting_since or time.monotonic()
                    if time.monotonic() - waiting_since > MAX_WAIT_S:
                        raise RuntimeError(f"earlier orders held elsewhere for {MAX_WAIT_S} s")
                    time.sleep(0.05)
                    continue
                waiting_since = None
            except Conflict:
                report.retried_batches += 1
                consecutive += 1
                if consecutive > MAX_CONSECUTIVE_CONFLICTS:
                    raise
                single_steps = batch_size
                continue
            consecutive = 0
            single_steps = max(0, single_steps - 1)
            report.batches += 1
            report.add(effects)
            if progress is not None:
                progress(report)
        report.seconds = time.perf_counter() - started
        return report

    def _floor(self, guard: Guard, ready: list[Order], as_of: datetime) -> datetime | None:
        """The earliest due instant of an order this batch does not decide now (another
        worker holds it, it is not taken yet, or it waits in the batch behind an earlier
        order held elsewhere) that is earlier than one of the batch's completions:
        completions after it wait, so routing versions come in due order."""
        # The batch is in due order, so its last completion is its latest, and only its
        # ready orders due before that need excluding from the search: one of the batch
        # that waits for an earlier order held elsewhere is not decided now, so it is
        # as much a floor as an order outside the batch.
        calendar = self._rules.calendar
        last = next((o for o in reversed(ready) if o.state is OrderState.COMMITTED), None)
        latest = None if last is None else next_due_at(last, calendar)
        if latest is None:
            return None
        earlier = takewhile(lambda o: (next_due_at(o, calendar) or latest) < latest, ready)
        return guard.orders.due_elsewhere(as_of, before=latest, batch=(o.id for o in earlier))

    def _step(
        self, guard: Guard, batch: list[Order], as_of: datetime, floor: datetime | None
    ) -> tuple[Effects, int]:
        """Decide the batch's orders in due order; (the effects, how many were decided).

        Stops before an order due after a completion that an intake in this batch
        created (it is decided in the next batch, after that completion), and before a
        completion due after `floor`: the processor keeps time order across batches
        and workers, so routing versions are numbered in the order they take effect."""
        rules = self._rules
        in_batch = {o.id: o for o in batch}
        target_ids = {
            o.target_order
            for o in batch
            if o.type is OrderType.CANCEL_OTHER
            and o.target_order
            and o.target_order not in in_batch
        }
        targets = in_batch | (guard.orders.by_ids(target_ids, lock=True) if target_ids else {})
        facts = guard.lines.facts(o.number for o in batch)
        operators = guard.operators.standing({o.operator_id for o in batch})
        effects = Effects()
        horizon: datetime | None = None  # the earliest completion created in this batch
        done = 0
        for order in batch:
            due = next_due_at(order, rules.calendar)
            if due is None:
                if not effects.decided(order.id):  # final yet due: a fault, not a loop
                    raise RuntimeError(f"order {order.id} is due but {order.state}")
                # Decided earlier in this batch: a CANCEL_OTHER before it cancelled it.
                done += 1
                continue
            if horizon is not None and due > horizon:
                break
            if floor is not None and order.state is OrderState.COMMITTED and due > floor:
                break
            line = facts[order.number]
            if order.state is OrderState.RECEIVED:
                record = operators.get(order.operator_id)
                step = intake(
                    order,
                    line,
                    None
                    if record is None
                    else OperatorStanding(record.id, record.agreement_active),
                    rules,
                    operator_name=order.operator_id if record is None else record.name,
                    target=targets.get(order.target_order) if order.target_order else None,
                )
            elif order.state is OrderState.COMMITTED:
                step = complete(order, line, rules.calendar)
            else:  # intake never leaves an order VALIDATED: a fault, not something to spin on
                raise RuntimeError(f"order {order.id} is due but {order.state}")
            facts[order.number] = _after(line, step, order)
            effects.merge(step)
            done += 1
            if order.state is OrderState.COMMITTED:
                switch = next_due_at(order, rules.calendar)
                if switch is not None and switch <= as_of:
                    horizon = switch if horizon is None else min(horizon, switch)
        return effects, done


def _numbers(batch: list[Order]) -> set[str]:
    return {o.number for o in batch}


def _first_in_line(batch: list[Order], queues: dict[str, list[str]]) -> list[Order]:
    """The orders of the batch that are first in their line's queue, or follow only
    orders of this batch. Another worker may hold an earlier order on a line (it took
    its batch with SKIP LOCKED); ours on that line wait, so the earlier order wins."""
    ours = {o.id for o in batch}
    ready: set[str] = set()
    for ids in queues.values():
        for order_id in ids:
            if order_id not in ours:
                break
            ready.add(order_id)
    return [o for o in batch if o.id in ready]


def _after(facts: LineFacts, step: Effects, order: Order) -> LineFacts:
    """The line as the rest of the batch must see it after this step."""
    holding = facts.holding_order
    if order.holds_line:
        holding = order.id
    elif holding is not None and any(o.id == holding and not o.holds_line for o in step.orders):
        holding = None
    current = facts.current
    if step.closed:
        current = None
    if step.opened:
        current = step.opened[-1].preselection
    return replace(facts, current=current, holding_order=holding)
