"""A stateful property test of the order life cycle, driven through the operator API.

Hypothesis plays three CPS operators against a small line inventory: they place PROVIDE,
TRANSFER, MODIFY, CEASE and CANCEL_OTHER orders (sometimes with a wrong postcode or a
missing or bad authorisation), cancel orders (their own and others'), replay submissions
with the same Idempotency-Key, and let time pass while the order processor runs. After
every step the world is checked twice: through the API (every order the API ever
returned is still there, visible to its owner only, and moved along the transition
table) and under the wall with the engine (one current preselection and one holding
order per line at most, preselection periods that never overlap, a preselection for
every completed order, and every acceptance or rejection in line with the preselection
record at the order's receipt). Runs on SQLite and on PostgreSQL, on a fresh database
for each example.
"""

from __future__ import annotations

import itertools
import shutil
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from forvalg.api.app import create_app
from forvalg.bootstrap import Services, bootstrap
from forvalg.domain.clock import FixedClock
from forvalg.domain.orders import (
    FINAL_STATES,
    CancelReason,
    InvalidTransition,
    Option,
    OrderEvent,
    OrderState,
    OrderType,
    next_state,
)
from forvalg.settings import Settings
from forvalg.store import tables
from forvalg.wholesale.inventory import import_lines

from ..conftest import LEDGER_SIGNER, PSEUDONYM_KEY, T0, truncate
from .world import TestClient


@dataclass(frozen=True)
class LineSpec:
    number: str
    postcode: str
    line_type: str


# The inventory: four eligible lines and a payphone. UNKNOWN is on no one's network.
INVENTORY = (
    LineSpec("22334455", "0150", "PSTN"),
    LineSpec("22334466", "0151", "PSTN"),
    LineSpec("55667788", "5003", "PSTN"),
    LineSpec("73001122", "7010", "ISDN_BRA"),
    LineSpec("22001100", "0150", "PAYPHONE"),
)
UNKNOWN = "99887766"
LINES = {spec.number: spec for spec in INVENTORY}
NUMBERS = [spec.number for spec in INVENTORY] + [UNKNOWN]
OPERATORS = ("alpha", "bravo", "charlie")
CSCS = {"alpha": "1501", "bravo": "1502", "charlie": "1503"}
LINE_TYPES = frozenset({OrderType.PROVIDE, OrderType.TRANSFER, OrderType.MODIFY, OrderType.CEASE})
OPENS = frozenset({OrderType.PROVIDE, OrderType.TRANSFER, OrderType.MODIFY})
CLOSES = frozenset({OrderType.TRANSFER, OrderType.MODIFY, OrderType.CEASE})
HOLDING = frozenset({OrderState.VALIDATED.value, OrderState.COMMITTED.value})
# Rejections that depend on the line's preselection at the order's receipt.
STATE_RULES = frozenset(
    {
        "E_LINE_PRESELECTED",
        "E_NOT_PRESELECTED",
        "E_NOT_SERVING",
        "E_ALREADY_SERVING",
        "E_SAME_OPTION",
    }
)
CANCEL_OTHER_RULES = frozenset({"E_NOT_SERVING", "E_TARGET_NOT_FOUND", "E_TARGET_NOT_CANCELLABLE"})

# Strategies. The first choice of each is the "well-behaved" one, so shrinking lands there.
operators = st.sampled_from(OPERATORS)
# "fitting": the operator the order suits (see OrderMachine._who); else a named one.
actors = st.sampled_from(["fitting", "fitting", *OPERATORS])
numbers = st.sampled_from(NUMBERS)
options = st.sampled_from(list(Option))
postcode_kinds = st.sampled_from(["right", "right", "right", "right", "wrong", "absent"])
auth_kinds = st.sampled_from(["valid", "valid", "valid", "valid", "missing", "future", "stale"])
requested = st.one_of(st.none(), st.none(), st.integers(min_value=1, max_value=40))
cancel_reasons = st.sampled_from(list(CancelReason))
minutes_to_hours = st.one_of(
    st.integers(min_value=1, max_value=240).map(lambda m: timedelta(minutes=m)),
    st.integers(min_value=1, max_value=72).map(lambda h: timedelta(hours=h)),
)
days = st.integers(min_value=1, max_value=20).map(lambda d: timedelta(days=d))


