"""The notification outbox: operators' event feeds and customer letters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from forvalg.domain.notifications import CustomerLetter, FeedItem, OperatorNotice
from forvalg.store.bulk import insert_rows
from forvalg.store.honey_lines import HONEY_NUMBERS
from forvalg.store.tables import customer_letters, operator_events

# Feed positions must appear in commit order, or a reader paging with `after` could step
# over an event that commits later with a smaller seq. On PostgreSQL, transactions that
# write notices take this advisory lock (held to commit), so they insert one at a time;
# SQLite transactions are serial anyway.
FEED_LOCK = 0x466F7276  # "Forv"


def add_notices(
    session: Session, *, notices: Sequence[OperatorNotice], recorded_at: datetime
) -> None:
    if notices:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FEED_LOCK})
        insert_rows(
            session,
            operator_events,
            [
                {
                    "operator_id": n.operator_id,
                    "type": n.type.value,
                    "number": n.number,
                    "at": n.at,
                    "payload": n.payload,
                    "recorded_at": recorded_at,
                }
                for n in notices
            ],
        )


def add_letters(session: Session, *, letters: Sequence[CustomerLetter]) -> None:
    if letters:
        insert_rows(
            session,
            customer_letters,
            [
                {
                    "number": letter.number,
                    "order_id": letter.order_id,
                    "template": letter.template.value,
                    "fields": letter.fields,
                    "at": letter.at,
                }
                for letter in letters
            ],
        )


def events_page(
    session: Session, *, operator_id: str, after: int | None, limit: int
) -> list[FeedItem]:
    """The operator's feed, honey-lines' events left out (store/honey_lines.py)."""
    e = operator_events.c
    query = select(operator_events).where(
        e.operator_id == operator_id, e.number.not_in(HONEY_NUMBERS)
    )
    if after is not None:
        query = query.where(e.seq > after)
    rows = session.execute(query.order_by(e.seq).limit(limit)).mappings().all()
    return [FeedItem(r["seq"], r["type"], r["number"], r["at"], r["payload"]) for r in rows]


def count_letters(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(customer_letters)).scalar_one())


def count_events(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(operator_events.c.type, func.count()).group_by(operator_events.c.type)
    ).all()
    return {r[0]: r[1] for r in rows}
