"""The incumbent's retail CRM in the synthetic world: who retail contacted, when and why.

Retail never sees a CPS order, so a clean campaign cannot aim at leavers. Some do anyway,
and this is how the story's CRM export (INTERFACES.md §4) is made, with ground truth by
construction:

- customers who are leaving call retail themselves more often than others (inbound;
  legitimate), and the clean **retention** campaign calls back whoever called in — aimed
  at leavers, explained every time;
- a clean **tenure** mailing goes to long-standing customers picked without regard to
  CPS, never to a line compliance has reserved (the honey-lines);
- the leaking **winback** campaign works a list of each day's new CPS orders that leaks
  from the wholesale side, calling a share of it a few days later, hidden among ordinary
  contacts;
- one **leaking agent**, outside any campaign, does the same on a smaller scale.

The leaked list holds every order the wholesale side received, the decoy orders on
honey-lines among them: a leaker cannot tell them apart.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from forvalg.domain.contacts import COLUMNS, Direction


@dataclass(frozen=True)
class CrmSpec:
    """Campaign names, agents and rates; the defaults make leaks a detector should find
    in a three-month world and clean campaigns it must not flag."""

    retention: str = "RETENTION-Q4"  # clean: callbacks to customers who called in
    tenure: str = "TENURE-Q4"  # clean: a mailing by tenure
    winback: str = "WINBACK-Q4"  # leaks: works the list of new CPS orders
    leaking_agent: str = "A042"  # leaks on its own, no campaign
    winback_agents: tuple[str, ...] = ("W01", "W02", "W03")
    retail_agents: tuple[str, ...] = tuple(f"A{i:03d}" for i in range(12))
    call_in_leaver: float = 0.05  # share of leavers who call retail themselves
    call_in_other: float = 0.004  # share of other customers who call in, per month
    tenure_share: float = 0.2  # of all lines, mailed once
    winback_leak: float = 0.25  # share of the leaked list the winback campaign calls
    winback_cover: float = 3.0  # ordinary contacts per leaked one
    agent_leak: float = 0.05  # share of the leaked list the leaking agent calls
    agent_cover: float = 2.0


@dataclass(frozen=True)
class Contact:
    at: datetime
    number: str
    channel: str
    direction: Direction
    agent: str
    campaign: str


@dataclass(frozen=True)
class CrmTruth:
    """What the story knows and the detectors must find out."""

    contacts: list[Contact]
    leaked: dict[str, int]  # campaign or agent -> contacts aimed from the leaked list
    honey_reached: dict[str, list[str]]  # campaign or agent -> honey-lines it contacted


def crm_contacts(
    spec: CrmSpec,
    *,
    lines: Iterable[str],
    received: Mapping[str, datetime],
    honey: Iterable[str],
    start: datetime,
    end: datetime,
    rng: random.Random,
) -> CrmTruth:
    """The CRM's contacts between `start` and `end`. `received` is when each line's last
    PROVIDE or TRANSFER arrived (the decoys' included); `honey` are reserved lines."""
    reserved = set(honey)
    ordinary = sorted(set(lines) - reserved)
    span = (end - start).total_seconds()
    contacts: list[Contact] = []
    leaked: dict[str, int] = defaultdict(int)
    reached: dict[str, list[str]] = defaultdict(list)

    def daytime(t: datetime) -> datetime:
        """The next moment within office hours (07:00–16:00 UTC) at or after `t`."""
        t = t.replace(hour=max(7, min(t.hour, 15)))
        return t if t <= end else end

    def anytime() -> datetime:
        return daytime(start + timedelta(seconds=rng.uniform(0, span)))

    def add(
        at: datetime, number: str, channel: str, direction: Direction, agent: str, tag: str
    ) -> None:
        contacts.append(Contact(at, number, channel, direction, agent, tag))

    # Customers who call in, and the retention campaign's callbacks.
    callers = [n for n in received if n not in reserved and rng.random() < spec.call_in_leaver]
    months = max(1.0, span / (30 * 86400))
    callers += rng.sample(ordinary, int(len(ordinary) * spec.call_in_other * months))
    for number in callers:
        base = received.get(number) or anytime()
        called = daytime(base + timedelta(days=rng.uniform(1, 6)))
        if called >= end:
            continue
        agent = rng.choice(spec.retail_agents)
        add(called, number, "PHONE", Direction.INBOUND, agent, "")
        back = daytime(called + timedelta(days=rng.uniform(1, 5)))
        if back < end:
            add(back, number, "PHONE", Direction.OUTBOUND, agent, spec.retention)
    # The tenure mailing: by tenure, blind to CPS, honouring reservations.
    for number in rng.sample(ordinary, int(len(ordinary) * spec.tenure_share)):
        add(
            anytime(),
            number,
            "LETTER",
            Direction.OUTBOUND,
            rng.choice(spec.retail_agents),
            spec.tenure,
        )
    # The leaks: each day's new orders, worked a few days later.
    leaks = (
        (spec.winback, spec.winback_leak, spec.winback_cover, spec.winback_agents),
        (spec.leaking_agent, spec.agent_leak, spec.agent_cover, (spec.leaking_agent,)),
    )
    for subject, share, cover, agents in leaks:
        campaign = subject if subject == spec.winback else ""
        for number, at in sorted(received.items(), key=lambda item: item[1]):
            if rng.random() >= share:
                continue
            when = daytime(at + timedelta(days=rng.uniform(2, 10)))
            if when >= end:
                continue
            add(when, number, "PHONE", Direction.OUTBOUND, rng.choice(agents), campaign)
            leaked[subject] += 1
            if number in reserved:
                reached[subject].append(number)
        for _ in range(int(leaked[subject] * cover)):
            add(
                anytime(),
                rng.choice(ordinary),
                "PHONE",
                Direction.OUTBOUND,
                rng.choice(agents),
                campaign,
            )
    contacts.sort(key=lambda c: (c.at, c.number))
    return CrmTruth(contacts, dict(leaked), dict(reached))


def write_contacts(path: Path, contacts: Iterable[Contact]) -> int:
    """The CRM export as CSV (INTERFACES.md §4); returns the number of rows."""
    rows = 0
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(COLUMNS)
        for rows, c in enumerate(contacts, start=1):
            stamp = c.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            out.writerow(
                [
                    f"crm-{rows:07d}",
                    stamp,
                    c.number,
                    c.channel,
                    c.direction.value,
                    c.agent,
                    c.campaign,
                    "",
                ]
            )
    return rows
