"""Evaluation: power, false positives and time to detection of the targeting and timing
detectors (issue 6) over simulated worlds whose ground truth is known.

Each world (`forvalg.sim.campaigns.campaign_world`) has --lines lines, CPS orders at
16% of the lines a year (ORDER_RECEIVED, the letter a day later, half of them a LOSS ten
days later), customers calling retail (leavers more often, after their order) and four
campaigns of the same size running the same 30 days (days 30-60 of the world):

- `LEAK`  the campaign under test: `leak` of its contacts go to lines 2-25 days after
  their order, made by one of its ten agents (`one`) or spread over all ten (`many`);
  with leak 0 it is one more clean random campaign;
- `RND`, `TEN`, `RET` clean: lines at random, long-standing customers (a fixed quarter
  of the lines, drawn without regard to CPS), call-backs to customers who called in
  1-5 days earlier; worked by ten clean agents of their own.

--background-campaigns/--background-agents add clean random campaigns and agents to
every world, so that a run tests as many subjects as production does (Benjamini-Hochberg
makes each finding depend on how many hypotheses the run tests).

A cell is (campaign size, leak share, one agent or many); --replicates worlds a cell,
each from its own seed (derived from --seed and the cell). "Flagged" is a finding of
severity >= medium, targeting or timing. Per world, `detect` runs

- on the whole world: power (LEAK flagged; its leaking agents flagged) and false
  positives (clean campaigns and agents flagged);
- on the contacts and events known at the end of day d of the campaign, d in
  CHECKPOINTS, in order, until the first flag of LEAK (and of LEAK or a leaking agent)
  is found: time to detection. A leak the end-of-campaign run does not flag counts as
  not detected (its checkpoints are not run). Leak-free worlds run every checkpoint and
  count the clean subjects flagged at any of the runs (a daily monitoring's false alarms).

    .venv/bin/python benchmarks/detection_eval.py           # the grid: 32 CPU-minutes
    .venv/bin/python benchmarks/detection_eval.py --quick   # a smoke run (< 1 min)
    .venv/bin/python benchmarks/detection_eval.py --sizes 1000,5000 --leaks 0,0.05 \
        --spreads 10 --background-campaigns 50 --background-agents 2000
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import resource
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import numpy as np

from forvalg.compliance.detectors import Finding, detect
from forvalg.compliance.detectors.targeting import targeting_tests
from forvalg.compliance.detectors.timing import timing_tests
from forvalg.domain.statistics import Severity
from forvalg.sim.campaigns import (
    DAY,
    CampaignSpec,
    Kind,
    World,
    WorldSpec,
    agent_names,
    campaign_world,
)

SIZES = (200, 1_000, 5_000, 20_000)
LEAKS = (0.0, 0.01, 0.02, 0.05, 0.10, 0.50)
SPREADS = (1, 10)  # agents making the leaked contacts: one, or all ten
CHECKPOINTS = (1, 2, 3, 5, 7, 10, 14, 21)  # days since the campaign's start; then the end
CAMPAIGN_DAYS = 30
HISTORY_DAYS = 30  # the world before the campaigns start
LEAK_AGENTS = agent_names("L", 10)
CLEAN_AGENTS = agent_names("C", 10)
CLEAN = {"RND": Kind.RANDOM, "TEN": Kind.TENURE, "RET": Kind.RETENTION}
BACKGROUND_SIZE = 1_000
BACKGROUND = "background"
# the targets
MAX_FPR = 0.01
MIN_POWER = 0.95
POWER_SIZES = 1_000  # campaigns of at least this many contacts...
POWER_LEAK = 0.05  # ...with at least this share leaked


@dataclass(frozen=True, slots=True, order=True)
class Cell:
    size: int
    leak: float
    leak_agents: int  # 1: one agent leaks; 10: the leak is spread over all ten

    @property
    def spread(self) -> str:
        return "–" if self.leak == 0 else ("one" if self.leak_agents == 1 else "many")


@dataclass(frozen=True, slots=True)
class Config:
    lines: int = 100_000
    order_rate: float = 0.16
    checkpoints: tuple[int, ...] = CHECKPOINTS
    # more clean subjects in every run, as in production (tens of campaigns, thousands of
    # agents): `background_campaigns` random campaigns of BACKGROUND_SIZE contacts,
    # worked by `background_agents` agents of their own
    background_campaigns: int = 0
    background_agents: int = 0


@dataclass(frozen=True, slots=True)
class Outcome:
    """One world's result."""

    flagged: bool  # LEAK >= medium on the whole campaign
    first_day: int | None  # the first checkpoint (or the end) at which LEAK was flagged
    first_day_any: int | None  # ... LEAK or one of its leaking agents
    leaking_agents: int
    leaking_agents_flagged: int
    clean: dict[str, tuple[int, int]]  # clean campaign kind -> (tested, flagged)
    clean_agents: int
    clean_agents_flagged: int
    exposed_share: float | None  # of line-days in LEAK's period, from its evidence
    # leak-0 worlds run every checkpoint: clean subjects flagged at *any* of the runs
    any_look: tuple[int, int, int, int] | None  # campaigns, flagged, agents, flagged
    subjects: int = 0  # campaigns and agents in the run (each tested up to three times)


