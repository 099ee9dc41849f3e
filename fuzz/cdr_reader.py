"""atheris target: bytes as a CDR file (CSV or Parquet, INTERFACES.md §3) through the real
reader and rating engine (`RatingEngine.rate`, which opens, stages and checks the file
with traffic/cdrs.py). The only errors allowed are the documented ones: `CdrFileError`
(the file cannot be a CDR file) and `RatingFailed` (the run cannot complete); anything
else, or a crash, is a finding. A file that rates must account for every row.

    python fuzz/cdr_reader.py CORPUS_DIR -max_total_time=600   (see fuzz/README.md)
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["forvalg"]):
    from forvalg.domain.tariffs import tariff_from_toml
    from forvalg.traffic.cdrs import CdrFileError
    from forvalg.traffic.rating import EngineSettings, RatingEngine, RatingFailed
    from forvalg.traffic.reference import RatingReference
    from forvalg.traffic.schemas import HISTORY_SCHEMA

import pyarrow as pa
from harness import as_file, cdr_seeds, fuzz

TARIFFS = Path(__file__).resolve().parents[1] / "src/forvalg/traffic/tariffs/default.toml"


class Reference(RatingReference):
    """The engine's small tables built once, not on every `rate` (2 s of each 2.4 s run
    went to rebuilding them from the numbering plan and tariff)."""

    @cached_property
    def _tables(self) -> dict[str, pa.Table]:
        return super().tables()

    def tables(self) -> dict[str, pa.Table]:
        return dict(self._tables)


class Version:
    effective_at = datetime(1970, 1, 1, tzinfo=UTC)
    content_hash = "v0"


def engine() -> RatingEngine:
    tariff = tariff_from_toml(TARIFFS.read_text(), TARIFFS.name)
    history = pa.Table.from_pylist([], schema=HISTORY_SCHEMA)
    reference = Reference(tariff, history, [Version()], {"1505": "telia"})
    return RatingEngine(reference, EngineSettings(threads=1, memory_limit="256MB"))


ENGINE = engine()


def rate(path: Path) -> None:
    out = path.with_name("rated.csv")
    try:
        summary = ENGINE.rate(path, out)
    except (CdrFileError, RatingFailed):
        return
    accounted = summary.rated + sum(summary.rejected.values())
    if accounted != summary.rows:
        raise AssertionError(f"{summary.rows} rows, {accounted} rated or rejected")


def test_one_input(data: bytes) -> None:
    as_file(data, rate)


if __name__ == "__main__":
    fuzz(sys.argv, cdr_seeds(), test_one_input)
