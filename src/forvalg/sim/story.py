"""The whole story on a synthetic world, through the real services (`forvalg demo`).

Months of orders from the CPS operators, worked by the order desk; honey-lines planted
by compliance along the way; a day of fault repair with one curious employee; a month of
traffic per month, rated and settled; the retail CRM's contacts with a clean retention
campaign, a clean tenure mailing, a leaking winback campaign and a leaking agent; then
detection over all of it. The CLI adds the regulator's inquiry, the report and the
ledger export on top (cli/demo.py).

Each stage reports through `Stages`, so the CLI can draw progress bars.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Protocol

from forvalg.bootstrap import Services
from forvalg.compliance.canaries import CanaryDesk
from forvalg.compliance.detection import DetectionReport
from forvalg.compliance.detectors.findings import Finding
from forvalg.compliance.report import build_report, parse_period, write_report
from forvalg.compliance.report.findings import read_findings
from forvalg.compliance.report.retail import read_retail_orders
from forvalg.domain.clock import FixedClock
from forvalg.domain.statistics import Severity
from forvalg.domain.tariffs import Tariff
from forvalg.domain.work_items import WorkItemKind
from forvalg.sim.crm import CrmSpec, CrmTruth, crm_contacts, write_contacts
from forvalg.sim.month import MonthReport, next_month, traffic_month
from forvalg.sim.retail_orders import write_retail_orders
from forvalg.sim.staff import CURIOUS, DILIGENT, StaffTruth, staff_at_work
from forvalg.sim.world import OSLO, World, WorldSpec, seeded_ids
from forvalg.wall import Purpose
from forvalg.wall.principals import Statement


@dataclass(frozen=True)
class StorySpec:
    world: WorldSpec
    months: int = 3  # of traffic, from the world's first month
    calls_per_line: int = 60  # a month
    honey_batches: int = 3  # planted at even intervals through the world's days
    honey_per_batch: int = 6
    staff_day: float = 0.66  # how far into the world the day of fault repair falls
    crm: CrmSpec = field(default_factory=CrmSpec)

    @classmethod
    def full(cls, seed: int = 2026) -> StorySpec:
        """The demo's world: about 50,000 lines and three months, in a few minutes."""
        return cls(world=WorldSpec(lines=50_000, days=91, orders_per_day=150, seed=seed))

    @classmethod
    def small(cls, seed: int = 2026) -> StorySpec:
        """The one-minute version the tests run: the same story on a smaller world."""
        return cls(
            world=WorldSpec(lines=6_000, days=46, orders_per_day=40, seed=seed),
            months=2,
            calls_per_line=10,
            honey_batches=2,
            honey_per_batch=8,
        )


class Stages(Protocol):
    """Where the story reports its progress: a stage with `total` steps begins, steps
    are done, the stage ends."""

    def begin(self, name: str, total: int) -> None: ...

    def advance(self, steps: int = 1) -> None: ...


class Quiet:
    def begin(self, name: str, total: int) -> None:
        pass

    def advance(self, steps: int = 1) -> None:
        pass


@dataclass(frozen=True)
class Story:
    world: World
    honey: list[str]
    staff: StaffTruth
    traffic: list[MonthReport]
    crm: CrmTruth
    contacts_file: Path
    detection: DetectionReport


def tell(
    svc: Services,
    clock: FixedClock,
    spec: StorySpec,
    out: Path,
    tariff: Tariff,
    stages: Stages | None = None,
) -> Story:
    """Everything up to and including detection; files go to `out`."""
    stages = stages or Quiet()
    rng = random.Random(spec.world.seed + 7)
    world = World(svc, clock, spec.world, random.Random(spec.world.seed))
    honey: list[str] = []
    staff: list[StaffTruth] = []  # the day of fault repair, once it has happened
    traffic: list[MonthReport] = []
    decoys: dict[str, datetime] = {}  # honey-line -> when its decoy order arrived
    # Compliance's honey-lines, drawn from the story's seed so that a run repeats.
    canaries = CanaryDesk(
        wall=svc.wall,
        rules=svc.rules,
        clock=clock,
        rng=random.Random(spec.world.seed + 11),
        ids=seeded_ids(random.Random(spec.world.seed + 13)),
    )
    plant = _planting_days(spec)
    staff_day = spec.world.start + timedelta(days=int(spec.world.days * spec.staff_day))

    def after_day(day: date) -> None:
        if day in plant:
            for made in canaries.add(spec.honey_per_batch):
                honey.append(made.number)
                decoys[made.number] = made.received_at
        if day == staff_day:
            at = datetime.combine(day, time(8), OSLO).astimezone(UTC)
            staff.append(staff_at_work(svc, clock, _numbers(world.lines), at, rng))

    stages.begin("orders: the operators' days at the order desk", spec.world.days)
    world.setup(out)
    world.run(lambda done, days: stages.advance(), after_day)

    stages.begin("traffic: generated, rated, settled, fetched", spec.months)
    month = spec.world.start.replace(day=1)
    for _ in range(spec.months):
        traffic.append(
            traffic_month(
                svc,
                _numbers(world.lines),
                world.operators,
                month,
                out,
                tariff,
                calls_per_line=spec.calls_per_line,
                seed=spec.world.seed + len(traffic),
            )
        )
        stages.advance()
        month = next_month(month)

    stages.begin("retail CRM: contacts exported and imported for compliance", 2)
    start = datetime.combine(spec.world.start, time(0), OSLO).astimezone(UTC)
    end = start + timedelta(days=spec.world.days)
    crm = crm_contacts(
        spec.crm,
        lines=_numbers(world.lines),
        received=world.received | decoys,
        honey=honey,
        start=start,
        end=end,
        rng=rng,
    )
    contacts_file = out / "crm-contacts.csv"
    write_contacts(contacts_file, crm.contacts)
    stages.advance()
    imported = svc.contacts.import_file(contacts_file)
    if imported.rejected or imported.imported != len(crm.contacts):
        raise RuntimeError(f"{contacts_file}: the CRM's export did not import whole: {imported}")
    stages.advance()

    stages.begin("detection: every detector over what is stored", 1)
    detection = svc.detection.run(out / "findings.json")
    stages.advance()
    worked = staff[0] if staff else StaffTruth()
    return Story(world, honey, worked, traffic, crm, contacts_file, detection)


