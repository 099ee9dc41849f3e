"""Revoking a staff user (`forvalg users revoke`): the token is refused from its next
request, on the API and on the pages (a signed-in page session is signed out at once),
and the revocation is ledgered."""

from __future__ import annotations

from .test_web_pages import signed_in
from .world import World, problem

AUDIT = {"X-Forvalg-Purpose": "compliance_audit"}


def test_a_revoked_user_is_refused_at_once_on_the_api_and_the_pages(world: World) -> None:
    officer = world.add_staff("compliance_officer")
    token = world.services.users.add("Cecilie", "compliance_officer").token
    user_id = token.split("_")[1]
    page = signed_in(world, token)
    api = world.client(token)
    assert page.get("/compliance").status_code == 200
    assert api.get("/v1/compliance/alerts", headers=AUDIT).status_code != 401
    before = world.last_log_seq()

    assert world.services.users.revoke(user_id)

    problem(api.get("/v1/compliance/alerts", headers=AUDIT), 401, "E_AUTH")
    signed_out = page.get("/compliance", follow_redirects=False)
    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith("/signin")
    revocation = [e for e in world.access_log(before) if e["work_item"] == f"user:{user_id}"]
    assert [(e["action"], e["decision"]) for e in revocation] == [("write", "allow")]
    # Others are untouched; a second revocation or an unknown id changes nothing.
    assert officer.client.get("/v1/compliance/alerts", headers=AUDIT).status_code != 401
    assert not world.services.users.revoke(user_id)
    assert not world.services.users.revoke("u000000000000")
