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

from forvalg.domain.categories import Category
from forvalg.domain.reasons import ReasonCode
from forvalg.store import detection as detection_store
from forvalg.wall.policy import Action, Scope, View

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

    def population(self) -> pa.Array:
        """The numbers of every line retail could contact."""
        permit = self._whole(Category.SUBSCRIBER)
        found = detection_store.population(self._g.session)
        self._record(permit, found.to_pylist())
        return found