@dataclass
class CellResult:
    cell: Cell
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def replicates(self) -> int:
        return len(self.outcomes)

    @property
    def power(self) -> tuple[int, int]:
        return sum(o.flagged for o in self.outcomes), len(self.outcomes)

    @property
    def agent_power(self) -> tuple[int, int]:
        return (
            sum(o.leaking_agents_flagged for o in self.outcomes),
            sum(o.leaking_agents for o in self.outcomes),
        )

    @property
    def clean_campaigns(self) -> tuple[int, int]:
        flagged = sum(f for o in self.outcomes for _, f in o.clean.values())
        return flagged, sum(n for o in self.outcomes for n, _ in o.clean.values())

    @property
    def clean_agents(self) -> tuple[int, int]:
        return (
            sum(o.clean_agents_flagged for o in self.outcomes),
            sum(o.clean_agents for o in self.outcomes),
        )

    def median_days(self, *, any_subject: bool = False) -> int | None:
        """The first day by which at least half the worlds' LEAK was flagged (None: never)."""
        days = [o.first_day_any if any_subject else o.first_day for o in self.outcomes]
        found = sorted(d for d in days if d is not None)
        need = math.ceil(len(days) / 2)
        return found[need - 1] if len(found) >= need and need > 0 else None


def world_spec(cell: Cell, config: Config) -> WorldSpec:
    start, days = HISTORY_DAYS, CAMPAIGN_DAYS
    leak = CampaignSpec(
        "LEAK",
        cell.size,
        Kind.RANDOM,
        leak=cell.leak,
        agents=LEAK_AGENTS,
        leak_agents=cell.leak_agents,
        start_day=start,
        days=days,
    )
    clean = tuple(
        CampaignSpec(name, cell.size, kind, agents=CLEAN_AGENTS, start_day=start, days=days)
        for name, kind in CLEAN.items()
    )
    background = tuple(
        CampaignSpec(
            name,
            BACKGROUND_SIZE,
            agents=agent_names("B", max(config.background_agents, 1)),
            start_day=start,
            days=days,
        )
        for name in background_names(config)
    )
    return WorldSpec(
        campaigns=(leak, *clean, *background),
        lines=config.lines,
        days=start + days,
        order_rate=config.order_rate,
    )


def background_names(config: Config) -> list[str]:
    return [f"BG{i:03d}" for i in range(config.background_campaigns)]


