"""The report's figures, read through the wall as the reporter in one unit of work.

One decision (and one ledger entry) per input, as `forvalg detect` does: the orders (as
counts per operator, tallied behind the wall), the ledger's decisions of the period (as
counts), the incidents, the routing table's versions, the regulator's inquiries and the
latest checkpoint. The reporter's grant (`reporter-counts`) is a counts view: no order,
line or subscriber leaves the wall for a report.
"""

from __future__ import annotations

from dataclasses import dataclass

from forvalg.compliance.report.period import Period
from forvalg.domain.access_activity import AccessActivity
from forvalg.domain.calendar import WorkingCalendar
from forvalg.domain.equivalence import KpiTally
from forvalg.domain.incidents import Incident, IncidentState
from forvalg.domain.inquiries import Answer
from forvalg.domain.routing_table import RoutingVersion
from forvalg.domain.work_items import WorkItem
from forvalg.wall import Purpose, Wall
from forvalg.wall.principals import REPORTER


@dataclass(frozen=True)
class Figures:
    equivalence: dict[str, KpiTally]  # operator -> counts over its orders of the period
    activity: AccessActivity
    incidents: list[Incident]  # opened in the period, or still not closed
    routing: list[RoutingVersion]  # in force from an instant of the period
    inquiries: list[WorkItem]
    answers: list[Answer]  # every answer given to an inquiry, oldest first
    checkpoint: str | None  # the latest signed checkpoint's note, when read here


def gather(
    wall: Wall, period: Period, calendar: WorkingCalendar, *, checkpoint: bool = True
) -> Figures:
    """Every figure of the period; `checkpoint`: also read the latest signed checkpoint
    (a caller with the ledger keeper signs a fresh one afterwards instead)."""
    label = f"compliance-report:{period.label}"
    with wall.access(REPORTER, Purpose.COMPLIANCE_AUDIT, label) as guard:
        equivalence = guard.orders.equivalence(
            start=period.start, end=period.end, calendar=calendar
        )
        activity = guard.ledger.activity(start=period.start, end=period.end)
        incidents = [
            i
            for i in guard.incidents.find()
            if period.contains(i.opened_at)
            or (i.opened_at < period.end and i.state is not IncidentState.CLOSED)
        ]
        routing = guard.routing.versions_between(start=period.start, end=period.end)
        inquiries = guard.work_items.inquiries(
            period=period.label, start=period.start, end=period.end
        )
        asked = {i.id for i in inquiries}
        answers = [a for a in guard.inquiries.find()[1] if a.inquiry_id in asked]
        note = None
        if checkpoint:
            note = guard.ledger.latest_checkpoint()
        else:
            guard.ledger.see_checkpoint()  # the one signed next, covering this unit's reads
    return Figures(equivalence, activity, incidents, routing, inquiries, answers, note)
