"""A synthetic Norway in miniature, driven through the real services.

Operators behave like operators: they win customers with PROVIDE and TRANSFER, change
options, cease, cancel their own orders (sometimes too late), read their event feeds to
learn which lines they serve, and answer slamming complaints with CANCEL_OTHER. Some
orders are wrong in the ways real ones are: bad postcodes, unknown numbers, ineligible
lines, missing authorisation, two orders on one line.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from forvalg.bootstrap import Services
from forvalg.domain.clock import FixedClock
from forvalg.domain.orders import Authorisation, CancelReason, Option, OrderRequest, OrderType
from forvalg.wall.principals import operator_principal
from forvalg.wholesale.inventory import import_lines
from forvalg.wholesale.orders import CancelRefused

OSLO = ZoneInfo("Europe/Oslo")
OPERATORS = (
    ("telia", "Telia Norge", "1505"),
    ("ice", "Ice Communication", "1510"),
    ("phonero", "Phonero", "1520"),
    ("nextgentel", "NextGenTel", "1530"),
    ("tdc", "TDC Norge", "1540"),
)
# Geographic ranges of the Norwegian numbering plan (first two digits) and sample postcodes.
AREAS = (("22", "0150"), ("23", "0560"), ("55", "5003"), ("73", "7010"), ("51", "4006"))
LINE_TYPES = ("PSTN", "ISDN_BRA", "ISDN_PRA", "PAYPHONE")
LINE_TYPE_WEIGHTS = (0.90, 0.07, 0.01, 0.02)


@dataclass(frozen=True)
class WorldSpec:
    lines: int = 20_000
    operators: int = 4
    days: int = 30
    orders_per_day: int = 120
    start: date = date(2026, 10, 5)
    seed: int = 2026


@dataclass
class Belief:
    """What one operator believes from its own feed: the lines it serves."""

    serving: dict[str, Option] = field(default_factory=dict)
    leaving: dict[str, date] = field(default_factory=dict)  # number -> effective date of loss
    cursor: int | None = None


@dataclass
class Tally:
    submitted: int = 0
    cancels_asked: int = 0
    cancels_too_late: int = 0
    cancels_done: int = 0
    cancel_other_sent: int = 0
    transitions: int = 0


def seeded_ids(rng: random.Random) -> Callable[[datetime], str]:
    def new_id(at: datetime) -> str:
        return f"o{int(at.timestamp() * 1000):013x}{rng.getrandbits(48):012x}"

    return new_id


def write_lines(spec: WorldSpec, rng: random.Random, path: Path) -> list[tuple[str, str, str]]:
    """The inventory CSV; returns (number, postcode, line_type) for every line written."""
    numbers: set[str] = set()
    active = []
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["number", "postcode", "line_type", "status"])
        while len(numbers) < spec.lines:
            prefix, postcode = rng.choice(AREAS)
            number = prefix + f"{rng.randrange(10**6):06d}"
            if number in numbers:
                continue
            numbers.add(number)
            kind = rng.choices(LINE_TYPES, LINE_TYPE_WEIGHTS)[0]
            roll = rng.random()
            status = "CEASED" if roll < 0.02 else "WLR:phonero" if roll < 0.03 else "ACTIVE"
            out.writerow([number, postcode, kind, status])
            active.append((number, postcode, kind))
    return active


class World:
    def __init__(self, services: Services, clock: FixedClock, spec: WorldSpec, rng: random.Random):
        self.svc, self.clock, self.spec, self.rng = services, clock, spec, rng
        self.operators = [op for op, _, _ in OPERATORS[: spec.operators]]
        self.principals = {op: operator_principal(op) for op in self.operators}
        self.beliefs = {op: Belief() for op in self.operators}
        self.pending_cancels: list[tuple[date, str, str]] = []  # (day, operator, order id)
        self.tally = Tally()
        self.lines: list[tuple[str, str, str]] = []
        self.postcodes: dict[str, str] = {}
        self.asked: dict[str, Option] = {}  # own order id -> option asked for
        # When each line last had a PROVIDE or TRANSFER placed: who is leaving the
        # incumbent or another operator. Ground truth for the simulated retail CRM.
        self.received: dict[str, datetime] = {}

    def setup(self, directory: Path) -> None:
        path = directory / "lines.csv"
        self.lines = write_lines(self.spec, self.rng, path)
        self.postcodes = {n: p for n, p, _ in self.lines}
        import_lines(self.svc.wall, path)
        for op, name, csc in OPERATORS[: self.spec.operators]:
            self.svc.operators.add(op, name, csc)

    def run(
        self,
        progress: Callable[[int, int], None] | None = None,
        after_day: Callable[[date], None] | None = None,
    ) -> None:
        """Every day of the spec, then 30 more days for committed orders to complete.
        `after_day` is called after each day's work (the story adds honey-lines there)."""
        day = self.spec.start
        for n in range(self.spec.days):
            if self.svc.rules.calendar.is_working_day(day):
                self.one_day(day)
            if after_day is not None:
                after_day(day)
            if progress is not None:
                progress(n + 1, self.spec.days)
            day += timedelta(days=1)
        # Let every committed order reach its due date.
        self.process(datetime.combine(day + timedelta(days=30), time(6), OSLO))

    def one_day(self, day: date) -> None:
        instants = sorted(
            datetime.combine(day, time(8), OSLO) + timedelta(seconds=self.rng.randrange(9 * 3600))
            for _ in range(self.spec.orders_per_day)
        )
        for at in instants:
            self.clock.at = at.astimezone(UTC)
            self.place_one(day)
        self.clock.at = datetime.combine(day, time(17, 30), OSLO).astimezone(UTC)
        self.cancel_due(day)
        self.process(datetime.combine(day, time(18), OSLO))
        for op in self.operators:
            self.read_feed(op, day)

    def process(self, as_of: datetime) -> None:
        self.tally.transitions += self.svc.processor.process(as_of.astimezone(UTC)).transitions

    def place_one(self, day: date) -> None:
        rng = self.rng
        op = rng.choice(self.operators)
        belief = self.beliefs[op]
        number, postcode, _ = rng.choice(self.lines)
        roll = rng.random()
        option = rng.choices(list(Option), (0.7, 0.2, 0.1))[0]
        auth = Authorisation(
            f"LOA-{op}-{rng.randrange(10**8)}", day - timedelta(days=rng.randrange(0, 5)), "web"
        )
        if roll < 0.06 and belief.serving:
            number = rng.choice(sorted(belief.serving))
            others = [o for o in Option if o != belief.serving[number]]
            request = OrderRequest(OrderType.MODIFY, number, rng.choice(others))
        elif roll < 0.10 and belief.serving:
            request = OrderRequest(OrderType.CEASE, rng.choice(sorted(belief.serving)))
        elif roll < 0.35 and (won := self.someone_elses(op)) is not None:
            request = OrderRequest(OrderType.TRANSFER, won[0], option, won[1], auth)
        else:
            request = OrderRequest(OrderType.PROVIDE, number, option, postcode, auth)
        request = self.blemish(request)
        submitted = self.svc.desk.submit(
            self.principals[op], request, idempotency_key=f"{op}-{self.tally.submitted}"
        )
        self.tally.submitted += 1
        if request.type in (OrderType.PROVIDE, OrderType.TRANSFER):
            self.received[request.number] = self.clock.at
        if request.option is not None:
            self.asked[submitted.order.id] = request.option
        if rng.random() < 0.03:
            later = day + timedelta(days=rng.randrange(1, 14))
            self.pending_cancels.append((later, op, submitted.order.id))

    def someone_elses(self, op: str) -> tuple[str, str] | None:
        others = [o for o in self.operators if o != op and self.beliefs[o].serving]
        if not others:
            return None
        number = self.rng.choice(sorted(self.beliefs[self.rng.choice(others)].serving))
        return number, self.postcodes[number]

    def blemish(self, request: OrderRequest) -> OrderRequest:
        """Now and then an order is wrong the way real orders are."""
        roll = self.rng.random()
        if request.type not in (OrderType.PROVIDE, OrderType.TRANSFER):
            return request
        if roll < 0.03:
            return replace(request, postcode="9999")
        if roll < 0.04:
            return replace(request, number="99" + request.number[2:])
        if roll < 0.05:
            return replace(request, authorisation=None)
        return request

    def cancel_due(self, day: date) -> None:
        due = [c for c in self.pending_cancels if c[0] <= day]
        self.pending_cancels = [c for c in self.pending_cancels if c[0] > day]
        for _, op, order_id in due:
            self.tally.cancels_asked += 1
            try:
                self.svc.desk.cancel(self.principals[op], order_id)
                self.tally.cancels_done += 1
            except CancelRefused as refused:
                if refused.code.value == "E_TOO_LATE":
                    self.tally.cancels_too_late += 1

    def read_feed(self, op: str, day: date) -> None:
        belief = self.beliefs[op]
        while True:
            page = self.svc.feed.page(self.principals[op], after=belief.cursor, limit=500)
            if not page.items:
                return
            belief.cursor = page.next_cursor
            for item in page.items:
                self.learn(op, belief, item.type, item.number, item.payload, day)

    def learn(
        self, op: str, belief: Belief, kind: str, number: str, payload: dict[str, Any], day: date
    ) -> None:
        order_id = str(payload.get("order_id"))
        if kind == "LOSS":
            belief.leaving[number] = date.fromisoformat(str(payload["effective_date"]))
            if self.rng.random() < 0.05:  # the customer says: I never asked for that
                self.complain(op, number, order_id, day)
        elif kind == "LOSS_CANCELLED":
            belief.leaving.pop(number, None)
        elif kind == "ORDER_STATE" and payload.get("state") == "COMPLETED":
            if payload.get("order_type") == "CEASE":
                belief.serving.pop(number, None)
            elif order_id in self.asked:
                belief.serving[number] = self.asked.pop(order_id)
        for gone in [n for n, effective in belief.leaving.items() if effective <= day]:
            belief.serving.pop(gone, None)
            belief.leaving.pop(gone)

    def complain(self, op: str, number: str, transfer_id: str, day: date) -> None:
        self.clock.at = datetime.combine(day, time(18, 30), OSLO).astimezone(UTC)
        request = OrderRequest(
            OrderType.CANCEL_OTHER,
            number,
            target_order=transfer_id,
            reason=CancelReason.NOT_ORDERED,
        )
        self.svc.desk.submit(self.principals[op], request, idempotency_key=f"{op}-co-{transfer_id}")
        self.tally.cancel_other_sent += 1


def simulate(
    services: Services,
    clock: FixedClock,
    spec: WorldSpec,
    directory: Path,
    progress: Callable[[int, int], None] | None = None,
    after_day: Callable[[date], None] | None = None,
) -> World:
    world = World(services, clock, spec, random.Random(spec.seed))
    world.setup(directory)
    world.run(progress, after_day)
    return world
