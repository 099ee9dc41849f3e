"""The rating desk: one settlement access through the wall, then the engine.

The access reads what judging the calls needs (the preselection history, the routing
table versions, the active carrier selection codes) in one unit of work, whose ledger
entries are committed before the engine sees a row of it.
"""

from __future__ import annotations

from pathlib import Path

from forvalg.domain.numbering import NumberingPlan
from forvalg.domain.tariffs import Tariff
from forvalg.traffic.rating import EngineSettings, RatingEngine, RatingSummary
from forvalg.traffic.reference import RatingReference
from forvalg.wall import Purpose, Wall
from forvalg.wall.principals import RATER


class RatingDesk:
    def __init__(self, *, wall: Wall, plan: NumberingPlan | None = None) -> None:
        self._wall = wall
        self._plan = plan or NumberingPlan()

    def reference(self, tariff: Tariff, run: str) -> RatingReference:
        """What the calls are judged by, read in one settlement access named `run`."""
        with self._wall.access(RATER, Purpose.SETTLEMENT, run) as guard:
            history = guard.traffic.preselection_history()
            codes = guard.traffic.carrier_codes()
            versions = guard.routing.versions()
        return RatingReference(tariff, history, versions, codes, self._plan)

    def rate(
        self,
        source: Path,
        out: Path,
        tariff: Tariff,
        *,
        rejects: Path | None = None,
        settings: EngineSettings | None = None,
    ) -> RatingSummary:
        reference = self.reference(tariff, f"rating-run:{source.name}")
        return RatingEngine(reference, settings).rate(source, out, rejects=rejects)
