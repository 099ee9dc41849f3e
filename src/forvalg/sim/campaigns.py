"""Synthetic worlds of retail contacts and CPS events, with the ground truth known: which
campaigns and agents leak, and which are clean. The detectors' tests, their evaluation
(`benchmarks/detection_eval.py`) and, later, `forvalg demo` draw their worlds here.

Both kinds of world share one picture. `lines` lines; a share of them place a CPS order
(ORDER_RECEIVED; the customer's letter can arrive a day later; half of them also see a
LOSS ten days later). Customers call retail themselves (inbound) now and then, and those
who are leaving call more often, after their order — the confounder a naive detector
would fall for. Outbound contacts come from campaigns and agents:

- **clean** campaigns pick their lines without regard to CPS events: at random, by
  tenure (long-standing customers, a fixed quarter of the lines), or for retention,
  calling back customers who called retail 1-5 days earlier (aimed at leavers, but
  every contact is explained by the customer's own call);
- a **leaking** campaign sends a share of its contacts to lines 2-25 days after their
  order, made by one of its agents or spread over several.

`campaign_world(spec, seed)` builds a world from a `WorldSpec` (population, order rate,
campaigns with size, leak share, leaking agents and kind; every knob the evaluation
varies). `world(...)` is the detectors' unit-test world, fixed campaign names and all
(kept draw for draw as it was, so its seeds keep their meaning).

Sim layer: numpy and pyarrow only; times are integer microseconds since the epoch (UTC)
until the tables are built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DAY = 86_400_000_000
START = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()) * 1_000_000
TS = pa.timestamp("us", tz="UTC")
FIRST_NUMBER = 20_000_000


@dataclass
class Contacts:
    """Contact columns collected in pieces, assembled once."""

    rng: np.random.Generator
    parts: list[dict[str, np.ndarray]] = field(default_factory=list)

    def add(
        self,
        numbers: np.ndarray,
        times: np.ndarray,
        *,
        direction: str,
        campaign: str | None,
        agents: list[str],
    ) -> None:
        """Contacts, each made by an agent drawn at random from `agents`."""
        n = len(numbers)
        self.add_by(
            numbers,
            times,
            direction=direction,
            campaign=campaign,
            agents=np.array(agents, dtype=object)[self.rng.integers(0, len(agents), n)],
        )

    def add_by(
        self,
        numbers: np.ndarray,
        times: np.ndarray,
        *,
        direction: str,
        campaign: str | None,
        agents: np.ndarray,
    ) -> None:
        """Contacts with their agents given, one a contact."""
        n = len(numbers)
        self.parts.append(
            {
                "number": numbers.astype(np.int64),
                "t": times.astype(np.int64),
                "direction": np.full(n, direction, dtype=object),
                "campaign_id": np.full(n, campaign, dtype=object),
                "agent_id": agents.astype(object),
            }
        )

    def table(self) -> pa.Table:
        cols = {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}
        n = len(cols["t"])
        return pa.table(
            {
                "contact_id": [f"C{i:08d}" for i in range(n)],
                "time_utc": pa.array(cols["t"], pa.int64()).cast(TS),
                "number": pa.array(cols["number"].astype(str)),
                "channel": pa.array(["PHONE"] * n),
                "direction": pa.array(list(cols["direction"])),
                "agent_id": pa.array(list(cols["agent_id"])),
                "campaign_id": pa.array(list(cols["campaign_id"]), pa.string()),
                "outcome": pa.nulls(n, pa.string()),
            }
        )


@dataclass(frozen=True)
class World:
    """A world and its ground truth. `periods`: each campaign's [start, end) in
    microseconds since the epoch (UTC), where the generator knows it."""

    contacts: pa.Table
    events: pa.Table
    population: pa.Array
    leaking_campaigns: frozenset[str]
    clean_campaigns: frozenset[str]
    leaking_agents: frozenset[str]
    clean_agents: frozenset[str]
    periods: Mapping[str, tuple[int, int]] = field(default_factory=dict)

    def known_before(self, instant: int) -> World:
        """The world as a detection run at `instant` (microseconds, UTC) sees it: the
        contacts made and the CPS events that happened before it. The ground truth stays
        the whole world's."""
        t = pa.scalar(instant, pa.int64()).cast(TS)
        return World(
            contacts=self.contacts.filter(pc.less(self.contacts.column("time_utc"), t)),
            events=self.events.filter(pc.less(self.events.column("at"), t)),
            population=self.population,
            leaking_campaigns=self.leaking_campaigns,
            clean_campaigns=self.clean_campaigns,
            leaking_agents=self.leaking_agents,
            clean_agents=self.clean_agents,
            periods=self.periods,
        )


