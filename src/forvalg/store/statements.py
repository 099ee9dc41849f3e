"""Settlement statements: every version filed, per operator and period."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from forvalg.domain.settlement import FiledStatement
from forvalg.store.tables import statements


def latest_versions(
    session: Session, *, period: str, operator_ids: Iterable[str]
) -> dict[str, int]:
    """The highest version filed for each operator in the period (absent: none yet)."""
    ids = sorted(set(operator_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(statements.c.operator_id, func.max(statements.c.version))
        .where(statements.c.period == period, statements.c.operator_id.in_(ids))
        .group_by(statements.c.operator_id)
    )
    return {str(operator): int(version) for operator, version in rows}


def add_statements(session: Session, *, filed: Sequence[FiledStatement]) -> None:
    if filed:
        session.execute(
            insert(statements),
            [
                {
                    "operator_id": s.operator_id,
                    "period": s.period,
                    "version": s.version,
                    "run_id": s.run_id,
                    "body": s.body,
                    "sha256": s.sha256,
                    "csv_sha256": s.csv_sha256,
                    "created_at": s.created_at,
                }
                for s in filed
            ],
        )


def latest(session: Session, *, operator_id: str, period: str) -> FiledStatement | None:
    """The operator's statement for the period: its highest version, or None."""
    row = (
        session.execute(
            select(statements)
            .where(statements.c.operator_id == operator_id, statements.c.period == period)
            .order_by(statements.c.version.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    return FiledStatement(
        operator_id=row["operator_id"],
        period=row["period"],
        version=row["version"],
        run_id=row["run_id"],
        body=row["body"],
        sha256=row["sha256"],
        csv_sha256=row["csv_sha256"],
        created_at=row["created_at"],
    )
