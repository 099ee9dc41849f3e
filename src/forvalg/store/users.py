"""Staff users (the incumbent's people and the regulator's), their roles and tokens.

Tokens are stored only as SHA-256 hashes; a user has exactly one role."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, insert, select, update
from sqlalchemy.orm import Session

from forvalg.store.tables import staff_users


def add_user(
    session: Session, *, user_id: str, name: str, role: str, token_hash: str, at: datetime
) -> None:
    session.execute(
        insert(staff_users).values(
            id=user_id, name=name, role=role, token_hash=token_hash, created_at=at
        )
    )


def user_for_token(session: Session, *, token_hash: str) -> tuple[str, str] | None:
    """(user id, role) of the live user holding this token, else None."""
    row = session.execute(
        select(staff_users.c.id, staff_users.c.role).where(
            staff_users.c.token_hash == token_hash, staff_users.c.revoked_at.is_(None)
        )
    ).first()
    return None if row is None else (row[0], row[1])


def revoke_user(session: Session, *, user_id: str, at: datetime) -> bool:
    """Revoke a live user's token at once; False if there is no such live user."""
    done: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(staff_users)
        .where(staff_users.c.id == user_id, staff_users.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return bool(done.rowcount)
