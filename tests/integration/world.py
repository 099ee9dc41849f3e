"""A small world for HTTP tests: a line inventory, CPS operators with API clients, the
processor, and ways to look under the wall. Everything goes through the real services."""

from __future__ import annotations

import uuid
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import httpx
from fastapi import FastAPI
from sqlalchemy import Engine, func, select
from starlette.exceptions import StarletteDeprecationWarning

from forvalg.api.app import create_app
from forvalg.bootstrap import Services
from forvalg.domain.clock import FixedClock
from forvalg.store import ledger as ledger_store
from forvalg.store import tables
from forvalg.wholesale.inventory import import_lines
from forvalg.wholesale.processing import ProcessReport

with warnings.catch_warnings():
    # Starlette warns at import that it prefers `httpx2`; only that warning is ignored.
    warnings.filterwarnings(
        "ignore",
        message=r"Using `httpx` with `starlette.testclient` is deprecated",
        category=StarletteDeprecationWarning,
    )
    from fastapi.testclient import TestClient as TestClient

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 10:00 in Oslo (the `clock` fixture)
T0_ISO = "2026-11-23T09:00:00Z"
# An order received at T0 is due 10 Norwegian working days later, on Monday 7 December;
# it switches at 00:00 Oslo (23:00 UTC the day before), and can be cancelled until 12:00
# Oslo on the working day before the due date (Friday 4 December, 11:00 UTC).
DUE_T0 = "2026-12-07"
SWITCH_T0 = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)
CUTOFF_T0 = datetime(2026, 12, 4, 11, 0, tzinfo=UTC)

AUTH = {"reference": "LOA-2026-001", "signed_at": "2026-11-20", "channel": "web"}

# number -> (postcode, line_type, status)
LINES: dict[str, tuple[str, str, str]] = {
    "22334455": ("0150", "PSTN", "ACTIVE"),
    "22334466": ("0150", "PSTN", "ACTIVE"),
    "22334477": ("0151", "ISDN_BRA", "ACTIVE"),
    "22334488": ("0152", "PSTN", "ACTIVE"),
    "22334499": ("0153", "PSTN", "ACTIVE"),
    "23456701": ("0560", "PSTN", "ACTIVE"),
    "23456702": ("0560", "PSTN", "ACTIVE"),
    "23456703": ("0560", "PSTN", "ACTIVE"),
    "55501234": ("5003", "PAYPHONE", "ACTIVE"),
    "55501235": ("5003", "ISDN_PRA", "ACTIVE"),
    "55501236": ("5003", "PSTN", "CEASED"),
    "55501237": ("5003", "PSTN", "WLR:otherco"),
}
UNKNOWN_NUMBER = "99887766"  # not in the inventory

ORDER_KEYS = {
    "id",
    "type",
    "number",
    "operator",
    "option",
    "state",
    "reason_code",
    "due_date",
    "created_at",
    "updated_at",
    "history",
}


def provide(number: str, *, option: str = "ALL", **fields: Any) -> dict[str, Any]:
    return {
        "type": "PROVIDE",
        "number": number,
        "postcode": LINES.get(number, ("0150",))[0],
        "option": option,
        "authorisation": AUTH,
        "requested_date": None,
    } | fields


def transfer(number: str, *, option: str = "ALL", **fields: Any) -> dict[str, Any]:
    return provide(number, option=option, **fields) | {"type": "TRANSFER"}


def modify(number: str, *, option: str) -> dict[str, Any]:
    return {"type": "MODIFY", "number": number, "option": option}


def cease(number: str) -> dict[str, Any]:
    return {"type": "CEASE", "number": number}


def cancel_other(number: str, target_order: str, reason: str = "NOT_ORDERED") -> dict[str, Any]:
    return {
        "type": "CANCEL_OTHER",
        "number": number,
        "target_order": target_order,
        "reason": reason,
    }


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert an RFC 9457 problem with forvalg's `code`; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json", response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:forvalg:problem:{code}"
    assert body["title"]
    return body


@dataclass
class Operator:
    id: str
    name: str
    csc: str
    token: str
    key_id: str
    client: TestClient

    def place(self, body: Any, *, key: str | None = None) -> httpx.Response:
        headers = {"Idempotency-Key": key or uuid.uuid4().hex}
        return cast(httpx.Response, self.client.post("/v1/orders", json=body, headers=headers))

    def order(self, body: Any, *, key: str | None = None) -> dict[str, Any]:
        """Place an order that must be accepted (201); return it."""
        response = self.place(body, key=key)
        assert response.status_code == 201, response.text
        found: dict[str, Any] = response.json()
        return found

    def get(self, order_id: str) -> httpx.Response:
        return cast(httpx.Response, self.client.get(f"/v1/orders/{order_id}"))

    def state(self, order_id: str) -> dict[str, Any]:
        response = self.get(order_id)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def cancel(self, order_id: str) -> httpx.Response:
        return cast(httpx.Response, self.client.post(f"/v1/orders/{order_id}/cancel"))

    def list_orders(self, **params: Any) -> httpx.Response:
        return cast(httpx.Response, self.client.get("/v1/orders", params=params))

    def events(self, **params: Any) -> httpx.Response:
        return cast(httpx.Response, self.client.get("/v1/events", params=params))

    def all_events(self) -> list[dict[str, Any]]:
        response = self.events(limit=500)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def eligibility(self, number: str) -> httpx.Response:
        return cast(httpx.Response, self.client.get(f"/v1/lines/{number}/eligibility"))


