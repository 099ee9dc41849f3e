"""The compliance and regulator pages over HTTP (the ASGI client), on SQLite and
PostgreSQL: the officer opens an audit, finds an incident with its finding, history and
verified evidence and moves it; searches the access log; the regulator opens an
inquiry, reads the checkpoint and proves consistency, and sees only reported incidents.
The wall decides for the pages exactly as for the API."""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs, urlparse

import pytest

from forvalg.compliance.detectors.findings import Finding
from forvalg.domain.incidents import IncidentState
from forvalg.domain.statistics import Severity
from forvalg.wall.principals import INCIDENT_CLERK
from forvalg.wall.pseudonyms import Pseudonymiser

from ..conftest import PSEUDONYM_KEY
from .test_web_pages import post_form, signed_in
from .world import Operator, TestClient, World, provide

LINE = "22334455"


def _incident(world: World, *, reported: bool = False) -> str:
    finding = Finding(
        id=f"targeting-{uuid.uuid4().hex[:16]}",
        detector="targeting",
        severity=Severity.HIGH,
        subject={"campaign_id": "WB"},
        summary="Campaign WB contacted lines after a CPS event 3.6 times as often.",
        statistics={"p_value": 1e-9, "lift": 3.6, "n": 120},
        evidence={"entry_indices": [0, 1]},
    )
    desk = world.services.incidents
    (incident,) = desk.open_from_findings([finding]).opened.values()
    if reported:
        for to in (IncidentState.INVESTIGATING, IncidentState.REPORTED):
            desk.move(INCIDENT_CLERK, incident, to, by="test")
    return incident


def _officer(world: World) -> tuple[TestClient, str]:
    """A compliance officer signed in who opened an audit through the start page."""
    client = signed_in(world, world.services.users.add("Ola", "compliance_officer").token)
    sent = client.get("/compliance/incidents", follow_redirects=False)
    assert sent.status_code == 303
    assert sent.headers["location"] == "/compliance?next=%2Fcompliance%2Fincidents"
    opened = post_form(client, "/compliance", "/compliance/audits", summary="winback check")
    assert opened.status_code == 303, opened.text
    audit = parse_qs(urlparse(opened.headers["location"]).query)["work_item"][0]
    assert re.fullmatch(r"AUD-[0-9a-f]{12}", audit)
    return client, audit


@pytest.fixture
def busy(world: World, alpha: Operator) -> None:
    alpha.order(provide(LINE))
    world.process()
    world.services.keeper.checkpoint()


def test_the_officer_finds_an_incident_and_moves_it(world: World, busy: None) -> None:
    incident = _incident(world)
    client, audit = _officer(world)
    listed = client.get(f"/compliance/incidents?work_item={audit}")
    assert listed.status_code == 200
    assert incident in listed.text
    assert "targeting" in listed.text
    reported = client.get(f"/compliance/incidents?work_item={audit}&state=reported")
    assert incident not in reported.text
    findings = client.get(f"/compliance/findings?work_item={audit}")
    assert "lift = 3.6" in findings.text
    assert "targeting" in findings.text

    url = f"/compliance/incidents/{incident}?work_item={audit}"
    shown = client.get(url)
    assert shown.status_code == 200
    assert shown.text.count(">verified</span>") == 2  # both ledger entries, proven
    assert 'id="incident-state"><span class="state">open' in shown.text
    moved = post_form(
        client, url, f"/compliance/incidents/{incident}/move?work_item={audit}", to="investigating"
    )
    assert moved.status_code == 303
    after = client.get(moved.headers["location"])
    assert 'id="incident-state"><span class="state">investigating' in after.text
    assert "user:" in after.text  # the history names the officer
    # Closing without a note changes nothing and says why.
    refused = post_form(
        client, url, f"/compliance/incidents/{incident}/move?work_item={audit}", to="closed"
    )
    page = client.get(refused.headers["location"])
    assert "Not moved: closing incident" in page.text
    assert world.services.incidents.show(INCIDENT_CLERK, incident).incident.state == (
        IncidentState.INVESTIGATING
    )
    assert client.get(f"/compliance/incidents/INC-000000000000?work_item={audit}").status_code == (
        404
    )


