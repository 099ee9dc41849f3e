"""Compliance and the regulator in a real browser: the officer opens an audit, finds an
incident and moves it, and searches the access log for a line; the regulator opens an
inquiry, sees the signed checkpoint and proves the log only grew."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

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
