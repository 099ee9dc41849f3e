"""The guard: one principal's unit of work behind the wall.

Every guarded call asks the policy, checks the work item, appends the decision to the
ledger's inbox in the unit of work's transaction, and only then reads or writes.

A staff member (and a subscriber) must state a purpose and name a work item: without
them the answer is `E_PURPOSE_REQUIRED`; a work item that is unknown, closed, or does
not cover the lines or operator touched is `E_WORK_ITEM_MISMATCH` (checked after the
read, before the data leaves the unit of work, which then rolls back). Break-glass
skips the work-item check, needs a written justification, and raises a compliance
alert. On PostgreSQL the unit of work runs in the principal's database zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from sqlalchemy.orm import Session

from forvalg.domain.alerts import Alert
from forvalg.domain.categories import Category
from forvalg.domain.reasons import ReasonCode
from forvalg.domain.work_items import WorkItem, WorkItemKind, kind_of
from forvalg.ledger.port import AccessEvent
from forvalg.store import alerts as alert_store
from forvalg.store import zones
from forvalg.store.ledger import SqlAccessLog
from forvalg.store.zones import Zone
from forvalg.wall.access_log import GuardedAccessLog
from forvalg.wall.contacts import GuardedContacts
from forvalg.wall.detection import GuardedDetection
from forvalg.wall.errors import AccessDenied
from forvalg.wall.guarded import (
    GuardedLedger,
    GuardedLines,
    GuardedOperators,
    GuardedOrders,
    GuardedOutbox,
    GuardedUsers,
)
from forvalg.wall.honey_lines import GuardedHoneyLines
from forvalg.wall.incidents import GuardedIncidents
from forvalg.wall.inquiries import GuardedInquiries
from forvalg.wall.policy import Action, Policy, Question, Scope, View
from forvalg.wall.principals import Principal, PrincipalKind, Purpose, zone_of
from forvalg.wall.pseudonyms import SubjectSet
from forvalg.wall.routing import GuardedRouting
from forvalg.wall.settlement import GuardedSettlement, GuardedStatements
from forvalg.wall.subscribers import GuardedSubscribers
from forvalg.wall.traffic import GuardedTraffic
from forvalg.wall.work import GuardedAlerts, GuardedWorkItems, resolve
from forvalg.wall.work_queue import GuardedQueue

if TYPE_CHECKING:
    from forvalg.wall.gateway import Wall

ZONE_KEY = "forvalg.zone"  # Session.info: the zone (and operator) this unit of work entered
# Who must state a purpose and name a work item; operators act on their own rows and
# system jobs name their batch.
BOUND = frozenset({PrincipalKind.STAFF, PrincipalKind.SUBSCRIBER})
# Data flowing in that gives nothing back: staff writing it state a purpose but name no
# work item (the policy's no-work-item-no-data makes the same exception).
INFLOW = frozenset({(Action.WRITE, Category.CONTACT)})


def alert_of(event: AccessEvent, kind: str) -> Alert:
    return Alert(
        at=event.at,
        kind=kind,
        principal=event.principal,
        purpose=event.purpose,
        work_item=event.work_item,
        category=event.resource,
        reason=event.reason or "",
    )


@dataclass(frozen=True, slots=True)
class Permit:
    """An allow decision not yet logged: `Guard.record` logs it with its subjects."""

    action: Action
    category: Category
    scope: Scope
    view: View
    break_glass: bool
    reason: str


@dataclass
class Guard:
    """One principal's unit of work. Guarded stores hang off it: `guard.orders`, ..."""

    wall: Wall
    session: Session
    policy: Policy
    principal: Principal
    purpose: Purpose | None
    work_item: str | None
    break_glass: str | None = None
    opening: WorkItemKind | None = None
    denials: list[AccessEvent] = field(default_factory=list)
    _item: WorkItem | None = field(default=None, repr=False)
    _resolved: bool = field(default=False, repr=False)

    @property
    def bound(self) -> bool:
        """Whether this principal must state a purpose and name a work item."""
        return self.principal.kind in BOUND

    @property
    def item(self) -> WorkItem | None:
        """The work item named, resolved once per unit of work (None: unknown or none)."""
        if not self._resolved:
            named = self.work_item if self.bound and self.opening is None else None
            self._item = resolve(self.session, named) if named else None
            self._resolved = True
        return self._item

    def authorize(
        self,
        action: Action,
        category: Category,
        subjects: Iterable[str] = (),
    ) -> Permit:
        """Decide, check the work item, log, and return the permit; raise `AccessDenied`
        on deny. For writes and reads whose subjects are known before the data is."""
        permit = self.permit(action, category)
        self.record(permit, subjects)
        return permit

    def begin(self) -> Guard:
        """Act in the principal's database zone from here to the end of the transaction
        (PostgreSQL; the API's zone sees only the operator's own rows)."""
        self._enter_zone()
        return self

    def _enter_zone(self) -> None:
        """Every decision is made, and its data touched, in the principal's own zone
        (again, after a delegate worked in its own in the same transaction)."""
        zone = zone_of(self.principal)
        operator = self.principal.organisation if zone is Zone.API else None
        if self.session.info.get(ZONE_KEY) != (zone, operator):
            zones.enter(self.session, zone, operator=operator)
            self.session.info[ZONE_KEY] = (zone, operator)

    def permit(self, action: Action, category: Category) -> Permit:
        """Decide; a denial is recorded and raised. An allow must be `record`ed, with the
        subjects actually touched, before the unit of work ends.

        The policy decides on the kind the work item's id claims, before the item is
        looked up, so a refused caller cannot learn whether it exists; only then is it
        resolved (in the principal's zone), and an unknown one is a mismatch."""
        self._enter_zone()
        kind: WorkItemKind | None = None
        if self.bound:
            named = self.work_item or self.break_glass or self.opening
            if self.purpose is None or not (named or (action, category) in INFLOW):
                self._deny(
                    action,
                    category,
                    ReasonCode.E_PURPOSE_REQUIRED,
                    "no purpose or no work item stated",
                )
            kind = self.opening or (kind_of(self.work_item) if self.work_item else None)
            if self.work_item and kind is None:
                self._deny(
                    action,
                    category,
                    ReasonCode.E_WORK_ITEM_MISMATCH,
                    f"{self.work_item!r} is not a work item",
                )
        question = Question(
            roles=self.principal.roles,
            kind=self.principal.kind.value,
            action=action,
            category=category,
            purpose="" if self.purpose is None else self.purpose.value,
            work_item="" if kind is None else kind.value,
            break_glass=self.break_glass is not None,
        )
        decision = self.policy.decide(question)
        if decision.scope is None:
            self._deny(action, category, ReasonCode.E_FORBIDDEN, decision.reason)
        permit = Permit(
            action, category, decision.scope, decision.view, decision.break_glass, decision.reason
        )
        if self.bound and self.opening is None and self.work_item and self.item is None:
            self.refuse(permit, ReasonCode.E_WORK_ITEM_MISMATCH, f"no work item {self.work_item!r}")
        return permit

    def refuse(self, permit: Permit, code: ReasonCode, reason: str) -> NoReturn:
        """Turn an allow into a denial: what was asked for is not covered after all."""
        self._deny(permit.action, permit.category, code, reason)

    def record(
        self, permit: Permit, subjects: Iterable[str], detail: dict[str, Any] | None = None
    ) -> None:
        """Check that what was touched belongs to the work item, then log the allow in
        this unit of work's transaction (with an alert if break-glass decided it);
        `detail` goes into the entry as it is."""
        subjects = list(subjects)
        reason = permit.reason
        if permit.break_glass:
            reason += f"; break-glass: {self.break_glass}"
        elif self.bound and self.opening is None and self.item is not None:
            why = self.item.uncovered(subjects)
            if why is not None:
                self._deny(
                    permit.action, permit.category, ReasonCode.E_WORK_ITEM_MISMATCH, why, subjects
                )
        named = self.wall.pseudonymiser.subjects(subjects)
        event = self._event(permit.action, permit.category, True, reason, named, detail)
        SqlAccessLog(self.session).append(event, named.members if named.bulk else ())
        if permit.break_glass:
            alert_store.add_alerts(self.session, alerts=[alert_of(event, "break_glass")])

    def _deny(
        self,
        action: Action,
        category: Category,
        code: ReasonCode,
        reason: str,
        subjects: Iterable[str] = (),
    ) -> NoReturn:
        named = self.wall.pseudonymiser.subjects(subjects)
        event = self._event(action, category, False, f"{code.value}: {reason}", named)
        self.denials.append(event)
        raise AccessDenied(event, code)

    def _event(
        self,
        action: Action,
        category: Category,
        allowed: bool,
        reason: str,
        subjects: SubjectSet,
        detail: dict[str, Any] | None = None,
    ) -> AccessEvent:
        return self.wall.event(
            self.principal,
            self.purpose,
            self.work_item,
            action.value,
            category.value,
            allowed=allowed,
            reason=reason,
            subjects=subjects,
            policy=self.policy,
            detail=detail,
        )

    def delegate(self, principal: Principal, purpose: Purpose) -> Guard:
        """A system job acting in the same transaction, named in the log as itself and
        with this guard's principal as the work item that caused it."""
        return Guard(
            self.wall,
            self.session,
            self.policy,
            principal,
            purpose,
            f"on-behalf-of:{self.principal.id}",
            denials=self.denials,  # one list: the unit of work records the delegate's too
        ).begin()

    @property
    def orders(self) -> GuardedOrders:
        return GuardedOrders(self)

    @property
    def lines(self) -> GuardedLines:
        return GuardedLines(self)

    @property
    def outbox(self) -> GuardedOutbox:
        return GuardedOutbox(self)

    @property
    def ledger(self) -> GuardedLedger:
        return GuardedLedger(self)

    @property
    def access_log(self) -> GuardedAccessLog:
        return GuardedAccessLog(self)

    @property
    def operators(self) -> GuardedOperators:
        return GuardedOperators(self)

    @property
    def users(self) -> GuardedUsers:
        return GuardedUsers(self)

    @property
    def work_items(self) -> GuardedWorkItems:
        return GuardedWorkItems(self)

    @property
    def queue(self) -> GuardedQueue:
        return GuardedQueue(self)

    @property
    def alerts(self) -> GuardedAlerts:
        return GuardedAlerts(self)

    @property
    def subscribers(self) -> GuardedSubscribers:
        return GuardedSubscribers(self)

    @property
    def traffic(self) -> GuardedTraffic:
        return GuardedTraffic(self)

    @property
    def settlement(self) -> GuardedSettlement:
        return GuardedSettlement(self)

    @property
    def statements(self) -> GuardedStatements:
        return GuardedStatements(self)

    @property
    def routing(self) -> GuardedRouting:
        return GuardedRouting(self)

    @property
    def contacts(self) -> GuardedContacts:
        return GuardedContacts(self)

    @property
    def detection(self) -> GuardedDetection:
        return GuardedDetection(self)

    @property
    def honey_lines(self) -> GuardedHoneyLines:
        return GuardedHoneyLines(self)

    @property
    def incidents(self) -> GuardedIncidents:
        return GuardedIncidents(self)

    @property
    def inquiries(self) -> GuardedInquiries:
        return GuardedInquiries(self)
