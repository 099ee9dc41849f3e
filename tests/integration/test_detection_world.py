"""Issue 6, "done when": on a world with one leaking campaign, one leaking agent, one clean
retention campaign, a clean campaign by tenure and honey-lines, `forvalg detect` flags
exactly the leaks. Everything goes through the real services: orders placed by the
operators and worked by the processor, honey-lines made by `canary add`, contacts
imported like the CRM's file, detection reading behind the wall."""

from __future__ import annotations

import csv
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from forvalg.domain.orders import Authorisation, Option, OrderRequest, OrderType
from forvalg.domain.statistics import Severity
from forvalg.wall.principals import operator_principal

from .world import World

START = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
DAYS = 50
LINES = {f"3{7 * i:07d}": (f"{1000 + i % 50:04d}", "PSTN", "ACTIVE") for i in range(3000)}
RETAIL = ("A00", "A01", "A02", "A03")


def build(world: World, rng: random.Random) -> tuple[dict[str, datetime], list[str]]:
    """Orders over `DAYS` days (about 4 a day), worked daily, and 6 honey-lines on day 10.
    Returns when each line's order was received, and the honey-lines."""
    svc, clock = world.services, world.clock
    world.add_lines(LINES)
    for op, csc in (("alfatel", "1501"), ("betanett", "1502")):
        world.add_operator(op, op.title(), csc)
    numbers = sorted(LINES)
    rng.shuffle(numbers)
    received: dict[str, datetime] = {}
    honey: list[str] = []
    for day in range(DAYS):
        for k in range(4):
            clock.at = START + timedelta(days=day, hours=1 + 2 * k)
            number = numbers.pop()
            op = rng.choice(("alfatel", "betanett"))
            auth = Authorisation(f"LOA-{rng.randrange(10**8)}", clock.at.date(), "web")
            request = OrderRequest(OrderType.PROVIDE, number, Option.ALL, LINES[number][0], auth)
            svc.desk.submit(operator_principal(op), request, idempotency_key=f"{op}-{number}")
            received[number] = clock.at
        if day == 10:
            made = svc.canaries.add(6)
            honey = [h.number for h in made]
            received.update({h.number: h.received_at for h in made})
        clock.at = START + timedelta(days=day, hours=20)
        svc.processor.process(clock.at)
    return received, honey


def contacts(
    rng: random.Random, received: dict[str, datetime], honey: list[str]
) -> list[tuple[str, datetime, str, str, str, str]]:
    """(number, time, direction, agent, campaign) rows, ground truth by construction."""
    ordinary = [n for n in LINES if n not in received]
    rows: list[tuple[str, datetime, str, str, str, str]] = []

    def at(day: float) -> datetime:
        return START + timedelta(days=day, hours=rng.uniform(0, 8))

    def recent(t: datetime) -> list[str]:
        return [n for n, r in received.items() if timedelta(days=2) <= t - r <= timedelta(days=20)]

    # Leavers call retail themselves (inbound) more often, a few days after their order;
    # RET calls back customers who called in: aimed at leavers, explained every time.
    leavers = sorted(n for n in received if n not in honey)  # compliance never calls in
    callers = rng.sample(leavers, 90) + rng.sample(ordinary, 60)
    for number in callers:
        base = received.get(number, START + timedelta(days=rng.uniform(5, 40)))
        t = base + timedelta(days=rng.uniform(1, 6))
        rows.append((number, t, "INBOUND", rng.choice(RETAIL), ""))
        rows.append(
            (number, t + timedelta(days=rng.uniform(1, 5)), "OUTBOUND", rng.choice(RETAIL), "RET")
        )
    # TEN: by tenure, lines picked without regard to CPS (and never a reserved honey-line).
    for number in rng.sample(ordinary + [n for n in received if n not in honey], 800):
        rows.append((number, at(rng.uniform(20, DAYS)), "OUTBOUND", rng.choice(RETAIL), "TEN"))
    # WB: the leaking winback campaign: a quarter of its contacts go to recent leavers.
    for i in range(600):
        t = at(rng.uniform(20, DAYS))
        pool = [n for n in recent(t) if n not in honey] if i % 4 == 0 else ordinary
        rows.append((rng.choice(pool), t, "OUTBOUND", rng.choice(("W1", "W2")), "WB"))
    rows.append((honey[0], received[honey[0]] + timedelta(days=9), "OUTBOUND", "W1", "WB"))
    # A-LEAK: one agent, no campaign, calling recent leavers a third of the time.
    for i in range(240):
        t = at(rng.uniform(20, DAYS))
        pool = [n for n in recent(t) if n not in honey] if i % 3 == 0 else ordinary
        rows.append((rng.choice(pool), t, "OUTBOUND", "A-LEAK", ""))
    rows.append((honey[1], received[honey[1]] + timedelta(days=14), "OUTBOUND", "A-LEAK", ""))
    return [(f"k{i:05d}", *row) for i, row in enumerate(sorted(rows, key=lambda r: r[1]))]


def write(path: Path, rows: list[tuple[str, datetime, str, str, str, str]]) -> Path:
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(
            [
                "contact_id",
                "time_utc",
                "number",
                "channel",
                "direction",
                "agent_id",
                "campaign_id",
                "outcome",
            ]
        )
        for cid, number, t, direction, agent, campaign in rows:
            stamp = t.astimezone(UTC).isoformat().replace("+00:00", "Z")
            out.writerow([cid, stamp, number, "PHONE", direction, agent, campaign, ""])
    return path


def test_detect_flags_exactly_the_leaks(world: World) -> None:
    rng = random.Random(6)
    received, honey = build(world, rng)
    path = write(world.tmp_path / "contacts.csv", contacts(rng, received, honey))
    assert world.services.contacts.import_file(path).rejected == 0
    out = world.tmp_path / "findings.json"
    report = world.services.detection.run(out)
    found = json.loads(out.read_text())["findings"]
    serious = {
        (f["detector"], next(iter(f["subject"].values())))
        for f in found
        if Severity(f["severity"]).at_least(Severity.MEDIUM)
    }
    flagged = {subject for _, subject in serious}
    assert flagged == {"WB", "W1", "W2", "A-LEAK"}, found
    assert ("targeting", "WB") in serious
    assert ("targeting", "A-LEAK") in serious
    honey_found = {
        next(iter(f["subject"].values())): f for f in found if f["detector"] == "honey_line"
    }
    assert {s: f["severity"] for s, f in honey_found.items()} == {
        "WB": "critical",
        "W1": "critical",
        "A-LEAK": "critical",
    }
    assert "probability" in honey_found["WB"]["summary"]
    # Each finding of medium or above opened an incident, with the contacts it samples
    # and the CPS events on their lines as evidence; a second run updates them.
    medium = [f["id"] for f in found if Severity(f["severity"]).at_least(Severity.MEDIUM)]
    assert sorted(report.incidents.opened) == sorted(medium)
    assert report.incidents.evidence_added > len(medium)
    again = world.services.detection.run(out)
    assert (again.incidents.opened, sorted(again.incidents.updated)) == ({}, sorted(medium))
