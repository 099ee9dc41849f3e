"""Signing in and out in a real browser."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .conftest import Site, screenshot, sign_in


def test_an_operator_signs_in_lands_on_its_orders_and_signs_out(page: Page, site: Site) -> None:
    page.goto(site.url + "/")
    expect(page).to_have_url(site.url + "/signin?next=/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot(page, "signin")

    sign_in(page, site, site.operator_key)

    expect(page).to_have_url(site.url + "/operator/orders")
    expect(page.get_by_role("heading", name="Orders")).to_be_visible()
    expect(page.get_by_text("Signed in as operator:alfatel")).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "forvalg_session")
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"
    assert site.operator_key not in cookie["value"]

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(site.url + "/signin")
    page.goto(site.url + "/operator/orders")
    expect(page).to_have_url(site.url + "/signin?next=/operator/orders")


def test_a_wrong_key_is_refused_with_a_message(page: Page, site: Site) -> None:
    sign_in(page, site, "fvg_k000000000000_not-a-key")
    expect(page.get_by_role("alert")).to_have_text("Unknown or revoked key or token.")
    expect(page.get_by_label("API key or staff token")).to_have_attribute("aria-invalid", "true")
