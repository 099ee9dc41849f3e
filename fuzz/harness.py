"""What the atheris targets share: the bytes as a file, the real reader over it, and the
only errors each reader documents. Imported by the targets (fuzz/*_reader.py), which run
as scripts, so it sits beside them rather than in the package."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

SUFFIXES = (".csv", ".parquet")


def as_file(data: bytes, read: Callable[[Path], None]) -> None:
    """Write `data` (its first byte picks CSV or Parquet) to a file in a fresh directory and
    `read` it there; the directory goes afterwards."""
    suffix = SUFFIXES[data[0] % 2] if data else ".csv"
    with tempfile.TemporaryDirectory(prefix="forvalg-fuzz-") as temp:
        path = Path(temp) / f"input{suffix}"
        path.write_bytes(data[1:])
        read(path)


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


CDR_CSV = (
    "call_id,start_utc,duration_s,a_number,dialed,carrier\n"
    "c1,2026-11-02T10:00:00Z,61,22334455,91234567,telia\n"
    "c2,2026-11-02T10:00:00.5Z,0,22334455,15050047123456,INCUMBENT\n"
    "c3,2026-11-03T23:59:59Z,86400,23456701,112,\n"
    "c4,not a time,-1,2233,9x,telia\n"
)
CONTACTS_CSV = (
    "contact_id,time_utc,number,channel,direction,agent_id,campaign_id,outcome\n"
    "k1,2026-11-20T11:00:00+01:00,22334455,PHONE,OUTBOUND,agent-7,WINBACK-1,declined\n"
    'k2,2026-11-20T10:00:00Z,22334466,SMS,INBOUND,agent-8,,"said ""no"", twice"\n'
    "k3,yesterday,2233,FAX,SIDEWAYS,,x,\n"
)


def cdr_seeds() -> dict[str, bytes]:
    """Seed inputs for the CDR target: a CSV and a Parquet file (first byte: the format)."""
    table = pa.table(
        {
            "call_id": ["c1", "c2", None],
            "start_utc": pa.array(
                [datetime(2026, 11, 2, 10, tzinfo=UTC), None, datetime(1980, 1, 1, tzinfo=UTC)],
                pa.timestamp("us", tz="UTC"),
            ),
            "duration_s": pa.array([61, 0, -5], pa.int64()),
            "a_number": ["22334455", "22334455", "1"],
            "dialed": ["91234567", "15050047123456", ""],
            "carrier": ["telia", None, "ice"],
        }
    )
    return {"cdrs.csv": b"\x00" + CDR_CSV.encode(), "cdrs.parquet": b"\x01" + parquet_bytes(table)}


def contact_seeds() -> dict[str, bytes]:
    """Seed inputs for the contacts target: a CSV and a Parquet file."""
    table = pa.table(
        {
            "contact_id": ["k1", "k2"],
            "time_utc": pa.array(
                [datetime(2026, 11, 20, 10, tzinfo=UTC), None], pa.timestamp("us", tz="UTC")
            ),
            "number": ["22334455", "2233"],
            "channel": ["PHONE", "FAX"],
            "direction": ["OUTBOUND", "INBOUND"],
            "agent_id": ["agent-7", None],
            "campaign_id": [None, "WINBACK-1"],
        }
    )
    return {
        "contacts.csv": b"\x00" + CONTACTS_CSV.encode(),
        "contacts.parquet": b"\x01" + parquet_bytes(table),
    }


def fuzz(argv: list[str], seeds: dict[str, bytes], test_one_input: Callable[[bytes], None]) -> None:
    """Run a target under atheris with libFuzzer's arguments `argv`; an empty corpus
    directory (the first argument) gets the seeds first."""
    import atheris

    corpora = [Path(a) for a in argv[1:] if not a.startswith("-")]
    if corpora and not corpora[0].is_file():  # a file given is an input to run once
        write_seeds(seeds, corpora[0])
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


def write_seeds(seeds: dict[str, bytes], corpus: Path) -> None:
    """Put the seeds into an empty corpus directory (libFuzzer adds what it finds)."""
    corpus.mkdir(parents=True, exist_ok=True)
    if not any(corpus.iterdir()):
        for name, data in seeds.items():
            (corpus / name).write_bytes(data)
