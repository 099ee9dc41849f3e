"""Compliance and the regulator in a real browser: the officer opens an audit, finds an
incident and moves it, and searches the access log for a line; the regulator opens an
inquiry, sees the signed checkpoint and proves the log only grew; compliance answers an
inquiry from its page, and the regulator sees it answered, downloads the bundle (which
`forvalg-verify` checks) and reads the report in it."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Browser, Page, expect

from forvalg.bootstrap import Services, bootstrap
from forvalg.compliance.detectors.findings import Finding
from forvalg.domain.incidents import IncidentState
from forvalg.domain.statistics import Severity
from forvalg.settings import Settings
from forvalg.wall.principals import INCIDENT_CLERK

from .conftest import Site, screenshot, sign_in

LINE = "22334455"


@pytest.fixture
def services(site: Site) -> Iterator[Services]:
    """The served site's services, opened beside the server (same database and keys)."""
    settings = Settings(
        database_url=f"sqlite:///{site.database}", key_dir=site.cli.cwd / ".forvalg"
    )
    opened = bootstrap(settings)
    yield opened
    opened.close()


def _incident(services: Services, *, reported: bool = False) -> str:
    finding = Finding(
        id=f"targeting-{uuid.uuid4().hex[:16]}",
        detector="targeting",
        severity=Severity.HIGH,
        subject={"campaign_id": "WINBACK-11"},
        summary="Campaign WINBACK-11 contacted lines after a CPS event 3.6 times as often.",
        statistics={"p_value": 1e-9, "lift": 3.6, "n": 120},
        evidence={"entry_indices": [0, 1]},
    )
    (incident,) = services.incidents.open_from_findings([finding]).opened.values()
    if reported:
        for to in (IncidentState.INVESTIGATING, IncidentState.REPORTED):
            services.incidents.move(INCIDENT_CLERK, incident, to, by="browser test")
    return incident


def _open_audit(page: Page, site: Site) -> None:
    sign_in(page, site, site.token("compliance_officer"))
    expect(page.get_by_role("heading", name="Compliance")).to_be_visible()
    page.get_by_label("What the audit is for").fill("winback campaigns, November")
    page.get_by_role("button", name="Open audit").click()
    expect(page.get_by_role("heading", name="Incidents")).to_be_visible()


def test_the_officer_finds_an_incident_and_moves_it(
    page: Page, site: Site, services: Services
) -> None:
    incident = _incident(services)
    _open_audit(page, site)
    page.get_by_label("State").select_option("open")
    page.get_by_role("button", name="Filter").click()
    screenshot(page, "compliance-incidents")
    page.get_by_role("link", name=incident).click()
    expect(page.get_by_role("heading", name=f"Incident {incident}")).to_be_visible()
    expect(page.locator("#incident-state")).to_have_text("open")
    expect(page.get_by_text("verified", exact=True)).to_have_count(2)
    screenshot(page, "compliance-incident")

    page.get_by_label("To", exact=True).select_option("investigating")
    page.get_by_label("Note (required to close)").fill("asking retail for the campaign brief")
    page.get_by_role("button", name="Move").click()
    expect(page.locator("#incident-state")).to_have_text("investigating")
    expect(page.get_by_role("cell", name="asking retail for the campaign brief")).to_be_visible()

    page.get_by_role("link", name="Findings").click()
    expect(page.get_by_role("cell", name="lift = 3.6")).to_have_count(1)


def test_the_officer_searches_the_access_log_for_a_line(page: Page, site: Site) -> None:
    _open_audit(page, site)
    page.get_by_role("link", name="Access log").click()
    page.get_by_label("Line (8-digit number)").fill(LINE)
    page.get_by_role("button", name="Search").click()
    results = page.locator("#results")
    expect(results).to_be_visible()
    # The inventory import touched the line (a bulk decision, found by the subject index).
    expect(results.get_by_role("cell", name="system:wholesale-admin")).not_to_have_count(0)
    screenshot(page, "compliance-access-log")

    page.get_by_label("Line (8-digit number)").fill("2233")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("alert")).to_contain_text("line: must be an 8-digit national number")


