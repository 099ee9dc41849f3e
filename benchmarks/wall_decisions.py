"""Benchmark: the wall's decision cost per access, Cedar beside an equivalent pycasbin model.

Target (issue): "Decision cost per access: median <= 50 µs in-process (cache where it is
sound ...). Run an equivalent pycasbin model side by side for the decision cost."

What is timed (`time.perf_counter_ns` around each call, --calls calls per round, --rounds
rounds, the contenders interleaved within each round so that they share the machine's
moments; the reported figure is the median over rounds of each round's statistic):

  cedar decide     `Policy.decide(q)`: the cached decision `Guard.permit` uses, warm
  guard permit     `Guard.permit(action, category)` for the questions of operators and
                   system jobs (it builds the `Question`, decides, makes the `Permit`);
                   staff questions are left out because they resolve their work item in
                   the database first, once per unit of work
  cedar evaluate   `Policy.evaluate(q)`: no cache, a real `cedarpy.is_authorized` each time
  casbin enforce   pycasbin `Enforcer.enforce(...)` on benchmarks/casbin/model.conf and
                   policy.csv, with the request built from the same `Question`
  casbin synced    `SyncedEnforcer.enforce(...)`: the same behind pycasbin's read-write
                   lock, what a threaded server (FastAPI's thread pool) would use
  casbin cached    `enforce` behind `functools.lru_cache(maxsize=4096)` keyed by the
                   `Question`, exactly like `Policy.decide`: pycasbin has no decision
                   cache of its own (no CachedEnforcer in Python), so this is the fair
                   equivalent of ours. `enable_auto_build_role_links` only rebuilds role
                   links when the policy changes; it is on (the default) and costs
                   nothing per decision. `FastEnforcer(cache_key_order=...)` is not run:
                   it pre-selects policy lines by exact key values and so drops the
                   wildcard and group lines this model needs; it would not be equivalent.

The questions are a weighted mix of the ones the real app asks, read off the code paths
in wall/guarded.py, wall/work.py and the services (see `MIX`): operators placing and
reading orders, the event feed and eligibility; the order processor's categories per
batch; staff (wholesale_ops, network_provisioning, wholesale_billing, compliance_officer,
regulator) reading with their purposes and work-item kinds, break-glass; retail denials;
the system jobs (reporter, ledger clerk, admin). Sampled with a fixed seed.

Equivalence: before timing, the casbin model is checked against Cedar (`Policy.evaluate`)
on the exhaustive cross product roles x categories x actions x purposes (and none) x
work-item kinds (and none) x break-glass, with the principal's kind following from its
role as in forvalg.wall.principals. The number of disagreements is printed; it must be 0.
As shipped, no forbid changes any decision (each guards against a permit that does not
exist yet), so that pass cannot see a wrong deny line; a second pass adds a permit of
everything to both models, so that the forbids alone decide, and checks them the same way.
Both passes take ~95 s (--skip-equivalence skips them).

    .venv/bin/python benchmarks/wall_decisions.py                 # ~3 minutes
    .venv/bin/python benchmarks/wall_decisions.py --quick         # ~2 minutes: 3 x 2,000
    .venv/bin/python benchmarks/wall_decisions.py --profile 20    # cProfile of each contender

Bounded: --rounds x --calls calls per contender; no files, no network, nothing to clean up.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import io
import itertools
import math
import os
import platform
import pstats
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import casbin

from forvalg.domain.categories import Category
from forvalg.domain.work_items import WorkItemKind
from forvalg.wall.guard import Guard
from forvalg.wall.policy import (
    POLICY_DIR,
    POLICY_FILE,
    SCHEMA_FILE,
    Action,
    Policy,
    Question,
)
from forvalg.wall.principals import (
    CANARY_KEEPER,
    CRM_SYNC,
    DETECTOR,
    INCIDENT_CLERK,
    INQUIRY_CLERK,
    LEDGER_CLERK,
    ORDER_PROCESSOR,
    RATER,
    REPORTER,
    ROUTING_EXPORTER,
    SETTLEMENT_JOB,
    USER_ADMIN,
    WHOLESALE_ADMIN,
    Principal,
    PrincipalKind,
    Purpose,
    StaffRole,
)

HERE = Path(__file__).resolve().parent
CASBIN_MODEL = HERE / "casbin" / "model.conf"
CASBIN_POLICY = HERE / "casbin" / "policy.csv"
TARGET_US = 50.0
NONE = "-"  # casbin's spelling of "no purpose" / "no work item"

R, W = Action.READ, Action.WRITE
C = Category
K = WorkItemKind


# --------------------------------------------------------------------------- roles


def role_kinds() -> dict[str, PrincipalKind]:
    """Every role the policy or the app knows, with the kind of principal that holds it."""
    kinds = {"cps_operator": PrincipalKind.OPERATOR}  # operator_principal()
    kinds |= {role.value: PrincipalKind.STAFF for role in StaffRole}
    jobs = (
        ORDER_PROCESSOR,
        WHOLESALE_ADMIN,
        USER_ADMIN,
        REPORTER,
        LEDGER_CLERK,
        SETTLEMENT_JOB,
        ROUTING_EXPORTER,
        RATER,
        CRM_SYNC,
        DETECTOR,
        CANARY_KEEPER,
        INCIDENT_CLERK,
        INQUIRY_CLERK,
    )
    for job in jobs:
        kinds |= dict.fromkeys(job.roles, job.kind)
    # Granted by the policy, not yet held by any principal the app makes.
    kinds["subscriber_desk"] = PrincipalKind.SYSTEM
    kinds["subscriber"] = PrincipalKind.SUBSCRIBER
    kinds["nobody"] = PrincipalKind.ANONYMOUS  # a role the policy never names
    return kinds


KINDS = role_kinds()


def ask(
    role: str,
    action: Action,
    category: Category,
    purpose: Purpose | None,
    item: WorkItemKind | None = None,
    glass: bool = False,
) -> Question:
    return Question(
        roles=frozenset({role}),
        kind=KINDS[role].value,
        action=action,
        category=category,
        purpose="" if purpose is None else purpose.value,
        work_item="" if item is None else item.value,
        break_glass=glass,
    )


# --------------------------------------------------------------------------- the mix


def _many(
    weight: int,
    role: str,
    action: Action,
    categories: Sequence[Category],
    purpose: Purpose,
    item: WorkItemKind | None = None,
    glass: bool = False,
) -> list[tuple[int, Question]]:
    return [(weight, ask(role, action, c, purpose, item, glass)) for c in categories]


OM, PROV, FIX = Purpose.ORDER_MANAGEMENT, Purpose.PROVISIONING, Purpose.FAULT_REPAIR
AUDIT, INSPECT = Purpose.COMPLIANCE_AUDIT, Purpose.REGULATORY_INSPECTION
LINE_VIEW = (C.ROUTING, C.OPERATOR, C.LINE, C.SUBSCRIBER, C.ORDER)  # GuardedLines.view
FACTS = (C.LINE, C.SUBSCRIBER, C.ROUTING)  # GuardedLines.facts

# (weight, question): how often the app asks it, relative to the others. Operators'
# order traffic dominates; the processor decides once per batch of up to 500 orders;
# staff and system jobs are occasional. Operators and system jobs name no work-item
# kind (Guard.permit passes "" for principals that are not bound).
MIX: list[tuple[int, Question]] = [
    # OrderDesk.submit -> GuardedOrders.add; a replay reads by Idempotency-Key
    (400, ask("cps_operator", W, C.ORDER, OM)),
    (5, ask("cps_operator", R, C.ORDER, OM)),
    # OrderDesk.get / list (GET /v1/orders/{id}, GET /v1/orders), EventFeed, eligibility
    (150, ask("cps_operator", R, C.ORDER, OM)),
    (80, ask("cps_operator", R, C.EVENT, OM)),
    (60, ask("cps_operator", R, C.ELIGIBILITY, OM)),
    # OrderDesk.cancel: the operator reads its order, the desk's delegate (role
    # order_processor) reads the line's facts and saves the effects
    (10, ask("cps_operator", R, C.ORDER, OM)),
    *_many(10, "order_processor", R, FACTS, PROV),
    *_many(10, "order_processor", W, (C.ORDER, C.ROUTING, C.EVENT), PROV),
    # OrderProcessor.process, per batch: lock_due, queues, facts, standing, save
    *_many(20, "order_processor", R, (C.ORDER, C.ORDER, *FACTS, C.OPERATOR), PROV),
    *_many(20, "order_processor", W, (C.ORDER, C.ROUTING, C.EVENT, C.LETTER), PROV),
    # wholesale_ops: open a fault ticket, read it, look at a line and an order for it
    (3, ask("wholesale_ops", W, C.WORK_ITEM, FIX, K.FAULT_TICKET)),
    (3, ask("wholesale_ops", R, C.WORK_ITEM, FIX, K.FAULT_TICKET)),
    *_many(6, "wholesale_ops", R, LINE_VIEW, FIX, K.FAULT_TICKET),
    *_many(4, "wholesale_ops", R, LINE_VIEW, PROV, K.ORDER),
    (6, ask("wholesale_ops", R, C.ORDER, PROV, K.ORDER)),  # /v1/staff/orders/{id}
    *_many(1, "wholesale_ops", R, LINE_VIEW, FIX, None, glass=True),  # break-glass
    (1, ask("wholesale_ops", R, C.ORDER, Purpose.MARKETING, K.ORDER)),  # denied
    # network_provisioning: a line through the routing mask (view stops after these two)
    *_many(4, "network_provisioning", R, (C.ROUTING, C.OPERATOR), PROV, K.FAULT_TICKET),
    (1, ask("network_provisioning", R, C.ROUTING, FIX, K.FAULT_TICKET)),  # denied
    # wholesale_billing: open a settlement run and read it (settlement reads proper: the
    # categories the policy grants for the run, for the settlement job to come)
    (1, ask("wholesale_billing", W, C.WORK_ITEM, Purpose.SETTLEMENT, K.SETTLEMENT_RUN)),
    (1, ask("wholesale_billing", R, C.WORK_ITEM, Purpose.SETTLEMENT, K.SETTLEMENT_RUN)),
    *_many(
        1,
        "wholesale_billing",
        R,
        (C.TRAFFIC, C.SETTLEMENT, C.OPERATOR, C.ROUTING),
        Purpose.SETTLEMENT,
        K.SETTLEMENT_RUN,
    ),
    (1, ask("wholesale_billing", R, C.LINE, Purpose.SETTLEMENT, K.SETTLEMENT_RUN)),  # denied
    # compliance_officer: open an audit, alerts, checkpoints, entries, proofs
    (1, ask("compliance_officer", W, C.WORK_ITEM, AUDIT, K.AUDIT)),
    *_many(2, "compliance_officer", R, (C.ALERT, C.LEDGER_PROOF, C.ACCESS_LOG), AUDIT, K.AUDIT),
    *_many(1, "compliance_officer", R, (C.ALERT, C.ACCESS_LOG), AUDIT, K.INQUIRY),
    (1, ask("compliance_officer", R, C.ROUTING, AUDIT, K.AUDIT)),  # denied
    # incidents: the detectors open them, compliance works them, the regulator reads the
    # reported ones (IncidentDesk, wall/incidents.py)
    *_many(1, "compliance_detector", R, (C.INCIDENT, C.ACCESS_LOG, C.LEDGER_PROOF), AUDIT),
    *_many(1, "compliance_detector", W, (C.INCIDENT, C.EVIDENCE), AUDIT),
    *_many(1, "compliance_officer", R, (C.INCIDENT, C.EVIDENCE), AUDIT, K.AUDIT),
    (1, ask("compliance_officer", W, C.INCIDENT, AUDIT, K.AUDIT)),
    *_many(1, "regulator", R, (C.INCIDENT, C.EVIDENCE), INSPECT, K.INQUIRY),
    (1, ask("retail_marketing", R, C.INCIDENT, Purpose.MARKETING, K.AUDIT)),  # denied
    # regulator: open an inquiry, read it, checkpoints, entries, proofs
    (1, ask("regulator", W, C.WORK_ITEM, INSPECT, K.INQUIRY)),
    *_many(2, "regulator", R, (C.WORK_ITEM, C.LEDGER_PROOF, C.ACCESS_LOG), INSPECT, K.INQUIRY),
    (1, ask("regulator", R, C.ORDER, INSPECT, K.INQUIRY)),  # denied
    # retail: refused everything (naming an order as the work item gets them this far)
    (1, ask("retail_sales", R, C.ROUTING, Purpose.SALES, K.ORDER)),
    (1, ask("retail_marketing", R, C.LINE, Purpose.MARKETING, K.ORDER)),
    (1, ask("retail_customer_service", R, C.ORDER, Purpose.SUBSCRIBER_REQUEST, K.ORDER)),
    (1, ask("retail_customer_service", W, C.WORK_ITEM, FIX, K.FAULT_TICKET)),
    # system jobs: the summary (reporter), `forvalg ledger ...`, imports and admin
    *_many(1, "compliance_reporter", R, (C.EVENT, C.LETTER, C.ORDER, C.ROUTING), AUDIT),
    (1, ask("compliance_reporter", R, C.ACCESS_LOG, AUDIT)),
    *_many(1, "compliance_reporter", R, (C.INCIDENT, C.WORK_ITEM), AUDIT),  # forvalg report
    *_many(1, "ledger_clerk", R, (C.LEDGER_PROOF, C.ACCESS_LOG), AUDIT),
    *_many(1, "wholesale_admin", W, (C.LINE, C.SUBSCRIBER, C.OPERATOR), Purpose.ADMINISTRATION),
    (1, ask("user_admin", W, C.STAFF_USER, Purpose.ADMINISTRATION)),
    # `forvalg settle`, once a period: open the run, read traffic and the register, file
    # statements; operators fetch their own (GET /v1/statements)
    *_many(1, "settlement_run", W, (C.WORK_ITEM, C.SETTLEMENT), Purpose.SETTLEMENT),
    *_many(1, "settlement_run", R, (C.TRAFFIC, C.OPERATOR, C.SETTLEMENT), Purpose.SETTLEMENT),
    (2, ask("cps_operator", R, C.SETTLEMENT, Purpose.SETTLEMENT)),
]


def sample(n: int, seed: int) -> list[Question]:
    weights = [w for w, _ in MIX]
    return random.Random(seed).choices([q for _, q in MIX], weights, k=n)


# --------------------------------------------------------------------------- casbin


def casbin_request(q: Question) -> tuple[str, ...]:
    """The casbin request for a Cedar question. Every principal the app makes has exactly
    one role; a principal with several would need one `enforce` per role."""
    (role,) = q.roles
    return (
        role,
        q.category.value,
        q.action.value,
        q.purpose or NONE,
        q.work_item or NONE,
        "true" if q.break_glass else "false",
    )


def casbin_contenders() -> dict[str, Callable[[Question], bool]]:
    plain = casbin_enforcer()
    synced = casbin.SyncedEnforcer(str(CASBIN_MODEL), str(CASBIN_POLICY))
    cached_enforcer = casbin_enforcer()

    def enforce(q: Question) -> bool:
        return bool(plain.enforce(*casbin_request(q)))

    def enforce_synced(q: Question) -> bool:
        return bool(synced.enforce(*casbin_request(q)))

    @functools.lru_cache(maxsize=4096)
    def enforce_cached(q: Question) -> bool:
        return bool(cached_enforcer.enforce(*casbin_request(q)))

    return {
        "casbin enforce": enforce,
        "casbin synced": enforce_synced,
        "casbin cached": enforce_cached,
    }


# --------------------------------------------------------------------------- equivalence


def cross_product() -> list[Question]:
    purposes: list[Purpose | None] = [None, *Purpose]
    items: list[WorkItemKind | None] = [None, *WorkItemKind]
    return [
        ask(role, action, category, purpose, item, glass)
        for role, category, action, purpose, item, glass in itertools.product(
            KINDS, Category, Action, purposes, items, (False, True)
        )
    ]


def casbin_enforcer(*, permit_all: bool = False) -> casbin.Enforcer:
    enforcer = casbin.Enforcer(str(CASBIN_MODEL), str(CASBIN_POLICY))
    if permit_all:
        enforcer.add_policy("*", "*", "*", "*", "*", "*", "allow")
    return enforcer


def cedar_policy(*, permit_all: bool = False) -> Policy:
    """The shipped policy; with `permit_all`, plus a permit of everything, so that every
    decision is made by the forbids alone."""
    text = (POLICY_DIR / POLICY_FILE).read_text(encoding="utf-8")
    schema = (POLICY_DIR / SCHEMA_FILE).read_text(encoding="utf-8")
    if permit_all:
        text += '\n@id("bench-permit-all")\npermit (principal, action, resource);\n'
    return Policy(text, schema)


def check_equivalence(policy: Policy, enforcer: casbin.Enforcer) -> tuple[int, int, Counter[str]]:
    """(questions, Cedar allows, disagreements by class) over the cross product."""
    questions = cross_product()
    allowed = 0
    classes: Counter[str] = Counter()
    for q in questions:
        cedar = policy.evaluate(q).allowed
        allowed += cedar
        if bool(enforcer.enforce(*casbin_request(q))) != cedar:
            (role,) = q.roles
            classes[
                f"{role} {q.action} {q.category} purpose={q.purpose or NONE} "
                f"item={q.work_item or NONE} glass={q.break_glass}: cedar {cedar}"
            ] += 1
    return len(questions), allowed, classes


# --------------------------------------------------------------------------- timing


@dataclass
class Stats:
    median: float
    p90: float
    p99: float
    mean: float  # of the per-call timings
    batch_mean: float  # the loop timed as a whole (no per-call timer), per call


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def time_calls(fn: Callable[[Any], Any], args: Sequence[Any]) -> Stats:
    """Each call timed on its own (ns -> µs), then the same loop timed as a whole."""
    clock = time.perf_counter_ns
    out = [0] * len(args)
    gc.disable()
    try:
        for i, a in enumerate(args):
            t0 = clock()
            fn(a)
            out[i] = clock() - t0
        t0 = clock()
        for a in args:
            fn(a)
        whole = clock() - t0
    finally:
        gc.enable()
    us = sorted(x / 1000 for x in out)
    return Stats(
        median=percentile(us, 50),
        p90=percentile(us, 90),
        p99=percentile(us, 99),
        mean=sum(us) / len(us),
        batch_mean=whole / 1000 / len(args),
    )


def timer_floor(n: int) -> float:
    """The median of timing an empty call: what each per-call figure carries on top."""

    def nothing(_: object) -> None:
        return None

    return time_calls(nothing, [None] * n).median


def guard_for(policy: Policy, q: Question) -> Guard:
    """A guard for the question's (unbound) principal; no session is needed to decide."""
    (role,) = q.roles
    principal = Principal(f"bench:{role}", PrincipalKind(q.kind), "bench", q.roles)
    return Guard(None, None, policy, principal, Purpose(q.purpose), None)  # type: ignore[arg-type]


