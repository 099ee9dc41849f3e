"""The detection evaluation (benchmarks/detection_eval.py) on a tiny grid, and the worlds it
draws (forvalg.sim.campaigns.campaign_world)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from benchmarks.detection_eval import (
    Cell,
    CellResult,
    Config,
    evaluate,
    markdown,
    targets,
    world_spec,
)

from forvalg.sim.campaigns import DAY, campaign_world

TINY = Config(lines=10_000, checkpoints=(1, 3))


@pytest.fixture(scope="module")
def tiny() -> list[CellResult]:
    cells = [Cell(1_000, 0.5, 1), Cell(1_000, 0.0, 1), Cell(1_000, 0.5, 10)]
    return evaluate(cells, replicates=2, seed=11, config=TINY)


def test_a_half_leaked_campaign_is_found_within_days(tiny: list[CellResult]) -> None:
    one, _, many = tiny
    for r in (one, many):
        assert r.power == (2, 2)
        days = r.median_days()
        assert days is not None
        assert days <= 3
    assert one.agent_power == (2, 2)  # the one agent who leaked
    flagged, leaking = many.agent_power
    assert leaking == 20
    assert flagged >= 10  # each of the ten made ~50 of ~100 contacts to leavers


def test_a_world_without_a_leak_has_no_medium_finding(tiny: list[CellResult]) -> None:
    clean = tiny[1]
    assert clean.power == (0, 2)  # LEAK is one more clean random campaign here
    assert clean.clean_campaigns == (0, 8)
    assert clean.clean_agents == (0, 40)
    for o in clean.outcomes:
        assert o.first_day is None
        assert o.any_look == (4, 0, 20, 0)  # at every checkpoint, too


def test_the_report_and_the_targets(tiny: list[CellResult]) -> None:
    table = markdown(tiny)
    assert "| 1,000 | 50% | one | 2 | 2/2 |" in table
    assert "| 1,000 | 0% | – | 2 | (clean) 0/2 |" in table
    checked = targets(tiny)
    assert [t.met for t in checked] == [True] * len(checked)
    assert len(checked) == 4  # FPR, agents' FPR, and the two cells >= 1,000 and >= 5%


def _micros(table: pa.Table, column: str) -> np.ndarray:
    result: np.ndarray = table.column(column).cast(pa.int64()).to_numpy()
    return result


def test_a_campaign_world_holds_its_ground_truth() -> None:
    w = campaign_world(world_spec(Cell(1_000, 0.05, 1), TINY), np.random.SeedSequence(3))
    assert w.leaking_campaigns == {"LEAK"}
    assert w.clean_campaigns == {"RND", "TEN", "RET"}
    assert w.leaking_agents == {"L00"}
    assert {"L01", "C00"} <= w.clean_agents
    c = w.contacts
    t, number = _micros(c, "time_utc"), c.column("number").to_numpy(zero_copy_only=False)
    campaign = c.column("campaign_id").to_numpy(zero_copy_only=False)
    agent = c.column("agent_id").to_numpy(zero_copy_only=False)
    t0, t1 = w.periods["LEAK"]
    for name in ("LEAK", "RND", "TEN", "RET"):
        mine = campaign == name
        assert mine.sum() == 1_000
        assert (t[mine] >= t0).all()
        assert (t[mine] < t1).all()
    # 50 of LEAK's contacts, all by L00, go to lines 2-25 days after their order
    received = w.events.filter(pc.equal(w.events.column("kind"), "ORDER_RECEIVED"))
    order = dict(
        zip(received.column("number").to_pylist(), _micros(received, "at").tolist(), strict=True)
    )
    after = np.array([t[i] - order.get(number[i], t[i]) for i in range(len(t))])
    near = (campaign == "LEAK") & (after >= 2 * DAY) & (after < 25 * DAY)
    assert near.sum() >= 50
    assert (near & (agent == "L00")).sum() >= 50
    # every RET contact calls back a line that called retail 1-5 days earlier
    inbound = c.column("direction").to_numpy(zero_copy_only=False) == "INBOUND"
    calls: dict[str, list[int]] = {}
    for i in np.flatnonzero(inbound):
        calls.setdefault(number[i], []).append(t[i])
    for i in np.flatnonzero(campaign == "RET"):
        assert any(DAY <= t[i] - s < 5 * DAY for s in calls[number[i]])
    # the world as known before an instant: nothing later
    seen = w.known_before(t0 + 3 * DAY)
    assert 0 < seen.contacts.num_rows < c.num_rows
    assert _micros(seen.contacts, "time_utc").max() < t0 + 3 * DAY
    assert _micros(seen.events, "at").max() < t0 + 3 * DAY
