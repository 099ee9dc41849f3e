"""What the detectors read behind the wall: one decision and one ledger entry per input.

Each input is read whole (the detectors compare everything with everything), so each
needs a grant that reaches every row, unmasked; the entry names every line it touched
(by pseudonym, as every subject), so a subscriber sees that the detectors looked at
their line.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from forvalg.domain.categories import Category
from forvalg.domain.reasons import ReasonCode
from forvalg.store import detection as detection_store
from forvalg.store import ledger as ledger_store
from forvalg.store.detection import STAFF, TS
from forvalg.wall.policy import Action, Scope, View
from forvalg.wall.work import resolve

if TYPE_CHECKING:
    from forvalg.wall.guard import Guard, Permit


class GuardedDetection:
    def __init__(self, guard: Guard) -> None:
        self._g = guard

    def _whole(self, category: Category) -> Permit:
        permit = self._g.permit(Action.READ, category)
        if permit.scope is not Scope.ALL or permit.view is not View.FULL:
            self._g.refuse(
                permit, ReasonCode.E_FORBIDDEN, f"{category} is read whole or not at all"
            )
        return permit

    def _record(self, permit: Permit, numbers: Iterable[object]) -> None:
        self._g.record(permit, (str(n) for n in numbers))

    def cps_events(self) -> pa.Table:
        """Every CPS event (store.detection.EVENTS)."""
        permit = self._whole(Category.ORDER)
        found = detection_store.cps_events(self._g.session)
        self._record(permit, found.column("number").unique().to_pylist())
        return found

    def ledger(self) -> pa.Table:
        """The ledger's entries up to the tree's head (store.detection.LEDGER). The entry
        for this read names no subject: the entries read name theirs by pseudonym."""
        permit = self._whole(Category.ACCESS_LOG)
        session = self._g.session
        found = detection_store.ledger(session, end=ledger_store.head(session).size)
        self._g.record(permit, ())
        return found

    def work_items(self, ledger: pa.Table) -> pa.Table:
        """The work items staff named in `ledger`'s entries (orders too), their lines by
        pseudonym (under the current and every retired key), as the wall resolves them;
        names resolving to none are left out."""
        permit = self._whole(Category.WORK_ITEM)
        session = self._g.session
        staff = ledger.filter(pc.starts_with(ledger.column("principal"), STAFF))
        references = [w for w in staff.column("work_item").unique().to_pylist() if w]
        # Under every pseudonym key, so that entries written before a rotation still
        # fall within their work item's lines.
        pseudonyms = self._g.wall.pseudonymiser.pseudonyms
        items = [i for r in sorted(set(references)) if (i := resolve(session, r)) is not None]
        self._record(permit, {n for i in items for n in i.lines})
        return pa.table(
            {
                "id": pa.array([i.id for i in items], pa.string()),
                "kind": pa.array([i.kind.value for i in items], pa.string()),
                "opened_by": pa.array([i.opened_by for i in items], pa.string()),
                "opened_at": pa.array([i.opened_at for i in items], TS),
                "closed_at": pa.array([i.closed_at for i in items], TS),
                "operator_id": pa.array([i.operator_id for i in items], pa.string()),
                "period": pa.array([i.period for i in items], pa.string()),
                "lines": pa.array(
                    [sorted(p for n in i.lines for p in pseudonyms(n)) for i in items],
                    pa.list_(pa.string()),
                ),
            }
        )

    def population(self) -> pa.Array:
        """The numbers of every line retail could contact."""
        permit = self._whole(Category.SUBSCRIBER)
        found = detection_store.population(self._g.session)
        self._record(permit, found.to_pylist())
        return found
