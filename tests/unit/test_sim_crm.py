"""The simulated retail CRM: its clean campaigns are clean by construction, its leaks are
where the story says, and its export is the published contact format."""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from forvalg.domain.contacts import Direction
from forvalg.sim.crm import COLUMNS, CrmSpec, CrmTruth, crm_contacts, write_contacts

START = datetime(2026, 10, 5, tzinfo=UTC)
END = START + timedelta(days=60)
LINES = [f"2{i:07d}" for i in range(4000)]
HONEY = ["39999901", "39999902", "39999903"]


def _received() -> dict[str, datetime]:
    """600 lines' orders over 55 days, and the honey-lines' decoys on day 20."""
    rng = random.Random(1)
    received = {n: START + timedelta(days=rng.uniform(0, 55)) for n in rng.sample(LINES, 600)}
    return received | {n: START + timedelta(days=20) for n in HONEY}


def _crm(seed: int) -> tuple[CrmSpec, dict[str, datetime], CrmTruth]:
    spec, received = CrmSpec(), _received()
    truth = crm_contacts(
        spec,
        lines=LINES,
        received=received,
        honey=HONEY,
        start=START,
        end=END,
        rng=random.Random(seed),
    )
    return spec, received, truth


def test_clean_campaigns_never_reach_a_reserved_line_and_retention_follows_a_call_in() -> None:
    spec, _, truth = _crm(2)
    clean = {spec.retention, spec.tenure}
    assert not [c for c in truth.contacts if c.campaign in clean and c.number in HONEY]
    called_in: dict[str, datetime] = {}
    for c in truth.contacts:
        if c.direction is Direction.INBOUND:
            called_in.setdefault(c.number, c.at)
    retention = [c for c in truth.contacts if c.campaign == spec.retention]
    assert retention
    assert all(c.number in called_in and called_in[c.number] < c.at for c in retention)
    assert all(START <= c.at < END for c in truth.contacts)
    assert truth.contacts == sorted(truth.contacts, key=lambda c: (c.at, c.number))


def test_the_leaks_work_the_list_of_new_orders_decoys_included() -> None:
    spec, received, truth = _crm(3)
    winback = [c for c in truth.contacts if c.campaign == spec.winback]
    agent = [c for c in truth.contacts if c.agent == spec.leaking_agent]
    # The leaked share is about what the spec says, and hidden among ordinary contacts.
    assert 0.15 * 603 < truth.leaked[spec.winback] < 0.35 * 603
    assert len(winback) == truth.leaked[spec.winback] * (1 + int(spec.winback_cover))
    assert {c.agent for c in winback} <= set(spec.winback_agents)
    assert all(c.campaign == "" for c in agent)
    for subject, reached in truth.honey_reached.items():
        assert set(reached) <= set(HONEY), subject
    # Leaked contacts come 2 to 10 days after the order (within office hours).
    late = [
        c
        for c in winback
        if c.number in received and timedelta(0) < c.at - received[c.number] < timedelta(days=11)
    ]
    assert len(late) >= truth.leaked[spec.winback]


def test_the_export_is_the_published_contact_format(tmp_path: Path) -> None:
    _, _, truth = _crm(4)
    path = tmp_path / "contacts.csv"
    assert write_contacts(path, truth.contacts) == len(truth.contacts)
    with path.open() as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == COLUMNS
    assert len({r["contact_id"] for r in rows}) == len(rows)
    assert {r["direction"] for r in rows} == {"INBOUND", "OUTBOUND"}
    assert all(r["time_utc"].endswith("Z") and len(r["number"]) == 8 for r in rows)
