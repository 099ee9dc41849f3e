"""The gateway: decision -> ledger entry -> data, inside one unit of work.

`Wall.access(principal, purpose, work_item)` opens a transaction and yields a `Guard`.
Every guarded call asks the policy, appends the decision to the ledger's inbox in the
same transaction, and only then reads or writes. The transaction commits when the use
case ends without error, so the entry is durable before the caller can pass data on.

A staff member (and a subscriber) must state a purpose and name a work item: without
them the answer is `E_PURPOSE_REQUIRED`; a work item that is unknown, closed, or does
not cover the lines or operator touched is `E_WORK_ITEM_MISMATCH` (checked after the
read, before the data leaves the unit of work, which then rolls back). Break-glass
skips the work-item check, needs a written justification, and raises a compliance
alert. Every denial is written in a transaction of its own, so it survives the
rollback, and raises a compliance alert too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import NoReturn

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from forvalg.domain.alerts import Alert
from forvalg.domain.categories import Category
from forvalg.domain.clock import Clock
from forvalg.domain.reasons import ReasonCode
from forvalg.domain.work_items import WorkItem, WorkItemKind, kind_of
from forvalg.ledger.port import AccessEvent
from forvalg.store import alerts as alert_store
from forvalg.store import zones
from forvalg.store.ledger import SqlAccessLog
from forvalg.store.zones import Zone
from forvalg.wall.errors import Conflict
from forvalg.wall.guarded import (
    GuardedLedger,
    GuardedLines,
    GuardedOperators,
    GuardedOrders,
    GuardedOutbox,
    GuardedUsers,
)
from forvalg.wall.policy import Action, Policy, Question, Scope, View
from forvalg.wall.principals import (
    Principal,
    PrincipalKind,
    Purpose,
    Statement,
    subscriber_statement,
    zone_of,
)
from forvalg.wall.pseudonyms import NO_SUBJECTS, Pseudonymiser, SubjectSet
from forvalg.wall.subscribers import GuardedSubscribers
from forvalg.wall.work import GuardedAlerts, GuardedWorkItems, resolve

ZONE_KEY = "forvalg.zone"  # Session.info: the zone this unit of work entered
# Who must state a purpose and name a work item; operators act on their own rows and
# system jobs name their batch.
BOUND = frozenset({PrincipalKind.STAFF, PrincipalKind.SUBSCRIBER})
AUTHENTICATE = "authenticate"


class AccessDenied(Exception):
    """The wall said no. The denial is in the ledger and, unless it was a failed sign-in,
    in compliance's alerts."""

    def __init__(self, event: AccessEvent, code: ReasonCode = ReasonCode.E_FORBIDDEN) -> None:
        super().__init__(
            f"{event.principal} may not {event.action} {event.resource}: {event.reason}"
        )
        self.event = event
        self.code = code


class Wall:
    # The unit of work's guard; a benchmark's build with the gateway bypassed swaps it.
    guard_type: type[Guard]

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        pseudonymiser: Pseudonymiser,
        clock: Clock,
        policy: Policy,
    ) -> None:
        self._sessions = sessions
        self.pseudonymiser = pseudonymiser
        self.clock = clock
        self.policy = policy

    @contextmanager
    def access(
        self,
        principal: Principal,
        purpose: Purpose | None,
        work_item: str | None = None,
        *,
        break_glass: str | None = None,
        opening: WorkItemKind | None = None,
    ) -> Iterator[Guard]:
        """A unit of work for `principal`. `opening` is the kind of work item the unit
        creates (opening one is done without naming one); `break_glass` is a written
        justification."""
        session = self._sessions()
        guard = self.guard_type(
            self,
            session,
            self.policy,  # one policy version for the whole unit of work
            principal,
            purpose,
            work_item,
            break_glass=break_glass or None,
            opening=opening,
        )
        try:
            yield guard.begin()
            session.commit()
        except (IntegrityError, OperationalError) as exc:
            session.rollback()
            if isinstance(exc, IntegrityError) or _lost_race(exc):
                raise Conflict(str(exc.orig)) from exc
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            if guard.denials:
                self.record_now(guard.denials)

    def access_for(
        self,
        principal: Principal,
        statement: Statement,
        purpose: Purpose,
        label: str | None = None,
    ) -> AbstractContextManager[Guard]:
        """`access` for a request: staff act on what they stated, subscribers always for
        their own request (whatever they state); operators and system jobs for the
        service's `purpose`, named in the ledger by `label`."""
        if principal.kind is PrincipalKind.SUBSCRIBER:
            statement = subscriber_statement(principal)
        if principal.kind in BOUND:
            return self.access(
                principal,
                statement.purpose,
                statement.work_item,
                break_glass=statement.break_glass,
            )
        return self.access(principal, purpose, label)

    def record_now(self, events: Iterable[AccessEvent]) -> None:
        """Append events in a transaction of their own (denials, failed sign-ins); every
        denial but a failed sign-in alerts compliance."""
        events = list(events)
        with self._sessions() as session, session.begin():
            log = SqlAccessLog(session)
            for event in events:
                log.append(event)
            alert_store.add_alerts(
                session,
                alerts=[
                    _alert(e, "denial")
                    for e in events
                    if e.decision == "deny" and e.action != AUTHENTICATE
                ],
            )

    def event(
        self,
        principal: Principal,
        purpose: Purpose | str | None,
        work_item: str | None,
        action: str,
        resource: str,
        *,
        allowed: bool,
        reason: str,
        subjects: SubjectSet = NO_SUBJECTS,
        policy: Policy | None = None,
    ) -> AccessEvent:
        return AccessEvent(
            at=self.clock.now(),
            principal=principal.id,
            organisation=principal.organisation,
            roles=tuple(sorted(principal.roles)),
            purpose="" if purpose is None else str(purpose),
            work_item=work_item,
            action=action,
            resource=resource,
            decision="allow" if allowed else "deny",
            reason=reason,
            policy_version=(policy or self.policy).version,
            subject_count=len(subjects.members),
            subjects_digest=subjects.digest,
            subjects=subjects.named,
        )


