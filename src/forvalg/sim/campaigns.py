"""A synthetic world for the detectors' tests, with the ground truth known.

`lines` lines; a fraction of them receive a CPS order (ORDER_RECEIVED, the customer's
letter can arrive one day later; half of them also a LOSS ten days later). Customers
who are leaving call retail themselves more often (inbound), after their order — the
confounder a naive detector would fall for. Campaigns and agents:

- `RET`  clean retention: calls back customers who contacted retail (inbound) 1-5 days
  earlier — aimed at leavers, but every contact is explained by the customer's own call;
- `TEN`  clean, by tenure: lines picked without regard to CPS (uniformly at random);
- `WB`   leaking winback: `leak` of its contacts go to lines 2-25 days after their order;
- `EARLY` leaking early: `early` contacts between receipt and the earliest letter;
- agent `A-LEAK` leaks on its own (no campaign);
- clean agents `A00`-`A09` work RET and TEN; `W1`, `W2` work WB; `E1` works EARLY.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

DAY = 86_400_000_000
START = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()) * 1_000_000
TS = pa.timestamp("us", tz="UTC")


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
        n = len(numbers)
        self.parts.append(
            {
                "number": numbers.astype(np.int64),
                "t": times.astype(np.int64),
                "direction": np.full(n, direction, dtype=object),
                "campaign_id": np.full(n, campaign, dtype=object),
                "agent_id": np.array(agents, dtype=object)[self.rng.integers(0, len(agents), n)],
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
    contacts: pa.Table
    events: pa.Table
    population: pa.Array
    leaking_campaigns: frozenset[str]
    clean_campaigns: frozenset[str]
    leaking_agents: frozenset[str]
    clean_agents: frozenset[str]


FIRST_NUMBER = 20_000_000
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
    rng = np.random.default_rng(seed)
    numbers = np.arange(FIRST_NUMBER, FIRST_NUMBER + lines)
    span = days * DAY

    def anywhere(n: int) -> tuple[np.ndarray, np.ndarray]:
        return rng.choice(numbers, n), START + rng.integers(0, span, n)

    # CPS events
    leavers = rng.choice(numbers, int(lines * churn), replace=False)
    received = START + rng.integers(0, span, len(leavers))
    lost = rng.random(len(leavers)) < 0.5
    events = pa.table(
        {
            "number": pa.array(np.concatenate([leavers, leavers[lost]]).astype(str), pa.string()),
            "kind": pa.array(["ORDER_RECEIVED"] * len(leavers) + ["LOSS"] * int(lost.sum())),
            "at": pa.array(np.concatenate([received, received[lost] + 10 * DAY])).cast(TS),
            "letter_earliest": pa.array(
                np.concatenate([received + DAY, np.zeros(int(lost.sum()), np.int64)]),
                mask=np.concatenate([np.zeros(len(leavers), bool), np.ones(int(lost.sum()), bool)]),
            ).cast(TS),
        }
    )

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
    return World(
        contacts=c.table(),
        events=events,
        population=pa.array(numbers.astype(str)),
        leaking_campaigns=frozenset({"WB", "EARLY"}),
        clean_campaigns=frozenset({"RET", "TEN", *randoms}),
        leaking_agents=frozenset({"A-LEAK", "W1", "W2", "E1"}),
        clean_agents=frozenset(CLEAN_AGENTS),
    )
