"""Guarded stores: the only way above the wall to reach orders, lines and preselections.

Each method authorises (which logs) before it touches the store, and applies the row
filter the decision carries: with scope OWN an operator sees only its own rows, and
another operator's order is simply not there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from forvalg.domain.access_activity import AccessActivity
from forvalg.domain.access_activity import activity as access_activity
from forvalg.domain.calendar import WorkingCalendar
from forvalg.domain.categories import Category
from forvalg.domain.equivalence import KpiTally
from forvalg.domain.lifecycle import Effects
from forvalg.domain.lines import Line, LineView, eligibility
from forvalg.domain.notifications import FeedItem
from forvalg.domain.operators import Operator
from forvalg.domain.orders import Order, OrderState
from forvalg.domain.reasons import ReasonCode
from forvalg.domain.routing_table import changes_of, ledger_detail
from forvalg.domain.validation import LineFacts
from forvalg.ledger import merkle
from forvalg.store import honey_lines as honey_store
from forvalg.store import ledger as ledger_store
from forvalg.store import lines as line_store
from forvalg.store import operators as operator_store
from forvalg.store import orders as order_store
from forvalg.store import outbox as outbox_store
from forvalg.store import preselections as preselection_store
from forvalg.store import routing as routing_store
from forvalg.store import users as user_store
from forvalg.store.ledger import TreeHead
from forvalg.wall.policy import Action, Scope, View

if TYPE_CHECKING:
    from forvalg.wall.guard import Guard, Permit


class GuardedOrders:
    def __init__(self, guard: Guard) -> None:
        self._g = guard

    def _own(self, scope: Scope, order: Order | None) -> Order | None:
        return None if order is None else self._visible(scope, {order.id: order}).get(order.id)

    def _visible(self, scope: Scope, found: dict[str, Order]) -> dict[str, Order]:
        """What the caller may see of `found`: with an own-rows grant, its own orders
        and not the decoys that name it (store/honey_lines.py)."""
        if scope is not Scope.OWN:
            return found
        mine = {k: o for k, o in found.items() if o.operator_id == self._g.principal.organisation}
        hidden = honey_store.decoys(self._g.session, mine)
        return {k: o for k, o in mine.items() if k not in hidden}

    def add(
        self,
        order: Order,
        *,
        next_due_at: datetime | None,
        idempotency_key: str,
        request_hash: str,
    ) -> bool:
        """Place the order unless its Idempotency-Key was used before; says which."""
        scope = self._g.authorize(Action.WRITE, Category.ORDER, [order.number]).scope
        if scope is Scope.OWN and order.operator_id != self._g.principal.organisation:
            raise PermissionError("an operator can only place its own orders")
        return order_store.insert_order(
            self._g.session,
            order=order,
            next_due_at=next_due_at,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            recorded_at=self._g.wall.clock.now(),
        )

    def _read(self, permit: Permit, found: Iterable[Order]) -> None:
        self._g.record(permit, [o.number for o in found])

    def by_idempotency_key(self, operator_id: str, key: str) -> tuple[Order, str] | None:
        permit = self._g.permit(Action.READ, Category.ORDER)
        found = order_store.by_idempotency_key(self._g.session, operator_id=operator_id, key=key)
        if found is None or self._own(permit.scope, found[0]) is None:
            found = None
        self._read(permit, [] if found is None else [found[0]])
        return found

    def get(self, order_id: str, *, lock: bool = False) -> Order | None:
        """One order (locked for update when asked), or None if the caller may not see it."""
        permit = self._g.permit(Action.READ, Category.ORDER)
        found = order_store.by_ids(self._g.session, ids=[order_id], lock=lock).get(order_id)
        visible = self._own(permit.scope, found)
        self._read(permit, [] if visible is None else [visible])
        return visible

    def by_ids(self, ids: Iterable[str], *, lock: bool = False) -> dict[str, Order]:
        permit = self._g.permit(Action.READ, Category.ORDER)
        found = order_store.by_ids(self._g.session, ids=ids, history=False, lock=lock)
        visible = self._visible(permit.scope, found)
        self._read(permit, visible.values())
        return visible

    def page(
        self,
        *,
        state: OrderState | None,
        number: str | None,
        before_seq: int | None,
        limit: int,
    ) -> tuple[list[Order], int | None]:
        permit = self._g.permit(Action.READ, Category.ORDER)
        items, more = order_store.page(
            self._g.session,
            operator_id=self._g.principal.organisation,
            state=state,
            number=number,
            before_seq=before_seq,
            limit=limit,
        )
        # The number asked about is a subject even when no order of the caller's has it.
        asked = [number] if number else []
        self._g.record(permit, asked + [o.number for o in items])
        return items, more

    def lock_due(self, as_of: datetime, limit: int) -> list[Order]:
        """Due orders, locked for this transaction (one decision for the whole batch)."""
        permit = self._g.permit(Action.READ, Category.ORDER)
        if permit.scope is not Scope.ALL:
            raise PermissionError("only the order processor takes due orders")
        due = order_store.lock_due(self._g.session, as_of=as_of, limit=limit)
        self._read(permit, due)
        return due

    def queues(self, numbers: Iterable[str], as_of: datetime) -> dict[str, list[str]]:
        """Per line, the ids of the orders due by `as_of`, in processing order."""
        nums = sorted(set(numbers))
        self._g.authorize(Action.READ, Category.ORDER, nums)
        return order_store.due_on_lines(self._g.session, numbers=nums, as_of=as_of)

    def due_elsewhere(
        self, as_of: datetime, *, before: datetime, batch: Iterable[str]
    ) -> datetime | None:
        """The earliest due instant, before `before`, of an order outside the batch."""
        permit = self._g.permit(Action.READ, Category.ORDER)
        if permit.scope is not Scope.ALL:
            raise PermissionError("only the order processor looks at other workers' orders")
        self._g.record(permit, ())
        return order_store.earliest_due(
            self._g.session, as_of=as_of, before=before, excluding=list(batch)
        )

    def save(self, effects: Effects, due: dict[str, datetime | None]) -> None:
        """Persist the orders' new states, history, notices, letters and line changes."""
        g = self._g
        now = g.wall.clock.now()
        if effects.orders:
            g.authorize(Action.WRITE, Category.ORDER, [o.number for o in effects.orders])
            order_store.update_orders(g.session, rows=[(o, due.get(o.id)) for o in effects.orders])
            order_store.insert_history(g.session, changes=effects.history, recorded_at=now)
        if effects.closed or effects.opened:
            numbers = [c.number for c in effects.closed] + [
                o.preselection.number for o in effects.opened
            ]
            # The entry names every routing version the batch makes (docs/ROUTING.md),
            # planned from the table as it stands before the batch's changes.
            permit = g.permit(Action.WRITE, Category.ROUTING)
            planned = routing_store.plan(g.session, changes=changes_of(effects))
            g.record(permit, numbers, ledger_detail(planned.versions))
            preselection_store.apply_changes(
                g.session, closed=effects.closed, opened=effects.opened, recorded_at=now
            )
            routing_store.write(g.session, planned=planned, recorded_at=now)
        if effects.notices:
            g.authorize(Action.WRITE, Category.EVENT, [n.number for n in effects.notices])
            outbox_store.add_notices(g.session, notices=effects.notices, recorded_at=now)
        if effects.letters:
            g.authorize(Action.WRITE, Category.LETTER, [le.number for le in effects.letters])
            outbox_store.add_letters(g.session, letters=effects.letters)

    def refused_cancel(self, order: Order, reason: ReasonCode) -> None:
        """Record that the operator's own cancel of `order` was refused for `reason`."""
        g = self._g
        g.authorize(Action.WRITE, Category.ORDER, [order.number])
        order_store.insert_cancel_refusal(
            g.session, order_id=order.id, reason=reason, at=g.wall.clock.now()
        )

    def counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """(orders by state, rejections by reason code)."""
        self._g.authorize(Action.READ, Category.ORDER)
        session = self._g.session
        return order_store.count_by_state(session), order_store.count_rejections(session)

    def equivalence(
        self, *, start: datetime, end: datetime, calendar: WorkingCalendar
    ) -> dict[str, KpiTally]:
        """Per operator, the equivalence KPIs' counts over the orders received in
        [start, end) (domain/equivalence.py): tallied here, so no order leaves the wall."""
        self._g.authorize(Action.READ, Category.ORDER)
        found: dict[str, KpiTally] = {}
        for operator, outcome in order_store.outcomes(self._g.session, start=start, end=end):
            found.setdefault(operator, KpiTally()).add(outcome, calendar)
        return found


