"""With several workers on PostgreSQL, the order received first still wins the line.

A worker takes its batch with SKIP LOCKED, so it can see a later order on a line while
another worker holds the earlier one. It must wait for it, not overtake it.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from forvalg.bootstrap import Services
from forvalg.domain.clock import FixedClock
from forvalg.domain.orders import Authorisation, Option, OrderRequest, OrderType
from forvalg.store.engine import make_engine
from forvalg.store.tables import orders
from forvalg.wall.principals import operator_principal
from forvalg.wholesale.inventory import import_lines

from ..conftest import T0


def _provide(svc: Services, operator: str, key: str) -> str:
    request = OrderRequest(
        OrderType.PROVIDE,
        "22334455",
        Option.ALL,
        "0150",
        Authorisation("LOA-1", T0.date(), "web"),
    )
    return svc.desk.submit(operator_principal(operator), request, idempotency_key=key).order.id


# Only PostgreSQL has workers that skip each other's rows; SQLite runs one at a time.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_later_order_waits_for_an_earlier_one_held_by_another_worker(
    services: Services, database_url: str, tmp_path: Path
) -> None:
    svc = services
    postgres_database = database_url
    inventory = tmp_path / "lines.csv"
    inventory.write_text("number,postcode,line_type,status\n22334455,0150,PSTN,ACTIVE\n")
    import_lines(svc.wall, inventory)
    svc.operators.add("alfatel", "Alfa", "1501")
    svc.operators.add("betanett", "Beta", "1502")
    assert isinstance(svc.clock, FixedClock)
    first = _provide(svc, "alfatel", "a")
    svc.clock.at = T0 + timedelta(seconds=1)
    second = _provide(svc, "betanett", "b")

    # "Worker 1" has taken the earlier order and is still working on it.
    worker_one = make_engine(postgres_database)
    held = worker_one.connect()
    held.begin()
    held.execute(text("SELECT id FROM orders WHERE id = :id FOR UPDATE"), {"id": first})

    done = threading.Event()
    thread = threading.Thread(
        target=lambda: (svc.processor.process(T0 + timedelta(minutes=1)), done.set())
    )
    thread.start()
    time.sleep(0.5)
    # Worker 2 may not decide the later order while the earlier one is held.
    with svc.engine.connect() as look:
        states = dict(look.execute(select(orders.c.id, orders.c.state)).all())
    assert states == {first: "RECEIVED", second: "RECEIVED"}

    held.rollback()  # worker 1 lets go (as if it crashed); worker 2 now takes both in order
    held.close()
    worker_one.dispose()
    thread.join(timeout=30)
    assert done.is_set()
    with svc.engine.connect() as look:
        rows = dict(look.execute(select(orders.c.id, orders.c.reason_code)).all())
        states = dict(look.execute(select(orders.c.id, orders.c.state)).all())
    assert states == {first: "COMMITTED", second: "REJECTED"}
    assert rows[second] == "E_OPEN_ORDER"
