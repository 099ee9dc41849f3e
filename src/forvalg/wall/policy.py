"""Who may do what, for which purpose. Default deny; the version goes into every log entry.

This is the order desk's first policy, written as data so an auditor can read it; the
wall issue moves it to Cedar policies with a schema, keeping the same decisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from forvalg.wall.principals import Principal, Purpose

POLICY_VERSION = "2026-11-29.ledger.1"


class Action(StrEnum):
    READ = "read"
    WRITE = "write"


class Resource(StrEnum):
    ORDER = "cps.order"
    ROUTING = "cps.routing"
    EVENT = "cps.event"
    LETTER = "cps.letter"
    LINE = "line.inventory"
    ELIGIBILITY = "line.eligibility"
    OPERATOR = "operator"
    ACCESS_LOG = "ledger.access"
    STAFF_USER = "staff.user"


class Scope(StrEnum):
    OWN = "own"  # rows of the principal's own organisation only
    ALL = "all"


@dataclass(frozen=True, slots=True)
class Grant:
    purposes: frozenset[Purpose]
    scope: Scope


def _grant(scope: Scope, *purposes: Purpose) -> Grant:
    return Grant(frozenset(purposes), scope)


_A, _R, _P = Action, Resource, Purpose
RULES: dict[str, dict[tuple[Action, Resource], Grant]] = {
    "cps_operator": {
        (_A.READ, _R.ORDER): _grant(Scope.OWN, _P.ORDER_MANAGEMENT),
        (_A.WRITE, _R.ORDER): _grant(Scope.OWN, _P.ORDER_MANAGEMENT),
        (_A.READ, _R.EVENT): _grant(Scope.OWN, _P.ORDER_MANAGEMENT),
        (_A.READ, _R.ELIGIBILITY): _grant(Scope.ALL, _P.ORDER_MANAGEMENT),
    },
    "order_processor": {
        (_A.READ, _R.ORDER): _grant(Scope.ALL, _P.PROVISIONING),
        (_A.WRITE, _R.ORDER): _grant(Scope.ALL, _P.PROVISIONING),
        (_A.READ, _R.LINE): _grant(Scope.ALL, _P.PROVISIONING),
        (_A.READ, _R.ROUTING): _grant(Scope.ALL, _P.PROVISIONING),
        (_A.WRITE, _R.ROUTING): _grant(Scope.ALL, _P.PROVISIONING),
        (_A.WRITE, _R.EVENT): _grant(Scope.ALL, _P.PROVISIONING),
        (_A.WRITE, _R.LETTER): _grant(Scope.ALL, _P.PROVISIONING),
        (_A.READ, _R.OPERATOR): _grant(Scope.ALL, _P.PROVISIONING),
    },
    # The summary job of `forvalg demo` and reports: counts only, never rows.
    "compliance_reporter": {
        (_A.READ, _R.ORDER): _grant(Scope.ALL, _P.COMPLIANCE_AUDIT),
        (_A.READ, _R.ROUTING): _grant(Scope.ALL, _P.COMPLIANCE_AUDIT),
        (_A.READ, _R.EVENT): _grant(Scope.ALL, _P.COMPLIANCE_AUDIT),
        (_A.READ, _R.LETTER): _grant(Scope.ALL, _P.COMPLIANCE_AUDIT),
        (_A.READ, _R.ACCESS_LOG): _grant(Scope.ALL, _P.COMPLIANCE_AUDIT),
    },
    # The ledger: entries name subscribers only by pseudonym.
    "compliance_officer": {
        (_A.READ, _R.ACCESS_LOG): _grant(Scope.ALL, _P.COMPLIANCE_AUDIT),
    },
    "regulator": {
        (_A.READ, _R.ACCESS_LOG): _grant(Scope.ALL, _P.REGULATORY_INSPECTION),
    },
    "ledger_clerk": {
        (_A.READ, _R.ACCESS_LOG): _grant(Scope.ALL, _P.COMPLIANCE_AUDIT),
    },
    "user_admin": {
        (_A.WRITE, _R.STAFF_USER): _grant(Scope.ALL, _P.ADMINISTRATION),
    },
    "wholesale_admin": {
        (_A.READ, _R.OPERATOR): _grant(Scope.ALL, _P.ADMINISTRATION),
        (_A.WRITE, _R.OPERATOR): _grant(Scope.ALL, _P.ADMINISTRATION),
        (_A.WRITE, _R.LINE): _grant(Scope.ALL, _P.ADMINISTRATION),
        (_A.READ, _R.ORDER): _grant(Scope.ALL, _P.ADMINISTRATION),
        (_A.READ, _R.ROUTING): _grant(Scope.ALL, _P.ADMINISTRATION),
        (_A.READ, _R.EVENT): _grant(Scope.ALL, _P.ADMINISTRATION),
    },
}


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    scope: Scope | None
    reason: str


def decide(principal: Principal, action: Action, resource: Resource, purpose: Purpose) -> Decision:
    """The widest scope any of the principal's roles grants for this purpose, or deny."""
    scopes = set()
    for role in sorted(principal.roles):
        grant = RULES.get(role, {}).get((action, resource))
        if grant is not None and purpose in grant.purposes:
            scopes.add(grant.scope)
    if Scope.ALL in scopes:
        return Decision(True, Scope.ALL, "granted")
    if Scope.OWN in scopes:
        return Decision(True, Scope.OWN, "granted: own rows only")
    return Decision(False, None, f"no grant for {action} {resource} for {purpose}")