def _allowed(order_type: OrderType, before: OrderState, after: OrderState) -> bool:
    """Whether some event takes an order of this type from `before` to `after`."""
    for event in OrderEvent:
        try:
            if next_state(order_type, before, event) is after:
                return True
        except InvalidTransition:
            continue
    return False


def _instant(text_value: str) -> datetime:
    return datetime.fromisoformat(text_value).astimezone(UTC)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _covers(period: Any, at: datetime) -> bool:
    """Whether a preselection period (a table row) holds at `at`, in valid time."""
    ends = period["valid_to"]
    return _aware(period["valid_from"]) <= at and (ends is None or at < _aware(ends))


@dataclass
class Placed:
    """What the test knows of one order the API returned."""

    id: str
    operator: str
    type: OrderType
    number: str
    body: dict[str, Any]
    key: str
    created_at: datetime
    process_runs: int  # how many processor runs had happened when it was placed
    predicted: str | None  # a rejection that follows from the request alone
    state: OrderState = OrderState.RECEIVED
    history: list[dict[str, Any]] = field(default_factory=list)
    due_date: date | None = None
    reason_code: str | None = None


class OrderMachine(RuleBasedStateMachine):
    orders = Bundle("orders")

    def __init__(self, database_url: str, inventory: Path, cleanup: Callable[[], None]) -> None:
        super().__init__()
        self.clock = FixedClock(T0)
        self.cleanup = cleanup
        self.services: Services = bootstrap(
            Settings(database_url=database_url, key_dir=inventory.parent / "keys"),
            clock=self.clock,
            pseudonym_key=PSEUDONYM_KEY,
            ledger_signers=[LEDGER_SIGNER],
        )
        import_lines(self.services.wall, inventory)
        self.auth: dict[str, dict[str, str]] = {}
        for operator_id in OPERATORS:
            registered = self.services.operators.add(
                operator_id, operator_id.capitalize(), CSCS[operator_id]
            )
            self.auth[operator_id] = {"Authorization": f"Bearer {registered.key.token}"}
        self.client = TestClient(create_app(self.services))
        self.client.__enter__()  # one event-loop portal for the whole example
        self.calendar = self.services.rules.calendar
        self.placed: dict[str, Placed] = {}
        self.keys = itertools.count()
        self.process_runs = 0
        self.processed_at: datetime | None = None
        self.touched: set[str] = set()  # orders to read one by one after this step
        self.checks = 0
        self.serving: dict[str, str] = {}  # number -> operator, as the database says

    def teardown(self) -> None:
        self.client.__exit__(None, None, None)
        self.services.close()
        self.cleanup()

    # ------------------------------------------------------------------ helpers

    def _post(self, operator: str, body: dict[str, Any], key: str) -> httpx.Response:
        headers = self.auth[operator] | {"Idempotency-Key": key}
        response: httpx.Response = self.client.post("/v1/orders", json=body, headers=headers)
        return response

    def _get(self, operator: str, order_id: str) -> httpx.Response:
        response: httpx.Response = self.client.get(
            f"/v1/orders/{order_id}", headers=self.auth[operator]
        )
        return response

    def _authorisation(self, kind: str) -> dict[str, str] | None:
        today = self.calendar.local_date(self.clock.now())
        max_age = self.calendar.rules.authorisation_max_age_days
        signed = {
            "missing": None,
            "valid": today - timedelta(days=3),
            "future": today + timedelta(days=2),
            "stale": today - timedelta(days=max_age + 5),
        }[kind]
        if signed is None:
            return None
        return {"reference": f"LOA-{next(self.keys)}", "signed_at": str(signed), "channel": "web"}

    def _predict(self, body: dict[str, Any], created_at: datetime) -> str | None:
        """The reason code of a rule the request breaks whatever the line's state is.

        The rules run in their documented order: line, agreement, option,
        authorisation, date; the state-dependent ones (open order, preselection)
        come last and are not predicted here.
        """
        line = LINES.get(body["number"])
        if line is None:
            return "E_LINE_UNKNOWN"
        if line.line_type not in ("PSTN", "ISDN_BRA"):
            return "E_LINE_NOT_ELIGIBLE"
        if body.get("postcode") is not None and body["postcode"] != line.postcode:
            return "E_POSTCODE_MISMATCH"
        # Every operator has an active agreement and every option is offered.
        received = self.calendar.local_date(created_at)
        if body["type"] in (OrderType.PROVIDE, OrderType.TRANSFER):
            auth = body.get("authorisation")
            if auth is None:
                return "E_AUTHORISATION_MISSING"
            signed = date.fromisoformat(auth["signed_at"])
            max_age = timedelta(days=self.calendar.rules.authorisation_max_age_days)
            if signed > received or received - signed > max_age:
                return "E_AUTHORISATION_INVALID"
        wanted = body.get("requested_date")
        if wanted is not None:
            day = date.fromisoformat(wanted)
            if day <= received or not self.calendar.is_working_day(day):
                return "E_DATE_INVALID"
        return None

    def _line_order_body(
        self,
        order_type: OrderType,
        number: str,
        option: Option,
        postcode_kind: str,
        auth_kind: str,
        requested_in: int | None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"type": order_type.value, "number": number}
        right = LINES[number].postcode if number in LINES else "0150"
        postcode = {"right": right, "wrong": "9999", "absent": None}[postcode_kind]
        if postcode is None and order_type in (OrderType.PROVIDE, OrderType.TRANSFER):
            postcode = right  # required by the schema for these two
        if postcode is not None:
            body["postcode"] = postcode
        if order_type in OPENS:
            body["option"] = option.value
        auth = self._authorisation(auth_kind)
        if auth is not None:
            body["authorisation"] = auth
        if requested_in is not None:
            today = self.calendar.local_date(self.clock.now())
            body["requested_date"] = str(today + timedelta(days=requested_in))
        return body

    def _submit(self, operator: str, body: dict[str, Any], key: str | None = None) -> str:
        key = key or f"key-{next(self.keys)}"
        response = self._post(operator, body, key)
        assert response.status_code == 201, response.text
        assert "idempotent-replayed" not in response.headers
        order = response.json()
        assert order["id"] not in self.placed, "a new submission returned a known order id"
        assert response.headers["location"] == f"/v1/orders/{order['id']}"
        assert order["state"] == OrderState.RECEIVED
        assert order["operator"] == operator
        assert order["type"] == body["type"]
        assert order["number"] == body["number"]
        assert order["reason_code"] is None
        now = self.clock.now()
        assert _instant(order["created_at"]) == now
        assert [h["state"] for h in order["history"]] == [OrderState.RECEIVED]
        self.placed[order["id"]] = Placed(
            id=order["id"],
            operator=operator,
            type=OrderType(body["type"]),
            number=body["number"],
            body=body,
            key=key,
            created_at=now,
            process_runs=self.process_runs,
            predicted=self._predict(body, now),
            history=order["history"],
        )
        self.touched.add(order["id"])
        return str(order["id"])

    def _advance(self, step: timedelta) -> None:
        self.clock.at = self.clock.at + step
        self.services.processor.process(self.clock.at)
        self.process_runs += 1
        self.processed_at = self.clock.at

    # ------------------------------------------------------------------ rules

    @initialize(target=orders)
    def established_customers(self) -> Any:
        """Two lines already have preselection and one of them a pending TRANSFER, so
        MODIFY, CEASE, TRANSFER and CANCEL_OTHER have something to act on at once."""
        placed = []
        for number, operator, option in (
            ("22334455", "alpha", Option.ALL),
            ("55667788", "bravo", Option.NATIONAL),
        ):
            body = self._line_order_body(OrderType.PROVIDE, number, option, "right", "valid", None)
            placed.append(self._submit(operator, body))
        self._advance(timedelta(days=20))
        # And a committed TRANSFER away from alpha, for CANCEL_OTHER and the cut-off.
        body = self._line_order_body(
            OrderType.TRANSFER, "22334455", Option.INTERNATIONAL, "right", "valid", None
        )
        placed.append(self._submit("charlie", body))
        self._advance(timedelta(hours=1))
        return multiple(*placed)

    def _who(self, actor: str, order_type: OrderType, number: str) -> str:
        """The operator acting: a named one, or ("fitting") the one the order suits:
        the serving operator for MODIFY, CEASE and CANCEL_OTHER, another for the rest."""
        if actor != "fitting":
            return actor
        serving = self.serving.get(number)
        if order_type in (OrderType.MODIFY, OrderType.CEASE, OrderType.CANCEL_OTHER) and serving:
            return serving
        turn = len(self.placed) % len(OPERATORS)
        rotated = OPERATORS[turn:] + OPERATORS[:turn]
        return next(o for o in rotated if o != serving)

    def _line_rule(
        self,
        order_type: OrderType,
        actor: str,
        number: str,
        option: Option,
        postcode_kind: str,
        auth_kind: str,
        requested_in: int | None,
    ) -> str:
        body = self._line_order_body(
            order_type, number, option, postcode_kind, auth_kind, requested_in
        )
        return self._submit(self._who(actor, order_type, number), body)

    @rule(
        target=orders,
        actor=actors,
        number=numbers,
        option=options,
        postcode_kind=postcode_kinds,
        auth_kind=auth_kinds,
        requested_in=requested,
    )
    def provide(
        self,
        actor: str,
        number: str,
        option: Option,
        postcode_kind: str,
        auth_kind: str,
        requested_in: int | None,
    ) -> str:
        return self._line_rule(
            OrderType.PROVIDE, actor, number, option, postcode_kind, auth_kind, requested_in
        )

    @rule(
        target=orders,
        actor=actors,
        number=numbers,
        option=options,
        postcode_kind=postcode_kinds,
        auth_kind=auth_kinds,
        requested_in=requested,
    )
    def transfer(
        self,
        actor: str,
        number: str,
        option: Option,
        postcode_kind: str,
        auth_kind: str,
        requested_in: int | None,
    ) -> str:
        return self._line_rule(
            OrderType.TRANSFER, actor, number, option, postcode_kind, auth_kind, requested_in
        )

    @rule(
        target=orders,
        actor=actors,
        number=numbers,
        option=options,
        postcode_kind=postcode_kinds,
        auth_kind=auth_kinds,
        requested_in=requested,
    )
    def modify(
        self,
        actor: str,
        number: str,
        option: Option,
        postcode_kind: str,
        auth_kind: str,
        requested_in: int | None,
    ) -> str:
        return self._line_rule(
            OrderType.MODIFY, actor, number, option, postcode_kind, auth_kind, requested_in
        )

    @rule(
        target=orders,
        actor=actors,
        number=numbers,
        postcode_kind=postcode_kinds,
        auth_kind=auth_kinds,
        requested_in=requested,
    )
    def cease(
        self,
        actor: str,
        number: str,
        postcode_kind: str,
        auth_kind: str,
        requested_in: int | None,
    ) -> str:
        return self._line_rule(
            OrderType.CEASE, actor, number, Option.ALL, postcode_kind, auth_kind, requested_in
        )

    @rule(
        target=orders,
        actor=actors,
        order=orders,
        newest_open_transfer=st.booleans().map(lambda b: not b),
        on_its_line=st.booleans().map(lambda b: not b),
        other_number=numbers,
        reason=cancel_reasons,
    )
    def cancel_other(
        self,
        actor: str,
        order: str,
        newest_open_transfer: bool,
        on_its_line: bool,
        other_number: str,
        reason: CancelReason,
    ) -> str:
        """The serving operator cancels a pending order on the customer's request: the
        newest open (preferably committed) TRANSFER if asked and there is one, else the
        drawn order."""
        if newest_open_transfer:
            pending = [
                p
                for p in self.placed.values()
                if p.type is OrderType.TRANSFER and p.state not in FINAL_STATES
            ]
            pending.sort(key=lambda p: p.state is OrderState.COMMITTED)
            if pending:
                order = pending[-1].id
        number = self.placed[order].number if on_its_line else other_number
        body = {
            "type": OrderType.CANCEL_OTHER.value,
            "number": number,
            "target_order": order,
            "reason": reason.value,
        }
        return self._submit(self._who(actor, OrderType.CANCEL_OTHER, number), body)

    @rule(order=orders, as_owner=st.booleans().map(lambda b: not b), stranger=operators)
    def cancel(self, order: str, as_owner: bool, stranger: str) -> None:
        """Own open order before the cut-off: 200; after it: 409 E_TOO_LATE; final or a
        CANCEL_OTHER: 409 E_CONFLICT; another operator's: 404."""
        placed = self.placed[order]
        operator = placed.operator if as_owner else stranger
        self.touched.add(order)
        response = self.client.post(f"/v1/orders/{order}/cancel", headers=self.auth[operator])
        answer = response.json()
        now = self.clock.now()
        expected: tuple[int, str | None] = (200, None)
        if operator != placed.operator:
            expected = (404, "E_NOT_FOUND")
        elif placed.type is OrderType.CANCEL_OTHER or placed.state in FINAL_STATES:
            expected = (409, "E_CONFLICT")
        elif placed.state is OrderState.COMMITTED:
            assert placed.due_date is not None
            if now >= self.calendar.cancel_cutoff(placed.due_date):
                expected = (409, "E_TOO_LATE")
        assert (response.status_code, answer.get("code")) == expected, response.text
        if response.status_code == 200:
            assert answer["state"] == OrderState.CANCELLED
            assert answer["reason_code"] == "C_CANCELLED_BY_OPERATOR"
            assert _instant(answer["history"][-1]["at"]) == now

    @rule(step=minutes_to_hours)
    def time_passes(self, step: timedelta) -> None:
        """Minutes or hours: cut-offs and switch instants are crossed one at a time."""
        self._advance(step)

    @rule(step=days)
    def days_pass(self, step: timedelta) -> None:
        """Days (up to 20, more than the lead time): orders complete."""
        self._advance(step)

    @rule(order=orders)
    def replay(self, order: str) -> None:
        """The same Idempotency-Key and body: the same order, as it is now."""
        placed = self.placed[order]
        response = self._post(placed.operator, placed.body, placed.key)
        assert response.status_code == 201, response.text
        assert response.headers.get("idempotent-replayed") == "true"
        again = response.json()
        assert again["id"] == order
        assert again["state"] == placed.state
        assert again["history"] == placed.history

    @rule(order=orders, other_number=numbers)
    def replay_with_another_body(self, order: str, other_number: str) -> None:
        """The same Idempotency-Key with another body is 409, and places nothing."""
        placed = self.placed[order]
        body = dict(placed.body)
        if body["number"] != other_number:
            body["number"] = other_number
        elif placed.type is OrderType.CANCEL_OTHER:
            reasons = [r.value for r in CancelReason]
            body["reason"] = reasons[(reasons.index(body["reason"]) + 1) % len(reasons)]
        else:
            body["requested_date"] = str(date(2031, 1, 6))
        response = self._post(placed.operator, body, placed.key)
        assert response.status_code == 409, response.text
        assert response.json()["code"] == "E_CONFLICT"

    @rule(target=orders, order=orders, stranger=operators)
    def same_key_other_operator(self, order: str, stranger: str) -> Any:
        """An Idempotency-Key belongs to one operator: another's use of it is a new order."""
        placed = self.placed[order]
        used = {p.operator for p in self.placed.values() if p.key == placed.key}
        free = [o for o in OPERATORS[OPERATORS.index(stranger) :] + OPERATORS if o not in used]
        if not free:
            return multiple()
        return self._submit(free[0], dict(placed.body), placed.key)

    # ------------------------------------------------------------------ invariants

    @invariant()
    def the_world_is_consistent(self) -> None:
        self._check_api()
        self._check_database()

    def _check_api(self) -> None:
        """Every order the API returned: its owner sees it, with a legal history.

        Each operator's list shows all of its orders every step; the orders this step
        placed or tried to cancel are also read one by one.
        """
        seen: dict[str, dict[str, Any]] = {}
        for operator in OPERATORS:
            response = self.client.get("/v1/orders?limit=500", headers=self.auth[operator])
            assert response.status_code == 200, response.text
            page = response.json()
            assert page["next_cursor"] is None
            for item in page["items"]:
                assert item["operator"] == operator, "an operator listed another's order"
                assert item["id"] not in seen
                seen[item["id"]] = item
        assert set(seen) == set(self.placed), "the API lost or invented orders"
        self.checks += 1
        for order_id in sorted(self.touched):
            self._read_one(order_id, seen[order_id])
        self.touched.clear()
        for order_id, placed in self.placed.items():
            self._observe(placed, seen[order_id])
        for placed in self.placed.values():
            if placed.type is OrderType.CANCEL_OTHER and placed.state is OrderState.COMPLETED:
                target = self.placed[placed.body["target_order"]]
                assert target.type is OrderType.TRANSFER
                assert target.number == placed.number
                assert target.state is OrderState.CANCELLED
                assert target.reason_code == "C_CANCELLED_BY_SERVING_OPERATOR"
                assert _instant(target.history[-1]["at"]) == placed.created_at

    def _read_one(self, order_id: str, listed: dict[str, Any]) -> None:
        """GET by the owner is the listed order; GET by another operator is 404."""
        owner = self.placed[order_id].operator
        own = self._get(owner, order_id)
        assert own.status_code == 200, own.text
        assert own.json() == listed
        strangers = [o for o in OPERATORS if o != owner]
        other = self._get(strangers[self.checks % len(strangers)], order_id)
        assert other.status_code == 404, other.text
        assert other.json()["code"] == "E_NOT_FOUND"

    def _observe(self, placed: Placed, item: dict[str, Any]) -> None:
        state = OrderState(item["state"])
        history = item["history"]
        states = [OrderState(h["state"]) for h in history]
        assert item["type"] == placed.type
        assert item["number"] == placed.number
        assert states[0] is OrderState.RECEIVED
        assert states[-1] is state, f"{placed.id}: state {state} but history ends {states[-1]}"
        for before, after in itertools.pairwise(states):
            assert _allowed(placed.type, before, after), (
                f"{placed.id} ({placed.type}) moved {before} -> {after}: not in the table"
            )
        times = [_instant(h["at"]) for h in history]
        assert times == sorted(times), f"{placed.id}: history goes back in time"
        assert times[0] == placed.created_at
        assert history[: len(placed.history)] == placed.history, (
            f"{placed.id}: history was rewritten: {placed.history} -> {history}"
        )
        if placed.state in FINAL_STATES:
            assert state is placed.state, f"{placed.id}: final {placed.state} became {state}"
        reason = item["reason_code"]
        if state is OrderState.REJECTED:
            assert reason is not None, item
            assert reason.startswith("E_"), item
            assert history[-1]["reason_code"] == reason
        elif state is OrderState.CANCELLED:
            assert reason is not None, item
            assert reason.startswith("C_"), item
        else:
            assert reason is None, item
        if placed.predicted is not None and OrderState.VALIDATED in states:
            raise AssertionError(f"{placed.id} breaks {placed.predicted} but was accepted")
        if placed.predicted is not None and state is OrderState.REJECTED:
            assert reason == placed.predicted, f"{placed.id}: {reason} != {placed.predicted}"
        due = None if item["due_date"] is None else date.fromisoformat(item["due_date"])
        if OrderState.COMMITTED in states:
            assert due is not None
            wanted = placed.body.get("requested_date")
            expected = self.calendar.due_date(
                placed.created_at, None if wanted is None else date.fromisoformat(wanted)
            )
            assert due == expected, f"{placed.id}: due {due}, expected {expected}"
        if state is OrderState.COMPLETED and placed.type in LINE_TYPES:
            assert due is not None
            assert times[-1] == self.calendar.switch_at(due)
        # The processor leaves nothing behind that was due when it last ran.
        if state is OrderState.RECEIVED:
            assert placed.process_runs == self.process_runs, f"{placed.id} was never processed"
        if state is OrderState.COMMITTED and self.processed_at is not None:
            assert due is not None
            assert self.calendar.switch_at(due) > self.processed_at, (
                f"{placed.id} was due to complete before {self.processed_at}"
            )
        placed.state, placed.history = state, history
        placed.due_date, placed.reason_code = due, reason

    def _check_database(self) -> None:
        """Under the wall: what the tables say must agree with the life cycle."""
        with self.services.engine.connect() as connection:
            orders = connection.execute(select(tables.orders)).mappings().all()
            periods = (
                connection.execute(
                    select(tables.preselections).order_by(
                        tables.preselections.c.number, tables.preselections.c.valid_from
                    )
                )
                .mappings()
                .all()
            )
            connection.rollback()
        by_id = {row["id"]: row for row in orders}
        assert set(by_id) == set(self.placed), "orders in the database and the API differ"
        holding: dict[str, list[str]] = defaultdict(list)
        for row in orders:
            placed = self.placed[row["id"]]
            assert row["state"] == placed.state
            assert row["operator_id"] == placed.operator
            if row["state"] in HOLDING and row["type"] != OrderType.CANCEL_OTHER:
                holding[row["number"]].append(row["id"])
        for number, holders in holding.items():
            assert len(holders) <= 1, f"line {number} is held by {holders}"

        per_line: dict[str, list[Any]] = defaultdict(list)
        for period in periods:
            per_line[period["number"]].append(period)
        self.serving = {r["number"]: r["operator_id"] for r in periods if r["valid_to"] is None}
        for number, rows in per_line.items():
            current = [r for r in rows if r["valid_to"] is None]
            assert len(current) <= 1, f"line {number} has {len(current)} current preselections"
            for row in rows:
                if row["valid_to"] is not None:
                    assert _aware(row["valid_to"]) >= _aware(row["valid_from"]), dict(row)
            for earlier, later in itertools.pairwise(rows):
                assert earlier["valid_to"] is not None, f"line {number}: open period then another"
                assert _aware(earlier["valid_to"]) <= _aware(later["valid_from"]), (
                    f"line {number}: periods overlap: {dict(earlier)} and {dict(later)}"
                )

        opened = {r["order_id"]: r for r in periods}
        closed = {r["closed_by_order"]: r for r in periods if r["closed_by_order"] is not None}
        assert len(opened) == len(periods), "one order opened two preselection periods"
        last_completed: dict[str, Placed] = {}
        for placed in self.placed.values():
            if placed.state is not OrderState.COMPLETED or placed.type not in LINE_TYPES:
                assert placed.id not in opened, f"{placed.id} ({placed.state}) opened a period"
                assert placed.id not in closed, f"{placed.id} ({placed.state}) closed a period"
                continue
            assert placed.due_date is not None
            switch = self.calendar.switch_at(placed.due_date)
            if placed.type in OPENS:
                started = opened.get(placed.id)
                assert started is not None, f"completed {placed.type} {placed.id} opened nothing"
                assert started["number"] == placed.number
                assert started["operator_id"] == placed.operator
                assert started["option"] == placed.body["option"]
                assert _aware(started["valid_from"]) == switch
            else:
                assert placed.id not in opened
            if placed.type in CLOSES:
                ended = closed.get(placed.id)
                assert ended is not None, f"completed {placed.type} {placed.id} closed nothing"
                assert ended["number"] == placed.number
                assert _aware(ended["valid_to"]) == switch
                if placed.type is not OrderType.TRANSFER:
                    assert ended["operator_id"] == placed.operator
            else:
                assert placed.id not in closed
            latest = last_completed.get(placed.number)
            if latest is None or switch > _instant(latest.history[-1]["at"]):
                last_completed[placed.number] = placed
        for number in NUMBERS:
            current = [r for r in per_line.get(number, []) if r["valid_to"] is None]
            latest = last_completed.get(number)
            if latest is None or latest.type is OrderType.CEASE:
                assert not current, f"line {number} is preselected, but no order says so"
            else:
                assert current, f"line {number} has no preselection, but {latest.id} made one"
                assert current[0]["order_id"] == latest.id, (
                    f"line {number}: the current preselection is not {latest.id}'s"
                )
        for placed in self.placed.values():
            self._check_decision(placed, per_line.get(placed.number, []))

    def _check_decision(self, placed: Placed, periods: list[Any]) -> None:
        """An order's acceptance or rejection agrees with the preselection record.

        Orders are validated in time order, so at intake the line's current
        preselection is the period that covers the order's receipt in valid time.
        """
        states = [h["state"] for h in placed.history]
        accepted = OrderState.VALIDATED in states
        if not accepted and placed.state is not OrderState.REJECTED:
            return
        at = placed.created_at
        covering = [r for r in periods if _covers(r, at)]
        assert len(covering) <= 1
        period = covering[0] if covering else None
        serving = period is not None and period["operator_id"] == placed.operator
        expected: str | None
        match placed.type:
            case OrderType.PROVIDE:
                expected = None if period is None else "E_LINE_PRESELECTED"
            case OrderType.TRANSFER:
                expected = "E_NOT_PRESELECTED" if period is None else None
                expected = "E_ALREADY_SERVING" if serving else expected
            case OrderType.MODIFY | OrderType.CEASE:
                expected = None if serving else "E_NOT_SERVING"
                expected = "E_NOT_PRESELECTED" if period is None else expected
                if serving and placed.type is OrderType.MODIFY:
                    same = period is not None and period["option"] == placed.body["option"]
                    expected = "E_SAME_OPTION" if same else None
            case OrderType.CANCEL_OTHER:
                # Whether the target could still be cancelled is not re-derived here.
                expected = None if serving else "E_NOT_SERVING"
        reason = placed.reason_code
        rejected = f"{placed.id} ({placed.type}) rejected with {reason}, the record says {expected}"
        if not accepted and placed.predicted is None:
            assert reason in STATE_RULES | CANCEL_OTHER_RULES | {"E_OPEN_ORDER"}, rejected
        if accepted:
            assert expected is None, f"{placed.id} ({placed.type}) accepted, breaking {expected}"
        elif placed.type is OrderType.CANCEL_OTHER and reason in CANCEL_OTHER_RULES:
            assert (reason == "E_NOT_SERVING") == (expected == "E_NOT_SERVING"), rejected
        elif reason in STATE_RULES:
            assert reason == expected, rejected
        elif reason == "E_OPEN_ORDER":
            holders = [
                p
                for p in self.placed.values()
                if p.id != placed.id
                and p.number == placed.number
                and p.type in LINE_TYPES
                and OrderState.VALIDATED in [h["state"] for h in p.history]
                and p.created_at <= at
                # A holder may end at the very instant (a CANCEL_OTHER received just after).
                and (p.state not in FINAL_STATES or _instant(p.history[-1]["at"]) >= at)
            ]
            assert holders, f"{placed.id} rejected with E_OPEN_ORDER, but nothing held the line"


SETTINGS = settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def test_order_life_cycle_state_machine(
    database_url: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    inventory = tmp_path / "lines.csv"
    inventory.write_text(
        "number,postcode,line_type,status\n"
        + "".join(f"{s.number},{s.postcode},{s.line_type},ACTIVE\n" for s in INVENTORY)
    )
    examples = itertools.count()

    def machine() -> OrderMachine:
        if database_url.startswith("sqlite"):
            template: Path = request.getfixturevalue("sqlite_template")
            path = tmp_path / f"example-{next(examples)}.db"
            shutil.copy(template, path)

            def remove() -> None:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)

            return OrderMachine(f"sqlite:///{path}", inventory, remove)
        truncate(database_url)
        return OrderMachine(database_url, inventory, lambda: None)

    # A factory is allowed (and how fixtures reach the machine); the stub says a class.
    run_state_machine_as_test(machine, settings=SETTINGS)  # type: ignore[arg-type]
