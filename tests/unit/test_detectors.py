"""Targeting and timing detectors on synthetic worlds with known ground truth."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forvalg.compliance.detectors import (
    DetectionSettings,
    Finding,
    detect,
    examined,
    findings_document,
)
from forvalg.compliance.detectors.findings import finding_id
from forvalg.compliance.detectors.targeting import targeting_tests
from forvalg.compliance.detectors.timing import timing_tests
from forvalg.compliance.detectors.workspace import DetectionInputError, Exposure
from forvalg.domain.statistics import Severity
from forvalg.sim.campaigns import World, world


@pytest.fixture(scope="module")
def the_world() -> World:
    return world()


@pytest.fixture(scope="module")
def found(the_world: World) -> list[Finding]:
    return detect(the_world.contacts, the_world.events, the_world.population)


def _worst(
    findings: list[Finding], kind: str, subject: str, detector: str | None = None
) -> Severity:
    levels = [
        f.severity
        for f in findings
        if f.subject.get(kind) == subject and (detector is None or f.detector == detector)
    ]
    return max(levels, key=lambda s: s.rank, default=Severity.INFO)


def test_the_leaking_campaign_and_agents_are_found(the_world: World, found: list[Finding]) -> None:
    for campaign in ("WB", "EARLY"):
        assert _worst(found, "campaign_id", campaign, "targeting").at_least(Severity.MEDIUM)
    for agent in the_world.leaking_agents:
        assert _worst(found, "agent_id", agent, "targeting").at_least(Severity.MEDIUM), agent


def test_clean_campaigns_and_agents_stay_below_medium(
    the_world: World, found: list[Finding]
) -> None:
    for campaign in the_world.clean_campaigns:
        assert not _worst(found, "campaign_id", campaign).at_least(Severity.MEDIUM), campaign
    for agent in the_world.clean_agents:
        assert not _worst(found, "agent_id", agent).at_least(Severity.MEDIUM), agent


def test_contacts_before_the_letter_could_arrive_are_high(found: list[Finding]) -> None:
    early = [
        f
        for f in found
        if f.detector == "timing"
        and f.evidence["test"] == "before_letter"
        and f.subject == {"campaign_id": "EARLY"}
    ]
    assert len(early) == 1
    assert early[0].severity.at_least(Severity.HIGH)
    assert "before the customer could have told anyone" in early[0].summary
    assert early[0].evidence["contacts_in_interval"] >= 15  # 20 leaked, a few explained
    # only the leaking ones are flagged for early contacts
    flagged = {
        next(iter(f.subject.values()))
        for f in found
        if f.evidence["test"] == "before_letter" and f.severity.at_least(Severity.MEDIUM)
    }
    assert flagged == {"EARLY", "E1"}


def test_the_retention_campaign_is_aimed_at_leavers_but_explained(the_world: World) -> None:
    """RET calls back customers who called retail, most of them leavers. Without the
    inbound explanation it would be flagged; with it, it is clean."""
    rigid = DetectionSettings(explain_window=timedelta(microseconds=1))
    naive = detect(
        the_world.contacts,
        the_world.events,
        the_world.population,
        rigid,
        detectors=[targeting_tests],
    )
    assert _worst(naive, "campaign_id", "RET").at_least(Severity.MEDIUM)
    fair = detect(
        the_world.contacts, the_world.events, the_world.population, detectors=[targeting_tests]
    )
    assert not _worst(fair, "campaign_id", "RET").at_least(Severity.LOW)


def test_inbound_contacts_never_count_as_targeting(the_world: World) -> None:
    contacts = the_world.contacts
    wb = pc.equal(contacts.column("campaign_id"), "WB")
    direction = pc.if_else(wb, "INBOUND", contacts.column("direction"))
    turned = contacts.set_column(contacts.column_names.index("direction"), "direction", direction)
    found = detect(turned, the_world.events, the_world.population)
    assert _worst(found, "campaign_id", "WB") is Severity.INFO
    assert _worst(found, "agent_id", "W1") is Severity.INFO


def test_two_hundred_random_campaigns_stay_below_medium() -> None:
    """200 campaigns (and ~50 agents) drawn at random from the population, 50-3,000
    contacts each, in one run beside the leaks: none reaches MEDIUM. The bound is 1% per
    clean subject (statistics.severity); with BH across the run the chance that any of
    them does is about 1% as well, and this seed is fixed."""
    w = world(seed=2026, random_campaigns=200)
    found = detect(w.contacts, w.events, w.population)
    randoms = {c for c in w.clean_campaigns if c.startswith("RND")}
    assert len(randoms) == 200
    medium = [
        f
        for f in found
        if f.severity.at_least(Severity.MEDIUM)
        and (
            f.subject.get("campaign_id") in randoms
            or str(f.subject.get("agent_id", "")).startswith("RNA")
        )
    ]
    assert medium == []
    # the leaks are still found beside them
    assert _worst(found, "campaign_id", "WB").at_least(Severity.MEDIUM)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1))
def test_a_campaign_drawn_at_random_is_never_medium(seed: int) -> None:
    """Twelve worlds, each with clean campaigns drawn at random. The design bound is a
    1% chance per clean subject and test of reaching medium (statistics.severity), so on
    fresh random seeds this would fail now and then by design (seed 40361626 does: a
    random campaign's after-receipt count at p = 0.0035); the examples are therefore
    fixed (derandomized), and the rate itself is measured by benchmarks/detection_eval.py
    (DETECTION.md, "Evaluation")."""
    w = world(seed=seed, lines=5_000, campaign_size=1_000, random_campaigns=3)
    found = detect(w.contacts, w.events, w.population)
    for campaign in w.clean_campaigns:
        assert not _worst(found, "campaign_id", campaign).at_least(Severity.MEDIUM)


def test_findings_document_is_the_section_5_shape_and_deterministic(
    the_world: World, found: list[Finding]
) -> None:
    at = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    doc = findings_document(found, at)
    assert doc["generated_at"] == "2026-11-29T09:00:00Z"
    findings = doc["findings"]
    assert isinstance(findings, list)
    assert findings
    for f in findings:
        assert set(f) == {
            "id",
            "detector",
            "severity",
            "subject",
            "summary",
            "statistics",
            "evidence",
        }
        assert f["detector"] in {"targeting", "timing"}
        assert f["severity"] in {"info", "low", "medium", "high", "critical"}
        assert set(f["statistics"]) == {"p_value", "lift", "n"}
        assert len(f["subject"]) == 1
        assert f["summary"].endswith(").")
        assert f["evidence"]["sample_contact_ids"] == sorted(f["evidence"]["sample_contact_ids"])
    ranks = [Severity(f["severity"]).rank for f in findings]
    assert ranks == sorted(ranks, reverse=True)
    again = detect(the_world.contacts, the_world.events, the_world.population)
    assert json.dumps(findings_document(again, at)) == json.dumps(doc)
    assert len({f["id"] for f in findings}) == len(findings)
    with pytest.raises(ValueError, match="timezone"):
        findings_document(found, datetime(2026, 1, 1))


def test_finding_ids_are_stable() -> None:
    assert finding_id("targeting", "after_cps_event", ("campaign_id", "WB")) == finding_id(
        "targeting", "after_cps_event", ("campaign_id", "WB")
    )
    assert finding_id("targeting", "after_cps_event", ("campaign_id", "WB")) != finding_id(
        "targeting", "after_cps_event", ("agent_id", "WB")
    )


def test_timing_alone_and_a_missing_column(the_world: World) -> None:
    timing = detect(
        the_world.contacts, the_world.events, the_world.population, detectors=[timing_tests]
    )
    assert {f.detector for f in timing} == {"timing"}
    with pytest.raises(DetectionInputError, match="missing column"):
        detect(
            the_world.contacts.drop_columns(["agent_id"]), the_world.events, the_world.population
        )
    naive = the_world.events.set_column(
        2, "at", the_world.events.column("at").cast(pa.timestamp("us"))
    )
    with pytest.raises(DetectionInputError, match="timezone"):
        detect(the_world.contacts, naive, the_world.population)


def test_no_contacts_no_findings(the_world: World) -> None:
    assert detect(the_world.contacts.slice(0, 0), the_world.events, the_world.population) == []


def test_exposure_integrates_exposed_lines_over_time() -> None:
    # line 1 exposed [0, 10), line 2 exposed [5, 20) (already merged per line)
    e = Exposure.of(np.array([0, 5]), np.array([10, 20]))
    assert e.between(np.array([0, 5, 0, 25]), np.array([5, 10, 30, 30])).tolist() == [
        5.0,
        10.0,
        25.0,
        0.0,
    ]
    assert e.upto(np.array([-3])).tolist() == [0.0]
    assert Exposure.of(np.array([], np.int64), np.array([], np.int64)).between(
        np.array([0]), np.array([9])
    ).tolist() == [0.0]


def _office_hours_world(leak: float, seed: int = 5) -> tuple[pa.Table, pa.Table, pa.Array]:
    """Orders arrive at 10:00 UTC on each of 60 days (30 lines a day), the letter can
    arrive from midnight; one campaign calls in office hours (10:00-15:00 UTC) only,
    `leak` of its calls to that day's new orders, the rest to lines at random."""
    rng = np.random.default_rng(seed)
    lines = np.array([f"2{i:07d}" for i in range(2000)])
    day0 = datetime(2026, 10, 5, tzinfo=UTC)
    ordered = rng.permutation(lines)[: 60 * 30].reshape(60, 30)
    events = pa.table(
        {
            "number": ordered.ravel(),
            "kind": ["ORDER_RECEIVED"] * ordered.size,
            "at": [day0 + timedelta(days=d, hours=10) for d in range(60) for _ in range(30)],
            "letter_earliest": [day0 + timedelta(days=d + 1) for d in range(60) for _ in range(30)],
        }
    )
    rows = []
    for i in range(5000):
        day = int(rng.integers(60))
        at = day0 + timedelta(days=day, hours=10, seconds=int(rng.integers(5 * 3600)))
        number = rng.choice(ordered[day]) if rng.random() < leak else rng.choice(lines)
        rows.append((f"c{i}", at, str(number), "OUTBOUND", f"A{i % 5}", "OFFICE"))
    contacts = pa.table(
        dict(
            zip(
                ("contact_id", "time_utc", "number", "direction", "agent_id", "campaign_id"),
                map(list, zip(*rows, strict=True)),
                strict=True,
            )
        )
    )
    return contacts, events, pa.array(lines)


def test_timing_takes_exposure_at_the_contacts_instants() -> None:
    """Orders arrive and letter intervals open in office hours, and an honest campaign
    calls in office hours too: by the instants of its calls it reaches exposed lines no
    more than chance, though an average over all line-time would say it does (the demo's
    tenure mailing was flagged that way). A leak in the same hours is still found."""
    contacts, events, population = _office_hours_world(leak=0.0)
    clean = detect(contacts, events, population, detectors=[timing_tests])
    early = [f for f in clean if f.evidence["test"] == "before_letter"]
    assert not any(f.severity.at_least(Severity.MEDIUM) for f in clean), early
    offered = [f for f in early if f.subject == {"campaign_id": "OFFICE"}]
    if offered:  # reported only at low: its expected share is the office-hours share
        assert offered[0].evidence["expected_share"] > 30 * 0.9 / 2000
    contacts, events, population = _office_hours_world(leak=0.02)
    leaking = detect(contacts, events, population, detectors=[timing_tests])
    assert _worst(leaking, "campaign_id", "OFFICE").at_least(Severity.HIGH)


def test_the_findings_document_says_whom_the_run_examined(the_world: World) -> None:
    """Every campaign and agent with an outbound contact is examined (inbound-only
    agents are not subjects), and the document lists them sorted, once each."""
    looked_at = examined(the_world.contacts)
    outbound = the_world.contacts.filter(pc.equal(the_world.contacts["direction"], "OUTBOUND"))
    assert looked_at["campaign_id"] == sorted({c for c in outbound["campaign_id"].to_pylist() if c})
    assert "RET" in looked_at["campaign_id"]
    assert "principal" not in looked_at  # no ledger given
    document = findings_document([], datetime(2026, 4, 1, tzinfo=UTC), looked_at)
    assert document["examined"] == looked_at
    assert "examined" not in findings_document([], datetime(2026, 4, 1, tzinfo=UTC))