def contenders(
    policy: Policy, mix: list[Question]
) -> dict[str, tuple[Callable[[Any], Any], list[Any]]]:
    """name -> (function, its arguments for one round)."""
    guards: dict[Question, Guard] = {}
    permit_args = []
    for q in mix:
        if q.kind in (PrincipalKind.OPERATOR, PrincipalKind.SYSTEM):
            # Their questions in the mix are all allowed (a denial would be logged
            # through the wall, which these guards do not have).
            assert policy.decide(q).allowed, q
            guard = guards.setdefault(q, guard_for(policy, q))
            permit_args.append((guard, q.action, q.category))

    def permit(arg: tuple[Guard, Action, Category]) -> object:
        guard, action, category = arg
        try:
            return guard.permit(action, category)
        except Exception as exc:  # a denial raises; it is a decision like any other
            return exc

    found: dict[str, tuple[Callable[[Any], Any], list[Any]]] = {
        "cedar decide": (policy.decide, mix),
        "guard permit": (permit, permit_args),
        "cedar evaluate": (policy.evaluate, mix),
    }
    for name, fn in casbin_contenders().items():
        found[name] = (fn, mix)
    return found


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=10_000, help="questions per round")
    parser.add_argument("--seed", type=int, default=20261130)
    parser.add_argument("--quick", action="store_true", help="3 rounds of 2,000 calls")
    parser.add_argument("--skip-equivalence", action="store_true")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile top N")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.calls = 3, 2_000

    started = time.perf_counter()
    print(
        f"python {platform.python_version()}, cedarpy {_version('cedarpy')}, "
        f"casbin {_version('casbin')}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    policy = Policy.load()
    print(f"policy {policy.version}; casbin model {CASBIN_MODEL.relative_to(HERE.parent)}")

    if not args.skip_equivalence:
        # As shipped, the permits decide every question (no forbid changes any decision:
        # each guards against a permit that does not exist yet). So the forbids are
        # checked on their own too: both models plus a permit of everything.
        for label, permit_all in (("as shipped", False), ("forbids alone", True)):
            t0 = time.perf_counter()
            total, allowed, classes = check_equivalence(
                cedar_policy(permit_all=permit_all), casbin_enforcer(permit_all=permit_all)
            )
            print(
                f"equivalence, {label}: {total:,} questions (roles {len(KINDS)} x categories "
                f"{len(Category)} x actions {len(Action)} x purposes {len(Purpose) + 1} x "
                f"work-item kinds {len(WorkItemKind) + 1} x break-glass 2), Cedar allows "
                f"{allowed:,}; casbin disagrees on {sum(classes.values())} "
                f"({time.perf_counter() - t0:.1f} s)",
                flush=True,
            )
            for text, n in classes.most_common(30):
                print(f"  {n:5d}  {text}")

    mix = sample(args.calls, args.seed)
    allows = sum(policy.evaluate(q).allowed for q in set(mix))
    shares = Counter(q.kind for q in mix)
    print(
        f"mix: {len(MIX)} kinds of question ({len(set(mix))} distinct in the sample, "
        f"{allows} of them allowed); per round {args.calls:,} calls: "
        + ", ".join(f"{k} {100 * v / len(mix):.0f}%" for k, v in shares.most_common())
    )
    denied = sum(not policy.decide(q).allowed for q in mix)
    print(f"  {100 * denied / len(mix):.1f}% of the calls are denials")

    runs = contenders(policy, mix)
    # Sanity: every contender agrees with Cedar on the mix (the guard: allow = no raise).
    for name, (fn, _) in runs.items():
        if name.startswith("casbin"):
            wrong = sum(fn(q) != policy.evaluate(q).allowed for q in set(mix))
            assert wrong == 0, f"{name} disagrees with Cedar on {wrong} questions of the mix"
    # Warm the caches: the cached contenders are measured warm, as a running server is.
    for fn, fn_args in runs.values():
        for a in fn_args[: min(len(fn_args), 2_000)]:
            fn(a)

    if args.profile:
        for name, (fn, fn_args) in runs.items():
            profiler = cProfile.Profile()
            profiler.enable()
            for a in fn_args[:2_000]:
                fn(a)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.profile)
            print(f"--- cProfile: {name}, 2,000 calls\n{out.getvalue()}")

    floor = timer_floor(args.calls)
    print(f"timer floor (perf_counter_ns around an empty call): median {floor:.3f} µs")
    results: dict[str, list[Stats]] = {name: [] for name in runs}
    names = list(runs)
    for r in range(args.rounds):
        order = names[r % len(names) :] + names[: r % len(names)]  # rotate who goes first
        for name in order:
            fn, fn_args = runs[name]
            results[name].append(time_calls(fn, fn_args))
        print(
            f"round {r + 1}/{args.rounds}: "
            + ", ".join(f"{n} {results[n][-1].median:.2f}" for n in names)
            + " µs (median)",
            flush=True,
        )

    print()
    header = (
        f"{'contender':16} {'calls':>7} {'median µs':>10} {'p90 µs':>9} {'p99 µs':>9} "
        f"{'mean µs':>9} {'loop µs':>9} {'vs decide':>10} {'target':>7}"
    )
    print(header)
    print("-" * len(header))
    base = statistics.median(s.median for s in results["cedar decide"])
    for name in names:
        series = results[name]
        med = statistics.median(s.median for s in series)
        verdict = "met" if med <= TARGET_US else "MISSED"
        print(
            f"{name:16} {len(runs[name][1]):>7,} {med:>10.2f} "
            f"{statistics.median(s.p90 for s in series):>9.2f} "
            f"{statistics.median(s.p99 for s in series):>9.2f} "
            f"{statistics.median(s.mean for s in series):>9.2f} "
            f"{statistics.median(s.batch_mean for s in series):>9.2f} "
            f"{med / base:>9.1f}x {verdict:>7}"
        )
    print(
        f"\nmedians over {args.rounds} rounds of each round's statistic; 'loop' is the loop "
        f"timed as a whole, per call (no per-call timer); target: median <= {TARGET_US:.0f} µs"
    )
    cedar = statistics.median(s.median for s in results["cedar evaluate"])
    plain = statistics.median(s.median for s in results["casbin enforce"])
    cached = statistics.median(s.median for s in results["casbin cached"])
    print(
        f"casbin enforce / cedar evaluate (uncached): {plain / cedar:.1f}x; "
        f"casbin cached / cedar decide (cached): {cached / base:.2f}x"
    )
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


def _version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


if __name__ == "__main__":
    sys.exit(main())
