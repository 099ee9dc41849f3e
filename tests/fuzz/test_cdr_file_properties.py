"""The CDR reader (traffic/cdrs.py, through `RatingEngine.rate`, which opens, stages and
checks every row) and the rated-file check of settlement (traffic/sources.py `inspect`).
Whatever a file holds (CSV or Parquet), the only errors are the documented ones
(`CdrFileError`, `RatingFailed`; `BadRatedFile`), each naming the file; a file that rates
accounts for every row (rated or rejected with a reason); valid calls all rate, each once."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forvalg.domain.tariffs import tariff_from_toml
from forvalg.traffic.cdrs import CdrFileError
from forvalg.traffic.rating import EngineSettings, RatingEngine, RatingFailed, RatingSummary
from forvalg.traffic.reference import RatingReference
from forvalg.traffic.schemas import HISTORY_SCHEMA
from forvalg.traffic.sources import BadRatedFile, inspect

from .mutations import mutated

TARIFFS = Path(__file__).parents[2] / "src/forvalg/traffic/tariffs/default.toml"
HEADER = ("call_id", "start_utc", "duration_s", "a_number", "dialed", "carrier")


SCALE = float(os.environ.get("FORVALG_FUZZ_EXAMPLES", "6")) / 6


def slow(examples: int) -> settings:
    """Each example runs DuckDB (a second or so on a loaded machine): few examples in the
    suite, more with FORVALG_FUZZ_EXAMPLES (6 by default), no complaint that they are slow."""
    return settings(
        max_examples=max(1, round(examples * SCALE)),
        suppress_health_check=[HealthCheck.too_slow],
    )


@dataclass(frozen=True)
class Version:
    effective_at: datetime
    content_hash: str


class Reference(RatingReference):
    """The engine's small tables built once for all examples, not on every `rate`."""

    @cached_property
    def _tables(self) -> dict[str, pa.Table]:
        return super().tables()

    def tables(self) -> dict[str, pa.Table]:
        return dict(self._tables)


ENGINE = RatingEngine(
    Reference(
        tariff_from_toml(TARIFFS.read_text(), TARIFFS.name),
        pa.Table.from_pylist([], schema=HISTORY_SCHEMA),
        [Version(datetime(1970, 1, 1, tzinfo=UTC), "v0")],
        {"1505": "telia"},
    ),
    EngineSettings(threads=1, memory_limit="256MB"),
)

calls = st.tuples(
    st.from_regex(r"[a-z0-9]{1,12}", fullmatch=True),
    st.datetimes(min_value=datetime(2026, 11, 1), max_value=datetime(2026, 11, 30)),
    st.integers(0, 86_400),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
    st.from_regex(r"(1505)?[2-9][0-9]{7}", fullmatch=True),
    st.sampled_from(["telia", "INCUMBENT", ""]),
)
batches = st.lists(calls, min_size=1, max_size=10, unique_by=lambda c: c[0])