def _events(
    leavers: np.ndarray, received: np.ndarray, lost: np.ndarray, loss_after: int, letter: int
) -> pa.Table:
    """ORDER_RECEIVED for every leaver (its letter can arrive `letter` later) and a LOSS
    `loss_after` later for the `lost` ones (no letter)."""
    n_lost = int(lost.sum())
    return pa.table(
        {
            "number": pa.array(np.concatenate([leavers, leavers[lost]]).astype(str), pa.string()),
            "kind": pa.array(["ORDER_RECEIVED"] * len(leavers) + ["LOSS"] * n_lost),
            "at": pa.array(np.concatenate([received, received[lost] + loss_after])).cast(TS),
            "letter_earliest": pa.array(
                np.concatenate([received + letter, np.zeros(n_lost, np.int64)]),
                mask=np.concatenate([np.zeros(len(leavers), bool), np.ones(n_lost, bool)]),
            ).cast(TS),
        }
    )


# -- the evaluation's worlds -------------------------------------------------------------


class Kind(StrEnum):
    """How a campaign picks the lines of its clean contacts."""

    RANDOM = "random"  # any line of the population
    TENURE = "tenure"  # long-standing customers: a fixed share of the lines
    RETENTION = "retention"  # customers who called retail 1-5 days earlier


@dataclass(frozen=True, slots=True)
class CampaignSpec:
    """One campaign: `contacts` outbound contacts at random instants of the `days` days from
    `start_day` (days since the world's start), made by `agents` drawn at random.

    `leak` of them (rounded) go to lines 2-25 days after their CPS order
    (`WorldSpec.leak_delay`), made by the first `leak_agents` of `agents` — one agent
    leaking on their own, or the leak spread over many. The rest are picked by `kind`."""

    name: str
    contacts: int
    kind: Kind = Kind.RANDOM
    leak: float = 0.0
    agents: tuple[str, ...] = ("A00",)
    leak_agents: int = 1
    start_day: int = 30
    days: int = 30

    def __post_init__(self) -> None:
        if self.contacts < 0 or self.days <= 0 or self.start_day < 0:
            raise ValueError(f"{self.name}: needs contacts >= 0, days > 0, start_day >= 0")
        if not 0.0 <= self.leak <= 1.0:
            raise ValueError(f"{self.name}: leak must be a share in [0, 1]")
        if not self.agents or not 1 <= self.leak_agents <= len(self.agents):
            raise ValueError(f"{self.name}: leak_agents must be 1-{len(self.agents)}")

    @property
    def leaked(self) -> int:
        return round(self.contacts * self.leak)


