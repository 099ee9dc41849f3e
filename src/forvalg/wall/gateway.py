"""The gateway: decision -> ledger entry -> data, inside one unit of work.

`Wall.access(principal, purpose, work_item)` opens a transaction and yields a `Guard`
(wall/guard.py), which decides, ledgers and only then reads or writes. The transaction
commits when the use case ends without error, so the entry is durable before the caller
can pass data on. Every denial is written in a transaction of its own, so it survives
the rollback, and raises a compliance alert.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from forvalg.domain.clock import Clock
from forvalg.domain.work_items import WorkItemKind
from forvalg.ledger.port import AccessEvent
from forvalg.store import alerts as alert_store
from forvalg.store.ledger import SqlAccessLog
from forvalg.wall.errors import Conflict
from forvalg.wall.guard import BOUND, Guard, alert_of
from forvalg.wall.policy import Policy
from forvalg.wall.principals import (
    ANONYMOUS,
    Principal,
    PrincipalKind,
    Purpose,
    Statement,
    subscriber_statement,
)
from forvalg.wall.pseudonyms import NO_SUBJECTS, Pseudonymiser, SubjectSet

AUTHENTICATE = "authenticate"


class Wall:
    # The unit of work's guard; a benchmark's build with the gateway bypassed swaps it.
    guard_type: type[Guard] = Guard

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

    def failed_sign_in(
        self,
        purpose: Purpose,
        claimed: str | None,
        resource: str,
        reason: str,
        subjects: Iterable[str] = (),
    ) -> None:
        """Ledger a refused sign-in by someone unknown (an operator key, a staff token, a
        subscriber's one-time code): `claimed` names what they claimed, never a secret."""
        event = self.event(
            ANONYMOUS,
            purpose,
            claimed,
            AUTHENTICATE,
            resource,
            allowed=False,
            reason=f"E_AUTH: {reason}",
            subjects=self.pseudonymiser.subjects(subjects),
        )
        self.record_now([event])

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
                    alert_of(e, "denial")
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
        detail: dict[str, Any] | None = None,
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
            detail=detail,
            subjects_key=subjects.key_id,
        )


# PostgreSQL's deadlock_detected and serialization_failure: a concurrent writer won.
_RACE_STATES = frozenset({"40P01", "40001"})


def _lost_race(exc: OperationalError) -> bool:
    return getattr(exc.orig, "sqlstate", None) in _RACE_STATES
