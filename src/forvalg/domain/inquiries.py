"""Regulator inquiries: their deadlines, and what the evidence bundle answering one holds.

An inquiry is a work item of kind `inquiry` (domain/work_items.py): its summary is the
regulator's question (1-2000 characters), its period the month asked about (YYYY-MM, an
Oslo calendar month as in settlement) and `due_at` the deadline. Compliance answers
with an evidence bundle (docs/LEDGER.md, "Evidence bundles"); it may answer more than
once (a later answer supersedes the earlier and proves the log still extends it).

Which ledger entries a bundle holds is a rule of its own, so that the regulator can
read it and an answer cannot pick and choose (`why_relevant`): every entry *decided in
the period* that is a staff member's access, a denial, or a break-glass access, and
every entry, whenever decided, that names the inquiry itself as its work item (the
inquiry's opening, reads made for it, earlier answers). It is bounded by
`MAX_BUNDLE_ENTRIES`: a period with more is answered with a full export instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from forvalg.domain.settlement import OSLO, Period

# A bundle holds at most this many entries (each with an audit path of ~log2(n) hashes:
# 20 000 entries are a few megabytes). More is a sign the period needs a full export.
MAX_BUNDLE_ENTRIES = 20_000
MAX_ACTOR = 80
STAFF_PREFIX = "user:"  # wall.principals.staff_principal
BREAK_GLASS_MARK = "; break-glass: "  # how the guard marks a break-glass allow's reason
# Report files a bundle may carry (under `report/`): plain names, nothing that could
# climb out of the directory when unpacked.
_REPORT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class InquiryError(ValueError):
    """An inquiry that cannot be answered as asked; the message says what and where."""


class DeadlineState(StrEnum):
    DUE = "due"
    OVERDUE = "overdue"
    ANSWERED_ON_TIME = "answered_on_time"
    ANSWERED_LATE = "answered_late"


@dataclass(frozen=True, slots=True)
class Deadline:
    """Where an inquiry stands against its deadline. `days` is whole Oslo calendar days:
    left until the deadline's day (DUE), past it (OVERDUE), or late (ANSWERED_LATE)."""

    state: DeadlineState
    due_at: datetime
    days: int = 0

    def describe(self) -> str:
        n, s = self.days, "" if self.days == 1 else "s"
        match self.state:
            case DeadlineState.DUE:
                return "due today" if n == 0 else f"due in {n} day{s}"
            case DeadlineState.OVERDUE:
                return "overdue since today" if n == 0 else f"overdue by {n} day{s}"
            case DeadlineState.ANSWERED_ON_TIME:
                return "answered on time"
            case DeadlineState.ANSWERED_LATE:
                return "answered late (the same day)" if n == 0 else f"answered {n} day{s} late"


def _day(instant: datetime) -> date:
    return instant.astimezone(OSLO).date()


def deadline_day(instant: datetime) -> date:
    """The Oslo calendar day a deadline falls on: a deadline at 00:00 is the end of the
    day before (`deadline_end_of` makes those)."""
    return _day(instant - timedelta(microseconds=1))


def deadline_end_of(day: str) -> datetime:
    """A deadline given as a day (YYYY-MM-DD): the end of that Oslo day, i.e. 00:00 Oslo
    of the next, in UTC. `InquiryError` if it is not a date."""
    try:
        start = datetime.strptime(day, "%Y-%m-%d")  # noqa: DTZ007 (made Oslo below)
    except ValueError:
        raise InquiryError(f"{day!r} is not a date written as YYYY-MM-DD") from None
    return (start + timedelta(days=1)).replace(tzinfo=OSLO).astimezone(UTC)


def deadline(due_at: datetime, *, now: datetime, answered_at: datetime | None = None) -> Deadline:
    """The inquiry's deadline status: answered (on time or late, by the first answer
    given) or, until it is, due in N days or overdue by N days."""
    due = deadline_day(due_at)
    if answered_at is not None:
        if answered_at <= due_at:
            return Deadline(DeadlineState.ANSWERED_ON_TIME, due_at)
        return Deadline(DeadlineState.ANSWERED_LATE, due_at, (_day(answered_at) - due).days)
    if now < due_at:
        return Deadline(DeadlineState.DUE, due_at, max(0, (due - _day(now)).days))
    return Deadline(DeadlineState.OVERDUE, due_at, max(0, (_day(now) - due).days))


class Why(StrEnum):
    """Why an entry is in a bundle (an entry may have several reasons)."""

    STAFF = "staff"  # a staff member's (a person's) access in the period
    DENIAL = "denial"  # a refused access in the period (failed sign-ins too)
    BREAK_GLASS = "break_glass"  # an access allowed by break-glass in the period
    INQUIRY = "inquiry"  # names the inquiry as its work item, whenever decided


SELECTION_RULE = (
    "every entry decided in the inquiry's period (an Oslo calendar month) that is a staff "
    "member's access (principal user:...), a denial, or an access allowed by break-glass; "
    "and every entry, whenever decided up to the checkpoint, naming the inquiry as its "
    "work item"
)


def why_relevant(event: Mapping[str, Any], *, inquiry_id: str, period: Period) -> tuple[Why, ...]:
    """Why the access event (an entry's `event` object) belongs in the bundle answering
    `inquiry_id` about `period`; empty if it does not."""
    reasons: list[Why] = []
    at = datetime.fromisoformat(str(event.get("at")))
    if at in period:
        reason = event.get("reason") or ""
        if str(event.get("principal", "")).startswith(STAFF_PREFIX):
            reasons.append(Why.STAFF)
        if event.get("decision") == "deny":
            reasons.append(Why.DENIAL)
        elif BREAK_GLASS_MARK in reason:
            reasons.append(Why.BREAK_GLASS)
    if event.get("work_item") == inquiry_id:
        reasons.append(Why.INQUIRY)
    return tuple(reasons)


def check_bounded(count: int, *, inquiry_id: str) -> None:
    if count > MAX_BUNDLE_ENTRIES:
        raise InquiryError(
            f"{inquiry_id}: {count} ledger entries are relevant, more than a bundle holds "
            f"({MAX_BUNDLE_ENTRIES}); answer with `forvalg ledger export` instead"
        )


def check_actor(by: str) -> str:
    """Who answers: a name, 1-80 characters, one line."""
    name = by.strip()
    if not name or len(name) > MAX_ACTOR or any(c < " " for c in name):
        raise InquiryError(f"--by {by!r}: a name of 1-{MAX_ACTOR} characters on one line")
    return name


def check_report_files(names: Iterable[str]) -> list[str]:
    """The report files' names, sorted; `InquiryError` for a name that is not a plain
    file name (they are unpacked under `report/`)."""
    found = sorted(names)
    for name in found:
        if not _REPORT_NAME.match(name) or ".." in name:
            raise InquiryError(
                f"report file {name!r}: a plain file name (letters, digits, '.', '_', '-')"
            )
    return found


def check_period(period: str) -> Period:
    """The inquiry's period as instants; `InquiryError` if it is not YYYY-MM."""
    try:
        return Period.parse(period)
    except ValueError as exc:
        raise InquiryError(f"period: {exc}") from None


@dataclass(frozen=True, slots=True)
class Answer:
    """One evidence bundle given in answer to an inquiry (a row of `inquiry_answers`,
    without the bundle's bytes)."""

    inquiry_id: str
    answered_at: datetime
    answered_by: str
    bundle_sha256: str
    tree_size: int
    root: str  # base64
    checkpoint: str  # the signed note
    previous_size: int | None
    entry_count: int
    seq: int | None = None
