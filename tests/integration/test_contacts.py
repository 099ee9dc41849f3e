"""Retail contacts on SQLite and PostgreSQL: the import keeps good rows and rejects bad
ones with reasons, a re-import duplicates nothing, a wrong schema imports nothing, every
write is one ledger entry with its counts, retail pushes through the API and reads
nothing back, compliance reads the table."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from forvalg.compliance.contact_files import BATCH, ContactFileError
from forvalg.domain.reasons import ReasonCode
from forvalg.store.tables import retail_contacts
from forvalg.wall import AccessDenied, Purpose
from forvalg.wall.principals import CRM_SYNC, DETECTOR, REPORTER

from .world import World

HEADER = "contact_id,time_utc,number,channel,direction,agent_id,campaign_id,outcome"
GOOD = [
    "c1,2026-11-20T10:00:00Z,22334455,PHONE,OUTBOUND,a1,WINBACK-1,declined",
    "c2,2026-11-20T11:00:00+01:00,22334456,SMS,INBOUND,a2,,",
    'c3,2026-11-21T09:30:00Z,22334457,LETTER,OUTBOUND,a1,WINBACK-1,"sent, no reply"',
]
BAD = [
    "c4,2026-11-20T10:00:00Z,2233445,PHONE,OUTBOUND,a1,,",
    "c5,yesterday,22334458,FAX,OUTBOUND,a1,,",
    "c6,2026-11-20T10:00:00Z,22334459,PHONE,OUTBOUND",
]


def write(path: Path, *rows: str, header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def stored(world: World) -> list[str]:
    return sorted(r["contact_id"] for r in world.rows(retail_contacts))


def contact_entries(world: World, after: int = 0) -> list[dict[str, Any]]:
    return [e for e in world.access_log(after) if e["resource"] == "retail.contact"]


def test_good_rows_are_kept_bad_rows_rejected_with_reasons(world: World) -> None:
    path = write(world.tmp_path / "c.csv", GOOD[0], BAD[0], GOOD[1], BAD[1], BAD[2], GOOD[2])
    before = world.last_log_seq()
    report = world.services.contacts.import_file(path)
    assert (report.rows, report.imported, report.duplicates, report.rejected) == (6, 3, 0, 3)
    assert report.reasons == {
        "number: not an 8-digit national number": 1,
        "time_utc: not an ISO 8601 timestamp with a UTC offset": 1,
        "channel: not one of PHONE, SMS, EMAIL, LETTER, VISIT": 1,
        "row: expected 8 fields, found 5": 1,
    }
    assert stored(world) == ["c1", "c2", "c3"]
    c2 = world.rows(retail_contacts, retail_contacts.c.contact_id == "c2")[0]
    assert c2["time_utc"] == datetime.fromisoformat("2026-11-20T10:00:00+00:00")
    assert (c2["campaign_id"], c2["outcome"], c2["source"]) == (None, None, "crm")
    with report.rejects.open(newline="") as f:
        rejects = list(csv.DictReader(f))
    assert report.rejects == world.tmp_path / "c.csv.rejects.csv"
    assert [(r["row"], r["contact_id"]) for r in rejects] == [("2", "c4"), ("4", "c5"), ("5", "c6")]
    assert rejects[0]["reason"] == "number: not an 8-digit national number"
    assert rejects[0]["number"] == "2233445"  # the raw field, as read
    assert rejects[1]["reason"].split("; ") == [
        "time_utc: not an ISO 8601 timestamp with a UTC offset",
        "channel: not one of PHONE, SMS, EMAIL, LETTER, VISIT",
    ]
    # One decision, one entry for the whole import, with the counts and no subjects.
    (entry,) = contact_entries(world, before)
    assert (entry["principal"], entry["action"], entry["decision"]) == (
        CRM_SYNC.id,
        "write",
        "allow",
    )
    assert entry["purpose"] == "crm_sync"
    assert entry["detail"] == {
        "source": "crm",
        "received": 3,
        "added": 3,
        "duplicates": 0,
        "rejected": 3,
    }


def test_a_reimport_is_idempotent(world: World) -> None:
    path = write(world.tmp_path / "c.csv", *GOOD)
    world.services.contacts.import_file(path)
    changed = GOOD[0].replace("declined", "accepted")
    again = world.services.contacts.import_file(write(path, changed, *GOOD[1:], GOOD[0]))
    assert (again.imported, again.duplicates, again.rejected) == (0, 4, 0)
    assert stored(world) == ["c1", "c2", "c3"]
    assert world.rows(retail_contacts, retail_contacts.c.contact_id == "c1")[0]["outcome"] == (
        "declined"  # the first copy stays
    )
    # Another source is another namespace of ids.
    other = world.services.contacts.import_file(path, source="crm-b")
    assert (other.imported, other.duplicates) == (3, 1)
    assert world.count(retail_contacts) == 6
    assert again.rejects.read_text().strip() == "row,reason," + HEADER  # clean: header only


@pytest.mark.parametrize(
    ("header", "column"),
    [
        (HEADER.replace("number,", ""), "number"),
        (HEADER.replace("contact_id", "id"), "contact_id"),
        (HEADER.replace("outcome", "number"), "number"),
    ],
)
def test_a_wrong_csv_schema_imports_nothing(world: World, header: str, column: str) -> None:
    path = write(world.tmp_path / "c.csv", "c1,x,y,z,w,v,u", header=header)
    before = world.last_log_seq()
    with pytest.raises(ContactFileError, match=rf"^{path}: column {column}: "):
        world.services.contacts.import_file(path)
    assert world.count(retail_contacts) == 0
    assert not (world.tmp_path / "c.csv.rejects.csv").exists()
    assert contact_entries(world, before) == []


def _parquet(path: Path, **overrides: pa.Array) -> Path:
    columns: dict[str, pa.Array] = {
        "contact_id": pa.array(["p1", "p2", "p3"]),
        "time_utc": pa.array(
            [datetime(2026, 11, 20, 10), datetime(2026, 11, 20, 11), None],
            pa.timestamp("us", tz="UTC"),
        ),
        "number": pa.array(["22334455", "22334456", "22334457"]),
        "channel": pa.array(["PHONE", "VISIT", "PHONE"]),
        "direction": pa.array(["OUTBOUND", "INBOUND", "OUTBOUND"]),
        "agent_id": pa.array(["a1", "a2", "a3"]),
        "campaign_id": pa.array(["W1", None, None]),
    } | overrides
    pq.write_table(pa.table(columns), path)
    return path


def test_parquet_rows_and_a_wrong_parquet_type(world: World) -> None:
    report = world.services.contacts.import_file(_parquet(world.tmp_path / "c.parquet"))
    assert (report.imported, report.rejected) == (2, 1)
    assert report.reasons == {"time_utc: missing": 1}
    assert stored(world) == ["p1", "p2"]
    wrong = _parquet(world.tmp_path / "w.parquet", number=pa.array([22334455, 1, 2]))
    with pytest.raises(
        ContactFileError, match=r"w\.parquet: column number: expected string, found int64"
    ):
        world.services.contacts.import_file(wrong)
    assert stored(world) == ["p1", "p2"]


def test_a_large_file_streams_in_batches_in_one_transaction(world: World) -> None:
    rows = [f"k{i},2026-11-20T10:00:00Z,2{i:07d},PHONE,OUTBOUND,a1,," for i in range(BATCH + 5)]
    rows.append(b"k-bad,2026-11-20T10:00:00Z,22334455,PHONE,OUTBOUND,\xff,,".decode("latin-1"))
    path = world.tmp_path / "big.csv"
    path.write_bytes(("\n".join([HEADER, *rows]) + "\n").encode("latin-1"))
    seen: list[int] = []
    with pytest.raises(
        ContactFileError, match=rf"big.csv: line {BATCH + 7}: not UTF-8 text \(byte 0xff\)"
    ):
        world.services.contacts.import_file(path, progress=seen.append)
    assert seen == [BATCH]  # the first batch was written, then rolled back
    assert world.count(retail_contacts) == 0
    path.write_text("\n".join([HEADER, *rows[:-1]]) + "\n", encoding="utf-8")
    report = world.services.contacts.import_file(path)
    assert report.imported == world.count(retail_contacts) == BATCH + 5


def test_retail_pushes_contacts_through_the_api_and_reads_nothing_back(world: World) -> None:
    sales = world.add_staff("retail_sales")
    item = {
        "contact_id": "api-1",
        "time_utc": "2026-11-20T10:00:00Z",
        "number": "22334455",
        "channel": "PHONE",
        "direction": "OUTBOUND",
        "agent_id": "a1",
    }
    bad = item | {"contact_id": "api-2", "number": "123", "channel": "FAX"}
    before = world.last_log_seq()
    response = sales.client.post("/v1/retail/contacts", json={"contacts": [item, bad]})
    assert response.status_code == 201, response.text
    assert response.json() == {
        "source": "crm",
        "received": 2,
        "imported": 1,
        "duplicates": 0,
        "rejected": 1,
        "errors": [
            {
                "pointer": "/contacts/1/number",
                "parameter": None,
                "reason": "not an 8-digit national number",
            },
            {
                "pointer": "/contacts/1/channel",
                "parameter": None,
                "reason": "not one of PHONE, SMS, EMAIL, LETTER, VISIT",
            },
        ],
    }
    again = sales.client.post("/v1/retail/contacts", json={"contacts": [item]})
    assert (again.status_code, again.json()["duplicates"]) == (201, 1)
    assert stored(world) == ["api-1"]
    entries = contact_entries(world, before)
    assert [e["principal"] for e in entries] == [sales.principal] * 2
    assert [e["detail"]["added"] for e in entries] == [1, 0]
    # Malformed bodies are 422 with pointers; too many contacts too.
    number = sales.client.post("/v1/retail/contacts", json={"contacts": [item | {"number": 1}]})
    assert number.status_code == 422
    assert number.json()["errors"][0]["pointer"] == "/contacts/0/number"
    many = sales.client.post("/v1/retail/contacts", json={"contacts": [item] * 10_001})
    assert many.status_code == 422
    # Retail reads nothing: not the contacts, whatever it states.
    with (
        pytest.raises(AccessDenied) as denied,
        world.services.wall.access(CRM_SYNC, Purpose.CRM_SYNC, "read-back") as guard,
    ):
        guard.contacts.table()
    assert denied.value.code is ReasonCode.E_FORBIDDEN


def test_compliance_reads_the_contacts_and_others_do_not(world: World) -> None:
    world.services.contacts.import_file(write(world.tmp_path / "c.csv", *GOOD))
    before = world.last_log_seq()
    with world.services.wall.access(DETECTOR, Purpose.COMPLIANCE_AUDIT, "detect:test") as guard:
        table = guard.contacts.table()
    assert table.column("contact_id").to_pylist() == ["c1", "c2", "c3"]
    assert table.schema.field("time_utc").type == pa.timestamp("us", tz="UTC")
    (entry,) = contact_entries(world, before)
    assert (entry["action"], entry["decision"], entry["principal"]) == (
        "read",
        "allow",
        DETECTOR.id,
    )
    with (
        pytest.raises(AccessDenied),
        world.services.wall.access(REPORTER, Purpose.COMPLIANCE_AUDIT, "report") as guard,
    ):
        guard.contacts.table()
