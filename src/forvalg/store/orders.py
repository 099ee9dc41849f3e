"""Orders and their history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from forvalg.domain.equivalence import OrderOutcome
from forvalg.domain.orders import (
    HOLDING_STATES,
    LINE_ORDERS,
    Order,
    OrderState,
    OrderType,
    StateChange,
)
from forvalg.domain.reasons import ReasonCode
from forvalg.store.bulk import among, insert_rows
from forvalg.store.honey_lines import DECOY_ORDERS
from forvalg.store.mapping import change_from_row, order_from_row, order_values
from forvalg.store.tables import cancel_refusals, order_history, orders


def insert_order(
    session: Session,
    *,
    order: Order,
    next_due_at: datetime | None,
    idempotency_key: str,
    request_hash: str,
    recorded_at: datetime,
) -> bool:
    """Insert the order and its history unless the operator already used the
    Idempotency-Key; says whether it inserted."""
    values = order_values(order) | {
        "next_due_at": next_due_at,
        "idempotency_key": idempotency_key,
        "request_hash": request_hash,
    }
    make = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        make(orders)
        .on_conflict_do_nothing(index_elements=[orders.c.operator_id, orders.c.idempotency_key])
        .returning(orders.c.seq)
    )
    if session.execute(statement, values).first() is None:
        return False
    insert_history(session, changes=[(order.id, c) for c in order.history], recorded_at=recorded_at)
    return True


def insert_cancel_refusal(
    session: Session, *, order_id: str, reason: ReasonCode, at: datetime
) -> None:
    """An operator's own cancel of `order_id` was refused at `at` for `reason`."""
    session.execute(
        cancel_refusals.insert().values(order_id=order_id, reason_code=reason.value, at=at)
    )


def insert_history(
    session: Session, *, changes: Sequence[tuple[str, StateChange]], recorded_at: datetime
) -> None:
    if not changes:
        return
    insert_rows(
        session,
        order_history,
        [
            {
                "order_id": order_id,
                "state": c.state.value,
                "at": c.at,
                "reason_code": None if c.reason_code is None else c.reason_code.value,
                "recorded_at": recorded_at,
            }
            for order_id, c in changes
        ],
    )


def update_orders(session: Session, *, rows: Sequence[tuple[Order, datetime | None]]) -> None:
    """Write each order's state, reason, due date and next due instant (bulk, by id)."""
    if not rows:
        return
    values = [
        {
            "b_id": order.id,
            "state": order.state.value,
            "reason_code": None if order.reason_code is None else order.reason_code.value,
            "due_date": order.due_date,
            "next_due_at": due,
            "updated_at": order.updated_at,
        }
        for order, due in rows
    ]
    if session.get_bind().dialect.name == "postgresql":
        # One statement for the batch instead of one UPDATE per row.
        columns = {k: [v[k] for v in values] for k in values[0]}
        session.execute(_UPDATE_FROM_ARRAYS, columns)
    else:
        session.connection().execute(update(orders).where(orders.c.id == bindparam("b_id")), values)


_UPDATE_FROM_ARRAYS = text(
    """
    UPDATE orders AS o
    SET state = v.state, reason_code = v.reason_code, due_date = v.due_date,
        next_due_at = v.next_due_at, updated_at = v.updated_at
    FROM unnest(
        CAST(:b_id AS text[]), CAST(:state AS text[]), CAST(:reason_code AS text[]),
        CAST(:due_date AS date[]), CAST(:next_due_at AS timestamptz[]),
        CAST(:updated_at AS timestamptz[])
    ) AS v(id, state, reason_code, due_date, next_due_at, updated_at)
    WHERE o.id = v.id
    """
)