def _csv(rows: list[tuple[str, datetime, int, str, str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for call_id, start, duration, a, dialled, carrier in rows:
        writer.writerow(
            [call_id, start.strftime("%Y-%m-%dT%H:%M:%SZ"), duration, a, dialled, carrier]
        )
    return out.getvalue().encode()


def _parquet(rows: list[tuple[str, datetime, int, str, str, str]]) -> bytes:
    table = pa.table(
        {
            "call_id": [r[0] for r in rows],
            "start_utc": pa.array(
                [r[1].replace(tzinfo=UTC) for r in rows], pa.timestamp("us", "UTC")
            ),
            "duration_s": pa.array([r[2] for r in rows], pa.int64()),
            "a_number": [r[3] for r in rows],
            "dialed": [r[4] for r in rows],
            "carrier": [r[5] or None for r in rows],
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def _rate(data: bytes, suffix: str) -> RatingSummary | Exception:
    with tempfile.TemporaryDirectory() as temp:
        path = Path(temp) / f"cdrs{suffix}"
        path.write_bytes(data)
        try:
            summary = ENGINE.rate(path, Path(temp) / "rated.csv")
        except (CdrFileError, RatingFailed) as exc:
            error: Exception = exc
        else:
            assert summary.rated + sum(summary.rejected.values()) == summary.rows
            # "field: what is wrong", or a row with the wrong number of fields
            named = [r for r in summary.rejected if ": " in r or r.startswith("expected ")]
            assert len(named) == len(summary.rejected), summary.rejected
            return summary
    assert str(error).startswith(f"{path}"), error
    return error


def _inspect(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as temp:
        path = Path(temp) / f"rated{suffix}"
        path.write_bytes(data)
        try:
            inspect(path)
        except BadRatedFile as exc:
            named = exc.path
        else:
            named = path
    assert named == path


@slow(40)
@given(st.binary(max_size=300), st.sampled_from([".csv", ".parquet"]))
def test_arbitrary_bytes_rate_or_fail_with_a_documented_error(data: bytes, suffix: str) -> None:
    _rate(data, suffix)
    _inspect(data, suffix)


@slow(8)
@given(batches, st.sampled_from([".csv", ".parquet"]))
def test_valid_calls_all_rate_once(
    rows: list[tuple[str, datetime, int, str, str, str]], suffix: str
) -> None:
    data = _csv(rows) if suffix == ".csv" else _parquet(rows)
    summary = _rate(data, suffix)
    assert isinstance(summary, RatingSummary), summary
    assert (summary.rows, summary.rated, sum(summary.rejected.values())) == (
        len(rows),
        len(rows),
        0,
    )


@slow(15)
@given(st.data(), batches)
def test_a_mutated_csv_file_rates_or_fails_with_a_documented_error(
    data: st.DataObject, rows: list[tuple[str, datetime, int, str, str, str]]
) -> None:
    raw = data.draw(mutated(_csv(rows)))
    _rate(raw, ".csv")
    _inspect(raw, ".csv")


@slow(10)
@given(st.data(), batches)
def test_a_mutated_parquet_file_rates_or_fails_with_a_documented_error(
    data: st.DataObject, rows: list[tuple[str, datetime, int, str, str, str]]
) -> None:
    raw = data.draw(mutated(_parquet(rows), max_edits=2))
    _rate(raw, ".parquet")
    _inspect(raw, ".parquet")


def test_a_parquet_column_name_that_is_not_utf8_is_a_cdr_file_error() -> None:
    broken = _parquet([("c1", datetime(2026, 11, 2), 1, "22334455", "91234567", "")])
    broken = broken.replace(b"carrier", b"\x80arrier")
    assert isinstance(_rate(broken, ".parquet"), CdrFileError)
    _inspect(broken, ".parquet")


def test_a_rated_csv_header_beyond_the_csv_field_limit_is_bad_rated_file() -> None:
    _inspect(b'call_id,"' + b"x" * 200_000 + b'"\n', ".csv")


def test_calls_spanning_more_than_a_run_takes_are_rating_failed_naming_the_file() -> None:
    rows = [
        ("c1", datetime(1991, 1, 1), 1, "22334455", "91234567", ""),
        ("c2", datetime(2098, 1, 1), 1, "22334455", "91234567", ""),
    ]
    error = _rate(_csv(rows), ".csv")
    assert isinstance(error, RatingFailed)
    assert "cdrs.csv: the calls span" in str(error)


def test_start_statistics_beyond_pythons_datetime_are_rejected_rows_not_a_traceback() -> None:
    table = pa.table(
        {
            "call_id": ["c1", "c2"],
            "start_utc": pa.array([1_793_613_600_000_000, 2**62], pa.int64()).cast(
                pa.timestamp("us", "UTC")
            ),
            "duration_s": pa.array([61, 61], pa.int64()),
            "a_number": ["22334455", "22334455"],
            "dialed": ["91234567", "91234567"],
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    summary = _rate(sink.getvalue(), ".parquet")
    assert isinstance(summary, RatingSummary), summary
    assert (summary.rated, dict(summary.rejected)) == (1, {"start_utc: outside 1990-2099": 1})