class GuardedLines:
    def __init__(self, guard: Guard) -> None:
        self._g = guard

    def eligibility(self, number: str) -> ReasonCode | None:
        """Whether the line can take preselection; never who serves it."""
        self._g.authorize(Action.READ, Category.ELIGIBILITY, [number])
        return eligibility(line_store.get_lines(self._g.session, numbers=[number]).get(number))

    def facts(self, numbers: Iterable[str]) -> dict[str, LineFacts]:
        """Inventory, current preselection and holding order for each number."""
        nums = sorted(set(numbers))
        g = self._g
        for category in (Category.LINE, Category.SUBSCRIBER, Category.ROUTING):
            g.authorize(Action.READ, category, nums)
        found = line_store.get_lines(g.session, numbers=nums)
        current = preselection_store.current(g.session, numbers=nums)
        holding = order_store.holding(g.session, numbers=nums)
        return {n: LineFacts(found.get(n), current.get(n), holding.get(n)) for n in nums}

    def view(self, number: str) -> LineView:
        """One line as the principal's view shows it; the mask is applied here, so what it
        hides never leaves the wall. Each category shown is a decision of its own."""
        g, subjects = self._g, [number]
        # Both decisions come first, whatever the line holds: how many entries a read
        # leaves, or whether it is refused, must not tell whether the line is preselected.
        routing = g.authorize(Action.READ, Category.ROUTING, subjects)
        g.authorize(Action.READ, Category.OPERATOR, subjects)
        current = preselection_store.current(g.session, numbers=subjects).get(number)
        operator = None
        if current is not None:
            operator = operator_store.get_operators(g.session, ids=[current.operator_id]).get(
                current.operator_id
            )
        view = LineView(number=number, preselected=current is not None)
        if current is None or operator is None:
            shown = view
        elif routing.view is View.ROUTING:
            shown = replace(view, carrier_code=operator.csc, option=current.option.value)
        else:
            shown = replace(
                view,
                carrier_code=operator.csc,
                option=current.option.value,
                operator_id=operator.id,
                operator_name=operator.name,
                since=current.valid_from,
            )
        if routing.view is not View.FULL:
            return shown
        for category in (Category.LINE, Category.SUBSCRIBER, Category.ORDER):
            g.authorize(Action.READ, category, subjects)
        line = line_store.get_lines(g.session, numbers=subjects).get(number)
        return replace(
            shown,
            order_id=None if current is None else current.order_id,
            open_order=order_store.holding(g.session, numbers=subjects).get(number),
            postcode=None if line is None else line.postcode,
            line_type=None if line is None else line.line_type.value,
            status=None if line is None else line.status,
        )

    def sample(self, count: int, *, salt: int) -> list[Line]:
        """Up to `count` lines from the whole inventory, in a pseudo-random order that
        `salt` (drawn by the caller's random source) decides."""
        g = self._g
        permits = [g.permit(Action.READ, c) for c in (Category.LINE, Category.SUBSCRIBER)]
        if any(p.scope is not Scope.ALL for p in permits):
            g.refuse(permits[0], ReasonCode.E_FORBIDDEN, "a sample is drawn from every line")
        found = line_store.sample(g.session, count=count, salt=salt)
        for permit in permits:
            g.record(permit, [li.number for li in found])
        return found

    def known(self, numbers: Iterable[str]) -> set[str]:
        """Which of `numbers` are in the inventory."""
        nums = sorted(set(numbers))
        self._g.authorize(Action.READ, Category.SUBSCRIBER, nums)
        return set(line_store.get_lines(self._g.session, numbers=nums))

    def import_lines(self, items: Sequence[Line]) -> None:
        numbers = [li.number for li in items]
        self._g.authorize(Action.WRITE, Category.LINE, numbers)
        self._g.authorize(Action.WRITE, Category.SUBSCRIBER, numbers)
        line_store.upsert_lines(self._g.session, items=items, recorded_at=self._g.wall.clock.now())

    def count_preselections(self) -> dict[str, int]:
        self._g.authorize(Action.READ, Category.ROUTING)
        return preselection_store.count_current(self._g.session)