def test_the_officer_searches_the_access_log_for_a_line(world: World, busy: None) -> None:
    client, audit = _officer(world)
    before = world.last_log_seq()
    found = client.get(f"/compliance/access-log?work_item={audit}&line={LINE}&run=1")
    assert found.status_code == 200
    assert 'id="results"' in found.text
    assert "operator:alfatel" in found.text
    assert "system:order-processor" in found.text
    (search,) = [e for e in world.access_log(before) if e["resource"] == "ledger.access"]
    assert search["subjects"] == [Pseudonymiser(PSEUDONYM_KEY).pseudonym(LINE)]
    assert (search["purpose"], search["work_item"]) == ("compliance_audit", audit)
    bad = client.get(f"/compliance/access-log?work_item={audit}&line=123&run=1")
    assert bad.status_code == 422
    assert "Not searched: line: must be an 8-digit national number" in bad.text
    empty = client.get(f"/compliance/access-log?work_item={audit}&principal=user:nobody")
    assert "Nothing matches." in empty.text
    alerts = client.get(f"/compliance/alerts?work_item={audit}")
    assert alerts.status_code == 200


def test_the_regulator_reads_the_checkpoint_and_opens_an_inquiry(world: World, busy: None) -> None:
    hidden, shown = _incident(world), _incident(world, reported=True)
    client = signed_in(world, world.services.users.add("Nkom", "regulator").token)
    fields = {"question": "Who read line 22334455?", "period": "2026-11", "deadline": ""}
    incomplete = post_form(client, "/regulator", "/regulator/inquiries", **fields)
    assert incomplete.status_code == 422
    assert "a date, YYYY-MM-DD" in incomplete.text
    fields["deadline"] = "2026-12-31"
    opened = post_form(client, "/regulator", "/regulator/inquiries", **fields)
    assert opened.status_code == 303, opened.text
    inquiry = client.get(opened.headers["location"])
    assert "Who read line 22334455?" in inquiry.text
    assert "2026-12-31" in inquiry.text
    item = parse_qs(urlparse(opened.headers["location"]).query)["work_item"][0]

    log = client.get(f"/regulator/log?work_item={item}")
    assert log.status_code == 200
    note = re.search(r'<pre class="note" id="note">(.*?)</pre>', log.text, re.S)
    assert note
    assert "forvalg.local/ledger" in note.group(1)
    assert str(world.services.keeper.verifier) in log.text
    old = re.search(r'<option value="(\d+)"', log.text)
    assert old
    proved = client.get(f"/regulator/log?work_item={item}&from={old.group(1)}")
    assert '<strong class="ok">Consistent.</strong>' in proved.text
    forged = note.group(1).replace("forvalg.local/ledger\n", "forvalg.local/ledger\n1", 1)
    refused = client.get("/regulator/log", params={"work_item": item, "previous": forged})
    assert "does not verify" in refused.text

    incidents = client.get(f"/regulator/incidents?work_item={item}")
    assert shown in incidents.text
    assert hidden not in incidents.text
    assert client.get(f"/regulator/incidents/{hidden}?work_item={item}").status_code == 404
    # Compliance's pages are not the regulator's: the wall refuses them, ledgered.
    denied = client.get(f"/compliance/access-log?work_item={item}&line={LINE}")
    assert denied.status_code == 403
    assert "E_FORBIDDEN" in denied.text


def test_wholesale_staff_get_nothing_from_these_pages(world: World, busy: None) -> None:
    client = signed_in(world, world.services.users.add("Kari", "wholesale_ops").token)
    for url in (
        "/regulator/log?work_item=AUD-0123456789ab",
        "/compliance/incidents?work_item=AUD-0123456789ab",
        f"/compliance/access-log?work_item=AUD-0123456789ab&line={LINE}",
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert LINE not in response.text.split("<main", 1)[1].split("</form>")[-1]