def last_month(story: Story) -> str:
    """The month compliance reports on and the regulator asks about: the last month of
    traffic, or the month of the world's last day if that is earlier (a short world)."""
    spec = story.world.spec
    last_day = spec.start + timedelta(days=spec.days - 1)
    return min(story.traffic[-1].month, f"{last_day:%Y-%m}")


def _planting_days(spec: StorySpec) -> set[date]:
    step = spec.world.days / (spec.honey_batches + 1)
    return {
        spec.world.start + timedelta(days=int(step * (i + 1))) for i in range(spec.honey_batches)
    }


def _numbers(lines: list[tuple[str, str, str]]) -> list[str]:
    return [number for number, _, _ in lines]


@dataclass(frozen=True)
class Answer:
    """What compliance hands the regulator for the story's last month."""

    period: str
    retail_orders: Path
    report: list[Path]  # report.html, report.json


def report_last_month(
    svc: Services, story: Story, out: Path, stages: Stages | None = None
) -> Answer:
    """The compliance report of the story's last traffic month, with the incumbent's
    retail orders of that month (the retail order system's export) as the baseline and
    the findings of the detection run."""
    stages = stages or Quiet()
    stages.begin("report: the compliance report of the last month", 2)
    period = last_month(story)
    spec = story.world.spec
    retail = write_retail_orders(
        out / f"retail-orders-{period}.csv", period, count=spec.orders_per_day * 8, seed=spec.seed
    )
    stages.advance()
    month = parse_period(period)
    made = build_report(
        svc.wall,
        svc.keeper,
        month,
        calendar=svc.rules.calendar,
        retail=read_retail_orders(retail, month),
        findings=read_findings(story.detection.path),
    )
    written = write_report(made, out / "report")
    stages.advance()
    return Answer(period, retail, written)


QUESTION = (
    "Did the incumbent's retail staff or campaigns use information from carrier "
    "preselection orders in {period}, and who read CPS data without a work item?"
)
REGULATOR, OFFICER = "Nkom tilsyn", "Compliance officer"


@dataclass(frozen=True)
class Inquiry:
    """The regulator's inquiry and compliance's answer."""

    id: str
    question: str
    period: str
    due_at: datetime
    bundle: Path
    entries: int


def inquire(
    svc: Services, clock: FixedClock, story: Story, out: Path, stages: Stages | None = None
) -> Inquiry:
    """The regulator's letter: a question about the story's last month with a week's
    deadline, opened by the regulator as itself. Two days later compliance answers with
    an evidence bundle holding the report of that month and the detection run's
    findings."""
    stages = stages or Quiet()
    stages.begin("inquiry: the regulator's question, answered with an evidence bundle", 2)
    period = last_month(story)
    regulator = svc.users.add(REGULATOR, "regulator")
    principal = svc.authenticator.principal(regulator.token)
    assert principal is not None  # a token just issued signs in
    end = datetime.combine(story.world.spec.start, time(9), OSLO) + timedelta(
        days=story.world.spec.days
    )
    clock.at = end.astimezone(UTC)
    question = QUESTION.format(period=period)
    item = svc.work.open(
        principal,
        Statement(Purpose.REGULATORY_INSPECTION),
        WorkItemKind.INQUIRY,
        summary=question,
        period=period,
        due_at=clock.at + timedelta(days=7),
    )
    stages.advance()
    clock.at += timedelta(days=2)
    bundle = svc.inquiries.answer(
        item.id,
        out=out / f"evidence-{item.id}.zip",
        by=OFFICER,
        findings=read_findings(story.detection.path),
    )
    stages.advance()
    assert item.due_at is not None
    return Inquiry(item.id, question, period, item.due_at, bundle.path, bundle.answer.entry_count)


@dataclass(frozen=True)
class Verdict:
    """One subject the story knows the truth about, and what detection said of it."""

    subject: str  # a campaign, an agent or a staff member's name
    leaking: bool
    flagged: bool  # a finding of medium or above
    strongest: str  # "detector severity", or "" if none

    @property
    def right(self) -> bool:
        return self.leaking == self.flagged


def verdicts(story: Story, spec: StorySpec) -> list[Verdict]:
    """The leaks and the clean subjects, each with the strongest finding about it."""
    names = {story.staff.curious: CURIOUS, story.staff.diligent: DILIGENT}
    strongest: dict[str, Finding] = {}
    for finding in story.detection.findings:
        for value in finding.subject.values():
            subject = names.get(value, value)
            best = strongest.get(subject)
            if best is None or finding.severity.rank > best.severity.rank:
                strongest[subject] = finding
    crm = spec.crm
    truth = [
        (crm.winback, True),
        (crm.leaking_agent, True),
        (CURIOUS, True),
        (crm.retention, False),
        (crm.tenure, False),
        (DILIGENT, False),
    ]
    found = []
    for subject, leaking in truth:
        best = strongest.get(subject)
        flagged = best is not None and best.severity.at_least(Severity.MEDIUM)
        label = f"{best.detector} {best.severity.value}" if best is not None else ""
        found.append(Verdict(subject, leaking, flagged, label))
    return found
