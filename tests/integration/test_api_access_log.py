"""GET /v1/compliance/access-log: a compliance officer searches the ledger by who, why,
what, how decided, when and which line. Each search's answer is checked against the
whole ledger filtered independently here; the search is one ledgered decision that
names the line searched for; the regulator, wholesale staff and operators are refused,
and their refusals are in the ledger."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from forvalg.store import ledger as ledger_store
from forvalg.store.tables import ledger_subject_sets
from forvalg.wall.pseudonyms import Pseudonymiser

from ..conftest import PSEUDONYM_KEY
from .world import Operator, Staff, World, problem, provide

PATH = "/v1/compliance/access-log"
AUDIT = "compliance_audit"
REPAIR = "fault_repair"
TICKET_LINE, OTHER_LINE, GLASS_LINE = "22334466", "22334477", "22334455"
JUSTIFICATION = "the customer is on the phone about a dead line"
PSEUDONYM = Pseudonymiser(PSEUDONYM_KEY).pseudonym


def _ledger(world: World) -> list[tuple[int, dict[str, Any]]]:
    """Every entry of the tree, by index, read under the wall."""
    world.services.keeper.integrate()
    with world.engine.connect() as connection:
        size = ledger_store.head(connection).size
        texts = ledger_store.entries(connection, start=0, end=size)
    return [(i, json.loads(t)["event"]) for i, t in enumerate(texts)]


def _members(world: World, number: str) -> set[str]:
    """The bulk subject sets (digests) the line is a member of."""
    with world.engine.connect() as connection:
        rows = connection.execute(
            ledger_subject_sets.select().where(ledger_subject_sets.c.pseudonym == PSEUDONYM(number))
        )
        return {r.digest for r in rows}


def _expected(world: World, size: int, **want: Any) -> list[int]:
    """Indices of the entries of the tree of `size` that pass the filters, newest first:
    the rule restated."""
    line = want.pop("line", None)
    digests = _members(world, line) if line else set()
    found = []
    for index, e in _ledger(world)[:size]:
        if line and not (
            PSEUDONYM(line) in e["subjects"]
            or (e["subjects_digest"] in digests and e["subject_count"] > len(e["subjects"]))
        ):
            continue
        glass = e["decision"] == "allow" and "; break-glass: " in (e["reason"] or "")
        checks = {
            "principal": e["principal"],
            "purpose": e["purpose"],
            "category": e["resource"],
            "decision": e["decision"],
            "work_item": e["work_item"],
            "break_glass": glass,
        }
        if any(checks[k] != v for k, v in want.items() if k in checks):
            continue
        if "role" in want and want["role"] not in e["roles"]:
            continue
        found.append(index)
    return found[::-1]


@pytest.fixture
def ops(world: World, alpha: Operator) -> Staff:
    """Wholesale operations at work: a line on its fault ticket, a line that is not (a
    mismatch, refused), and a break-glass read; alpha's order for the glass line."""
    alpha.order(provide(GLASS_LINE))
    world.process()
    ops = world.add_staff("wholesale_ops", "Kari Nordmann")
    ticket = ops.opened(REPAIR, kind="fault_ticket", summary="no dial tone", lines=[TICKET_LINE])
    assert ops.get(f"/v1/staff/lines/{TICKET_LINE}", purpose=REPAIR, work_item=ticket).is_success
    refused = ops.get(f"/v1/staff/lines/{OTHER_LINE}", purpose=REPAIR, work_item=ticket)
    problem(refused, 403, "E_WORK_ITEM_MISMATCH")
    glass = ops.get(f"/v1/staff/lines/{GLASS_LINE}", purpose=REPAIR, break_glass=JUSTIFICATION)
    assert glass.is_success, glass.text
    return ops


@pytest.fixture
def officer(world: World) -> tuple[Staff, str]:
    officer = world.add_staff("compliance_officer", "Ola Revisor")
    return officer, officer.opened(AUDIT, kind="audit", summary="who read which line")


def _search(officer: tuple[Staff, str], **params: Any) -> dict[str, Any]:
    staff, audit = officer
    stated = {"X-Forvalg-Purpose": AUDIT, "X-Forvalg-Work-Item": audit}
    response = staff.client.get(PATH, headers=stated, params=params)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def _indices(page: dict[str, Any]) -> list[int]:
    return [item["index"] for item in page["items"]]


@pytest.mark.parametrize(
    "filters",
    [
        {"line": TICKET_LINE},
        {"line": GLASS_LINE},
        {"decision": "deny"},
        {"break_glass": True},
        {"break_glass": False, "role": "wholesale_ops"},
        {"role": "cps_operator"},
        {"purpose": REPAIR, "category": "cps.routing"},
        {"line": GLASS_LINE, "decision": "allow", "role": "order_processor"},
    ],
    ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items()),
)
def test_a_search_finds_exactly_what_its_filters_give(
    world: World, ops: Staff, officer: tuple[Staff, str], filters: dict[str, Any]
) -> None:
    page = _search(officer, limit=200, **filters)
    expected = _expected(world, page["size"], **filters)
    assert expected, "the world must give each search something to find"
    assert _indices(page) == expected
    assert page["next_cursor"] is None
    for item in page["items"]:
        for name in ("decision", "break_glass", "purpose"):
            if name in filters:
                assert item[name] == filters[name]


