"""The gateway: decision -> log entry -> data, inside one unit of work.

`Wall.access(principal, purpose, work_item)` opens a transaction and yields a `Guard`.
Every guarded call asks the policy, appends the decision to the access log in the same
transaction, and only then reads or writes. The transaction commits when the use case
ends without error, so the log entry is durable before the caller can pass data on.
A denial is written in a transaction of its own, so it survives the rollback.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from forvalg.domain.clock import Clock
from forvalg.ledger.port import AccessEvent
from forvalg.store.ledger import SqlAccessLog
from forvalg.wall.errors import Conflict
from forvalg.wall.guarded import (
    GuardedLedger,
    GuardedLines,
    GuardedOperators,
    GuardedOrders,
    GuardedOutbox,
    GuardedUsers,
)
from forvalg.wall.policy import POLICY_VERSION, Action, Resource, Scope, decide
from forvalg.wall.principals import Principal, Purpose
from forvalg.wall.pseudonyms import Pseudonymiser


class AccessDenied(Exception):
    """The policy said no. The denial is in the access log."""

    def __init__(self, event: AccessEvent) -> None:
        super().__init__(
            f"{event.principal} may not {event.action} {event.resource}: {event.reason}"
        )
        self.event = event


class Wall:
    def __init__(
        self, *, sessions: sessionmaker[Session], pseudonymiser: Pseudonymiser, clock: Clock
    ) -> None:
        self._sessions = sessions
        self.pseudonymiser = pseudonymiser
        self.clock = clock

    @contextmanager
    def access(
        self, principal: Principal, purpose: Purpose, work_item: str | None = None
    ) -> Iterator[Guard]:
        session = self._sessions()
        guard = Guard(self, session, principal, purpose, work_item)
        try:
            yield guard
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

    def record_now(self, events: Iterable[AccessEvent]) -> None:
        """Append events in a transaction of their own (denials, failed sign-ins)."""
        with self._sessions() as session, session.begin():
            log = SqlAccessLog(session)
            for event in events:
                log.append(event)

    def event(
        self,
        principal: Principal,
        purpose: Purpose | str,
        work_item: str | None,
        action: str,
        resource: str,
        *,
        allowed: bool,
        reason: str,
        subjects: Iterable[str] = (),
    ) -> AccessEvent:
        count, digest, named = self.pseudonymiser.digest(subjects)
        return AccessEvent(
            at=self.clock.now(),
            principal=principal.id,
            organisation=principal.organisation,
            roles=tuple(sorted(principal.roles)),
            purpose=str(purpose),
            work_item=work_item,
            action=action,
            resource=resource,
            decision="allow" if allowed else "deny",
            reason=reason,
            policy_version=POLICY_VERSION,
            subject_count=count,
            subjects_digest=digest,
            subjects=named,
        )


@dataclass(frozen=True, slots=True)
class Permit:
    """An allow decision not yet logged: `Guard.record` logs it with its subjects."""

    action: Action
    resource: Resource
    scope: Scope
    reason: str


@dataclass
class Guard:
    """One principal's unit of work. Guarded stores hang off it: `guard.orders`, ..."""

    wall: Wall
    session: Session
    principal: Principal
    purpose: Purpose
    work_item: str | None
    denials: list[AccessEvent] = field(default_factory=list)

    def authorize(self, action: Action, resource: Resource, subjects: Iterable[str] = ()) -> Scope:
        """Decide, log the decision, and return the scope; raise `AccessDenied` on deny.
        For writes, whose subjects are known before the data is touched."""
        decision = self.permit(action, resource)
        self.record(decision, subjects)
        return decision.scope

    def permit(self, action: Action, resource: Resource) -> Permit:
        """Decide; a denial is recorded and raised. An allow must be `record`ed, with the
        subjects actually read, before the unit of work ends."""
        decision = decide(self.principal, action, resource, self.purpose)
        if decision.scope is None:
            event = self._event(action, resource, False, decision.reason, ())
            self.denials.append(event)
            raise AccessDenied(event)
        return Permit(action, resource, decision.scope, decision.reason)

    def record(self, permit: Permit, subjects: Iterable[str]) -> None:
        """Log an allowed access with its subjects, in this unit of work's transaction."""
        event = self._event(permit.action, permit.resource, True, permit.reason, subjects)
        SqlAccessLog(self.session).append(event)

    def _event(
        self,
        action: Action,
        resource: Resource,
        allowed: bool,
        reason: str,
        subjects: Iterable[str],
    ) -> AccessEvent:
        return self.wall.event(
            self.principal,
            self.purpose,
            self.work_item,
            action.value,
            resource.value,
            allowed=allowed,
            reason=reason,
            subjects=subjects,
        )

    def delegate(self, principal: Principal, purpose: Purpose) -> Guard:
        """A system job acting in the same transaction, named in the log as itself and
        with this guard's principal as the work item that caused it."""
        return Guard(
            self.wall,
            self.session,
            principal,
            purpose,
            f"on-behalf-of:{self.principal.id}",
            self.denials,  # one list, so the unit of work records the delegate's denials too
        )

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


# PostgreSQL's deadlock_detected and serialization_failure: a concurrent writer won.
_RACE_STATES = frozenset({"40P01", "40001"})


def _lost_race(exc: OperationalError) -> bool:
    return getattr(exc.orig, "sqlstate", None) in _RACE_STATES
