"""`forvalg contacts import FILE`: good rows kept, bad rows to FILE.rejects.csv with
reasons, counts printed; a re-import duplicates nothing; a wrong schema is one line on
stderr naming the file and the column, and imports nothing."""

from __future__ import annotations

import csv

import pyarrow as pa
import pyarrow.parquet as pq

from .helpers import Cli, query, write_csv

HEADER = "contact_id,time_utc,number,channel,direction,agent_id,campaign_id,outcome"
ROWS = (
    "c1,2026-11-20T10:00:00Z,22334455,PHONE,OUTBOUND,a1,WINBACK-1,declined",
    "c2,2026-11-20T10:05:00Z,2233445,PHONE,OUTBOUND,a1,,",
    "c3,2026-11-20T10:10:00Z,22334456,VISIT,INBOUND,a2,,",
    "c4,2026-11-20T10:15:00Z,22334457,FAX,OUTBOUND,a2,,",
)


def printed(stdout: str) -> list[str]:
    """What the command printed, without the blank line the transient progress bar leaves."""
    return [line for line in stdout.splitlines() if line.strip()]


STORED = "SELECT source, contact_id, number FROM retail_contacts ORDER BY contact_id"


def test_import_rejects_bad_rows_keeps_good_ones_and_is_idempotent(initialised: Cli) -> None:
    write_csv(initialised.cwd / "contacts.csv", *ROWS, header=HEADER)
    result = initialised.ok("contacts", "import", "contacts.csv")
    assert printed(result.stdout) == [
        "contacts.csv: 4 rows: imported 2, skipped 0 already stored (source crm), rejected 2",
        "  rejected 1: channel: not one of PHONE, SMS, EMAIL, LETTER, VISIT",
        "  rejected 1: number: not an 8-digit national number",
        "rejected rows: contacts.csv.rejects.csv",
    ]
    assert result.stderr == ""
    db = initialised.cwd / "forvalg.db"
    assert query(db, STORED) == [("crm", "c1", "22334455"), ("crm", "c3", "22334456")]
    with (initialised.cwd / "contacts.csv.rejects.csv").open(newline="") as f:
        rejects = [(r["row"], r["contact_id"], r["reason"]) for r in csv.DictReader(f)]
    assert rejects == [
        ("2", "c2", "number: not an 8-digit national number"),
        ("4", "c4", "channel: not one of PHONE, SMS, EMAIL, LETTER, VISIT"),
    ]
    again = initialised.ok("contacts", "import", "contacts.csv")
    assert printed(again.stdout)[0] == (
        "contacts.csv: 4 rows: imported 0, skipped 2 already stored (source crm), rejected 2"
    )
    assert len(query(db, STORED)) == 2
    events = [e for (e,) in query(db, "SELECT event FROM ledger_inbox ORDER BY seq")]
    events += [e for (e,) in query(db, "SELECT entry FROM ledger_entries ORDER BY idx")]
    writes = [e for e in events if '"retail.contact"' in e and '"system:crm-sync"' in e]
    assert len(writes) == 2


def test_a_parquet_file_is_imported(initialised: Cli) -> None:
    table = pa.table(
        {
            "contact_id": ["p1"],
            "time_utc": pa.array([1_795_000_000_000_000], pa.timestamp("us", tz="UTC")),
            "number": ["22334455"],
            "channel": ["SMS"],
            "direction": ["OUTBOUND"],
            "agent_id": ["a1"],
        }
    )
    pq.write_table(table, initialised.cwd / "c.parquet")
    result = initialised.ok("contacts", "import", "c.parquet", "--source", "crm-2")
    assert "imported 1," in result.stdout
    assert query(initialised.cwd / "forvalg.db", STORED) == [("crm-2", "p1", "22334455")]


def test_a_wrong_schema_fails_at_once_and_imports_nothing(initialised: Cli) -> None:
    write_csv(
        initialised.cwd / "c.csv",
        "c1,2026-11-20T10:00:00Z,PHONE,OUTBOUND,a1,,",
        header=HEADER.replace("number,", ""),
    )
    result = initialised.fails("contacts", "import", "c.csv")
    assert result.error_line == (
        "forvalg: c.csv: column number: missing "
        "(required: contact_id, time_utc, number, channel, direction, agent_id)"
    )
    pq.write_table(
        pa.table({c: [1] if c == "number" else ["x"] for c in HEADER.split(",")}),
        initialised.cwd / "c.parquet",
    )
    wrong = initialised.fails("contacts", "import", "c.parquet")
    assert wrong.error_line == "forvalg: c.parquet: column number: expected string, found int64"
    assert query(initialised.cwd / "forvalg.db", STORED) == []
    assert not (initialised.cwd / "c.csv.rejects.csv").exists()
    bad_source = initialised.fails("contacts", "import", "c.csv", "--source", "a b")
    assert bad_source.error_line.startswith("forvalg: --source: source 'a b':")
