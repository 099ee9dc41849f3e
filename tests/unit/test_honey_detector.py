"""The honey_line detector: a targeted contact to a honey-line in its window is critical
every time, with the chance of a clean campaign doing the same stated; a mailing to the
whole base is not targeting (docs/DETECTION.md, "Honey-lines")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
from scipy.stats import hypergeom

from forvalg.compliance.detectors import Finding, detect
from forvalg.compliance.detectors.honey import honey_tests
from forvalg.compliance.detectors.workspace import DetectionSettings, Workspace
from forvalg.domain.statistics import Severity

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TS = pa.timestamp("us", tz="UTC")
LINES = [f"2{i:07d}" for i in range(1000)]
HONEY = LINES[-5:]  # the last five lines are honey-lines, their decoys received on day 10
NO_EVENTS = pa.table(
    {"number": pa.array([], pa.string()), "kind": pa.array([], pa.string()), "at": pa.array([], TS)}
)


def honey() -> pa.Table:
    return pa.table(
        {"number": HONEY, "created_at": pa.array([T0 + timedelta(days=10)] * len(HONEY), TS)}
    )


def contacts(rows: list[tuple[str, int, str, str | None]]) -> pa.Table:
    """(number, day, agent, campaign) each; outbound, at 10:00 on day `day`."""
    return pa.table(
        {
            "contact_id": [f"c{i}" for i in range(len(rows))],
            "time_utc": pa.array([T0 + timedelta(days=d) for _, d, _, _ in rows], TS),
            "number": [n for n, _, _, _ in rows],
            "direction": ["OUTBOUND"] * len(rows),
            "agent_id": [a for _, _, a, _ in rows],
            "campaign_id": [c for _, _, _, c in rows],
        }
    )


def campaign(
    name: str, agent: str, lines: list[str], day: int = 12
) -> list[tuple[str, int, str, str | None]]:
    return [(n, day + i % 5, agent, name) for i, n in enumerate(lines)]


def findings(rows: list[tuple[str, int, str, str | None]]) -> dict[tuple[str, str], Finding]:
    found = detect(
        contacts(rows), NO_EVENTS, pa.array(LINES), None, honey(), min_severity=Severity.INFO
    )
    return {(f.detector, next(iter(f.subject.values()))): f for f in found}


def test_a_targeted_contact_to_a_honey_line_is_critical_with_the_chance_stated() -> None:
    rows = campaign("WB", "W1", [*LINES[:49], HONEY[0]])
    found = findings(rows)
    for subject in ("WB", "W1"):
        f = found[("honey_line", subject)]
        assert f.severity is Severity.CRITICAL
        chance = float(hypergeom.sf(0, 1000, 5, 50))
        assert f.statistics["p_value"] == float(f"{chance:.3g}")
        assert f.evidence["chance_if_random"] == chance
        assert f.evidence["honey_lines_contacted"] == 1
        assert f.evidence["sample_contact_ids"] == ["c49"]
        assert "cannot reach one" in f.summary
        assert f"probability {chance:.2g}." in f.summary


def test_outside_the_window_a_honey_line_is_a_line_like_any_other() -> None:
    before = campaign("EARLY", "E1", [*LINES[:49], HONEY[0]], day=2)  # before the decoy
    after = campaign("LATE", "L1", [*LINES[:49], HONEY[1]], day=75)  # window is 60 days
    assert not [k for k in findings(before + after) if k[0] == "honey_line"]


def test_a_mailing_to_the_whole_base_is_not_targeting() -> None:
    found = findings(campaign("PRICE", "P1", LINES[:600] + HONEY))
    f = found[("honey_line", "PRICE")]
    assert f.severity is Severity.INFO
    assert f.evidence["targeted"] is False
    assert "whole base" in f.summary


def test_campaigns_that_honour_the_reservations_never_touch_one() -> None:
    rows = campaign("TEN", "A1", LINES[:300]) + campaign("RET", "A2", LINES[300:700])
    assert not [k for k in findings(rows) if k[0] == "honey_line"]


def test_the_chance_counts_only_honey_lines_in_their_window_during_the_period() -> None:
    table = honey()
    later = pa.table(
        {"number": ["20000000"], "created_at": pa.array([T0 + timedelta(days=200)], TS)}
    )
    ws = Workspace(
        contacts(campaign("WB", "W1", [*LINES[1:50], HONEY[0]])),
        NO_EVENTS,
        pa.array(LINES),
        DetectionSettings(),
        pa.concat_tables([table, later]),
    )
    (campaign_test, _agent) = honey_tests(ws)
    assert campaign_test.evidence["honey_lines_in_window"] == 5
