"""The rating desk: one settlement access through the wall, then the engine.

The access reads what judging the calls needs (the preselection history, the routing
table versions, the active carrier selection codes) in one unit of work, whose ledger
entries are committed before the engine sees a row of it.
"""

from __future__ import annotations

from pathlib import Path

from forvalg.domain.numbering import NumberingPlan
from forvalg.domain.tariffs import Tariff
from forvalg.traffic.cdrs import check_schema
from forvalg.traffic.rating import EngineSettings, RatingEngine, RatingSummary
from forvalg.traffic.reference import RatingReference
from forvalg.wall import Purpose, Wall
from forvalg.wall.principals import RATER

ENGINES = ("duckdb", "spark")


class RatingDesk:
    def __init__(self, *, wall: Wall) -> None:
        self._wall = wall

    def reference(self, tariff: Tariff, run: str, plan: NumberingPlan) -> RatingReference:
        """What the calls are judged by, read in one settlement access named `run`."""
        with self._wall.access(RATER, Purpose.SETTLEMENT, run) as guard:
            history = guard.traffic.preselection_history()
            codes = guard.traffic.carrier_codes()
            versions = guard.routing.versions()
        return RatingReference(tariff, history, versions, codes, plan)

    def rate(
        self,
        source: Path,
        out: Path,
        tariff: Tariff,
        *,
        plan: NumberingPlan | None = None,
        rejects: Path | None = None,
        settings: EngineSettings | None = None,
        engine: str = "duckdb",
    ) -> RatingSummary:
        """Rate `source` into `out` on `engine` (`duckdb` or `spark`). A file that cannot be
        CDRs fails before anything is read; then the reference is read (and ledgered), then
        the calls."""
        if engine not in ENGINES:
            raise ValueError(f"engine {engine!r}: expected one of {', '.join(ENGINES)}")
        check_schema(source)
        if engine == "spark":  # started (or refused: no Java, no pyspark) before the access
            from forvalg.traffic.spark_engine import session

            session(settings or EngineSettings())
        run = f"rating-run:{source.name}"
        reference = self.reference(tariff, run, plan or NumberingPlan())
        if engine == "spark":
            from forvalg.traffic.spark_engine import SparkRatingEngine

            return SparkRatingEngine(reference, settings).rate(source, out, rejects=rejects)
        return RatingEngine(reference, settings).rate(source, out, rejects=rejects)
