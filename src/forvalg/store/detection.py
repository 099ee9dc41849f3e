"""What the detectors read from the store, as Arrow tables (docs/DETECTION.md, "Inputs").

- `cps_events`: one row per CPS event the targeting and timing detectors look at, from
  the orders and their history: an order for preselection received (`ORDER_RECEIVED`,
  with the instant its customer letter was posted, at commitment), the incumbent losing
  a line's calls (`LOSS`: a PROVIDE completed) and a line moving between operators
  (`TRANSFER` completed).
- `population`: every line retail could contact: the inventory, ceased lines excepted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from forvalg.domain.orders import OrderState, OrderType
from forvalg.store.tables import lines, order_history, orders

TS = pa.timestamp("us", tz="UTC")
EVENTS = pa.schema(
    [
        ("number", pa.string()),
        ("kind", pa.string()),
        ("at", TS),
        ("order_id", pa.string()),
        ("operator_id", pa.string()),
        ("letter_posted", TS),  # ORDER_RECEIVED only: when its letter was posted, if yet
    ]
)
# The orders whose receipt is a CPS event, and the kind their completion is.
COMPLETION = {OrderType.PROVIDE: "LOSS", OrderType.TRANSFER: "TRANSFER"}
_BATCH = 50_000


def cps_events(session: Session) -> pa.Table:
    """Every CPS event (EVENTS), by time."""
    o, h = orders.c, order_history.c
    kinds = [t.value for t in COMPLETION]

    def first(state: OrderState) -> Any:
        return (
            select(h.order_id, func.min(h.at).label("at"))
            .where(h.state == state.value)
            .group_by(h.order_id)
            .subquery()
        )

    committed, completed = first(OrderState.COMMITTED), first(OrderState.COMPLETED)
    received = (
        select(o.number, o.created_at, o.id, o.operator_id, committed.c.at)
        .outerjoin(committed, committed.c.order_id == o.id)
        .where(o.type.in_(kinds))
    )
    done = (
        select(o.number, o.type, completed.c.at, o.id, o.operator_id)
        .join(completed, completed.c.order_id == o.id)
        .where(o.type.in_(kinds))
    )
    rows: list[tuple[Any, ...]] = [
        (number, "ORDER_RECEIVED", at, order_id, operator, posted)
        for number, at, order_id, operator, posted in _rows(session, received)
    ]
    rows += [
        (number, COMPLETION[OrderType(kind)], at, order_id, operator, None)
        for number, kind, at, order_id, operator in _rows(session, done)
    ]
    rows.sort(key=lambda r: (r[2], r[3], r[1]))
    return _table(rows, EVENTS)


def population(session: Session) -> pa.Array:
    """The numbers of every line not ceased, in number order."""
    query = select(lines.c.number).where(lines.c.status != "CEASED").order_by(lines.c.number)
    return pa.array([r[0] for r in _rows(session, query)], pa.string())


def _rows(session: Session, query: Select[Any]) -> Iterable[tuple[Any, ...]]:
    result = session.execute(query, execution_options={"yield_per": _BATCH})
    for part in result.partitions():
        yield from (tuple(r) for r in part)


def _table(rows: Sequence[tuple[Any, ...]], schema: pa.Schema) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(schema)
    return pa.table(
        [pa.array(col, f.type) for col, f in zip(columns, schema, strict=True)], schema=schema
    )


__all__ = ["COMPLETION", "EVENTS", "cps_events", "population"]
