"""The wholesale work queue over HTTP, on SQLite and PostgreSQL: a wholesale operator
lists, under their own queue work item, the work items they opened that are still open
and the orders rejected lately or stuck, without any number; each list is one ledger
entry; nobody else gets anything."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from .test_web_pages import csrf, post_form, signed_in
from .world import Operator, Staff, World, provide

PROVISIONING = "provisioning"


def _queue_item(ops: Staff) -> str:
    return ops.opened(PROVISIONING, kind="queue", summary="order exceptions")


def _ticket(ops: Staff, *lines: str) -> str:
    return ops.opened(
        "fault_repair", kind="fault_ticket", summary="no dial tone", lines=list(lines)
    )


def _queue(ops: Staff, item: str | None, **params: Any) -> Any:
    return ops.get("/v1/staff/queue", purpose=PROVISIONING, work_item=item, **params)


def _orders_needing_attention(world: World, alpha: Operator) -> tuple[str, str, str]:
    """A rejected order (wrong postcode), a committed one (due in days: fine) and, ten
    minutes later, one received and never processed (stuck)."""
    rejected = alpha.order(provide("22334466", postcode="9999"))
    fine = alpha.order(provide("22334477"))
    world.process()
    assert alpha.state(rejected["id"])["state"] == "REJECTED"
    assert alpha.state(fine["id"])["state"] == "COMMITTED"
    stuck = alpha.order(provide("22334488"))
    world.clock.at += timedelta(minutes=10)
    return rejected["id"], fine["id"], stuck["id"]


def test_the_queue_lists_my_open_work_and_the_orders_needing_a_human(
    world: World, alpha: Operator
) -> None:
    rejected, fine, stuck = _orders_needing_attention(world, alpha)
    ops = world.add_staff("wholesale_ops")
    open_ticket = _ticket(ops, "22334455")
    closed_ticket = _ticket(ops, "22334499")
    assert ops.client.post(
        f"/v1/work-items/{closed_ticket}/close",
        headers={"X-Forvalg-Purpose": "fault_repair"},
    ).is_success
    item = _queue_item(ops)
    before = world.last_log_seq()

    response = _queue(ops, item)

    assert response.status_code == 200, response.text
    body = response.json()
    items = {i["id"]: i for i in body["work_items"]}
    assert set(items) == {open_ticket, item}
    assert items[open_ticket] | {"opened_at": None} == {
        "id": open_ticket,
        "kind": "fault_ticket",
        "summary": "no dial tone",
        "opened_at": None,
        "lines": 1,
    }
    assert [o["id"] for o in body["rejected"]["items"]] == [rejected]
    assert body["rejected"]["by_reason"] == {"E_POSTCODE_MISMATCH": 1}
    assert body["rejected"]["items"][0]["reason_code"] == "E_POSTCODE_MISMATCH"
    assert body["rejected"]["items"][0]["operator"] == "alfatel"
    assert [o["id"] for o in body["stuck"]["items"]] == [stuck]
    assert body["stuck"] | {"items": []} == {"count": 1, "by_state": {"RECEIVED": 1}, "items": []}
    assert body["stuck"]["items"][0]["age_s"] == 600
    assert fine not in response.text
    for number in ("22334455", "22334466", "22334477", "22334488", "22334499"):
        assert number not in response.text  # the queue view shows no line

    # Each list is one ledger entry under the queue item, naming no line.
    entries = [e for e in world.access_log(before) if e["principal"] == ops.principal]
    assert [(e["resource"], e["decision"], e["work_item"]) for e in entries] == [
        ("work.item", "allow", item),
        ("cps.order", "allow", item),
    ]
    assert all(e["subject_count"] == 0 for e in entries)
    assert sorted(entries[0]["detail"]["open_work_items"]) == sorted([item, open_ticket])
    assert entries[1]["detail"] == {
        "view": "queue",
        "rejected": 1,
        "stuck": 1,
        "orders": [rejected, stuck],
    }
    assert "wholesale-ops-lists-the-queue" in entries[1]["reason"]


def test_the_window_says_how_far_back_and_how_late(world: World, alpha: Operator) -> None:
    rejected, _, stuck = _orders_needing_attention(world, alpha)
    ops = world.add_staff("wholesale_ops")
    item = _queue_item(ops)
    lenient = _queue(ops, item, stuck_minutes=11).json()
    assert (lenient["stuck"]["count"], lenient["rejected"]["count"]) == (0, 1)
    world.clock.at += timedelta(days=8)
    later = _queue(ops, item).json()
    assert later["rejected"]["count"] == 0
    assert [o["id"] for o in later["stuck"]["items"]] == [stuck]
    wider = _queue(ops, item, rejected_days=9).json()
    assert [o["id"] for o in wider["rejected"]["items"]] == [rejected]
    assert _queue(ops, item, rejected_days=0).status_code == 422
    assert _queue(ops, item, limit=1000).status_code == 422


def test_a_queue_is_its_owners_and_needs_a_queue_item(world: World, alpha: Operator) -> None:
    _orders_needing_attention(world, alpha)
    ops = world.add_staff("wholesale_ops")
    colleague = world.add_staff("wholesale_ops")
    mine = _queue_item(ops)
    ticket = _ticket(ops, "22334455")
    theirs = _queue_item(colleague)

    # A colleague sees their own work items, never mine, and cannot list under mine.
    listed = _queue(colleague, theirs).json()
    assert [i["id"] for i in listed["work_items"]] == [theirs]
    borrowed = _queue(colleague, mine)
    assert borrowed.status_code == 403
    assert borrowed.json()["code"] == "E_WORK_ITEM_MISMATCH"
    read = colleague.get(f"/v1/work-items/{mine}", purpose=PROVISIONING)
    assert read.status_code == 403

    # No work item; a fault ticket; another purpose: refused, and ledgered.
    before = world.last_log_seq()
    assert _queue(ops, None).json()["code"] == "E_PURPOSE_REQUIRED"
    assert _queue(ops, ticket).json()["code"] == "E_FORBIDDEN"
    refused = ops.get("/v1/staff/queue", purpose="fault_repair", work_item=mine)
    assert refused.json()["code"] == "E_FORBIDDEN"
    denials = [e for e in world.access_log(before) if e["principal"] == ops.principal]
    assert [e["decision"] for e in denials] == ["deny"] * 3

    # A closed queue item covers nothing.
    assert ops.client.post(
        f"/v1/work-items/{mine}/close", headers={"X-Forvalg-Purpose": PROVISIONING}
    ).is_success
    assert _queue(ops, mine).json()["code"] == "E_WORK_ITEM_MISMATCH"


@pytest.mark.parametrize(
    ("role", "purpose", "kind"),
    [
        ("retail_marketing", "provisioning", None),
        ("retail_customer_service", "provisioning", None),
        ("regulator", "regulatory_inspection", "audit"),
        ("compliance_officer", "compliance_audit", "audit"),
        ("network_provisioning", "provisioning", None),
        ("wholesale_billing", "settlement", None),
    ],
)
def test_nobody_else_gets_a_queue(
    world: World, alpha: Operator, role: str, purpose: str, kind: str | None
) -> None:
    rejected, _, stuck = _orders_needing_attention(world, alpha)
    ops_item = _queue_item(world.add_staff("wholesale_ops"))
    user = world.add_staff(role)
    own = user.opened(purpose, kind=kind, summary="a look") if kind else None
    # Opening a queue item is refused them too.
    assert user.open(PROVISIONING, kind="queue", summary="me too").status_code == 403
    for item in (own, ops_item):
        response = user.get("/v1/staff/queue", purpose=purpose, work_item=item)
        assert response.status_code == 403, (item, response.text)
        assert rejected not in response.text
        assert stuck not in response.text


def test_an_operator_gets_no_queue(world: World, alpha: Operator) -> None:
    rejected, _, _ = _orders_needing_attention(world, alpha)
    response = alpha.client.get("/v1/staff/queue")
    assert response.status_code == 403
    assert response.json()["code"] == "E_FORBIDDEN"
    assert rejected not in response.text


def test_a_rejected_order_is_taken_with_a_ticket_for_its_line(
    world: World, alpha: Operator
) -> None:
    rejected, fine, stuck = _orders_needing_attention(world, alpha)
    ops = world.add_staff("wholesale_ops")
    refused = ops.get(f"/v1/staff/orders/{rejected}", purpose=PROVISIONING, work_item=rejected)
    assert refused.json()["code"] == "E_WORK_ITEM_MISMATCH"  # final: a closed work item

    before = world.last_log_seq()
    taken = ops.client.post(f"/v1/staff/queue/orders/{rejected}/take")
    assert taken.status_code == 201, taken.text
    ticket = taken.json()
    assert (ticket["kind"], ticket["lines"]) == ("fault_ticket", ["22334466"])
    assert rejected in ticket["summary"]
    assert "E_POSTCODE_MISMATCH" in ticket["summary"]
    entries = [e for e in world.access_log(before) if e["principal"] == ops.principal]
    assert [(e["resource"], e["action"], e["subject_count"]) for e in entries] == [
        ("cps.order", "read", 1),
        ("work.item", "write", 1),
    ]
    assert {e["work_item"] for e in entries} == {ticket["id"]}
    order = ops.get(f"/v1/staff/orders/{rejected}", purpose=PROVISIONING, work_item=ticket["id"])
    assert order.status_code == 200
    assert order.json()["number"] == "22334466"

    for other in (fine, stuck):  # open orders are worked under themselves
        assert ops.client.post(f"/v1/staff/queue/orders/{other}/take").status_code == 422
    assert (
        ops.client.post("/v1/staff/queue/orders/o00000000000000000000000000/take").status_code
        == 404
    )
    retail = world.add_staff("retail_sales")
    assert retail.client.post(f"/v1/staff/queue/orders/{rejected}/take").status_code == 403


# ---------------------------------------------------------------- the page


def test_the_page_works_the_queue_and_remembers_it(world: World, alpha: Operator) -> None:
    rejected, _, stuck = _orders_needing_attention(world, alpha)
    ops = world.add_staff("wholesale_ops")
    client = signed_in(world, ops.client.headers["Authorization"].split()[1])

    start = client.get("/wholesale")
    assert start.status_code == 200
    assert "Work the queue" in start.text
    assert rejected not in start.text

    opened = post_form(client, "/wholesale", "/wholesale/tickets", summary="hum", lines="22334455")
    ticket = opened.headers["location"].split("/")[-1].split("?")[0]
    worked = post_form(client, "/wholesale", "/wholesale/queue", summary="Monday's exceptions")
    assert worked.status_code == 303
    item = re.search(r"work_item=(WQ-[0-9a-f]{12})", worked.headers["location"])
    assert item, worked.headers["location"]

    page = client.get("/wholesale")  # the session remembers the queue item
    assert page.status_code == 200, page.text
    assert item.group(1) in page.text
    assert f'href="/wholesale/work-items/{ticket}?purpose=fault_repair"' in page.text
    assert "Monday&#39;s exceptions" in page.text
    link = f'href="/wholesale/orders/{stuck}?purpose=provisioning&amp;work_item={stuck}"'
    assert link in page.text
    assert f'action="/wholesale/queue/orders/{rejected}/take"' in page.text
    assert "E_POSTCODE_MISMATCH" in page.text
    assert "22334466" not in page.text
    assert "22334488" not in page.text

    # A stuck order opens under itself; a rejected one is taken: a ticket for its line.
    order = client.get(link[6:-1].replace("&amp;", "&"))
    assert order.status_code == 200
    assert "22334488" in order.text
    taken = post_form(client, "/wholesale", f"/wholesale/queue/orders/{rejected}/take")
    assert taken.status_code == 303
    shown = client.get(taken.headers["location"])
    assert shown.status_code == 200
    assert "22334466" in shown.text
    assert "E_POSTCODE_MISMATCH" in shown.text

    # Another session of someone else does not inherit the queue item.
    other = signed_in(
        world, world.add_staff("wholesale_ops").client.headers["Authorization"].split()[1]
    )
    other.cookies.set("forvalg_queue", client.cookies.get("forvalg_queue") or "", path="/wholesale")
    assert "Work the queue" in other.get("/wholesale").text

    # Closing the queue item ends the remembering.
    form = client.get(f"/wholesale/work-items/{item.group(1)}?purpose=provisioning")
    assert form.status_code == 200
    closed = client.post(
        f"/wholesale/work-items/{item.group(1)}/close?purpose=provisioning",
        data={"csrf": csrf(form.text)},
        follow_redirects=False,
    )
    assert closed.headers["location"] == "/wholesale"
    assert "Work the queue" in client.get("/wholesale").text


def test_retail_gets_no_queue_page(world: World, alpha: Operator) -> None:
    rejected, _, _ = _orders_needing_attention(world, alpha)
    item = _queue_item(world.add_staff("wholesale_ops"))
    retail = world.add_staff("retail_sales")
    client = signed_in(world, retail.client.headers["Authorization"].split()[1])
    response = client.get(f"/wholesale?work_item={item}")
    assert response.status_code == 403
    assert rejected not in response.text
