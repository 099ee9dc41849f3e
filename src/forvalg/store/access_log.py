"""The append-only access log behind the ledger port (until the Merkle ledger replaces it)."""

from __future__ import annotations

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from forvalg.ledger.port import AccessEvent
from forvalg.store.tables import access_log


class SqlAccessLog:
    """Appends in the caller's transaction: the entry is durable when the use case commits,
    which is before any data leaves the process."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def append(self, event: AccessEvent) -> None:
        entry = event.as_entry()
        entry["at"] = event.at
        entry["roles"] = ",".join(event.roles)
        self._session.execute(insert(access_log), entry)


def count_decisions(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(access_log.c.decision, func.count()).group_by(access_log.c.decision)
    ).all()
    return {r[0]: r[1] for r in rows}
