"""The web pages over HTTP (the ASGI client), on SQLite and PostgreSQL: the wall decides
for a page exactly as for the API, forms need the session's CSRF token, and a signed-out
visitor is sent to the sign-in form."""

from __future__ import annotations

import re
from typing import Any

import httpx

from forvalg.store import tables
from forvalg.web.sessions import SESSION_COOKIE

from .test_subscriber import code_for
from .world import AUTH, Operator, TestClient, World, provide

LINE = "22334455"


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def signed_in(world: World, credential: str) -> TestClient:
    """A browser-like client signed in through the form."""
    client = world.client()
    form = client.get("/signin")
    assert form.status_code == 200
    done = client.post(
        "/signin",
        data={"csrf": csrf(form.text), "credential": credential, "next": "/"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    assert SESSION_COOKIE in client.cookies
    return client


def post_form(client: TestClient, form_url: str, action: str, **fields: str) -> httpx.Response:
    """Fetch the page holding the form (for its CSRF token), then post it."""
    token = csrf(client.get(form_url).text)
    return client.post(action, data={"csrf": token, **fields}, follow_redirects=False)


def order_fields(number: str, **extra: str) -> dict[str, str]:
    return {
        "type": "PROVIDE",
        "number": number,
        "postcode": "0150",
        "option": "ALL",
        "auth_reference": AUTH["reference"],
        "auth_signed_at": AUTH["signed_at"],
        "auth_channel": AUTH["channel"],
        "idempotency_key": "form-key-1",
    } | extra


def test_a_signed_out_visitor_is_sent_to_sign_in(world: World) -> None:
    client = world.client()
    for path in ("/", "/operator/orders", "/operator/orders/o123", "/wholesale", "/subscriber"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == f"/signin?next={path}"
    forged = world.client()
    forged.cookies.set(SESSION_COOKIE, "not-a-sealed-cookie")
    assert forged.get("/operator/orders", follow_redirects=False).status_code == 303


def test_a_wrong_credential_is_a_ledgered_failed_sign_in(world: World) -> None:
    client = world.client()
    before = world.last_log_seq()
    refused = post_form(client, "/signin", "/signin", credential="fvg_k0123456789ab_wrong")
    assert refused.status_code == 401
    assert "Unknown or revoked key or token." in refused.text
    assert SESSION_COOKIE not in client.cookies
    denials = [e for e in world.access_log(before) if e["decision"] == "deny"]
    assert [e["work_item"] for e in denials] == ["api-key:k0123456789ab"]


def test_forms_without_the_session_csrf_token_are_refused(world: World, alpha: Operator) -> None:
    client = signed_in(world, alpha.token)
    bare = client.post("/operator/orders", data=order_fields(LINE), follow_redirects=False)
    assert bare.status_code == 403
    assert "Form refused" in bare.text
    other = signed_in(world, alpha.token)  # another session's token does not do either
    stolen = csrf(other.get("/operator/orders/new").text)
    crossed = client.post("/operator/orders", data={"csrf": stolen} | order_fields(LINE))
    assert crossed.status_code == 403
    assert world.count(tables.orders) == 0
    assert client.post("/signin", data={"credential": alpha.token}).status_code == 403


def test_an_operator_places_reads_and_cancels_an_order_through_the_forms(
    world: World, alpha: Operator
) -> None:
    client = signed_in(world, alpha.token)
    placed = post_form(client, "/operator/orders/new", "/operator/orders", **order_fields(LINE))
    assert placed.status_code == 303
    url = placed.headers["location"]
    order_id = url.rsplit("/", 1)[1]
    assert alpha.state(order_id)["state"] == "RECEIVED"  # the API sees the same order
    again = post_form(client, "/operator/orders/new", "/operator/orders", **order_fields(LINE))
    assert again.headers["location"] == url  # the form's idempotency key: one order
    page = client.get(url)
    assert page.status_code == 200
    assert 'id="order-state">RECEIVED<' in page.text
    listed = client.get("/operator/orders?state=RECEIVED")
    assert order_id in listed.text
    assert order_id not in client.get("/operator/orders?state=COMPLETED").text

    cancelled = post_form(client, url, f"{url}/cancel")
    assert cancelled.status_code == 303
    assert alpha.state(order_id)["state"] == "CANCELLED"
    assert 'id="order-state">CANCELLED<' in client.get(url).text


def test_a_bad_order_form_shows_each_error_by_its_field(world: World, alpha: Operator) -> None:
    client = signed_in(world, alpha.token)
    fields = order_fields("2233", postcode="15", auth_signed_at="", option="")
    refused = post_form(client, "/operator/orders/new", "/operator/orders", **fields)
    assert refused.status_code == 422
    errors = dict(re.findall(r'<p class="error" id="([a-z_]+)-error">([^<]+)</p>', refused.text))
    assert errors == {
        "number": "an 8-digit number, like 22334455",
        "postcode": "a 4-digit postcode, like 0150",
        "option": "required",
        "auth_signed_at": "required",
    }
    assert 'value="2233"' in refused.text  # what was typed stays
    assert world.count(tables.orders) == 0


def test_another_operators_order_is_a_404_page(
    world: World, alpha: Operator, beta: Operator
) -> None:
    theirs = beta.order(provide(LINE))
    client = signed_in(world, alpha.token)
    for response in (
        client.get(f"/operator/orders/{theirs['id']}"),
        post_form(client, "/operator/orders", f"/operator/orders/{theirs['id']}/cancel"),
    ):
        assert response.status_code == 404
        assert theirs["id"] in response.text
        assert LINE not in response.text
    assert beta.state(theirs["id"])["state"] == "RECEIVED"
    assert theirs["id"] not in client.get("/operator/orders").text


def _ticket(client: TestClient, *lines: str) -> str:
    opened = post_form(
        client, "/wholesale", "/wholesale/tickets", summary="no dial tone", lines=" ".join(lines)
    )
    assert opened.status_code == 303, opened.text
    location: str = opened.headers["location"]
    return location.rsplit("/", 1)[1].split("?")[0]


def test_staff_see_a_line_only_under_a_work_item_that_names_it(
    world: World, alpha: Operator
) -> None:
    alpha.order(provide(LINE))
    ops = world.add_staff("wholesale_ops")
    client = signed_in(world, ops.client.headers["Authorization"].split()[1])
    assert client.get("/", follow_redirects=False).headers["location"] == "/wholesale"

    bare = client.get(f"/wholesale/lines/{LINE}")
    assert bare.status_code == 403
    assert "E_PURPOSE_REQUIRED" in bare.text
    assert 'name="work_item"' in bare.text  # the "working on" form
    assert "0150" not in bare.text  # the line's postcode: no data

    ticket = _ticket(client, LINE)
    assert client.get(f"/wholesale/work-items/{ticket}").status_code == 403  # no purpose
    item = client.get(f"/wholesale/work-items/{ticket}?purpose=fault_repair")
    assert item.status_code == 200
    link = re.search(r'href="(/wholesale/lines/22334455\?[^"]+)"', item.text)
    assert link, item.text
    line = client.get(link.group(1).replace("&amp;", "&"))
    assert line.status_code == 200
    assert "0150" in line.text
    assert 'id="line-preselected">no<' in line.text

    other = _ticket(client, "22334466")
    mismatch = client.get(f"/wholesale/lines/{LINE}?purpose=fault_repair&work_item={other}")
    assert mismatch.status_code == 403
    assert "E_WORK_ITEM_MISMATCH" in mismatch.text
    assert "0150" not in mismatch.text


def test_retail_marketing_finds_nothing(world: World, alpha: Operator) -> None:
    order = alpha.order(provide(LINE))
    retail = world.add_staff("retail_marketing")
    client = signed_in(world, retail.client.headers["Authorization"].split()[1])
    assert client.get("/", follow_redirects=False).headers["location"] == "/nothing"
    assert "Nothing here for your role" in client.get("/nothing").text
    pages: dict[str, Any] = {
        "/operator/orders": 403,
        f"/operator/orders/{order['id']}": 403,
        "/operator/events": 403,
        "/operator/statements?period=2026-11": 403,
        f"/wholesale/lines/{LINE}?purpose=marketing&work_item={order['id']}": 403,
        "/subscriber": 403,
    }
    for path, status in pages.items():
        response = client.get(path)
        assert response.status_code == status, (path, response.status_code)
        assert LINE not in response.text.replace(f"/wholesale/lines/{LINE}", "")
        assert "alfatel" not in response.text


def test_a_subscriber_signs_in_with_a_code_and_sees_who_accessed_the_line(
    world: World, alpha: Operator
) -> None:
    alpha.order(provide(LINE))
    client = world.client()
    sent = post_form(client, "/subscriber/signin", "/subscriber/codes", number=LINE, channel="sms")
    assert sent.status_code == 303
    code_page = client.get(sent.headers["location"])
    wrong = client.post(
        "/subscriber/sessions",
        data={"csrf": csrf(code_page.text), "number": LINE, "code": "00000000"},
    )
    assert wrong.status_code == 401
    assert "Wrong, expired or spent code." in wrong.text
    post_form(client, "/subscriber/signin", "/subscriber/codes", number=LINE, channel="sms")
    opened = client.post(
        "/subscriber/sessions",
        data={"csrf": csrf(code_page.text), "number": LINE, "code": code_for(world, LINE)},
        follow_redirects=False,
    )
    assert opened.status_code == 303
    assert opened.headers["location"] == "/subscriber"
    mine = client.get("/subscriber")
    assert mine.status_code == 200
    assert "no carrier preselection" in mine.text
    assert "operator:alfatel" in mine.text  # the order placed on the line
    assert "alfatel" not in client.get("/operator/orders").text
