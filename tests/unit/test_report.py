"""The compliance report's arithmetic and rendering, without a database: percentiles and
working days, the KPI tally, the retail and findings files, the SVG charts, and an HTML
page that holds exactly the JSON's figures and loads nothing from elsewhere."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from forvalg.compliance.report import BadPeriod, Report, parse_period, render_html, write_report
from forvalg.compliance.report.figures import Figures
from forvalg.compliance.report.findings import FindingsFileError, read_findings
from forvalg.compliance.report.kpis import kpi_block, rate
from forvalg.compliance.report.model import NO_RETAIL, document
from forvalg.compliance.report.retail import RetailFileError, read_retail_orders
from forvalg.compliance.report.svg import bar_chart, histogram, percentile_chart, scale
from forvalg.domain.access_activity import activity, principal_kind, reason_code
from forvalg.domain.calendar import WorkingCalendar
from forvalg.domain.equivalence import OrderOutcome, percentile, tally, working_days_between
from forvalg.sim.retail_orders import retail_rows, write_retail_orders

CAL = WorkingCalendar()
NOV = parse_period("2026-11")
T = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # Monday 2 November, 10:00 Oslo


def test_percentile_is_nearest_rank_over_a_histogram() -> None:
    hist = {8: 1, 10: 8, 12: 1}  # ten orders
    assert [percentile(hist, q) for q in (10, 50, 90, 100)] == [8, 10, 10, 12]
    assert percentile({5: 1}, 50) == 5
    assert percentile({}, 50) is None
    assert percentile({1: 9, 2: 1}, 90) == 1  # 90 % of 10 is 9, not 9.000000000000002
    with pytest.raises(ValueError, match="percentile"):
        percentile(hist, 0)


def test_working_days_skip_weekends_and_norwegian_holidays() -> None:
    assert working_days_between(CAL, date(2026, 11, 2), date(2026, 11, 16)) == 10
    assert working_days_between(CAL, date(2026, 11, 6), date(2026, 11, 9)) == 1  # Fri -> Mon
    # 17 May 2027 (Constitution Day) is a Monday: Friday 14 -> Tuesday 18 is one day.
    assert working_days_between(CAL, date(2027, 5, 14), date(2027, 5, 18)) == 1
    assert working_days_between(CAL, date(2026, 11, 9), date(2026, 11, 9)) == 0
    assert working_days_between(CAL, date(2026, 11, 9), date(2026, 11, 2)) == 0


def test_tally_counts_outcomes_the_way_the_kpis_need() -> None:
    due = CAL.due_date(T)  # 16 November
    on_time = CAL.switch_at(due)
    late = CAL.switch_at(CAL.add_working_days(due, 2))
    outcomes = [
        OrderOutcome("PROVIDE", "COMPLETED", None, T, on_time, due),
        OrderOutcome("TRANSFER", "COMPLETED", None, T, on_time, due),
        OrderOutcome("MODIFY", "COMPLETED", None, T, late, due),
        OrderOutcome("PROVIDE", "REJECTED", "E_POSTCODE_MISMATCH", T),
        OrderOutcome("PROVIDE", "REJECTED", "E_POSTCODE_MISMATCH", T),
        OrderOutcome("CANCEL_OTHER", "REJECTED", "E_TARGET_NOT_CANCELLABLE", T, cutoff_miss=True),
        OrderOutcome("CANCEL_OTHER", "COMPLETED", None, T, T),  # not a lead time
        OrderOutcome("PROVIDE", "CANCELLED", "C_CANCELLED_BY_OPERATOR", T),
        OrderOutcome("CEASE", "COMMITTED", None, T, None, due),
    ]
    counts = tally(outcomes, CAL)
    assert (counts.received, counts.completed, counts.open) == (9, 4, 1)
    assert (counts.rejected, counts.cancelled, counts.cutoff_misses) == (3, 1, 1)
    assert counts.rejections == Counter({"E_POSTCODE_MISMATCH": 2, "E_TARGET_NOT_CANCELLABLE": 1})
    assert counts.lead_days == Counter({10: 2, 12: 1})
    assert (counts.on_due_date, counts.before_due_date, counts.after_due_date) == (2, 0, 1)
    block = kpi_block(counts)
    assert block["rejection_rate"] == rate(3, 9) == 0.3333
    assert block["lead_time_working_days"] == {
        "measured": 3,
        "p10": 10,
        "p50": 10,
        "p90": 12,
        "mean": 10.67,
        "histogram": {"10": 2, "12": 1},
    }
    assert block["due_date"]["on_share"] == 0.6667
    assert block["cutoff_miss_rate"] == 0.5  # one of two cancel requests came too late
    assert kpi_block(tally([], CAL))["rejection_rate"] is None


def test_periods_are_oslo_calendar_months() -> None:
    assert (NOV.start, NOV.end) == (
        datetime(2026, 10, 31, 23, 0, tzinfo=UTC),
        datetime(2026, 11, 30, 23, 0, tzinfo=UTC),
    )
    assert parse_period("2026-12").end == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    assert parse_period("2027-03").end == datetime(2027, 3, 31, 22, 0, tzinfo=UTC)  # summer time
    for bad in ("2026-13", "2026-1", "26-11", "2026-11-01", "", "november"):
        with pytest.raises(BadPeriod, match="--period"):
            parse_period(bad)


def test_access_activity_counts_by_role_purpose_category_and_break_glass() -> None:
    def event(principal: str, role: str, decision: str, reason: str, **more: str) -> dict:
        return {
            "at": more.get("at", "2026-11-10T10:00:00+00:00"),
            "principal": principal,
            "roles": [role],
            "purpose": more.get("purpose", "provisioning"),
            "resource": more.get("resource", "cps.order"),
            "decision": decision,
            "reason": reason,
        }

    events = [
        event("user:u1", "wholesale_ops", "allow", "permit"),
        event("user:u1", "wholesale_ops", "allow", "permit; break-glass: line down, customer X"),
        event("user:u2", "retail_sales", "deny", "E_FORBIDDEN: no permit", purpose="sales"),
        event("system:order-processor", "order_processor", "allow", "permit"),
        event("user:u1", "wholesale_ops", "allow", "permit", at="2026-12-01T10:00:00+00:00"),
    ]
    found = activity(events, start=NOV.start, end=NOV.end)
    assert found.decisions == Counter({"allow": 3, "deny": 1})
    assert found.by_kind["staff"] == Counter({"allow": 2, "deny": 1})
    assert found.by_role["retail_sales"] == Counter({"deny": 1})
    assert found.by_purpose["sales"] == Counter({"deny": 1})
    assert found.denials == Counter({("E_FORBIDDEN", "retail_sales", "cps.order"): 1})
    (use,) = found.break_glass
    assert (use.principal, use.category) == ("user:u1", "cps.order")
    assert "customer X" not in repr(use)  # the justification stays in the ledger
    assert principal_kind("operator:alfatel") == "operator"
    assert principal_kind("anonymous") == "anonymous"
    assert reason_code(None) == "UNKNOWN"


RETAIL_HEADER = "order_id,type,received_at,due_date,completed_at,state,reason_code"


def _write(tmp_path: Path, *rows: str, header: str = RETAIL_HEADER) -> Path:
    path = tmp_path / "retail.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_the_retail_file_is_read_whole_and_only_the_period_counts(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "r1,PROVIDE,2026-11-02T09:00:00Z,2026-11-16,2026-11-15T23:00:00Z,COMPLETED,",
        "r2,PROVIDE,2026-11-03T09:00:00Z,,,REJECTED,E_LINE_UNKNOWN",
        "r3,PROVIDE,2026-10-30T09:00:00Z,2026-11-13,2026-11-12T23:00:00Z,COMPLETED,",
    )
    found = read_retail_orders(path, NOV)
    assert (found.rows, len(found.outcomes)) == (3, 2)
    counts = tally(found.outcomes, CAL)
    assert (counts.completed, counts.rejected, counts.lead_days) == (1, 1, Counter({10: 1}))


@pytest.mark.parametrize(
    ("row", "where"),
    [
        ("r1,PROVIDE,yesterday,,,REJECTED,E_X", "row 2, field received_at"),
        ("r1,PROVIDE,2026-11-02T09:00:00,,,REJECTED,E_X", "row 2, field received_at"),
        ("r1,PORT,2026-11-02T09:00:00Z,,,REJECTED,E_X", "row 2, field type"),
        ("r1,PROVIDE,2026-11-02T09:00:00Z,,,DONE,", "row 2, field state"),
        ("r1,PROVIDE,2026-11-02T09:00:00Z,,,REJECTED,", "row 2, field reason_code"),
        ("r1,PROVIDE,2026-11-02T09:00:00Z,2026-11-16,,COMPLETED,", "row 2, field completed_at"),
        ("r1,PROVIDE,2026-11-02T09:00:00Z,16.11.2026,,CANCELLED,", "row 2, field due_date"),
        ("r1,PROVIDE,2026-11-02T09:00:00Z,,,REJECTED", "row 2: expected 7 fields"),
    ],
)
def test_a_bad_retail_row_names_file_row_and_field(tmp_path: Path, row: str, where: str) -> None:
    good = "r0,PROVIDE,2026-11-02T09:00:00Z,,,REJECTED,E_X"
    path = _write(tmp_path, good.replace("r0", "r9"), row)
    where = where.replace("row 2", "row 3")
    with pytest.raises(RetailFileError) as caught:
        read_retail_orders(path, NOV)
    assert str(caught.value).startswith(f"{path}: {where}")


def test_a_retail_file_without_its_columns_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RetailFileError, match="row 1: missing column"):
        read_retail_orders(_write(tmp_path, header="order_id,type"), NOV)
    row = "r1,PROVIDE,2026-11-02T09:00:00Z,,,REJECTED,E_X"
    twice = _write(tmp_path, row, row)
    with pytest.raises(RetailFileError, match="appears twice"):
        read_retail_orders(twice, NOV)


def test_the_generated_retail_file_reads_back_with_plausible_kpis(tmp_path: Path) -> None:
    path = write_retail_orders(tmp_path / "r.csv", "2026-11", 500, seed=3)
    found = read_retail_orders(path, NOV)
    assert len(found.outcomes) == 500
    block = kpi_block(tally(found.outcomes, CAL))
    assert block["lead_time_working_days"]["p50"] == CAL.rules.lead_working_days
    assert 0.01 < block["rejection_rate"] < 0.12
    assert 0.8 < block["due_date"]["on_share"] < 0.98
    assert retail_rows("2026-11", 50, seed=3) == retail_rows("2026-11", 50, seed=3)


def test_findings_are_summarised_and_a_bad_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "findings.json"
    items = [
        {"id": "f1", "detector": "targeting", "severity": "high", "summary": "WB aims"},
        {"id": "f2", "detector": "timing", "severity": "low", "summary": "meh"},
    ]
    path.write_text(json.dumps({"generated_at": "2026-11-20T00:00:00Z", "findings": items}))
    found = read_findings(path)
    assert (found.total, found.by_severity, [f.id for f in found.serious]) == (
        2,
        {"low": 1, "high": 1},
        ["f1"],
    )
    path.write_text(
        json.dumps({"findings": [{"id": "f1", "detector": "x", "severity": "low", "summary": "s"}]})
    )
    with pytest.raises(FindingsFileError, match=r"findings\[0\], field detector"):
        read_findings(path)
    path.write_text("{not json")
    with pytest.raises(FindingsFileError, match="not a JSON document"):
        read_findings(path)


def test_the_examined_subjects_say_who_was_flagged_and_who_was_not(tmp_path: Path) -> None:
    """With `examined` (whom the run looked at), the report names the clean subjects too:
    a campaign without a finding of medium or above is shown as not flagged."""
    path = tmp_path / "findings.json"
    items = [
        {"id": "f1", "detector": "targeting", "severity": "high", "summary": "WB aims",
         "subject": {"campaign_id": "WB"}},
        {"id": "f2", "detector": "honey_line", "severity": "critical", "summary": "WB honey",
         "subject": {"campaign_id": "WB"}},
        {"id": "f3", "detector": "timing", "severity": "low", "summary": "TEN early once",
         "subject": {"campaign_id": "TEN"}},
        {"id": "f4", "detector": "access", "severity": "medium", "summary": "curious",
         "subject": {"principal": "user:u1"}},
    ]  # fmt: skip
    examined = {
        "campaign_id": ["RET", "TEN", "WB"],
        "agent_id": [f"A{i:03d}" for i in range(60)],
        "principal": ["user:u1", "user:u2"],
    }
    document = {"generated_at": "2026-11-20T00:00:00Z", "findings": items, "examined": examined}
    path.write_text(json.dumps(document))
    found = {v.kind: v for v in read_findings(path).verdicts}
    assert found["campaign_id"].flagged == (("WB", "critical"),)
    assert found["campaign_id"].not_flagged == ("RET", "TEN")  # low is not flagged
    assert found["principal"].flagged == (("user:u1", "medium"),)
    agents = found["agent_id"]
    assert (agents.examined, agents.not_flagged_count, len(agents.not_flagged)) == (60, 60, 50)
    document["examined"] = {"campaign_id": "WB"}
    path.write_text(json.dumps(document))
    with pytest.raises(FindingsFileError, match=r"field examined.campaign_id"):
        read_findings(path)
    # Without `examined` (an older file) there is nothing to say about clean subjects.
    del document["examined"]
    path.write_text(json.dumps(document))
    assert read_findings(path).verdicts == ()


def test_charts_scale_to_the_largest_value_and_carry_a_title() -> None:
    assert scale(5, 10, 200) == 100
    assert scale(3, 0, 200) == 0
    chart = bar_chart("Rejection rate", [("alfatel", 5.0), ("retail", 10.0)], unit=" %")
    assert chart.startswith('<svg role="img"')
    assert "<title>Rejection rate</title>" in chart
    widths = [float(w) for w in re.findall(r'<rect x="\d+" y="[\d.]+" width="([\d.]+)"', chart)]
    assert widths[1] == pytest.approx(2 * widths[0])
    assert "alfatel: 5 %" in chart  # the <desc> says the numbers
    assert "<title>&lt;b&gt;</title>" in histogram("<b>", [(10, 3)], axis="days")
    assert "no completed orders" in percentile_chart("x", [("a", None, None, None)], unit="d")


class _Resources(HTMLParser):
    """Every URL-like attribute and every <script>/<link>/<img> in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in {"src", "href", "srcset", "action", "data", "xlink:href", "poster"}:
                self.urls.append(value or "")