def seed_of(seed: int, cell: Cell, replicate: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(
        [seed, cell.size, round(cell.leak * 10_000), cell.leak_agents, replicate]
    )


def _flagged(findings: Iterable[Finding], kind: str) -> set[str]:
    return {
        f.subject[kind]
        for f in findings
        if kind in f.subject and f.severity.at_least(Severity.MEDIUM)
    }


def run_world(cell: Cell, config: Config, seed: np.random.SeedSequence) -> Outcome:
    """Build one world of `cell` and run detection on it: on the whole campaign, and on
    what was known at the checkpoints (see the comment below)."""
    w = campaign_world(world_spec(cell, config), seed)
    found = _detect(w, Severity.LOW)
    campaigns, agents = _flagged(found, "campaign_id"), _flagged(found, "agent_id")
    leaky = bool(w.leaking_campaigns)

    # Time to detection: scan the checkpoints in order while the end-of-campaign run
    # flags LEAK (or one of its leaking agents) and its first flag is not yet found. A
    # leak the whole campaign's data does not flag counts as not detected, and its
    # checkpoints are not run. A world without a leak runs every checkpoint, for the
    # false positives of repeated runs.
    end_leak = "LEAK" in campaigns and leaky
    end_any = end_leak or bool(agents & w.leaking_agents)
    first = CAMPAIGN_DAYS if end_leak else None
    first_any = CAMPAIGN_DAYS if end_any else None
    ever_campaigns = campaigns & w.clean_campaigns
    ever_agents = agents & w.clean_agents
    want_leak, want_any = end_leak, end_any  # first flags still to find
    if want_any or not leaky:
        for day, c, a in _checkpoint_runs(w, config.checkpoints):  # lazy: break stops the runs
            ever_campaigns |= c & w.clean_campaigns
            ever_agents |= a & w.clean_agents
            if want_any and ("LEAK" in c or a & w.leaking_agents):
                first_any, want_any = day, False
            if want_leak and "LEAK" in c:
                first, want_leak = day, False
            if leaky and not (want_leak or want_any):
                break

    kinds = {"LEAK": Kind.RANDOM, **CLEAN, **dict.fromkeys(background_names(config), BACKGROUND)}
    clean: dict[str, tuple[int, int]] = {}
    for name in sorted(w.clean_campaigns):
        tested, hit = clean.get(kinds[name], (0, 0))
        clean[kinds[name]] = (tested + 1, hit + (name in campaigns))
    shares = [
        _share(f.evidence)
        for f in found
        if f.detector == "targeting" and f.subject.get("campaign_id") == "LEAK"
    ]
    return Outcome(
        flagged="LEAK" in campaigns,
        first_day=first,
        first_day_any=first_any,
        leaking_agents=len(w.leaking_agents),
        leaking_agents_flagged=len(agents & w.leaking_agents),
        clean=clean,
        clean_agents=len(w.clean_agents),
        clean_agents_flagged=len(agents & w.clean_agents),
        exposed_share=shares[0] if shares else None,
        subjects=len(w.leaking_campaigns | w.clean_campaigns)
        + len(w.leaking_agents | w.clean_agents),
        any_look=None
        if leaky
        else (
            len(w.clean_campaigns),
            len(ever_campaigns),
            len(w.clean_agents),
            len(ever_agents),
        ),
    )


def _checkpoint_runs(
    w: World, checkpoints: Sequence[int]
) -> Iterator[tuple[int, set[str], set[str]]]:
    """(day, campaigns flagged, agents flagged) of a detection run at the end of each
    checkpoint day of the campaign, on the contacts and events known then."""
    t0 = w.periods["LEAK"][0]
    for day in checkpoints:
        if day >= CAMPAIGN_DAYS:
            return
        seen = w.known_before(t0 + day * DAY)
        found = _detect(seen, Severity.MEDIUM)
        yield day, _flagged(found, "campaign_id"), _flagged(found, "agent_id")


def _detect(w: World, at_least: Severity) -> list[Finding]:
    """The targeting and timing detectors, in one run (one BH adjustment)."""
    return detect(
        w.contacts,
        w.events,
        w.population,
        min_severity=at_least,
        detectors=(targeting_tests, timing_tests),
    )


def _share(evidence: Mapping[str, object]) -> float:
    exposed, total = evidence["exposed_line_days"], evidence["line_days"]
    assert isinstance(exposed, int)
    assert isinstance(total, int)
    return exposed / total


Task = tuple[Cell, Config, int, int]
Result = tuple[Cell, Outcome]


def _task(args: Task) -> Result:
    cell, config, seed, replicate = args
    return cell, run_world(cell, config, seed_of(seed, cell, replicate))


class _Serial:
    """`map` in this process, with the pool's context manager."""

    def __enter__(self) -> _Serial:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def map(self, fn: Callable[[Task], Result], items: Iterable[Task]) -> Iterator[Result]:
        return map(fn, items)


def grid(
    sizes: Sequence[int] = SIZES, leaks: Sequence[float] = LEAKS, spreads: Sequence[int] = SPREADS
) -> list[Cell]:
    """Every (size, leak, spread) cell; a leak of 0 has no spread (one cell per size)."""
    return [
        Cell(size, leak, spread)
        for size in sizes
        for leak in leaks
        for spread in (spreads[:1] if leak == 0 else spreads)
    ]


def evaluate(
    cells: Sequence[Cell],
    *,
    replicates: int | Callable[[Cell], int],
    seed: int = 6,
    config: Config | None = None,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> list[CellResult]:
    """Run every cell's worlds (in `jobs` processes) and collect their outcomes."""
    config = config or Config()
    count = replicates if callable(replicates) else (lambda _: replicates)
    # the biggest worlds first, so the processes finish together
    tasks = sorted(
        ((cell, config, seed, r) for cell in cells for r in range(count(cell))),
        key=lambda t: (-t[0].size, t[0], t[3]),
    )
    results = {cell: CellResult(cell) for cell in cells}
    with ProcessPoolExecutor(jobs) if jobs > 1 else _Serial() as pool:
        for done, (cell, outcome) in enumerate(pool.map(_task, tasks), 1):
            results[cell].outcomes.append(outcome)
            if progress:
                progress(done, len(tasks))
    return [results[cell] for cell in cells]


# -- reporting ---------------------------------------------------------------------------


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion k/n (95% by default)."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _rate(k: int, n: int) -> str:
    if n == 0:
        return "–"
    if k in (0, n):
        return f"{k}/{n}"
    return f"{k}/{n} ({k / n:.{1 if k / n < 0.1 else 0}%})"


def _days(d: int | None) -> str:
    return "not detected" if d is None else str(d)


def _pct(x: float) -> str:
    return f"{x * 100:g}%"


def markdown(results: Sequence[CellResult]) -> str:
    """The per-cell table."""
    head = (
        "| contacts | leaked | leak by | worlds | campaign flagged (power) "
        "| leaking agents flagged | clean campaigns ≥ medium | clean agents ≥ medium "
        "| median days to flag: campaign | ...: campaign or agent |\n"
        "|---:|---:|:--|---:|---:|---:|---:|---:|---:|---:|"
    )
    rows = []
    for r in results:
        c = r.cell
        leak = r.cell.leak > 0
        rows.append(
            f"| {c.size:,} | {_pct(c.leak)} | {c.spread} | {r.replicates} "
            f"| {_rate(*r.power) if leak else '(clean) ' + _rate(*r.power)} "
            f"| {_rate(*r.agent_power) if leak else '–'} "
            f"| {_rate(*r.clean_campaigns)} | {_rate(*r.clean_agents)} "
            f"| {_days(r.median_days()) if leak else '–'} "
            f"| {_days(r.median_days(any_subject=True)) if leak else '–'} |"
        )
    return "\n".join([head, *rows])


def clean_by_kind(results: Sequence[CellResult], runs: int) -> str:
    """False positives per clean campaign kind and size, at the end of the campaign, and for
    the leak-free worlds, at any of the checkpoint runs."""
    kinds: list[str] = [Kind.RANDOM, Kind.TENURE, Kind.RETENTION]
    if any(BACKGROUND in o.clean for r in results for o in r.outcomes):
        kinds.append(BACKGROUND)
    sizes = sorted({r.cell.size for r in results})
    head = "| clean campaign | " + " | ".join(f"{s:,}" for s in sizes) + " | all |"
    rows = [head, "|:--|" + "---:|" * (len(sizes) + 1)]

    def count(kind: str, size: int | None) -> tuple[int, int]:
        pairs = [
            o.clean.get(kind, (0, 0))
            for r in results
            if size is None or r.cell.size == size
            for o in r.outcomes
        ]
        return sum(f for _, f in pairs), sum(n for n, _ in pairs)

    for kind in kinds:
        label = f"{kind} ({BACKGROUND_SIZE:,} contacts)" if kind == BACKGROUND else kind
        cells = [_rate(*count(kind, size)) for size in sizes]
        rows.append(f"| {label} | " + " | ".join(cells) + f" | {_rate(*count(kind, None))} |")
    looks = [o.any_look for r in results for o in r.outcomes if o.any_look is not None]
    if looks:
        c_n, c_f = sum(x[0] for x in looks), sum(x[1] for x in looks)
        a_n, a_f = sum(x[2] for x in looks), sum(x[3] for x in looks)
        rows.append(
            f"\nLeak-free worlds, every checkpoint run and the final one counted "
            f"({len(looks)} worlds, {runs} runs each): clean campaigns "
            f"flagged at any run {_rate(c_f, c_n)}, clean agents {_rate(a_f, a_n)}."
        )
    return "\n".join(rows)


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    measured: str
    met: bool


def targets(results: Sequence[CellResult]) -> list[Target]:
    """The issue's targets against what was measured."""
    k = sum(r.clean_campaigns[0] for r in results)
    n = sum(r.clean_campaigns[1] for r in results)
    low, high = wilson(k, n)
    out = [
        Target(
            f"FPR ≤ {MAX_FPR:.0%} per clean campaign (≥ medium)",
            f"{k}/{n} = {k / max(n, 1):.2%} (95% CI {low:.2%}–{high:.2%})",
            n > 0 and k / n <= MAX_FPR,
        )
    ]
    ka = sum(r.clean_agents[0] for r in results)
    na = sum(r.clean_agents[1] for r in results)
    out.append(
        Target(
            f"(the same for clean agents, ≤ {MAX_FPR:.0%})",
            f"{ka}/{na} = {ka / max(na, 1):.2%}",
            na > 0 and ka / na <= MAX_FPR,
        )
    )
    for r in results:
        c = r.cell
        if c.size >= POWER_SIZES and c.leak >= POWER_LEAK:
            f, m = r.power
            lo, _ = wilson(f, m)
            out.append(
                Target(
                    f"power ≥ {MIN_POWER:.0%}: {c.size:,} contacts, {_pct(c.leak)} leaked, "
                    f"leak by {c.spread}",
                    f"{f}/{m} = {f / max(m, 1):.0%} (95% CI from {lo:.0%})",
                    m > 0 and f / m >= MIN_POWER,
                )
            )
    return out


def targets_table(items: Sequence[Target]) -> str:
    rows = ["| target | measured | |", "|:--|:--|:--|"]
    rows += [f"| {t.name} | {t.measured} | {'met' if t.met else '**missed**'} |" for t in items]
    return "\n".join(rows)


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next(
                (line.split(":", 1)[1].strip() for line in f if line.startswith("model name")),
                model,
            )
    except OSError:
        pass
    return (
        f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"DuckDB {duckdb.__version__}"
    )


def report(
    results: Sequence[CellResult],
    *,
    command: str,
    seconds: float,
    cpu_seconds: float,
    config: Config,
) -> str:
    shares = [o.exposed_share for r in results for o in r.outcomes if o.exposed_share]
    share = f"{np.mean(shares):.2%}" if shares else "?"
    subjects = [o.subjects for r in results for o in r.outcomes]
    background = (
        f" Every world also has {config.background_campaigns} background random campaigns "
        f"of {BACKGROUND_SIZE:,} contacts worked by {config.background_agents} agents."
        if config.background_campaigns
        else ""
    )
    return "\n\n".join(
        [
            f"`{command}` — {datetime.now(UTC):%Y-%m-%d}, {machine()}: "
            f"{seconds / 60:.1f} min wall, {cpu_seconds / 60:.1f} CPU-minutes "
            f"(load average {os.getloadavg()[1]:.1f} at the end).",
            f"World: {config.lines:,} lines, CPS orders {config.order_rate:.0%} of lines a "
            f"year, campaigns of 30 days after 30 days of history; {share} of the line-days "
            f"in a campaign's period were exposed (in the 30 days after a CPS event). "
            f"Checkpoints (days since the campaign's start): "
            f"{', '.join(map(str, config.checkpoints))} and {CAMPAIGN_DAYS} (the end). "
            f"Subjects (campaigns and agents) in a run: {min(subjects)}-{max(subjects)}, "
            f"each tested by targeting and the two timing tests.{background}",
            markdown(results),
            "False positives by clean campaign kind and size (at the end of the campaign):",
            clean_by_kind(results, len(config.checkpoints) + 1),
            "Targets:",
            targets_table(targets(results)),
        ]
    )


def _cpu_seconds() -> float:
    """CPU time of this process and its finished worker processes."""
    own, workers = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(","))


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(x) for x in text.split(","))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: small, few worlds")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--replicates", type=int, help="worlds a cell (default 30; quick 4)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--lines", type=int, help="lines a world (default 100,000)")
    parser.add_argument("--sizes", type=_ints, help="campaign sizes, e.g. 1000,5000")
    parser.add_argument("--leaks", type=_floats, help="leaked shares, e.g. 0,0.05")
    parser.add_argument("--spreads", type=_ints, help="agents leaking: 1,10")
    parser.add_argument("--background-campaigns", type=int, default=0)
    parser.add_argument("--background-agents", type=int, default=0)
    args = parser.parse_args(argv)
    quick = args.quick
    cells = grid(
        sizes=args.sizes or ((200, 1_000) if quick else SIZES),
        leaks=args.leaks or ((0.0, 0.05, 0.5) if quick else LEAKS),
        spreads=args.spreads or SPREADS,
    )
    config = Config(
        lines=args.lines or (20_000 if quick else 100_000),
        checkpoints=(1, 3, 7) if quick else CHECKPOINTS,
        background_campaigns=args.background_campaigns,
        background_agents=args.background_agents or (100 if args.background_campaigns else 0),
    )
    replicates = args.replicates or (4 if quick else 30)

    def progress(done: int, total: int) -> None:
        if done % 50 == 0 or done == total:
            print(f"{done}/{total} worlds, {time.perf_counter() - t:.0f} s", file=sys.stderr)

    t = time.perf_counter()
    cpu = _cpu_seconds()
    results = evaluate(
        cells,
        replicates=replicates,
        seed=args.seed,
        config=config,
        jobs=args.jobs,
        progress=progress,
    )
    command = "python benchmarks/detection_eval.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    text = report(
        results,
        command=command.strip(),
        seconds=time.perf_counter() - t,
        cpu_seconds=_cpu_seconds() - cpu,
        config=config,
    )
    print(text)


if __name__ == "__main__":
    main()
