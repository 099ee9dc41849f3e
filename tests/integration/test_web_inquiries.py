"""The inquiry pages over HTTP (the ASGI client), on SQLite and PostgreSQL: the
regulator opens an inquiry and sees it due; compliance sees it among the deadlines,
answers it from the page as the officer (CSRF required); the regulator sees it answered
on time, downloads the stored zip (which `forvalg-verify bundle` verifies, a subprocess
as the regulator runs it) and reads the report inside it. Other roles get nothing."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from forvalg.domain.inquiries import DeadlineState
from forvalg.wall.principals import INQUIRY_CLERK

from ..conftest import LEDGER_SIGNER
from .test_inquiries import verify
from .test_web_pages import csrf, post_form, signed_in
from .test_web_staff_pages import _officer
from .world import T0, Operator, TestClient, World, provide

LINE = "22334455"
QUESTION = "Who read line 22334455 in November 2026, and why?"


def _regulator(world: World) -> tuple[TestClient, str]:
    """The regulator signed in, with an inquiry opened on the start page."""
    client = signed_in(world, world.services.users.add("Nkom", "regulator").token)
    fields = {"question": QUESTION, "period": "2026-11", "deadline": "2026-12-31"}
    opened = post_form(client, "/regulator", "/regulator/inquiries", **fields)
    assert opened.status_code == 303, opened.text
    item = parse_qs(urlparse(opened.headers["location"]).query)["work_item"][0]
    assert re.fullmatch(r"INQ-[0-9a-f]{12}", item)
    return client, item


def _row(html: str, item: str) -> str:
    found = re.search(rf'<tr id="{item}"[^>]*>(.*?)</tr>', html, re.S)
    assert found, html
    return found.group(0)


@pytest.fixture
def busy(world: World, alpha: Operator) -> None:
    alpha.order(provide(LINE))
    world.process()


def test_compliance_answers_and_the_regulator_verifies(
    world: World, busy: None, tmp_path: Path
) -> None:
    regulator, item = _regulator(world)
    listed = regulator.get(f"/regulator/inquiries?work_item={item}")
    assert listed.status_code == 200
    row = _row(listed.text, item)
    assert QUESTION in row
    assert "2026-11" in row
    assert "deadline-due" in row
    assert "due in 38 days" in row  # 23 November to 31 December, in Oslo days
    assert "Not answered yet." in row
    assert "forvalg-verify bundle FILE.zip --key key.pub" in listed.text
    assert regulator.get(f"/regulator/inquiries/{item}/bundle").status_code == 404
    assert regulator.get(f"/regulator/inquiries/{item}/report").status_code == 404

    officer, audit = _officer(world)
    start = officer.get(f"/compliance?work_item={audit}")
    assert start.status_code == 200
    deadlines = start.text.split('id="deadlines"', 1)[1]
    assert item in deadlines
    assert "due in 38 days" in deadlines
    page_url = f"/compliance/inquiries?work_item={audit}"
    shown = officer.get(page_url)
    assert "Answer with an evidence bundle" in _row(shown.text, item)
    answer_url = f"/compliance/inquiries/{item}/answer?work_item={audit}"
    # Without the form's token nothing is answered.
    refused = officer.post(answer_url, data={}, follow_redirects=False)
    assert refused.status_code == 403
    assert "Form refused" in refused.text
    assert world.services.inquiries.list(INQUIRY_CLERK)[0].answers == ()

    before = world.last_log_seq()
    answered = post_form(officer, page_url, answer_url)
    assert answered.status_code == 303, answered.text
    after = officer.get(answered.headers["location"])
    assert 'id="answered"' in after.text
    assert "answered on time" in _row(after.text, item)
    assert "Answer again" in _row(after.text, item)
    (view,) = world.services.inquiries.list(INQUIRY_CLERK)
    assert view.deadline.state is DeadlineState.ANSWERED_ON_TIME
    (answer,) = view.answers
    officer_id = next(e["principal"] for e in world.access_log(before) if e["work_item"] == item)
    assert officer_id.startswith("user:")
    assert answer.answered_by == officer_id  # the officer answered as themselves
    recorded = [
        e
        for e in world.access_log(before)
        if e["action"] == "write" and e["resource"] == "work.item" and e["work_item"] == item
    ]
    assert [(e["principal"], e["purpose"]) for e in recorded] == [(officer_id, "compliance_audit")]
    start = officer.get(f"/compliance?work_item={audit}")
    assert item not in start.text.split('id="deadlines"', 1)[1]

    listed = regulator.get(f"/regulator/inquiries?work_item={item}")
    row = _row(listed.text, item)
    assert "answered on time" in row
    assert officer_id in row
    assert f"checkpoint size {answer.tree_size}" in row
    assert f"{answer.entry_count} entries" in row
    assert f'href="/regulator/inquiries/{item}/bundle"' in row
    assert f'href="/regulator/inquiries/{item}/report"' in row
    own = regulator.get(f"/regulator/inquiries/{item}")
    assert "answered on time" in own.text
    assert f'href="/regulator/inquiries/{item}/bundle"' in own.text

    # The download is the stored zip, and it verifies offline with the log's key.
    download = regulator.get(f"/regulator/inquiries/{item}/bundle")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    assert f'filename="{item}.zip"' in download.headers["content-disposition"]
    _, stored = world.services.inquiries.bundle(INQUIRY_CLERK, item)
    assert download.content == stored
    assert hashlib.sha256(download.content).hexdigest() == answer.bundle_sha256
    (tmp_path / "b.zip").write_bytes(download.content)
    (tmp_path / "key.pub").write_text(str(LEDGER_SIGNER.verifier) + "\n")
    checked = verify(tmp_path / "b.zip", "--key", tmp_path / "key.pub")
    assert checked.returncode == 0, checked.stderr
    assert f"OK: evidence bundle for {item}" in checked.stdout

    # The report view is the bundled report.html, byte for byte, boxed in.
    report = regulator.get(f"/regulator/inquiries/{item}/report")
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in report.headers["content-security-policy"]
    with zipfile.ZipFile(io.BytesIO(stored)) as zf:
        assert report.content == zf.read("report/report.html")
    assert "2026-11" in report.text
    assert officer.get(f"/compliance/inquiries/{item}/bundle").content == stored
    assert officer.get(f"/compliance/inquiries/{item}/report").content == report.content


def test_overdue_inquiries_come_first_and_stand_out(world: World) -> None:
    desk = world.services.inquiries
    later = desk.open(
        question="Later question", period="2026-11", due_at=T0 + timedelta(days=9), by="Nkom"
    )
    late = desk.open(
        question="Overdue question", period="2026-10", due_at=T0 + timedelta(hours=1), by="Nkom"
    )
    world.clock.at = T0 + timedelta(days=2)  # the second's deadline passed two days ago
    officer, audit = _officer(world)
    shown = officer.get(f"/compliance/inquiries?work_item={audit}")
    assert shown.text.index(late.id) < shown.text.index(later.id)
    assert 'class="overdue"' in _row(shown.text, late.id)
    assert "overdue by 2 days" in _row(shown.text, late.id)
    assert "overdue" not in _row(shown.text, later.id).replace("deadline-due", "")
    deadlines = officer.get(f"/compliance?work_item={audit}").text.split('id="deadlines"')[1]
    assert deadlines.index(late.id) < deadlines.index(later.id)


def test_other_roles_get_nothing(world: World, alpha: Operator, busy: None) -> None:
    desk = world.services.inquiries
    item = desk.open(question=QUESTION, period="2026-11", due_at=T0 + timedelta(days=9), by="Nkom")
    desk.answer(item.id, out=world.tmp_path / "a.zip", by="Kari Nordmann")
    reader = signed_in(world, world.services.users.add("Nkom", "regulator").token)
    assert reader.get(f"/regulator/inquiries/{item.id}/bundle").status_code == 200

    staff = [world.services.users.add(*who).token for who in (("Kari", "wholesale_ops"),)]
    staff.append(world.services.users.add("Per", "retail_sales").token)
    for credential in (*staff, alpha.token):
        client = signed_in(world, credential)
        for url in (
            f"/regulator/inquiries/{item.id}/bundle",
            f"/regulator/inquiries/{item.id}/report",
            f"/compliance/inquiries/{item.id}/bundle",
            f"/compliance/inquiries/{item.id}/report",
        ):
            response = client.get(url)
            assert response.status_code == 404, (credential[:4], url)
            assert response.headers["content-type"].startswith("text/html")
            assert QUESTION not in response.text
        for url in (
            f"/regulator/inquiries?work_item={item.id}",
            f"/regulator/inquiries/{item.id}",
            f"/compliance/inquiries?work_item={item.id}",
        ):
            response = client.get(url)
            assert response.status_code == 403, (credential[:4], url)
            assert QUESTION not in response.text
        token = csrf(client.get("/nothing").text)  # any page: the sign-out form
        posted = client.post(
            f"/compliance/inquiries/{item.id}/answer?work_item={item.id}",
            data={"csrf": token},
            follow_redirects=False,
        )
        assert posted.status_code in (403, 404), (credential[:4], posted.text)
    assert len(desk.list(INQUIRY_CLERK)[0].answers) == 1  # nobody else answered