class GuardedOutbox:
    def __init__(self, guard: Guard) -> None:
        self._g = guard

    def events(self, *, after: int | None, limit: int) -> list[FeedItem]:
        permit = self._g.permit(Action.READ, Category.EVENT)
        items = outbox_store.events_page(
            self._g.session, operator_id=self._g.principal.organisation, after=after, limit=limit
        )
        self._g.record(permit, [e.number for e in items])
        return items

    def summary(self) -> tuple[dict[str, int], int]:
        """(events by type, letters) over all operators: counts, for reports only."""
        self._g.authorize(Action.READ, Category.EVENT)
        self._g.authorize(Action.READ, Category.LETTER)
        return outbox_store.count_events(self._g.session), outbox_store.count_letters(
            self._g.session
        )


class GuardedLedger:
    """The ledger, read by compliance and the regulator. Entries name subjects only by
    pseudonym; reading them is itself an access decision, in the ledger."""

    def __init__(self, guard: Guard) -> None:
        self._g = guard

    def _whole(self, category: Category) -> None:
        """Decide a read of the log at large (not of given subjects' entries): only for
        those whose grant reaches every row, never an own-rows one (a subscriber)."""
        permit = self._g.permit(Action.READ, category)
        if permit.scope is not Scope.ALL:
            self._g.refuse(permit, ReasonCode.E_FORBIDDEN, "the whole log is not own rows")
        self._g.record(permit, ())

    def decisions(self) -> dict[str, int]:
        self._whole(Category.ACCESS_LOG)
        return ledger_store.count_decisions(self._g.session)

    def activity(self, *, start: datetime, end: datetime) -> AccessActivity:
        """The decisions made in [start, end), counted (domain/access_activity.py): the
        tree's entries and those still queued."""
        self._whole(Category.ACCESS_LOG)
        return access_activity(ledger_store.events(self._g.session), start=start, end=end)

    def latest_checkpoint(self) -> str | None:
        """The latest signed checkpoint's note, if any was signed."""
        self._whole(Category.LEDGER_PROOF)
        found = ledger_store.latest_checkpoint(self._g.session)
        return None if found is None else found[1]

    def entries(self, *, start: int, end: int) -> list[str]:
        """Entries [start, end) of the tree; `ProofError` if that reaches past its end."""
        self._whole(Category.ACCESS_LOG)
        _within(ledger_store.head(self._g.session), end)
        return ledger_store.entries(self._g.session, start=start, end=end)

    def all_entries(self, *, end: int) -> Iterator[str]:
        """Entries [0, end), streamed, for an export: one decision for the whole read."""
        self._whole(Category.ACCESS_LOG)
        _within(ledger_store.head(self._g.session), end)
        return ledger_store.iter_entries(self._g.session, end=end)

    def inclusion(self, *, index: int, size: int) -> tuple[bytes, list[bytes]]:
        """(leaf hash of entry `index`, its audit path in the tree of `size`)."""
        self._whole(Category.LEDGER_PROOF)
        _within(ledger_store.head(self._g.session), size)
        nodes = ledger_store.StoredNodes(self._g.session)
        path = merkle.inclusion_proof(nodes, index, size)
        return nodes.nodes([merkle.NodeId(0, index)])[merkle.NodeId(0, index)], path

    def consistency(self, *, old: int, new: int) -> list[bytes]:
        self._whole(Category.LEDGER_PROOF)
        _within(ledger_store.head(self._g.session), new)
        return merkle.consistency_proof(ledger_store.StoredNodes(self._g.session), old, new)

    def touching(self, number: str, *, size: int) -> list[tuple[int, str, list[bytes]]]:
        """Every entry of the tree of `size` that touched the line, bulk decisions
        included, each with its inclusion proof: (index, entry, audit path)."""
        g, subjects = self._g, [number]
        g.authorize(Action.READ, Category.ACCESS_LOG, subjects)
        _within(ledger_store.head(g.session), size)
        found = ledger_store.subject_entries(
            g.session, pseudonym=g.wall.pseudonymiser.pseudonyms(number), size=size
        )
        g.authorize(Action.READ, Category.LEDGER_PROOF, subjects)
        nodes = ledger_store.StoredNodes(g.session)
        return [(i, entry, merkle.inclusion_proof(nodes, i, size)) for i, entry in found]

    def proven(self, indices: Iterable[int], *, size: int) -> list[tuple[int, str, list[bytes]]]:
        """The entries at `indices`, each with its audit path in the tree of `size`
        (evidence for an incident): (index, entry, audit path), by index. Every index must
        be below `size` (`BeyondTree` otherwise)."""
        wanted = sorted(set(indices))
        outside = [i for i in wanted if not 0 <= i < size]
        if outside:
            raise merkle.BeyondTree(f"entries {outside} are not in the tree of size {size}")
        self._whole(Category.ACCESS_LOG)
        _within(ledger_store.head(self._g.session), size)
        found = ledger_store.entries_at(self._g.session, indices=wanted)
        self._whole(Category.LEDGER_PROOF)
        nodes = ledger_store.StoredNodes(self._g.session)
        return [(i, found[i], merkle.inclusion_proof(nodes, i, size)) for i in wanted]

    def checkpoints(self, *, limit: int) -> list[ledger_store.StoredCheckpoint]:
        """The latest signed checkpoints (sizes and roots, signed: hashes only)."""
        self._whole(Category.LEDGER_PROOF)
        return ledger_store.checkpoints(self._g.session, limit=limit)

    def see_checkpoint(self) -> None:
        """Reading the current checkpoint (tree size and root) is an access too."""
        self._whole(Category.LEDGER_PROOF)