def test_searching_by_principal_and_work_item_and_time(
    world: World, ops: Staff, officer: tuple[Staff, str]
) -> None:
    mine = _search(officer, principal=ops.principal, limit=200)
    assert _indices(mine) == _expected(world, mine["size"], principal=ops.principal)
    # the ticket opened, the ticket's line read (up to five categories), the refusal,
    # the break-glass read: newest first.
    assert [i["decision"] for i in mine["items"]][-1] == "allow"
    assert mine["items"][0]["break_glass"] is True
    assert mine["items"][0]["reason"].endswith(JUSTIFICATION)
    ticket = next(i["work_item"] for i in mine["items"] if i["decision"] == "deny")
    by_ticket = _search(officer, work_item=ticket, limit=200)
    assert _indices(by_ticket) == _expected(world, by_ticket["size"], work_item=ticket)
    assert {i["principal"] for i in by_ticket["items"]} == {ops.principal}

    # Time: the world's clock stands still; entries after it moves are outside a range
    # ending at the earlier instant.
    before = world.clock.at
    world.clock.at = before + timedelta(hours=2)
    assert ops.get(f"/v1/staff/lines/{GLASS_LINE}", purpose=REPAIR, break_glass=JUSTIFICATION)
    later = _search(officer, principal=ops.principal, since=world.clock.at.isoformat())
    assert later["items"]
    assert {i["at"] for i in later["items"]} == {world.clock.at.isoformat().replace("+00:00", "Z")}
    earlier = _search(
        officer,
        principal=ops.principal,
        until=(before + timedelta(seconds=1)).isoformat(),
        limit=200,
    )
    assert _indices(earlier) == _indices(mine)


def test_pages_newest_first_without_gaps_or_repeats(
    world: World, ops: Staff, officer: tuple[Staff, str]
) -> None:
    everything = _expected(world, len(_ledger(world)))
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 7} | ({"cursor": cursor} if cursor else {})
        page = _search(officer, **params)
        seen += _indices(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == everything
    assert len(seen) > 14  # at least three pages


def test_each_search_is_one_ledgered_decision_naming_the_line(
    world: World, ops: Staff, officer: tuple[Staff, str]
) -> None:
    staff, audit = officer
    count = len(_ledger(world))
    _search(officer, line=TICKET_LINE)
    new = [e for _, e in _ledger(world)[count:]]
    assert len(new) == 1
    (entry,) = new
    assert entry["principal"] == staff.principal
    assert (entry["purpose"], entry["work_item"]) == (AUDIT, audit)
    assert (entry["resource"], entry["decision"]) == ("ledger.access", "allow")
    assert entry["subjects"] == [PSEUDONYM(TICKET_LINE)]
    # and the line's subscriber's view (the subject index) finds the search too
    assert _indices(_search(officer, line=TICKET_LINE, principal=staff.principal, limit=200))


@pytest.mark.parametrize("role", ["regulator", "wholesale_ops", "retail_marketing"])
def test_anyone_but_compliance_is_refused_and_the_refusal_is_ledgered(
    world: World, ops: Staff, role: str
) -> None:
    purposes = {"regulator": "regulatory_inspection", "wholesale_ops": REPAIR}
    other = world.add_staff(role)
    stated = purposes.get(role, "marketing")
    item = (
        other.opened(stated, kind="audit", summary="reading the ledger")
        if role == "regulator"
        else "AUD-0123456789ab"
    )
    response = other.get(PATH, purpose=stated, work_item=item, line=TICKET_LINE)
    problem(response, 403, "E_FORBIDDEN")
    refusals = [
        e
        for _, e in _ledger(world)
        if e["principal"] == other.principal and e["resource"] == "ledger.access"
    ]
    assert [(e["decision"], e["purpose"]) for e in refusals] == [("deny", AUDIT)]


def test_an_operator_is_refused(world: World, alpha: Operator) -> None:
    problem(alpha.client.get(PATH), 403, "E_FORBIDDEN")


def test_no_audit_named_is_refused(world: World, officer: tuple[Staff, str]) -> None:
    staff, _ = officer
    problem(staff.get(PATH, purpose=AUDIT), 403, "E_PURPOSE_REQUIRED")
    unknown = staff.get(PATH, purpose=AUDIT, work_item="AUD-0123456789ab")
    problem(unknown, 403, "E_WORK_ITEM_MISMATCH")


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"since": "2026-11-24T00:00:00Z", "until": "2026-11-23T00:00:00Z"}, "until"),
        ({"since": "2026-11-24T00:00:00"}, "since"),
        ({"line": "2233"}, "line"),
        ({"decision": "maybe"}, "decision"),
        ({"limit": 0}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
def test_bad_filters_are_one_clear_422(
    world: World, officer: tuple[Staff, str], params: dict[str, Any], parameter: str
) -> None:
    staff, audit = officer
    count = len(_ledger(world))
    response = staff.get(PATH, purpose=AUDIT, work_item=audit, **params)
    body = problem(response, 422, "E_VALIDATION")
    assert parameter in json.dumps(body)
    assert len(_ledger(world)) == count  # nothing was read, nothing ledgered
