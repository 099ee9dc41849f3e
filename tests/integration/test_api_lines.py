"""GET /v1/lines/{number}/eligibility: from the inventory only, never who serves a line."""

from __future__ import annotations

import pytest

from forvalg.domain.reasons import ReasonCode

from .world import UNKNOWN_NUMBER, Operator, World, problem, transfer

ELIGIBILITY = [
    ("22334455", None),  # PSTN
    ("22334477", None),  # ISDN_BRA
    ("55501234", ReasonCode.E_LINE_NOT_ELIGIBLE),  # PAYPHONE
    ("55501235", ReasonCode.E_LINE_NOT_ELIGIBLE),  # ISDN_PRA
    ("55501237", ReasonCode.E_LINE_NOT_ELIGIBLE),  # wholesale-rented to another operator
    ("55501236", ReasonCode.E_LINE_NOT_ACTIVE),  # ceased
    (UNKNOWN_NUMBER, ReasonCode.E_LINE_UNKNOWN),
]


def test_eligibility_by_line(alpha: Operator, subtests: pytest.Subtests) -> None:
    for number, reason in ELIGIBILITY:
        with subtests.test(number):
            response = alpha.eligibility(number)

            assert response.status_code == 200
            assert response.headers["content-type"] == "application/json"
            assert response.json() == {"eligible": reason is None, "reason_code": reason}


def test_eligibility_never_says_who_serves_the_line(
    world: World, alpha: Operator, beta: Operator
) -> None:
    before_a, before_b = alpha.eligibility("22334455"), beta.eligibility("22334455")

    world.preselect(alpha, "22334455")
    after_a, after_b = alpha.eligibility("22334455"), beta.eligibility("22334455")
    # A pending transfer to beta changes nothing either.
    beta.order(transfer("22334455"))
    world.process()
    pending_a, pending_b = alpha.eligibility("22334455"), beta.eligibility("22334455")

    answers = [before_a, before_b, after_a, after_b, pending_a, pending_b]
    assert {r.status_code for r in answers} == {200}
    assert {r.content for r in answers} == {b'{"eligible":true,"reason_code":null}'}
    assert len({tuple(sorted(r.headers.items())) for r in answers}) == 1
    assert len(world.current_preselections("22334455")) == 1


def test_eligibility_is_logged_without_the_number(world: World, alpha: Operator) -> None:
    before = world.last_log_seq()

    assert alpha.eligibility("22334455").status_code == 200

    rows = world.access_log(before)
    assert [(r["decision"], r["principal"], r["resource"]) for r in rows] == [
        ("allow", "operator:alfatel", "line.eligibility")
    ]
    assert rows[0]["subject_count"] == 1
    for column, value in rows[0].items():
        assert "22334455" not in str(value), (column, value)


def test_eligibility_needs_an_api_key(world: World) -> None:
    problem(world.client().get("/v1/lines/22334455/eligibility"), 401, "E_AUTH")