def _alert(event: AccessEvent, kind: str) -> Alert:
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
        operators: Iterable[str] = (),
    ) -> Permit:
        """Decide, check the work item, log, and return the permit; raise `AccessDenied`
        on deny. For writes and reads whose subjects are known before the data is."""
        permit = self.permit(action, category)
        self.record(permit, subjects, operators)
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
        if self.session.info.get(ZONE_KEY) is not zone:
            operator = self.principal.organisation if zone is Zone.API else None
            zones.enter(self.session, zone, operator=operator)
            self.session.info[ZONE_KEY] = zone

    def permit(self, action: Action, category: Category) -> Permit:
        """Decide; a denial is recorded and raised. An allow must be `record`ed, with the
        subjects actually touched, before the unit of work ends.

        The policy decides on the kind the work item's id claims, before the item is
        looked up, so a refused caller cannot learn whether it exists; only then is it
        resolved (in the principal's zone), and an unknown one is a mismatch."""
        self._enter_zone()
        kind: WorkItemKind | None = None
        if self.bound:
            if self.purpose is None or not (self.work_item or self.break_glass or self.opening):
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
        self, permit: Permit, subjects: Iterable[str], operators: Iterable[str] = ()
    ) -> None:
        """Check that what was touched belongs to the work item, then log the allow in
        this unit of work's transaction (with an alert if break-glass decided it)."""
        subjects = list(subjects)
        reason = permit.reason
        if permit.break_glass:
            reason += f"; break-glass: {self.break_glass}"
        elif self.bound and self.opening is None and self.item is not None:
            why = self.item.uncovered(subjects, operators)
            if why is not None:
                self._deny(
                    permit.action, permit.category, ReasonCode.E_WORK_ITEM_MISMATCH, why, subjects
                )
        named = self.wall.pseudonymiser.subjects(subjects)
        event = self._event(permit.action, permit.category, True, reason, named)
        SqlAccessLog(self.session).append(event, named.members if named.bulk else ())
        if permit.break_glass:
            alert_store.add_alerts(self.session, alerts=[_alert(event, "break_glass")])

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
    def operators(self) -> GuardedOperators:
        return GuardedOperators(self)

    @property
    def users(self) -> GuardedUsers:
        return GuardedUsers(self)

    @property
    def work_items(self) -> GuardedWorkItems:
        return GuardedWorkItems(self)

    @property
    def alerts(self) -> GuardedAlerts:
        return GuardedAlerts(self)

    @property
    def subscribers(self) -> GuardedSubscribers:
        return GuardedSubscribers(self)


# PostgreSQL's deadlock_detected and serialization_failure: a concurrent writer won.
_RACE_STATES = frozenset({"40P01", "40001"})


def _lost_race(exc: OperationalError) -> bool:
    return getattr(exc.orig, "sqlstate", None) in _RACE_STATES


Wall.guard_type = Guard
