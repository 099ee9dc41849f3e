"""CPS operators, their agreements and API keys (stored as SHA-256 hashes only)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, insert, select, update
from sqlalchemy.orm import Session

from forvalg.domain.operators import Operator
from forvalg.store.tables import operator_api_keys, operators


def add_operator(session: Session, *, operator: Operator, recorded_at: datetime) -> None:
    session.execute(
        insert(operators).values(
            id=operator.id,
            name=operator.name,
            csc=operator.csc,
            agreement_active=operator.agreement_active,
            created_at=recorded_at,
        )
    )


def get_operators(session: Session, *, ids: Iterable[str] | None = None) -> dict[str, Operator]:
    query = select(operators)
    if ids is not None:
        query = query.where(operators.c.id.in_(list(ids)))
    rows = session.execute(query.order_by(operators.c.id)).mappings().all()
    return {r["id"]: Operator(r["id"], r["name"], r["csc"], r["agreement_active"]) for r in rows}


def set_agreement(session: Session, *, operator_id: str, active: bool) -> bool:
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(operators).where(operators.c.id == operator_id).values(agreement_active=active)
    )
    return bool(result.rowcount)


def add_key(
    session: Session, *, key_id: str, operator_id: str, key_hash: str, recorded_at: datetime
) -> None:
    session.execute(
        insert(operator_api_keys).values(
            id=key_id, operator_id=operator_id, key_hash=key_hash, created_at=recorded_at
        )
    )


def operator_for_key(session: Session, *, key_hash: str) -> tuple[str, str] | None:
    """(operator id, key id) for a live key with this hash, else None."""
    row = session.execute(
        select(operator_api_keys.c.operator_id, operator_api_keys.c.id).where(
            operator_api_keys.c.key_hash == key_hash, operator_api_keys.c.revoked_at.is_(None)
        )
    ).first()
    return None if row is None else (row[0], row[1])


def revoke_key(session: Session, *, key_id: str, operator_id: str, at: datetime) -> bool:
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(operator_api_keys)
        .where(
            operator_api_keys.c.id == key_id,
            operator_api_keys.c.operator_id == operator_id,
            operator_api_keys.c.revoked_at.is_(None),
        )
        .values(revoked_at=at)
    )
    return bool(result.rowcount)
