"""Subscribers' one-time codes and the sessions they buy (hashes only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from forvalg.domain.subscribers import CodeMessage
from forvalg.store.tables import subscriber_codes, subscriber_messages


@dataclass(frozen=True, slots=True)
class LiveCode:
    id: str
    code_hash: str
    attempts: int


def add_code(
    session: Session,
    *,
    code_id: str,
    number: str,
    code_hash: str,
    at: datetime,
    expires_at: datetime,
) -> None:
    session.execute(
        insert(subscriber_codes).values(
            id=code_id,
            number=number,
            code_hash=code_hash,
            created_at=at,
            expires_at=expires_at,
            attempts=0,
        )
    )


def add_message(session: Session, *, code_id: str, message: CodeMessage) -> None:
    session.execute(
        insert(subscriber_messages).values(
            code_id=code_id,
            number=message.number,
            channel=message.channel.value,
            body=message.body,
            at=message.at,
        )
    )


def live_codes(
    session: Session, *, number: str, at: datetime, max_attempts: int, lock: bool = False
) -> list[LiveCode]:
    """Codes for the line not yet used, expired or spent on wrong guesses, oldest first."""
    c = subscriber_codes.c
    query = (
        select(c.id, c.code_hash, c.attempts)
        .where(
            c.number == number,
            c.used_at.is_(None),
            c.expires_at > at,
            c.attempts < max_attempts,
        )
        .order_by(c.created_at)
    )
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return [LiveCode(r.id, r.code_hash, r.attempts) for r in session.execute(query)]


def codes_sent_since(session: Session, *, number: str, since: datetime) -> int:
    c = subscriber_codes.c
    query = select(func.count()).where(c.number == number, c.created_at >= since)
    return int(session.execute(query).scalar_one())


def count_attempt(session: Session, *, code_ids: list[str]) -> None:
    """A wrong guess counts against every code the line has outstanding."""
    c = subscriber_codes.c
    session.execute(
        update(subscriber_codes).where(c.id.in_(code_ids)).values(attempts=c.attempts + 1)
    )


def start_session(
    session: Session,
    *,
    code_id: str,
    at: datetime,
    session_hash: str,
    expires_at: datetime,
    work_item_id: str,
) -> bool:
    """Spend the code on a session; False if a concurrent request spent it first."""
    spent = session.execute(
        update(subscriber_codes)
        .where(subscriber_codes.c.id == code_id, subscriber_codes.c.used_at.is_(None))
        .returning(subscriber_codes.c.id)
        .values(
            used_at=at,
            session_hash=session_hash,
            session_expires_at=expires_at,
            work_item_id=work_item_id,
        )
    )
    return spent.first() is not None


def request_for_session(session: Session, *, session_hash: str, at: datetime) -> str | None:
    """The subscriber request a live session serves, else None."""
    c = subscriber_codes.c
    return session.execute(
        select(c.work_item_id).where(c.session_hash == session_hash, c.session_expires_at > at)
    ).scalar_one_or_none()
