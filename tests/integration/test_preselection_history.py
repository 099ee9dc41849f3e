"""Preselection history is bitemporal: what held when, as forvalg knew it when."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from forvalg.store.preselections import valid_at

from .world import Operator, World, transfer


def test_valid_time_and_recorded_time_are_both_kept(
    world: World, alpha: Operator, beta: Operator
) -> None:
    world.preselect(alpha, "22334455")
    first_switch = world.services.rules.calendar.switch_at(date(2026, 12, 7))
    placed = beta.order(transfer("22334455"))
    world.process()
    due = date.fromisoformat(beta.state(placed["id"])["due_date"])
    second_switch = world.services.rules.calendar.switch_at(due)
    learnt = second_switch + timedelta(hours=6)  # the completion is recorded this late
    world.clock.at = learnt
    world.process(second_switch)

    def holder(at: datetime, known_at: datetime | None = None) -> str | None:
        with Session(world.engine) as session:
            found = valid_at(session, number="22334455", at=at, known_at=known_at)
        return None if found is None else found.operator_id

    assert holder(first_switch - timedelta(seconds=1)) is None
    assert holder(first_switch) == "alfatel"
    assert holder(second_switch - timedelta(seconds=1)) == "alfatel"
    assert holder(second_switch) == "betanett"
    # Before the transfer's completion was recorded, forvalg still believed alfatel held it.
    assert holder(second_switch + timedelta(hours=1), learnt - timedelta(minutes=1)) == "alfatel"
    assert holder(second_switch + timedelta(hours=1), learnt) == "betanett"