def by_idempotency_key(session: Session, *, operator_id: str, key: str) -> tuple[Order, str] | None:
    row = (
        session.execute(
            select(orders).where(
                orders.c.operator_id == operator_id, orders.c.idempotency_key == key
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    return with_history(session, [order_from_row(row)])[0], row["request_hash"]


def by_ids(
    session: Session, *, ids: Iterable[str], history: bool = True, lock: bool = False
) -> dict[str, Order]:
    id_list = list(ids)
    if not id_list:
        return {}
    query = select(orders).where(among(session, orders.c.id, id_list))
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    rows = session.execute(query).mappings().all()
    found = [order_from_row(r) for r in rows]
    if history:
        found = with_history(session, found)
    return {o.id: o for o in found}


def page(
    session: Session,
    *,
    operator_id: str,
    state: OrderState | None,
    number: str | None,
    before_seq: int | None,
    limit: int,
) -> tuple[list[Order], int | None]:
    """The operator's orders, newest first, decoys left out (store/honey_lines.py);
    returns the page and the seq to continue before, if there is more."""
    query = select(orders).where(
        orders.c.operator_id == operator_id, orders.c.id.not_in(DECOY_ORDERS)
    )
    if state is not None:
        query = query.where(orders.c.state == state.value)
    if number is not None:
        query = query.where(orders.c.number == number)
    if before_seq is not None:
        query = query.where(orders.c.seq < before_seq)
    rows = session.execute(query.order_by(orders.c.seq.desc()).limit(limit + 1)).mappings().all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = with_history(session, [order_from_row(r) for r in rows])
    return items, (rows[-1]["seq"] if more else None)


def lock_due(session: Session, *, as_of: datetime, limit: int) -> list[Order]:
    """The earliest-due orders, locked; on PostgreSQL other workers skip them."""
    query = (
        select(orders)
        .where(orders.c.next_due_at.is_not(None), orders.c.next_due_at <= as_of)
        .order_by(orders.c.next_due_at, orders.c.seq)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = session.execute(query).mappings().all()
    # Sorted again: under READ COMMITTED, a row another worker changed and committed
    # after this statement's snapshot is locked and returned as it is now, with its new
    # due instant, in the place its old one sorted to (PostgreSQL's EvalPlanQual).
    return [order_from_row(r) for r in sorted(rows, key=lambda r: (r["next_due_at"], r["seq"]))]


def earliest_due(
    session: Session, *, as_of: datetime, before: datetime, excluding: Sequence[str]
) -> datetime | None:
    """The earliest due instant before `before` of an order due by `as_of` that is not
    one of `excluding` (a batch): another worker holds it, or it is not taken yet.
    SQLite runs one writing transaction at a time, so no other worker holds one there,
    and a batch takes the earliest due orders: nothing outside it is earlier."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    o = orders.c
    query = select(o.next_due_at).where(
        o.next_due_at.is_not(None), o.next_due_at <= as_of, o.next_due_at < before
    )
    if excluding:
        query = query.where(~among(session, o.id, list(excluding)))
    found: datetime | None = session.execute(
        query.order_by(o.next_due_at).limit(1)
    ).scalar_one_or_none()
    return found


def due_on_lines(
    session: Session, *, numbers: Iterable[str], as_of: datetime
) -> dict[str, list[str]]:
    """For each number, the ids of its orders due by `as_of`, in processing order."""
    nums = list(numbers)
    if not nums:
        return {}
    rows = session.execute(
        select(orders.c.number, orders.c.id)
        .where(
            among(session, orders.c.number, nums),
            orders.c.next_due_at.is_not(None),
            orders.c.next_due_at <= as_of,
        )
        .order_by(orders.c.next_due_at, orders.c.seq)
    ).all()
    queues: dict[str, list[str]] = defaultdict(list)
    for number, order_id in rows:
        queues[number].append(order_id)
    return queues


def holding(session: Session, *, numbers: Iterable[str]) -> dict[str, str]:
    """number -> id of the order holding the line, for the given numbers."""
    nums = list(numbers)
    if not nums:
        return {}
    rows = session.execute(
        select(orders.c.number, orders.c.id).where(
            among(session, orders.c.number, nums),
            orders.c.state.in_([s.value for s in HOLDING_STATES]),
            orders.c.type.in_([t.value for t in LINE_ORDERS]),
        )
    ).all()
    return {r.number: r.id for r in rows}


def with_history(session: Session, found: list[Order]) -> list[Order]:
    if not found:
        return found
    rows = (
        session.execute(
            select(order_history)
            .where(among(session, order_history.c.order_id, [o.id for o in found]))
            .order_by(order_history.c.seq)
        )
        .mappings()
        .all()
    )
    grouped: dict[str, list[StateChange]] = defaultdict(list)
    for r in rows:
        grouped[r["order_id"]].append(change_from_row(r))
    for o in found:
        o.history = grouped[o.id]
    return found


def count_rejections(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(orders.c.reason_code, func.count())
        .where(orders.c.state == OrderState.REJECTED.value)
        .group_by(orders.c.reason_code)
    ).all()
    return {r[0]: r[1] for r in rows}


def count_by_state(session: Session) -> dict[str, int]:
    rows = session.execute(select(orders.c.state, func.count()).group_by(orders.c.state)).all()
    return {r[0]: r[1] for r in rows}


def outcomes(session: Session, *, start: datetime, end: datetime) -> list[tuple[str, OrderOutcome]]:
    """(operator, outcome) of every order received in [start, end), decoys left out: what
    the equivalence KPIs need (domain/equivalence.py), no number, no id. A cut-off miss is
    an order whose operator's own cancel was refused `E_TOO_LATE` (`cancel_refusals`), or a
    CANCEL_OTHER refused `E_TARGET_NOT_CANCELLABLE` against a TRANSFER."""
    o, h, r = orders.c, order_history.c, cancel_refusals.c
    target = orders.alias("target")
    completed = (
        select(h.order_id, func.min(h.at).label("at"))
        .where(h.state == OrderState.COMPLETED.value)
        .group_by(h.order_id)
        .subquery()
    )
    query = (
        select(
            o.operator_id,
            o.type,
            o.state,
            o.reason_code,
            o.created_at,
            completed.c.at,
            o.due_date,
            target.c.type,
            select(r.seq)
            .where(r.order_id == o.id, r.reason_code == ReasonCode.E_TOO_LATE.value)
            .exists()
            .label("too_late"),
        )
        .outerjoin(completed, completed.c.order_id == o.id)
        .outerjoin(target, target.c.id == o.target_order)
        .where(o.created_at >= start, o.created_at < end, o.id.not_in(DECOY_ORDERS))
    )
    found = []
    for (
        operator,
        kind,
        state,
        reason,
        received,
        done,
        due,
        target_type,
        too_late,
    ) in session.execute(query):
        late = bool(too_late) or (
            kind == OrderType.CANCEL_OTHER.value
            and reason == ReasonCode.E_TARGET_NOT_CANCELLABLE.value
            and target_type == OrderType.TRANSFER.value
        )
        found.append(
            (operator, OrderOutcome(kind, state, reason, received, done, due, cutoff_miss=late))
        )
    return found
