"""Work items staff open and name: fault tickets, settlement runs, inquiries, audits.

Opening one is an access decision (the policy says which role opens which kind) and is
in the ledger with the lines it names, so a ticket opened only to look at a line is on
the record as much as the look itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from forvalg.domain.clock import Clock
from forvalg.domain.work_items import WorkItem, WorkItemKind, new_work_item
from forvalg.wall import Principal, Purpose, Wall
from forvalg.wall.principals import Statement
from forvalg.wall.work import new_work_item_id


class WorkDesk:
    def __init__(self, *, wall: Wall, clock: Clock) -> None:
        self._wall = wall
        self._clock = clock

    def open(
        self,
        principal: Principal,
        stated: Statement,
        kind: WorkItemKind,
        *,
        summary: str,
        lines: Iterable[str] = (),
        operator_id: str | None = None,
        period: str | None = None,
        due_at: datetime | None = None,
    ) -> WorkItem:
        """Raises `InvalidWorkItem` (naming the field) before anything is decided."""
        item = new_work_item(
            new_work_item_id(kind),
            kind,
            summary=summary,
            opened_by=principal.id,
            opened_at=self._clock.now(),
            lines=lines,
            operator_id=operator_id,
            period=period,
            due_at=due_at,
        )
        with self._wall.access(
            principal,
            stated.purpose,
            item.id,
            opening=kind,
        ) as guard:
            guard.work_items.open(item)
        return item

    def get(self, principal: Principal, stated: Statement, item_id: str) -> WorkItem:
        """The work item `item_id`: naming it in the path names it as the work item, so an
        unknown or closed one is `E_WORK_ITEM_MISMATCH`, ledgered like any other."""
        with self._wall.access_for(
            principal, replace(stated, work_item=item_id), Purpose.ADMINISTRATION
        ) as guard:
            return guard.work_items.get(item_id)

    def close(self, principal: Principal, stated: Statement, item_id: str) -> WorkItem:
        """Close the work item `item_id` (named in the path, so named as the work item):
        from now on it covers no data. The closing is in the ledger."""
        with self._wall.access_for(
            principal, replace(stated, work_item=item_id), Purpose.ADMINISTRATION
        ) as guard:
            return guard.work_items.close(item_id)
