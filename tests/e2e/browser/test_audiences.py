"""Each audience's main flow in a real browser, and retail finding nothing."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .conftest import Site, screenshot, sign_in


def place_order(page: Page, site: Site, number: str) -> str:
    page.goto(site.url + "/operator/orders/new")
    page.get_by_label("Order type").select_option("PROVIDE")
    page.get_by_label("Number").fill(number)
    page.get_by_label("Postcode").fill("0150")
    page.get_by_label("Option").select_option("ALL")
    page.get_by_label("Authorisation reference").fill("LOA-2026-001")
    page.get_by_label("Signed on").fill("2026-11-20")
    page.get_by_label("Channel").fill("web")
    page.get_by_role("button", name="Place order").click()
    expect(page).to_have_url(re.compile(r"/operator/orders/o[0-9A-Z]{26}$"))
    return page.url.rsplit("/", 1)[1]


def test_an_operator_places_an_order_through_the_form_and_sees_it(page: Page, site: Site) -> None:
    sign_in(page, site, site.operator_key)
    page.goto(site.url + "/operator/orders/new")
    screenshot(page, "operator-new-order")

    order_id = place_order(page, site, "22334455")

    expect(page.get_by_role("heading", name=f"Order {order_id}")).to_be_visible()
    expect(page.locator("#order-state")).to_have_text("RECEIVED")
    expect(page.get_by_role("button", name="Cancel this order")).to_be_visible()
    screenshot(page, "operator-order")
    page.get_by_role("link", name="Orders", exact=True).click()
    expect(page.get_by_role("row").filter(has_text=order_id)).to_contain_text("22334455")
    screenshot(page, "operator-orders")
    # With JavaScript, choosing a state updates the list in place (htmx) and the address
    # follows; the same form without JavaScript is a plain GET (tests/integration).
    page.evaluate("window.sameDocument = true")
    page.get_by_label("State").select_option("COMPLETED")
    expect(page.locator("#orders")).to_contain_text("No orders in state COMPLETED")
    expect(page).to_have_url(re.compile(r"state=COMPLETED"))
    page.get_by_label("State").select_option("RECEIVED")
    expect(page.get_by_role("row").filter(has_text=order_id)).to_be_visible()
    assert page.evaluate("window.sameDocument") is True  # no page load in between
    page.get_by_role("link", name="Events").click()
    expect(page.get_by_role("heading", name="Events")).to_be_visible()


def test_a_bad_order_form_shows_errors_next_to_the_fields(page: Page, site: Site) -> None:
    sign_in(page, site, site.operator_key)
    page.goto(site.url + "/operator/orders/new")
    page.get_by_label("Number").fill("2233")
    page.get_by_label("Postcode").fill("15")
    page.get_by_role("button", name="Place order").click()

    expect(page.get_by_role("alert")).to_contain_text("The order was not placed")
    expect(page.locator("#number-error")).to_have_text("an 8-digit number, like 22334455")
    expect(page.locator("#postcode-error")).to_have_text("a 4-digit postcode, like 0150")
    expect(page.get_by_label("Number")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Number")).to_have_value("2233")
    screenshot(page, "operator-order-errors")


def test_wholesale_opens_a_ticket_and_sees_the_line(page: Page, site: Site) -> None:
    sign_in(page, site, site.token("wholesale_ops"))
    expect(page).to_have_url(site.url + "/wholesale")
    page.goto(site.url + "/wholesale/lines/22334466")
    expect(page.get_by_role("alert")).to_contain_text("E_PURPOSE_REQUIRED")
    expect(page.get_by_text("0150")).to_have_count(0)
    screenshot(page, "wholesale-no-work-item")

    page.goto(site.url + "/wholesale")
    page.get_by_role("button", name="Work the queue").click()
    queue_item = page.locator("#queue-item")
    expect(queue_item).to_have_text(re.compile(r"^WQ-[0-9a-f]{12}$"))
    expect(page.locator("#attention-counts")).to_contain_text("rejected in the last 7 days")
    page.get_by_label("What is wrong").fill("no dial tone since Monday")
    page.get_by_label("Lines at fault").fill("22334466")
    page.get_by_role("button", name="Open ticket").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Work item FT-"))).to_be_visible()
    ticket = page.get_by_role("heading").inner_text().removeprefix("Work item ")
    screenshot(page, "wholesale-ticket")

    # Back on the queue (the session remembers the queue item): the ticket just opened.
    page.get_by_role("link", name="Work queue").first.click()
    row = page.locator("#open-items").get_by_role("row").filter(has_text=ticket)
    expect(row).to_contain_text("no dial tone since Monday")
    expect(row).to_contain_text("fault_ticket")
    expect(page.get_by_text("22334466")).to_have_count(0)  # the queue shows no line
    screenshot(page, "wholesale-queue")
    row.get_by_role("link", name=ticket).click()
    page.get_by_role("link", name=re.compile("View line 22334466")).click()

    expect(page.get_by_role("heading", name="Line 22334466")).to_be_visible()
    expect(page.locator("#line-preselected")).to_have_text("no")
    expect(page.get_by_text("0150")).to_be_visible()
    screenshot(page, "wholesale-line")


def test_a_subscriber_signs_in_with_a_code_and_sees_who_accessed_the_line(
    page: Page, site: Site
) -> None:
    operator = page.context.browser.new_context() if page.context.browser else None
    assert operator is not None
    try:  # an operator's order touches the line first
        placing = operator.new_page()
        sign_in(placing, site, site.operator_key)
        place_order(placing, site, "23456701")
    finally:
        operator.close()

    page.goto(site.url + "/subscriber/signin")
    screenshot(page, "subscriber-signin")
    page.get_by_label("Your number (8 digits)").fill("23456701")
    page.get_by_label("SMS").check()
    page.get_by_role("button", name="Send me a code").click()
    expect(page.get_by_role("heading", name="Your code")).to_be_visible()
    page.get_by_label("One-time code").fill(site.code_for("23456701"))
    page.get_by_role("button", name="Show my line").click()

    expect(page).to_have_url(site.url + "/subscriber")
    expect(page.locator("#line-status")).to_contain_text("no carrier preselection")
    accesses = page.get_by_role("table")
    expect(accesses.get_by_role("cell", name="operator:alfatel").first).to_be_visible()
    screenshot(page, "subscriber-line")


def test_retail_marketing_finds_nothing(page: Page, site: Site) -> None:
    sign_in(page, site, site.token("retail_marketing"))
    expect(page).to_have_url(site.url + "/nothing")
    expect(page.get_by_role("heading", name="Nothing here for your role")).to_be_visible()
    expect(page.get_by_role("navigation").get_by_role("link")).to_have_count(0)
    screenshot(page, "retail-nothing")

    missing = page.goto(site.url + "/operator/orders/o00000000000000000000000000")
    assert missing is not None
    assert missing.status in (403, 404)
    expect(page.get_by_role("alert")).to_contain_text("The refusal is in the access log")
    for path in ("/operator/orders", "/operator/events", "/subscriber"):
        response = page.goto(site.url + path)
        assert response is not None
        assert response.status == 403, path
        expect(page.get_by_role("table")).to_have_count(0)
    nowhere = page.goto(site.url + "/operator/no-such-page")
    assert nowhere is not None
    assert nowhere.status == 404
