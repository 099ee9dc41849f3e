"""Wholesale staff in the synthetic world: one who works by the book and one who is curious.

Both sign in with real staff tokens and go through the same casework service as the API.
The diligent one opens a fault ticket for each line she looks at. The curious one works
a ticket too, then tries lines that are not on it (the wall refuses, and the refusals are
ledgered and alert compliance), and finally breaks the glass to look at a handful of
lines with a justification no ticket ever follows (permitted, alerted, and unexplained:
the detectors should report him).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from forvalg.bootstrap import Services
from forvalg.domain.clock import FixedClock
from forvalg.domain.work_items import WorkItemKind
from forvalg.wall import Principal, Purpose
from forvalg.wall.errors import AccessDenied
from forvalg.wall.principals import Statement

DILIGENT, CURIOUS = "Kari Fjell", "Ola Vik"


@dataclass
class StaffTruth:
    diligent: str = ""  # principal ids
    curious: str = ""
    tickets: int = 0
    reads: int = 0
    refused: int = 0
    broke_glass: list[str] = field(default_factory=list)  # lines read under break-glass


def _signed_in(svc: Services, name: str) -> Principal:
    user = svc.users.add(name, "wholesale_ops")
    principal = svc.authenticator.principal(user.token)
    assert principal is not None  # a token just issued signs in
    return principal


def _ticket(svc: Services, who: Principal, line: str, summary: str, truth: StaffTruth) -> str:
    stated = Statement(Purpose.FAULT_REPAIR)
    item = svc.work.open(who, stated, WorkItemKind.FAULT_TICKET, summary=summary, lines=[line])
    truth.tickets += 1
    return item.id


def staff_at_work(
    svc: Services, clock: FixedClock, lines: list[str], at: datetime, rng: random.Random
) -> StaffTruth:
    """A day of fault repair from `at`: twenty tickets worked by the book, and the curious
    employee's afternoon."""
    truth = StaffTruth()
    diligent = _signed_in(svc, DILIGENT)
    curious = _signed_in(svc, CURIOUS)
    truth.diligent, truth.curious = diligent.id, curious.id
    faults = rng.sample(lines, 26)
    for i, line in enumerate(faults[:20]):
        clock.at = at + timedelta(minutes=20 * i)
        ticket = _ticket(svc, diligent, line, "customer reports no dial tone", truth)
        svc.casework.line(diligent, Statement(Purpose.FAULT_REPAIR, ticket), line)
        truth.reads += 1
    clock.at = at + timedelta(hours=7)
    ticket = _ticket(svc, curious, faults[20], "crackling on the line", truth)
    svc.casework.line(curious, Statement(Purpose.FAULT_REPAIR, ticket), faults[20])
    truth.reads += 1
    for i, line in enumerate(faults[21:24]):  # the neighbours: not on the ticket
        clock.at = at + timedelta(hours=7, minutes=5 + i)
        try:
            svc.casework.line(curious, Statement(Purpose.FAULT_REPAIR, ticket), line)
        except AccessDenied:
            truth.refused += 1
    why = "customer on the phone says the line is dead, no ticket system access"
    for i, line in enumerate(faults[24:]):
        clock.at = at + timedelta(hours=7, minutes=15 + i)
        svc.casework.line(curious, Statement(Purpose.FAULT_REPAIR, break_glass=why), line)
        truth.broke_glass.append(line)
    return truth
