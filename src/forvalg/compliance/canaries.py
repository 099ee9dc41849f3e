"""`forvalg canary add`: honey-lines with decoy preselection orders (docs/DETECTION.md).

A honey-line is a line added to the inventory like any other: a free number in a block of
a thousand where lines are in use, with its neighbour's postcode, an ordinary PSTN line.
Its decoy order is an ordinary PROVIDE from a registered operator with an active
agreement, received now, with an authorisation like an operator's, and it runs the
ordinary life cycle (validated, committed, the customer letter, completed at the switch).
The inventory admin job writes the line and the operator's own access writes the order,
exactly as for every line and order, so to wholesale staff, the processor, the routing
export and every report a decoy is an order like the others. Only `honey_lines`, in the
compliance zone, says which lines are canaries; the operator the decoy names never sees it
(its order list and feed leave the decoys out).

Nobody has a reason to contact a honey-line: its subscriber is compliance, which reserves
the line against marketing in the CRM (as many customers do), so a campaign drawn from
the marketable base cannot reach it. Who learns the number from CPS data and calls it
shows where the data went. Everything happens in one unit of work: all the honey-lines of
a run are created, or none.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from forvalg.domain.clock import Clock
from forvalg.domain.ids import new_order_id
from forvalg.domain.lifecycle import next_due_at
from forvalg.domain.lines import Line, LineType
from forvalg.domain.orders import Authorisation, Option, Order, OrderRequest, OrderType, new_order
from forvalg.domain.validation import OrderRules
from forvalg.wall import Guard, Purpose, Wall
from forvalg.wall.principals import CANARY_KEEPER, WHOLESALE_ADMIN, operator_principal

MAX_PER_RUN = 1000
OPTIONS = (Option.ALL, Option.NATIONAL, Option.INTERNATIONAL)
OPTION_WEIGHTS = (0.7, 0.2, 0.1)


class CanaryError(ValueError):
    """Honey-lines cannot be made as asked (nothing was made)."""


@dataclass(frozen=True, slots=True)
class HoneyLine:
    number: str
    postcode: str
    order_id: str
    operator_id: str
    received_at: datetime


class CanaryDesk:
    def __init__(
        self,
        *,
        wall: Wall,
        rules: OrderRules,
        clock: Clock,
        rng: random.Random | None = None,
        ids: Callable[[datetime], str] = new_order_id,
    ) -> None:
        self._wall = wall
        self._rules = rules
        self._clock = clock
        self._rng = rng or random.SystemRandom()
        self._ids = ids

    def add(self, count: int, *, operator: str | None = None) -> list[HoneyLine]:
        """Create `count` honey-lines, each with a decoy PROVIDE from `operator` (default:
        an operator with an active agreement, at random)."""
        if not 1 <= count <= MAX_PER_RUN:
            raise CanaryError(f"--count {count}: between 1 and {MAX_PER_RUN} per run")
        now = self._clock.now()
        label = f"canary-run:{now:%Y%m%dT%H%M%SZ}"
        with self._wall.access(CANARY_KEEPER, Purpose.COMPLIANCE_AUDIT, label) as guard:
            admin = guard.delegate(WHOLESALE_ADMIN, Purpose.ADMINISTRATION)
            operators = self._operators(admin, operator)
            lines = self._free_lines(admin, count)
            admin.lines.import_lines(lines)
            made = []
            for line in lines:
                chosen = self._rng.choice(operators)
                order = self._decoy(line, chosen, now)
                seller = guard.delegate(operator_principal(chosen), Purpose.ORDER_MANAGEMENT)
                request = OrderRequest(
                    order.type, order.number, order.option, order.postcode, order.authorisation
                )
                seller.orders.add(
                    order,
                    next_due_at=next_due_at(order, self._rules.calendar),
                    idempotency_key=f"{self._rng.getrandbits(128):032x}",
                    request_hash=request.fingerprint(),
                )
                made.append(HoneyLine(line.number, line.postcode, order.id, chosen, now))
            guard.begin()  # back in compliance's zone
            guard.honey_lines.add([(h.number, h.order_id, h.operator_id) for h in made])
        return made

    def _operators(self, admin: Guard, wanted: str | None) -> list[str]:
        standing = admin.operators.standing()
        active = sorted(o.id for o in standing.values() if o.agreement_active)
        if wanted is not None:
            if wanted not in active:
                raise CanaryError(f"--operator {wanted!r}: no operator with an active agreement")
            return [wanted]
        if not active:
            raise CanaryError("no operator has an active agreement: a decoy needs one to name")
        return active

    def _free_lines(self, admin: Guard, count: int) -> list[Line]:
        """`count` free numbers, each in the block of a thousand of a line in use."""
        neighbours = admin.lines.sample(count * 4, salt=self._rng.randrange(2**31))
        if not neighbours:
            raise CanaryError("the inventory is empty: import lines first")
        candidates: dict[str, Line] = {}
        for neighbour in neighbours * 3:
            number = neighbour.number[:5] + f"{self._rng.randrange(1000):03d}"
            candidates.setdefault(number, Line(number, neighbour.postcode, LineType.PSTN, "ACTIVE"))
        taken = admin.lines.known(candidates)
        free = [line for n, line in candidates.items() if n not in taken]
        if len(free) < count:
            raise CanaryError(f"found {len(free)} free numbers near lines in use, not {count}")
        return self._rng.sample(free, count)

    def _decoy(self, line: Line, operator: str, now: datetime) -> Order:
        rng = self._rng
        signed = self._rules.calendar.local_date(now) - timedelta(days=rng.randrange(5))
        reference = hashlib.sha256(f"{operator}{rng.random()}".encode()).hexdigest()[:8]
        return new_order(
            order_id=self._ids(now),
            order_type=OrderType.PROVIDE,
            number=line.number,
            operator_id=operator,
            received_at=now,
            option=rng.choices(OPTIONS, OPTION_WEIGHTS)[0],
            postcode=line.postcode,
            authorisation=Authorisation(f"LOA-{reference.upper()}", signed, "web"),
        )