@dataclass(frozen=True, slots=True)
class WorldSpec:
    """The world around the campaigns. Rates are per line per year."""

    campaigns: tuple[CampaignSpec, ...]
    lines: int = 100_000
    days: int = 60
    order_rate: float = 0.16  # CPS orders; the detectors' test world has 8% in 180 days
    loss_share: float = 0.5  # orders followed by a LOSS event
    loss_after_days: int = 10
    letter_days: int = 1  # the customer's letter can arrive this long after receipt
    inbound_rate: float = 0.34  # background inbound contacts
    leaver_calls: float = 0.4  # leavers who call retail within 20 days of their order
    leak_delay: tuple[int, int] = (2, 25)  # days after the order a leaked contact falls
    tenure_share: float = 0.25  # the long-standing customers a tenure campaign calls
    retention_delay: tuple[int, int] = (1, 5)  # days from the inbound call to the call back

    def __post_init__(self) -> None:
        for c in self.campaigns:
            if c.start_day + c.days > self.days:
                raise ValueError(f"{c.name} runs past the world's {self.days} days")
            if c.leaked and c.start_day < self.leak_delay[0]:
                raise ValueError(f"{c.name}: a leak needs orders before the campaign starts")


def agent_names(prefix: str, count: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{i:02d}" for i in range(count))


def campaign_world(spec: WorldSpec, seed: int | np.random.SeedSequence) -> World:
    """A world of `spec`'s campaigns, reproducible from `seed`."""
    rng = np.random.default_rng(seed)
    numbers = np.arange(FIRST_NUMBER, FIRST_NUMBER + spec.lines)
    span = spec.days * DAY
    per_line = spec.days / 365.0

    orders = min(spec.lines, int(rng.poisson(spec.lines * spec.order_rate * per_line)))
    leavers = rng.choice(numbers, orders, replace=False)
    received = START + rng.integers(0, span, orders)
    by_time = np.argsort(received, kind="stable")
    leavers, received = leavers[by_time], received[by_time]
    lost = rng.random(orders) < spec.loss_share
    events = _events(leavers, received, lost, spec.loss_after_days * DAY, spec.letter_days * DAY)

    c = Contacts(rng)
    background = int(rng.poisson(spec.lines * spec.inbound_rate * per_line))
    calling = rng.random(orders) < spec.leaver_calls
    inbound_n = np.concatenate([rng.choice(numbers, background), leavers[calling]])
    inbound_t = np.concatenate(
        [
            START + rng.integers(0, span, background),
            received[calling] + rng.integers(0, 20 * DAY, int(calling.sum())),
        ]
    )
    c.add_by(
        inbound_n,
        inbound_t,
        direction="INBOUND",
        campaign=None,
        agents=np.full(len(inbound_n), "-", dtype=object),
    )
    tenured = np.sort(rng.choice(numbers, max(1, round(spec.lines * spec.tenure_share)), False))

    leaking_agents: set[str] = set()
    all_agents: set[str] = set()
    periods = {}
    for campaign in spec.campaigns:
        t0 = START + campaign.start_day * DAY
        t1 = t0 + campaign.days * DAY
        periods[campaign.name] = (t0, t1)
        n_leak = campaign.leaked
        n_clean = campaign.contacts - n_leak
        clean_n, clean_t = _clean(rng, campaign.kind, n_clean, t0, t1, numbers, tenured, spec, c)
        leak_t = rng.integers(t0, t1, n_leak)
        leak_n = _recent_leavers(rng, leak_t, leavers, received, spec.leak_delay)
        agents = np.array(campaign.agents, dtype=object)
        clean_by = agents[rng.integers(0, len(agents), n_clean)]
        leak_by = agents[rng.integers(0, campaign.leak_agents, n_leak)]
        c.add_by(
            np.concatenate([clean_n, leak_n]),
            np.concatenate([clean_t, leak_t]),
            direction="OUTBOUND",
            campaign=campaign.name,
            agents=np.concatenate([clean_by, leak_by]),
        )
        all_agents.update(set(clean_by) | set(leak_by))
        leaking_agents.update(set(leak_by))
    names = {c.name for c in spec.campaigns}
    leaking = {c.name for c in spec.campaigns if c.leaked}
    return World(
        contacts=c.table(),
        events=events,
        population=pa.array(numbers.astype(str)),
        leaking_campaigns=frozenset(leaking),
        clean_campaigns=frozenset(names - leaking),
        leaking_agents=frozenset(leaking_agents),
        clean_agents=frozenset(all_agents - leaking_agents),
        periods=periods,
    )


def _clean(
    rng: np.random.Generator,
    kind: Kind,
    n: int,
    t0: int,
    t1: int,
    numbers: np.ndarray,
    tenured: np.ndarray,
    spec: WorldSpec,
    contacts: Contacts,
) -> tuple[np.ndarray, np.ndarray]:
    """`n` contacts in [t0, t1) picked without regard to CPS events."""
    if kind is Kind.RANDOM:
        return rng.choice(numbers, n), rng.integers(t0, t1, n)
    if kind is Kind.TENURE:
        return rng.choice(tenured, n), rng.integers(t0, t1, n)
    # RETENTION: call back inbound contacts whose call back falls in the period
    low, high = spec.retention_delay[0] * DAY, spec.retention_delay[1] * DAY
    inbound = contacts.parts[0]
    ok = (inbound["t"] >= t0 - low) & (inbound["t"] < t1 - high)
    callers_n, callers_t = inbound["number"][ok], inbound["t"][ok]
    if len(callers_n) == 0:
        raise ValueError("no inbound contact to call back in the campaign's period")
    pick = rng.choice(len(callers_n), n, replace=n > len(callers_n))
    return callers_n[pick], callers_t[pick] + rng.integers(low, high, n)


def _recent_leavers(
    rng: np.random.Generator,
    times: np.ndarray,
    leavers: np.ndarray,
    received: np.ndarray,
    delay: tuple[int, int],
) -> np.ndarray:
    """For each instant of `times`, a line whose order was received `delay` days (from,
    to) before it, drawn at random among those orders (`received` sorted)."""
    if len(times) == 0:
        return np.empty(0, np.int64)
    if len(received) == 0:
        raise ValueError("a leak needs CPS orders to leak")
    lo = np.searchsorted(received, times - delay[1] * DAY, side="left")
    hi = np.searchsorted(received, times - delay[0] * DAY, side="left")
    pick = lo + np.floor(rng.random(len(times)) * (hi - lo)).astype(np.int64)
    # no order in the window (a tiny world): the nearest order before it
    pick = np.where(hi > lo, pick, np.maximum(hi - 1, 0))
    result: np.ndarray = leavers[pick]
    return result


# -- the detectors' unit-test world ------------------------------------------------------

CLEAN_AGENTS = [f"A{i:02d}" for i in range(10)]


def world(
    *,
    seed: int = 6,
    lines: int = 20_000,
    days: int = 180,
    churn: float = 0.08,
    campaign_size: int = 2_000,
    leak: float = 0.05,
    early: int = 20,
    agent_contacts: int = 600,
    agent_leak: float = 0.08,
    random_campaigns: int = 0,
) -> World:
    """The detectors' test world: `lines` lines over `days` days, `churn` of them placing
    a CPS order, and

    - `RET`  clean retention: calls back customers who contacted retail (inbound) 1-5
      days earlier — aimed at leavers, but every contact is explained;
    - `TEN`  clean, by tenure: lines picked without regard to CPS (uniformly at random);
    - `WB`   leaking winback: `leak` of its contacts go to lines 2-25 days after their
      order;
    - `EARLY` leaking early: `early` contacts between receipt and the earliest letter;
    - agent `A-LEAK` leaks on its own (no campaign);
    - clean agents `A00`-`A09` work RET and TEN; `W1`, `W2` work WB; `E1` works EARLY;
    - `random_campaigns` clean campaigns `RND000`... of 50-3,000 contacts, each worked by
      one of 50 agents `RNA00`...

    Every campaign runs the whole `days`."""
    rng = np.random.default_rng(seed)
    numbers = np.arange(FIRST_NUMBER, FIRST_NUMBER + lines)
    span = days * DAY

    def anywhere(n: int) -> tuple[np.ndarray, np.ndarray]:
        return rng.choice(numbers, n), START + rng.integers(0, span, n)

    # CPS events
    leavers = rng.choice(numbers, int(lines * churn), replace=False)
    received = START + rng.integers(0, span, len(leavers))
    lost = rng.random(len(leavers)) < 0.5
    events = _events(leavers, received, lost, 10 * DAY, DAY)

    c = Contacts(rng)
    # inbound: background, and leavers calling retail after their order
    c.add(*anywhere(lines // 6), direction="INBOUND", campaign=None, agents=["-"])
    calling = rng.random(len(leavers)) < 0.4
    inbound_n = leavers[calling]
    inbound_t = received[calling] + rng.integers(0, 20 * DAY, int(calling.sum()))
    c.add(inbound_n, inbound_t, direction="INBOUND", campaign=None, agents=["-"])
    # RET: calls back a sample of the inbound contacts 1-5 days later (explained)
    inbound_all_n = np.concatenate([c.parts[0]["number"], inbound_n])
    inbound_all_t = np.concatenate([c.parts[0]["t"], inbound_t])
    pick = rng.choice(len(inbound_all_n), min(campaign_size, len(inbound_all_n)), replace=False)
    c.add(
        inbound_all_n[pick],
        inbound_all_t[pick] + rng.integers(DAY, 5 * DAY, len(pick)),
        direction="OUTBOUND",
        campaign="RET",
        agents=CLEAN_AGENTS,
    )
    # TEN: clean, without regard to CPS
    c.add(*anywhere(campaign_size), direction="OUTBOUND", campaign="TEN", agents=CLEAN_AGENTS)

    def leaked(n: int, low: int, high: int) -> tuple[np.ndarray, np.ndarray]:
        i = rng.integers(0, len(leavers), n)
        return leavers[i], received[i] + rng.integers(low, high, n)

    # WB: leaking winback
    n_leak = round(campaign_size * leak)
    wb_n, wb_t = anywhere(campaign_size - n_leak)
    lk_n, lk_t = leaked(n_leak, 2 * DAY, 25 * DAY)
    c.add(
        np.concatenate([wb_n, lk_n]),
        np.concatenate([wb_t, lk_t]),
        direction="OUTBOUND",
        campaign="WB",
        agents=["W1", "W2"],
    )
    # EARLY: contacts before the customer's letter could arrive
    e_n, e_t = anywhere(500)
    x_n, x_t = leaked(early, DAY // 24, DAY - DAY // 24)
    c.add(
        np.concatenate([e_n, x_n]),
        np.concatenate([e_t, x_t]),
        direction="OUTBOUND",
        campaign="EARLY",
        agents=["E1"],
    )
    # A-LEAK: an agent leaking outside any campaign
    a_leak = round(agent_contacts * agent_leak)
    a_n, a_t = anywhere(agent_contacts - a_leak)
    y_n, y_t = leaked(a_leak, 2 * DAY, 25 * DAY)
    c.add(
        np.concatenate([a_n, y_n]),
        np.concatenate([a_t, y_t]),
        direction="OUTBOUND",
        campaign=None,
        agents=["A-LEAK"],
    )
    # random campaigns, for the false-positive check
    randoms = [f"RND{i:03d}" for i in range(random_campaigns)]
    for name in randoms:
        c.add(
            *anywhere(int(rng.integers(50, 3_000))),
            direction="OUTBOUND",
            campaign=name,
            agents=[f"RNA{int(rng.integers(0, 50)):02d}"],
        )
    whole = (START, START + span)
    return World(
        contacts=c.table(),
        events=events,
        population=pa.array(numbers.astype(str)),
        leaking_campaigns=frozenset({"WB", "EARLY"}),
        clean_campaigns=frozenset({"RET", "TEN", *randoms}),
        leaking_agents=frozenset({"A-LEAK", "W1", "W2", "E1"}),
        clean_agents=frozenset(CLEAN_AGENTS),
        periods=dict.fromkeys(("RET", "TEN", "WB", "EARLY", *randoms), whole),
    )
