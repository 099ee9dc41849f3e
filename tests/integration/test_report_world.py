"""`forvalg report` on a small world (issue 7, item 1): orders placed over HTTP and worked
by the real processor, a staff read under a fault ticket, a break-glass read, a refused
retail read, an incident, two inquiries; the report's numbers are what was done. Runs on
SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from forvalg.compliance.detectors.findings import Finding
from forvalg.compliance.report import build_report, render_html, write_report
from forvalg.compliance.report.retail import read_retail_orders
from forvalg.domain.statistics import Severity
from forvalg.sim.retail_orders import write_retail_orders

from .world import Operator, World, cancel_other
from .world import provide as provide_any
from .world import transfer as transfer_any

OCT30 = datetime(2026, 10, 30, 9, 0, tzinfo=UTC)
NOV2 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # Monday, 10:00 Oslo
NOV16 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
NOV28 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)  # Saturday: past the 27th's 12:00 cut-off
NOV30 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
AUTH = {"reference": "LOA-2026-010", "signed_at": "2026-10-20", "channel": "web"}


def provide(number: str, **fields: object) -> dict[str, object]:
    return provide_any(number, authorisation=AUTH, **fields)


def transfer(number: str) -> dict[str, object]:
    return transfer_any(number, authorisation=AUTH)


def run_orders(world: World, alpha: Operator, beta: Operator) -> dict[str, str]:
    clock, calendar = world.clock, world.services.rules.calendar
    clock.at = OCT30  # received in October: not in November's cohort
    alpha.order(provide("22334477"))
    world.process()
    clock.at = NOV2
    a1 = alpha.order(provide("22334455"))["id"]
    alpha.order(provide("99887766", postcode="0150"))  # -> E_LINE_UNKNOWN
    a3 = alpha.order(provide("22334466"))["id"]
    beta.order(provide("22334488", postcode="9999"))  # -> E_POSTCODE_MISMATCH
    b2 = beta.order(provide("22334499", requested_date="2026-11-20"))["id"]
    world.process()
    clock.at = NOV2 + timedelta(days=1)
    assert alpha.cancel(a3).status_code == 200
    world.process(calendar.switch_at(calendar.due_date(NOV2)))  # a1 completes on the 16th
    clock.at = NOV16
    b3 = beta.order(transfer("22334455"))["id"]
    world.process()
    clock.at = NOV28
    late = alpha.order(cancel_other("22334455", b3))["id"]
    world.process()
    for _ in range(2):  # beta's own cancel of b3, past its cut-off: refused, kept, one miss
        assert beta.cancel(b3).json()["code"] == "E_TOO_LATE"
    world.process(calendar.switch_at(calendar.due_date(NOV16)))  # b2 (20th), b3 (30th)
    for order_id, who in ((a1, alpha), (b2, beta), (b3, beta)):
        assert who.state(order_id)["state"] == "COMPLETED"
    assert alpha.state(late)["reason_code"] == "E_TARGET_NOT_CANCELLABLE"
    return {"a1": a1, "b2": b2, "b3": b3}


def test_the_report_counts_what_was_done(world: World, alpha: Operator, beta: Operator) -> None:
    svc = world.services
    run_orders(world, alpha, beta)
    world.clock.at = NOV30 - timedelta(days=1)
    ops = world.add_staff("wholesale_ops")
    ticket = ops.opened("fault_repair", kind="fault_ticket", summary="No tone", lines=["22334455"])
    looked = ops.get("/v1/staff/lines/22334455", purpose="fault_repair", work_item=ticket)
    assert looked.status_code == 200, looked.text
    glass = ops.get(
        "/v1/staff/lines/22334466",
        purpose="fault_repair",
        break_glass="line down, exchange fault ticket pending",
    )
    assert glass.status_code == 200, glass.text
    sales = world.add_staff("retail_sales")
    refused = sales.get("/v1/staff/lines/22334455", purpose="sales", work_item=ticket)
    assert refused.status_code == 403
    regulator = world.add_staff("regulator")
    overdue = regulator.opened(
        "regulatory_inspection",
        kind="inquiry",
        summary="Why did winback campaign WB call leavers?",
        period="2026-11",
        due_at="2026-11-29T23:30:00Z",
    )
    answered = regulator.opened(
        "regulatory_inspection",
        kind="inquiry",
        summary="Lead times in November",
        period="2026-11",
        due_at="2026-12-15T11:00:00Z",
    )
    finding = Finding(
        id="targeting-00000000000000wb",
        detector="targeting",
        severity=Severity.HIGH,
        subject={"campaign_id": "WB"},
        summary="Campaign WB contacted lines after a CPS event 3.6 times as often.",
        statistics={"p_value": 1e-9, "lift": 3.6, "n": 120},
        evidence={"test": "line_days"},
    )
    assert len(svc.incidents.open_from_findings([finding]).opened) == 1
    world.clock.at = NOV30
    svc.inquiries.answer(answered, out=world.tmp_path / "answer.zip", by="Kari")

    retail_file = write_retail_orders(world.tmp_path / "retail.csv", "2026-11", 200, seed=1)
    period = "2026-11"
    from forvalg.compliance.report import parse_period

    retail = read_retail_orders(retail_file, parse_period(period))
    report = build_report(svc.wall, svc.keeper, period, calendar=svc.rules.calendar, retail=retail)
    doc = report.document

    eq = doc["equivalence"]
    alfa, beta_k = eq["operators"]["alfatel"], eq["operators"]["betanett"]
    assert (alfa["received"], alfa["completed"], alfa["rejected"], alfa["cancelled"]) == (
        4,
        1,
        2,
        1,
    )
    assert alfa["rejections"] == {"E_LINE_UNKNOWN": 1, "E_TARGET_NOT_CANCELLABLE": 1}
    assert alfa["cancellations"] == {"C_CANCELLED_BY_OPERATOR": 1}
    assert alfa["cutoff_misses"] == 1
    assert alfa["lead_time_working_days"]["histogram"] == {"10": 1}
    assert (beta_k["received"], beta_k["completed"], beta_k["rejected"]) == (3, 2, 1)
    assert beta_k["rejections"] == {"E_POSTCODE_MISMATCH": 1}
    assert beta_k["cutoff_misses"] == 1
    assert beta_k["lead_time_working_days"]["histogram"] == {"10": 1, "14": 1}
    assert (beta_k["lead_time_working_days"]["p10"], beta_k["lead_time_working_days"]["p90"]) == (
        10,
        14,
    )
    assert beta_k["due_date"] == {"measured": 2, "on": 2, "before": 0, "after": 0, "on_share": 1.0}
    assert eq["retail"]["received"] == 200
    assert eq["retail_note"] is None

    access = doc["access"]
    log = [
        e
        for e in world.access_log()
        if datetime.fromisoformat(e["at"]) < datetime(2026, 11, 30, 23, tzinfo=UTC)
    ]
    glass_entries = [e for e in log if "; break-glass: " in (e["reason"] or "")]
    assert len(access["break_glass"]) == len(glass_entries) >= 1
    assert {b["principal"] for b in access["break_glass"]} == {ops.principal}
    assert all("line down" not in json.dumps(b) for b in access["break_glass"])
    assert access["decisions"]["deny"] == 1
    (denial,) = access["denials"]
    assert (denial["code"], denial["roles"]) == ("E_FORBIDDEN", "retail_sales")
    ops_allowed = sum(
        1 for e in log if e["roles"] == ["wholesale_ops"] and e["decision"] == "allow"
    )
    assert access["by_role"]["wholesale_ops"] == {"allow": ops_allowed, "deny": 0}
    assert access["by_kind"]["staff"]["deny"] == 1

    incidents = doc["incidents"]
    assert incidents["total"] == 1
    (incident,) = incidents["items"]
    assert (incident["state"], incident["severity"], incident["detector"]) == (
        "open",
        "high",
        "targeting",
    )
    assert incident["subject"] == {"campaign_id": "WB"}

    versions = doc["routing_versions"]
    # 22334477 (13th), a1 (16th), b2 (20th), b3 (30th, 00:00 Oslo): all take effect in November.
    assert [v["rows"] for v in versions["items"]] == [1, 2, 3, 3]
    assert versions["count"] == 4

    inquiries = doc["inquiries"]
    assert (inquiries["total"], inquiries["open"], inquiries["overdue"]) == (2, 1, 1)
    first, second = inquiries["items"]
    assert (first["id"], first["overdue"], first["deadline_oslo"], first["status"]) == (
        overdue,
        True,
        "2026-11-30 00:30 (Oslo)",
        "overdue since today",
    )
    # The answered one: the desk's deadline status, from the answer the desk recorded.
    assert (second["id"], second["status"], second["answers"]) == (
        answered,
        "answered on time",
        1,
    )

    checkpoint = doc["checkpoint"]
    assert checkpoint["tree_size"] == world.last_log_seq()  # it covers the report's reads
    reports = [e for e in world.access_log() if e["principal"] == "system:reporter"]
    assert {e["resource"] for e in reports} == {
        "cps.order",
        "ledger.access",
        "compliance.incident",
        "cps.routing",
        "work.item",
        "ledger.proof",
    }
    assert all(e["decision"] == "allow" and e["subject_count"] == 0 for e in reports)

    out = world.tmp_path / "report"
    write_report(report, out)
    html = (out / "report.html").read_text()
    assert json.loads((out / "report.json").read_text()) == doc
    assert html == render_html(report)
    assert "Why did winback campaign WB call leavers?" in html
    assert '<span class="overdue">overdue since today</span>' in html
    assert "answered on time" in html
    assert f"{alfa['rejection_rate'] * 100:.1f} %" in html
    assert checkpoint["note"].splitlines()[2] in html


def test_without_a_retail_file_the_report_says_so(world: World, alpha: Operator) -> None:
    world.clock.at = NOV2
    alpha.order(provide("22334455"))
    world.process()
    report = build_report(world.services.wall, None, "2026-11")
    doc = report.document
    assert doc["equivalence"]["retail"] is None
    assert "No retail baseline was supplied" in doc["equivalence"]["retail_note"]
    assert doc["equivalence"]["operators"]["alfatel"]["open"] == 1
    assert doc["checkpoint"] is None  # nothing signed yet, and no keeper to sign
    assert "No retail baseline was supplied" in render_html(report)
    assert not Path(world.tmp_path / "report.html").exists()