def test_the_regulator_sees_the_checkpoint_and_opens_an_inquiry(
    page: Page, site: Site, services: Services
) -> None:
    shown = _incident(services, reported=True)
    sign_in(page, site, site.token("regulator"))
    expect(page.get_by_role("heading", name="Regulator")).to_be_visible()
    deadline = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    page.get_by_label("Question").fill(f"Who read line {LINE}, and why?")
    page.get_by_label("Period (YYYY-MM)").fill("2026-11")
    page.get_by_label("Answer by (date)").fill(deadline)
    page.get_by_role("button", name="Open inquiry").click()
    expect(page.locator("#question")).to_have_text(f"Who read line {LINE}, and why?")
    screenshot(page, "regulator-inquiry")

    page.get_by_role("link", name="The ledger").click()
    expect(page.locator("#note")).to_contain_text("forvalg.local/ledger")
    expect(page.locator("#key")).to_contain_text("forvalg.local/ledger+")
    # The oldest checkpoint listed: signed at the first read, before the inquiry's.
    oldest = page.locator("#from option").count() - 1
    assert oldest >= 2
    page.get_by_label("From a checkpoint signed before").select_option(index=oldest)
    page.get_by_role("button", name="Prove consistency to now").click()
    expect(page.locator("#consistency-result")).to_contain_text("Consistent.")
    expect(page.locator("#consistency-result li")).not_to_have_count(0)  # a real proof
    screenshot(page, "regulator-ledger")

    page.get_by_role("link", name="Reported incidents").click()
    expect(page.get_by_role("link", name=shown)).to_be_visible()
    screenshot(page, "regulator-incidents")


def test_compliance_answers_an_inquiry_and_the_regulator_reads_the_report(
    page: Page, browser: Browser, site: Site, tmp_path: Path
) -> None:
    sign_in(page, site, site.token("regulator"))
    deadline = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    period = datetime.now(UTC).strftime("%Y-%m")
    page.get_by_label("Question").fill(f"Who read CPS data on line {LINE} this month, and why?")
    page.get_by_label("Period (YYYY-MM)").fill(period)
    page.get_by_label("Answer by (date)").fill(deadline)
    page.get_by_role("button", name="Open inquiry").click()
    item = parse_qs(urlparse(page.url).query)["work_item"][0]
    expect(page.locator("#status")).to_have_text("due in 10 days")
    page.get_by_role("navigation", name="Regulator").get_by_role(
        "link", name="Inquiries and answers"
    ).click()
    row = page.locator(f"tr#{item}")
    expect(row).to_contain_text("Not answered yet.")

    officer = browser.new_context(viewport={"width": 1200, "height": 800})
    officer.set_default_timeout(30_000)
    desk = officer.new_page()
    _open_audit(desk, site)
    audit_nav = desk.get_by_role("navigation", name="Compliance")
    audit_nav.get_by_role("link", name="Deadlines").click()
    expect(desk.locator("#deadlines + table")).to_contain_text(item)
    audit_nav.get_by_role("link", name="Inquiries").click()
    expect(desk.get_by_role("heading", name="Inquiries")).to_be_visible()
    answering = desk.locator(f"tr#{item}")
    expect(answering).to_contain_text("due in 10 days")
    answering.get_by_role("button", name="Answer with an evidence bundle").click()
    expect(desk.locator("#answered")).to_contain_text(f"Answered {item}")
    expect(desk.locator(f"tr#{item}")).to_contain_text("answered on time")
    expect(desk.locator(f"tr#{item}")).to_contain_text("user:")
    screenshot(desk, "compliance-inquiries")
    officer.close()

    page.reload()
    row = page.locator(f"tr#{item}")
    expect(row).to_contain_text("answered on time")
    expect(row.get_by_role("link", name="Download the bundle")).to_be_visible()
    screenshot(page, "regulator-inquiries")
    with page.expect_download() as downloading:
        row.get_by_role("link", name="Download the bundle").click()
    bundle = tmp_path / f"{item}.zip"
    downloading.value.save_as(bundle)
    page.get_by_role("link", name="the ledger page").click()
    key = tmp_path / "key.pub"
    key.write_text(page.locator("#key").inner_text().strip() + "\n")
    checked = subprocess.run(
        [sys.executable, "-m", "forvalg.ledger.verify", "bundle", str(bundle), "--key", str(key)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert f"OK: evidence bundle for {item}" in checked.stdout

    page.get_by_role("navigation", name="Regulator").get_by_role(
        "link", name="Inquiries and answers"
    ).click()
    page.locator(f"tr#{item}").get_by_role("link", name="View the report in it").click()
    expect(page.get_by_role("heading", name=f"Compliance report, {period}")).to_be_visible()
    screenshot(page, "regulator-report")
