"""Regulator inquiries end to end (docs/INQUIRIES.md), on SQLite and PostgreSQL: the
regulator opens one over HTTP, staff read, are refused and break the glass in its
period, compliance answers with an evidence bundle that `forvalg-verify bundle` (a
subprocess, as the regulator runs it) verifies offline; a second answer proves the log
still extends the first; the regulator lists and downloads; anyone else gets 404."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from forvalg.compliance.inquiries import InquiryError, UnknownInquiry
from forvalg.store import ledger as ledger_store
from forvalg.wall.principals import INQUIRY_CLERK

from ..conftest import LEDGER_SIGNER
from .world import Staff, World, problem

LINE = "22334455"
INSPECT = "regulatory_inspection"
WHY = "exchange fault on the line, customer has no service, ticket system is down"
QUESTION = "Who at the incumbent read CPS data on line 22334455 in November 2026, and why?"


def verify(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "forvalg.ledger.verify", "bundle", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )


def manifest(data: bytes) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        found: dict[str, Any] = json.loads(zf.read("manifest.json"))
        return found


def member(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.read(name)


def events_at(world: World, indices: list[int]) -> list[dict[str, Any]]:
    with world.engine.connect() as connection:
        found = ledger_store.entries_at(connection, indices=indices)
    return [json.loads(found[i])["event"] for i in indices]


@pytest.fixture
def regulator(world: World) -> Staff:
    return world.add_staff("regulator", "Nkom tilsyn")


def open_inquiry(regulator: Staff, summary: str = QUESTION) -> str:
    return regulator.opened(
        INSPECT, kind="inquiry", summary=summary, period="2026-11", due_at="2026-12-10T23:00:00Z"
    )


def staff_activity(world: World) -> None:
    """A break-glass read and a refused read in November (the clock's month)."""
    ops = world.add_staff("wholesale_ops")
    read = ops.get(f"/v1/staff/lines/{LINE}", purpose="fault_repair", break_glass=WHY)
    assert read.status_code == 200, read.text
    marketing = world.add_staff("retail_marketing")
    refused = marketing.get(f"/v1/staff/lines/{LINE}", purpose="marketing", work_item="FT-0123")
    assert refused.status_code == 403


def test_an_inquiry_answered_twice_verifies_offline(
    world: World, regulator: Staff, tmp_path: Path
) -> None:
    desk = world.services.inquiries
    inquiry = open_inquiry(regulator)
    staff_activity(world)
    key = tmp_path / "key.pub"
    key.write_text(str(LEDGER_SIGNER.verifier) + "\n")

    first = desk.answer(inquiry, out=tmp_path / "a.zip", by="Kari Nordmann")

    data = (tmp_path / "a.zip").read_bytes()
    assert first.answer.previous_size is None
    checked = verify(tmp_path / "a.zip", "--key", key)
    assert checked.returncode == 0, checked.stderr
    assert f"OK: evidence bundle for {inquiry}" in checked.stdout
    assert "checked with your key" in checked.stdout
    shown = manifest(data)
    assert shown["inquiry"]["question"] == QUESTION
    assert shown["inquiry"]["deadline"] == "2026-12-10T23:00:00Z"
    assert shown["answer"]["deadline_status"] == "answered_on_time"
    assert shown["answer"]["answered_by"] == "Kari Nordmann"
    why = {e["index"]: e["why"] for e in shown["entries"]}
    events = dict(zip(why, events_at(world, list(why)), strict=True))
    reasons = {r for rs in why.values() for r in rs}
    assert reasons == {"staff", "denial", "break_glass", "inquiry"}
    for index, event in events.items():
        assert (
            event["principal"].startswith("user:")
            or event["decision"] == "deny"
            or (event["work_item"] == inquiry)
        ), index
    assert any("break_glass" in w for w in why.values())
    # the opening of the inquiry is there, as the regulator's own staff access
    opening = [i for i, e in events.items() if e["work_item"] == inquiry]
    assert opening
    assert set(why[opening[0]]) == {"staff", "inquiry"}
    # system jobs' allows in the period are not asked about
    assert all(
        not (
            e["principal"].startswith("system:")
            and e["decision"] == "allow"
            and e["work_item"] != inquiry
        )
        for e in events.values()
    )

    # More happens; the second answer proves the log extends the first answer's checkpoint.
    staff_activity(world)
    second = desk.answer(inquiry, out=tmp_path / "b.zip", by="Kari Nordmann")
    assert second.answer.previous_size == first.answer.tree_size
    assert second.answer.tree_size > first.answer.tree_size
    assert second.answer.entry_count > first.answer.entry_count
    old = tmp_path / "first-checkpoint"
    old.write_bytes(member(data, "checkpoint"))
    checked = verify(tmp_path / "b.zip", "--key", key, "--previous", old)
    assert checked.returncode == 0, checked.stderr
    assert f"extends the previous checkpoint (size {first.answer.tree_size})" in checked.stdout
    # the first answer is recorded in the ledger, and the second bundle proves that entry
    later = manifest((tmp_path / "b.zip").read_bytes())
    recorded = [
        e
        for e in events_at(world, [x["index"] for x in later["entries"]])
        if (e.get("detail") or {}).get("bundle_sha256") == first.answer.bundle_sha256
    ]
    assert len(recorded) == 1
    assert recorded[0]["principal"] == INQUIRY_CLERK.id

    # The regulator lists its inquiries and downloads the latest bundle.
    listed = regulator.get("/v1/inquiries", purpose=INSPECT, work_item=inquiry)
    assert listed.status_code == 200, listed.text
    (item,) = listed.json()["items"]
    assert item["deadline"]["state"] == "answered_on_time"
    assert [a["bundle_sha256"] for a in item["answers"]] == [
        first.answer.bundle_sha256,
        second.answer.bundle_sha256,
    ]
    got = regulator.get(f"/v1/inquiries/{inquiry}/bundle", purpose=INSPECT, work_item=inquiry)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/zip"
    assert got.content == (tmp_path / "b.zip").read_bytes()


def test_a_tampered_bundle_or_a_wrong_previous_fails(
    world: World, regulator: Staff, tmp_path: Path
) -> None:
    inquiry = open_inquiry(regulator)
    staff_activity(world)
    world.services.inquiries.answer(inquiry, out=tmp_path / "a.zip", by="Kari")
    data = (tmp_path / "a.zip").read_bytes()
    files = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    files["entries.jsonl"] = files["entries.jsonl"].replace(b"fault_repair", b"provisioning", 1)
    tampered = tmp_path / "t.zip"
    with zipfile.ZipFile(tampered, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    checked = verify(tampered)
    assert checked.returncode == 1
    assert checked.stderr.strip().splitlines() == [
        f"forvalg-verify: FAILED: {tampered}: entries.jsonl: its SHA-256 does not match the "
        "manifest (file changed)"
    ]


def test_bad_answers_change_nothing(world: World, regulator: Staff, tmp_path: Path) -> None:
    desk = world.services.inquiries
    inquiry = open_inquiry(regulator)
    with pytest.raises(UnknownInquiry, match="no inquiry INQ-ffffffffffff"):
        desk.answer("INQ-ffffffffffff", out=tmp_path / "x.zip", by="Kari")
    with pytest.raises(InquiryError, match="--by"):
        desk.answer(inquiry, out=tmp_path / "x.zip", by=" ")
    with pytest.raises(InquiryError, match="--previous"):
        desk.answer(inquiry, out=tmp_path / "x.zip", by="Kari", previous_checkpoint=b"junk\n")
    with pytest.raises(InquiryError, match="no directory"):
        desk.answer(inquiry, out=tmp_path / "nowhere" / "x.zip", by="Kari")
    assert not list(tmp_path.glob("*.zip"))
    assert not list(tmp_path.glob(".*partial"))
    (view,) = desk.list(INQUIRY_CLERK)
    assert view.answers == ()
    assert view.deadline.describe() == "due in 17 days"  # 23 Nov -> 10 Dec


def test_bundles_are_404_for_others(world: World, regulator: Staff, tmp_path: Path) -> None:
    inquiry = open_inquiry(regulator)
    unanswered = open_inquiry(regulator, "Another question about November's denials?")
    world.services.inquiries.answer(inquiry, out=tmp_path / "a.zip", by="Kari")
    path = f"/v1/inquiries/{inquiry}/bundle"

    # named under another inquiry: 404, and the refusal is ledgered
    other = regulator.get(path, purpose=INSPECT, work_item=unanswered)
    problem(other, 404, "E_NOT_FOUND")
    problem(
        regulator.get(f"/v1/inquiries/{unanswered}/bundle", purpose=INSPECT), 404, "E_NOT_FOUND"
    )
    problem(
        regulator.get("/v1/inquiries/INQ-ffffffffffff/bundle", purpose=INSPECT), 404, "E_NOT_FOUND"
    )
    # no access: wholesale operations, retail
    ops = world.add_staff("wholesale_ops")
    problem(ops.get(path, purpose="fault_repair", work_item=inquiry), 404, "E_NOT_FOUND")
    sales = world.add_staff("retail_sales")
    problem(sales.get(path, purpose="sales"), 404, "E_NOT_FOUND")
    # the work item defaults to the inquiry in the path
    assert regulator.get(path, purpose=INSPECT).status_code == 200
    # compliance officers read it too, under the inquiry
    officer = world.add_staff("compliance_officer")
    assert officer.get(path, purpose="compliance_audit", work_item=inquiry).status_code == 200
    listed = officer.get("/v1/inquiries", purpose="compliance_audit", work_item=inquiry)
    assert {i["id"] for i in listed.json()["items"]} == {inquiry, unanswered}
    refused = ops.get("/v1/inquiries", purpose="fault_repair", work_item=inquiry)
    assert refused.status_code == 403
    with world.engine.connect() as connection:
        denials = [
            e
            for e in ledger_store.events(connection)
            if e["decision"] == "deny" and e["work_item"] == unanswered
        ]
    assert any("E_WORK_ITEM_MISMATCH" in e["reason"] for e in denials)
