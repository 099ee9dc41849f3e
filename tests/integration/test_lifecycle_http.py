"""The order life cycle driven through HTTP and the processor, with a moving clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forvalg.store import tables

from .world import (
    AUTH,
    CUTOFF_T0,
    DUE_T0,
    SWITCH_T0,
    T0_ISO,
    UNKNOWN_NUMBER,
    Operator,
    World,
    cancel_other,
    cease,
    modify,
    problem,
    provide,
    transfer,
)

SWITCH_T0_ISO = "2026-12-06T23:00:00Z"


def _history(order: dict[str, object]) -> list[tuple[object, object, object]]:
    return [(h["state"], h["at"], h["reason_code"]) for h in order["history"]]  # type: ignore[attr-defined]


def test_provide_is_committed_then_completed_at_the_switch(world: World, alpha: Operator) -> None:
    placed = alpha.order(provide("22334455", option="INTERNATIONAL"))

    world.process()
    committed = alpha.state(placed["id"])
    assert committed["state"] == "COMMITTED"
    assert committed["reason_code"] is None
    # 10 Norwegian working days after Monday 23 November 2026.
    assert committed["due_date"] == DUE_T0
    assert world.current_preselections("22334455") == []

    # Nothing happens a minute before the switch instant (00:00 Oslo on the due date).
    world.process(SWITCH_T0 - timedelta(minutes=1))
    assert alpha.state(placed["id"])["state"] == "COMMITTED"

    world.process(SWITCH_T0)
    completed = alpha.state(placed["id"])
    assert completed["state"] == "COMPLETED"
    assert completed["due_date"] == DUE_T0
    assert completed["created_at"] == T0_ISO
    assert completed["updated_at"] == SWITCH_T0_ISO
    assert _history(completed) == [
        ("RECEIVED", T0_ISO, None),
        ("VALIDATED", T0_ISO, None),
        ("COMMITTED", T0_ISO, None),
        ("COMPLETED", SWITCH_T0_ISO, None),
    ]
    [current] = world.current_preselections("22334455")
    assert current["operator_id"] == "alfatel"
    assert current["option"] == "INTERNATIONAL"
    assert current["order_id"] == placed["id"]
    assert current["valid_from"] == SWITCH_T0
    # The customer got one neutral letter.
    [letter] = world.rows(tables.customer_letters)
    assert letter["template"] == "PRESELECTION_CONFIRMATION"
    assert letter["fields"]["effective_date"] == DUE_T0


def test_due_date_skips_norwegian_public_holidays(world: World, alpha: Operator) -> None:
    # Monday 22 March 2027: Maundy Thursday, Good Friday and Easter Monday are holidays.
    world.clock.at = datetime(2027, 3, 22, 9, 0, tzinfo=UTC)
    placed = alpha.order(provide("22334455", authorisation=AUTH | {"signed_at": "2027-03-20"}))

    world.process()

    assert alpha.state(placed["id"])["due_date"] == "2027-04-08"


def test_requested_date_later_than_the_lead_time_is_kept(world: World, alpha: Operator) -> None:
    placed = alpha.order(provide("22334455", requested_date="2026-12-15"))
    world.process()
    assert alpha.state(placed["id"])["due_date"] == "2026-12-15"


REJECTIONS: list[tuple[dict[str, object], str]] = [
    (provide(UNKNOWN_NUMBER), "E_LINE_UNKNOWN"),
    (provide("22334455") | {"postcode": "9999"}, "E_POSTCODE_MISMATCH"),
    (provide("55501234"), "E_LINE_NOT_ELIGIBLE"),
    (provide("55501237"), "E_LINE_NOT_ELIGIBLE"),
    (provide("55501236"), "E_LINE_NOT_ACTIVE"),
    (provide("22334455", authorisation=None), "E_AUTHORISATION_MISSING"),
    (
        provide("22334455", authorisation=AUTH | {"signed_at": "2026-11-24"}),
        "E_AUTHORISATION_INVALID",
    ),
    (provide("22334455", requested_date="2026-11-28"), "E_DATE_INVALID"),  # a Saturday
    (transfer("22334455"), "E_NOT_PRESELECTED"),
    (modify("22334455", option="ALL"), "E_NOT_PRESELECTED"),
    (cease("22334455"), "E_NOT_PRESELECTED"),
    (cancel_other("22334455", "o" + "0" * 26), "E_NOT_SERVING"),
]


def test_business_rule_broken_is_accepted_then_rejected(
    world: World, alpha: Operator, subtests: pytest.Subtests
) -> None:
    placed = []
    for body, _ in REJECTIONS:
        response = alpha.place(body)
        assert response.status_code == 201, response.text
        assert response.json()["state"] == "RECEIVED"
        placed.append(response.json()["id"])

    world.process()

    for order_id, (body, reason) in zip(placed, REJECTIONS, strict=True):
        with subtests.test(f"{body['type']} -> {reason}"):
            order = alpha.state(order_id)
            assert order["state"] == "REJECTED"
            assert order["reason_code"] == reason
            assert order["due_date"] is None
            assert _history(order) == [("RECEIVED", T0_ISO, None), ("REJECTED", T0_ISO, reason)]
    assert world.count(tables.preselections) == 0


def test_second_order_on_a_line_is_rejected_while_the_first_is_open(
    world: World, alpha: Operator, beta: Operator
) -> None:
    first = alpha.order(provide("22334455"))
    second = beta.order(provide("22334455"))
    world.process()

    assert alpha.state(first["id"])["state"] == "COMMITTED"
    assert beta.state(second["id"])["reason_code"] == "E_OPEN_ORDER"

    world.process(SWITCH_T0)
    world.clock.at = SWITCH_T0 + timedelta(hours=10)
    third = beta.order(provide("22334455"))
    world.process()
    assert beta.state(third["id"])["reason_code"] == "E_LINE_PRESELECTED"


def test_transfer_notifies_the_losing_operator_without_naming_the_gainer(
    world: World, alpha: Operator, beta: Operator
) -> None:
    world.preselect(alpha, "22334455")
    seen_by_alpha = alpha.events().json()["next_cursor"]

    gained = beta.order(transfer("22334455", option="NATIONAL"))
    world.process()

    committed = beta.state(gained["id"])
    assert committed["state"] == "COMMITTED"
    # Received on Monday 7 December: 10 working days later is Monday 21 December.
    assert committed["due_date"] == "2026-12-21"
    loss_page = alpha.events(after=seen_by_alpha)
    [loss] = loss_page.json()["items"]
    assert loss["type"] == "LOSS"
    assert loss["number"] == "22334455"
    assert loss["effective_date"] == "2026-12-21"
    for secret in (beta.id, beta.name, beta.name.split()[0]):
        assert secret.lower() not in loss_page.text.lower()
    assert beta.id not in alpha.events(limit=500).text
    # The gaining operator sees its own order's states, not alpha's loss.
    assert {e["type"] for e in beta.all_events()} == {"ORDER_STATE"}

    switch = world.services.rules.calendar.switch_at(datetime(2026, 12, 21).date())
    world.process(switch)
    assert beta.state(gained["id"])["state"] == "COMPLETED"
    [current] = world.current_preselections("22334455")
    assert (current["operator_id"], current["option"]) == ("betanett", "NATIONAL")
    closed = world.rows(tables.preselections, tables.preselections.c.operator_id == "alfatel")
    assert [(r["valid_to"], r["closed_by_order"]) for r in closed] == [(switch, gained["id"])]


def test_transfer_to_the_serving_operator_is_rejected(world: World, alpha: Operator) -> None:
    world.preselect(alpha, "22334455")
    again = alpha.order(transfer("22334455"))
    world.process()
    assert alpha.state(again["id"])["reason_code"] == "E_ALREADY_SERVING"


def test_modify_and_cease_by_the_serving_operator(
    world: World, alpha: Operator, beta: Operator
) -> None:
    world.preselect(alpha, "22334455")

    # Not the serving operator: rejected.
    not_theirs = [beta.order(modify("22334455", option="NATIONAL")), beta.order(cease("22334455"))]
    same = alpha.order(modify("22334455", option="ALL"))
    world.process()
    assert [beta.state(o["id"])["reason_code"] for o in not_theirs] == ["E_NOT_SERVING"] * 2
    assert alpha.state(same["id"])["reason_code"] == "E_SAME_OPTION"

    changed = alpha.order(modify("22334455", option="NATIONAL"))
    world.process()
    order = alpha.state(changed["id"])
    assert (order["state"], order["option"], order["due_date"]) == (
        "COMMITTED",
        "NATIONAL",
        "2026-12-21",
    )
    world.process(world.services.rules.calendar.switch_at(datetime(2026, 12, 21).date()))
    assert alpha.state(changed["id"])["state"] == "COMPLETED"
    [current] = world.current_preselections("22334455")
    assert (current["operator_id"], current["option"]) == ("alfatel", "NATIONAL")

    world.clock.at = datetime(2026, 12, 21, 9, 0, tzinfo=UTC)
    ended = alpha.order(cease("22334455"))
    world.process()
    # Christmas Day, Boxing Day and New Year's Day are not working days.
    order = alpha.state(ended["id"])
    assert (order["state"], order["option"], order["due_date"]) == ("COMMITTED", None, "2027-01-06")
    world.process(world.services.rules.calendar.switch_at(datetime(2027, 1, 6).date()))
    assert alpha.state(ended["id"])["state"] == "COMPLETED"
    assert world.current_preselections("22334455") == []
    assert world.count(tables.preselections) == 2
    # Free again: anyone may PROVIDE.
    world.clock.at = datetime(2027, 1, 6, 9, 0, tzinfo=UTC)
    fresh = beta.order(provide("22334455", authorisation=AUTH | {"signed_at": "2027-01-05"}))
    world.process()
    assert beta.state(fresh["id"])["state"] == "COMMITTED"


def test_cancel_other_by_the_serving_operator_cancels_the_pending_transfer(
    world: World, alpha: Operator, beta: Operator
) -> None:
    world.preselect(alpha, "22334455")
    gained = beta.order(transfer("22334455"))
    world.process()
    [loss] = [e for e in alpha.all_events() if e["type"] == "LOSS"]

    world.clock.at += timedelta(days=2)
    stop = alpha.order(cancel_other("22334455", loss["order_id"], reason="CONSENT_WITHDRAWN"))
    assert stop["type"] == "CANCEL_OTHER"
    assert stop["option"] is None
    world.process()

    assert alpha.state(stop["id"])["state"] == "COMPLETED"
    cancelled = beta.state(gained["id"])
    assert cancelled["state"] == "CANCELLED"
    assert cancelled["reason_code"] == "C_CANCELLED_BY_SERVING_OPERATOR"
    assert cancelled["history"][-1]["reason_code"] == "C_CANCELLED_BY_SERVING_OPERATOR"
    last = beta.all_events()[-1]
    assert (last["order_id"], last["state"], last["reason_code"]) == (
        gained["id"],
        "CANCELLED",
        "C_CANCELLED_BY_SERVING_OPERATOR",
    )
    # The serving operator sees its CANCEL_OTHER complete and a neutral loss-cancelled notice.
    tail = alpha.events(limit=500)
    assert [(e["type"], e.get("state")) for e in tail.json()["items"][-3:]] == [
        ("ORDER_STATE", "VALIDATED"),
        ("LOSS_CANCELLED", None),
        ("ORDER_STATE", "COMPLETED"),
    ]
    assert tail.json()["items"][-2]["number"] == "22334455"
    assert beta.id not in tail.text
    assert beta.name not in tail.text
    # The line stays with alpha; nothing happens at the old switch instant.
    world.process(world.services.rules.calendar.switch_at(datetime(2026, 12, 21).date()))
    assert beta.state(gained["id"])["state"] == "CANCELLED"
    [current] = world.current_preselections("22334455")
    assert current["operator_id"] == "alfatel"


def test_cancel_other_and_its_target_due_in_one_run(
    world: World, alpha: Operator, beta: Operator
) -> None:
    """The processor first runs after the transfer's switch instant: the CANCEL_OTHER
    (due earlier) cancels the transfer, which is then no longer due; it is not completed,
    and the run does not stumble over it (found by `forvalg demo`)."""
    world.preselect(alpha, "22334455")
    gained = beta.order(transfer("22334455"))
    world.process()
    [loss] = [e for e in alpha.all_events() if e["type"] == "LOSS"]
    world.clock.at += timedelta(days=2)
    stop = alpha.order(cancel_other("22334455", loss["order_id"]))
    report = world.process(world.clock.at + timedelta(days=30))
    assert alpha.state(stop["id"])["state"] == "COMPLETED"
    assert beta.state(gained["id"])["state"] == "CANCELLED"
    assert report.transitions >= 2
    [current] = world.current_preselections("22334455")
    assert current["operator_id"] == "alfatel"


def test_cancel_other_of_a_provide_is_not_allowed(
    world: World, alpha: Operator, beta: Operator
) -> None:
    world.preselect(alpha, "22334455")
    other_line = beta.order(provide("22334466"))
    world.process()

    stop = alpha.order(cancel_other("22334455", other_line["id"]))
    world.process()

    assert alpha.state(stop["id"])["reason_code"] == "E_TARGET_NOT_FOUND"
    assert beta.state(other_line["id"])["state"] == "COMMITTED"


def test_own_cancel_before_processing(world: World, alpha: Operator) -> None:
    placed = alpha.order(provide("22334455"))

    response = alpha.cancel(placed["id"])

    assert response.status_code == 200
    order = response.json()
    assert order["state"] == "CANCELLED"
    assert order["reason_code"] == "C_CANCELLED_BY_OPERATOR"
    world.process(SWITCH_T0)
    assert alpha.state(placed["id"])["state"] == "CANCELLED"
    assert world.count(tables.preselections) == 0


def test_own_cancel_until_the_cut_off_then_too_late(world: World, alpha: Operator) -> None:
    early = alpha.order(provide("22334455"))
    late = alpha.order(provide("22334466"))
    world.process()

    world.clock.at = CUTOFF_T0 - timedelta(seconds=1)  # Friday 4 December, 11:59:59 Oslo
    response = alpha.cancel(early["id"])
    assert response.status_code == 200
    assert response.json()["state"] == "CANCELLED"
    assert response.json()["updated_at"] == "2026-12-04T10:59:59Z"

    world.clock.at = CUTOFF_T0  # 12:00 Oslo: too late
    found = problem(alpha.cancel(late["id"]), 409, "E_TOO_LATE")
    assert late["id"] in found["detail"]
    assert alpha.state(late["id"])["state"] == "COMMITTED"

    # Cancelling a final order is a conflict, not too late.
    problem(alpha.cancel(early["id"]), 409, "E_CONFLICT")

    world.process(SWITCH_T0)
    assert alpha.state(early["id"])["state"] == "CANCELLED"
    assert alpha.state(late["id"])["state"] == "COMPLETED"
    [current] = world.current_preselections("22334466")
    assert current["order_id"] == late["id"]
    assert world.current_preselections("22334455") == []


def test_cancelled_committed_order_frees_the_line(
    world: World, alpha: Operator, beta: Operator
) -> None:
    first = alpha.order(provide("22334455"))
    world.process()
    assert alpha.cancel(first["id"]).status_code == 200

    world.clock.at += timedelta(hours=1)
    second = beta.order(provide("22334455"))
    world.process()

    assert beta.state(second["id"])["state"] == "COMMITTED"


def test_gaining_operator_cancels_its_transfer_and_the_loser_is_told(
    world: World, alpha: Operator, beta: Operator
) -> None:
    world.preselect(alpha, "22334455")
    gained = beta.order(transfer("22334455"))
    world.process()
    seen = alpha.events().json()["next_cursor"]

    response = beta.cancel(gained["id"])

    assert response.status_code == 200
    assert response.json()["reason_code"] == "C_CANCELLED_BY_OPERATOR"
    notice = alpha.events(after=seen)
    [item] = notice.json()["items"]
    assert (item["type"], item["number"]) == ("LOSS_CANCELLED", "22334455")
    assert beta.id not in notice.text
    assert beta.name not in notice.text
    [current] = world.current_preselections("22334455")
    assert current["operator_id"] == "alfatel"


def test_cancel_other_after_the_transfers_cut_off_is_rejected(
    world: World, alpha: Operator, beta: Operator
) -> None:
    world.preselect(alpha, "22334455")
    gained = beta.order(transfer("22334455"))
    world.process()
    due = beta.state(gained["id"])["due_date"]
    assert due == "2026-12-21"

    # 12:00 Oslo on Friday 18 December, the working day before the due date.
    world.clock.at = datetime(2026, 12, 18, 11, 0, tzinfo=UTC)
    stop = alpha.order(cancel_other("22334455", gained["id"]))
    world.process()

    assert alpha.state(stop["id"])["reason_code"] == "E_TARGET_NOT_CANCELLABLE"
    assert beta.state(gained["id"])["state"] == "COMMITTED"
    problem(beta.cancel(gained["id"]), 409, "E_TOO_LATE")