@dataclass
class Staff:
    """A staff user with an HTTP client; every request may state purpose, work item and a
    break-glass justification, as the X-Forvalg-* headers."""

    role: str
    user_id: str
    client: TestClient

    @property
    def principal(self) -> str:
        return f"user:{self.user_id}"

    def get(
        self,
        path: str,
        *,
        purpose: str | None = None,
        work_item: str | None = None,
        break_glass: str | None = None,
        **params: Any,
    ) -> httpx.Response:
        headers = _stated(purpose, work_item, break_glass)
        return cast(httpx.Response, self.client.get(path, headers=headers, params=params))

    def open(self, purpose: str | None, **body: Any) -> httpx.Response:
        """POST /v1/work-items."""
        headers = _stated(purpose, None, None)
        return cast(httpx.Response, self.client.post("/v1/work-items", json=body, headers=headers))

    def opened(self, purpose: str, **body: Any) -> str:
        """Open a work item that must be accepted; its id."""
        response = self.open(purpose, **body)
        assert response.status_code == 201, response.text
        item_id: str = response.json()["id"]
        return item_id


def _stated(purpose: str | None, work_item: str | None, break_glass: str | None) -> dict[str, str]:
    named = {
        "X-Forvalg-Purpose": purpose,
        "X-Forvalg-Work-Item": work_item,
        "X-Forvalg-Break-Glass": break_glass,
    }
    return {k: v for k, v in named.items() if v is not None}


@dataclass
class World:
    services: Services
    clock: FixedClock
    engine: Engine
    tmp_path: Path
    app: FastAPI = field(init=False)
    clients: list[TestClient] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.app = create_app(self.services)

    def client(self, token: str | None = None) -> TestClient:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        client = TestClient(self.app, headers=headers)
        self.clients.append(client)
        return client

    def close(self) -> None:
        for client in self.clients:
            client.close()

    def add_lines(self, lines: dict[str, tuple[str, str, str]]) -> None:
        path = self.tmp_path / f"lines-{uuid.uuid4().hex[:8]}.csv"
        rows = ["number,postcode,line_type,status"]
        rows += [f"{n},{p},{t},{s}" for n, (p, t, s) in lines.items()]
        path.write_text("\n".join(rows) + "\n")
        assert import_lines(self.services.wall, path) == len(lines)

    def add_operator(self, operator_id: str, name: str, csc: str) -> Operator:
        registered = self.services.operators.add(operator_id, name, csc)
        token = registered.key.token
        return Operator(operator_id, name, csc, token, registered.key.key_id, self.client(token))

    def add_staff(self, role: str, name: str | None = None) -> Staff:
        user = self.services.users.add(name or f"someone in {role}", role)
        return Staff(role, user.user_id, self.client(user.token))

    def process(self, as_of: datetime | None = None, **kwargs: Any) -> ProcessReport:
        return self.services.processor.process(as_of or self.clock.at, **kwargs)

    def preselect(self, operator: Operator, number: str, option: str = "ALL") -> dict[str, Any]:
        """PROVIDE through HTTP at the clock's time and process it to COMPLETED; the clock
        is left at 09:00 UTC on the due date."""
        placed = operator.order(provide(number, option=option))
        self.process()
        committed = operator.state(placed["id"])
        assert committed["state"] == "COMMITTED", committed
        due = datetime.fromisoformat(committed["due_date"])
        switch = self.services.rules.calendar.switch_at(due.date())
        self.process(switch)
        completed = operator.state(placed["id"])
        assert completed["state"] == "COMPLETED", completed
        self.clock.at = due.replace(hour=9, tzinfo=UTC)
        return completed

    # Under the wall: plain SQL for assertions.

    def rows(self, table: Any, *where: Any) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            query = select(table).where(*where) if where else select(table)
            return [dict(r) for r in connection.execute(query).mappings().all()]

    def count(self, table: Any, *where: Any) -> int:
        with self.engine.connect() as connection:
            query = select(func.count()).select_from(table)
            if where:
                query = query.where(*where)
            return int(connection.execute(query).scalar_one())

    def access_log(self, after_seq: int = 0) -> list[dict[str, Any]]:
        """The ledger's access events from position `after_seq` on."""
        with self.engine.connect() as connection:
            return ledger_store.events(connection, after=after_seq)

    def last_log_seq(self) -> int:
        with self.engine.connect() as connection:
            return ledger_store.head(connection).size + ledger_store.pending(connection)

    def current_preselections(self, number: str) -> list[dict[str, Any]]:
        p = tables.preselections
        return self.rows(p, p.c.number == number, p.c.valid_to.is_(None))