def external_resources(html: str) -> list[str]:
    """What the page would load from elsewhere (empty for a self-contained page)."""
    parser = _Resources()
    parser.feed(html)
    found = [u for u in parser.urls if not u.startswith("#")]
    found += [t for t in parser.tags if t in {"script", "link", "img", "iframe", "object"}]
    found += re.findall(r"@import|url\(", html)
    return found


def sample_report(retail: bool = True) -> Report:
    from forvalg.compliance.report.retail import RetailOrders
    from forvalg.domain.equivalence import KpiTally

    counts = KpiTally()
    for _ in range(4):
        counts.add(
            OrderOutcome(
                "PROVIDE", "COMPLETED", None, T, CAL.switch_at(CAL.due_date(T)), CAL.due_date(T)
            ),
            CAL,
        )
    counts.add(OrderOutcome("PROVIDE", "REJECTED", "E_LINE_UNKNOWN", T), CAL)
    baseline = RetailOrders("r.csv", "0" * 64, 1, (OrderOutcome("PROVIDE", "REJECTED", "E_X", T),))
    figures = Figures(
        {"alfatel": counts, "<script>": KpiTally()},
        activity([], start=NOV.start, end=NOV.end),
        [],
        [],
        [],
        [],
        None,
    )
    return Report(
        document(
            figures,
            NOV,
            generated_at=T,
            calendar=CAL,
            checkpoint="forvalg.local/ledger\n12\nq83vEtX8dZ8=\n\n— forvalg.local/ledger abc=\n",
            retail=baseline if retail else None,
        )
    )


def test_the_page_is_rendered_from_the_json_and_loads_nothing(tmp_path: Path) -> None:
    report = sample_report()
    written = write_report(report, tmp_path / "out")
    assert [p.name for p in written] == ["report.html", "report.json"]
    assert not list((tmp_path / "out").glob(".*partial"))
    html = (tmp_path / "out" / "report.html").read_text()
    assert html == render_html(report)
    assert json.loads((tmp_path / "out" / "report.json").read_text()) == report.document
    assert external_resources(html) == []
    alfatel = report.document["equivalence"]["operators"]["alfatel"]
    assert alfatel["rejection_rate"] == 0.2
    assert "20.0 %" in html  # the same rate, as the page shows it
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "12</strong> entries" in html
    assert "forvalg-verify --key ledger-export/key.pub" in html
    without = render_html(sample_report(retail=False))
    assert NO_RETAIL in without


def test_the_checker_would_catch_an_external_resource() -> None:
    page = '<img src="http://x/y.png"><a href="https://cdn/x.css">x</a><style>@import "a";</style>'
    assert len(external_resources(page)) == 4
    assert external_resources('<a href="#access">x</a><svg role="img"></svg>') == []