def _within(head: TreeHead, size: int) -> None:
    if size > head.size:
        raise merkle.BeyondTree(f"size {size} is beyond the tree, which has {head.size} entries")


class GuardedOperators:
    def __init__(self, guard: Guard) -> None:
        self._g = guard

    def standing(self, ids: Iterable[str] | None = None) -> dict[str, Operator]:
        self._g.authorize(Action.READ, Category.OPERATOR)
        return operator_store.get_operators(self._g.session, ids=ids)

    def add(self, operator: Operator) -> None:
        self._g.authorize(Action.WRITE, Category.OPERATOR)
        operator_store.add_operator(
            self._g.session, operator=operator, recorded_at=self._g.wall.clock.now()
        )

    def add_key(self, *, key_id: str, operator_id: str, key_hash: str) -> None:
        self._g.authorize(Action.WRITE, Category.OPERATOR)
        operator_store.add_key(
            self._g.session,
            key_id=key_id,
            operator_id=operator_id,
            key_hash=key_hash,
            recorded_at=self._g.wall.clock.now(),
        )

    def revoke_key(self, *, key_id: str, operator_id: str) -> bool:
        self._g.authorize(Action.WRITE, Category.OPERATOR)
        return operator_store.revoke_key(
            self._g.session, key_id=key_id, operator_id=operator_id, at=self._g.wall.clock.now()
        )

    def set_agreement(self, operator_id: str, active: bool) -> bool:
        self._g.authorize(Action.WRITE, Category.OPERATOR)
        return operator_store.set_agreement(self._g.session, operator_id=operator_id, active=active)


class GuardedUsers:
    def __init__(self, guard: Guard) -> None:
        self._g = guard

    def add(self, *, user_id: str, name: str, role: str, token_hash: str) -> None:
        self._g.authorize(Action.WRITE, Category.STAFF_USER)
        user_store.add_user(
            self._g.session,
            user_id=user_id,
            name=name,
            role=role,
            token_hash=token_hash,
            at=self._g.wall.clock.now(),
        )

    def revoke(self, *, user_id: str) -> bool:
        self._g.authorize(Action.WRITE, Category.STAFF_USER)
        return user_store.revoke_user(self._g.session, user_id=user_id, at=self._g.wall.clock.now())
