"""The policy: Cedar policies checked against a Cedar schema (wall/policies/), default deny.

Both files are read and validated at start; a policy that fails validation stops the
service with Cedar's error (`PolicyInvalid`). The policy's version, a digest of the two
files, goes into every ledger entry, so an auditor can tell which rules decided.

Decisions are cached per `Policy` object. That is sound because a decision is a function
of the `Question` alone: the Cedar request and entities are built from it and from
nothing else (not the person, not the row). A changed policy is a new `Policy` with an
empty cache, so no stale allow can outlive the rules that gave it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

import cedarpy

from forvalg.domain.categories import Category

POLICY_DIR = Path(__file__).with_name("policies")
POLICY_FILE = "forvalg.cedar"
SCHEMA_FILE = "forvalg.cedarschema"

# Role groups the policies name: a forbid on "retail" covers every retail role.
ROLE_GROUPS = {
    "retail_sales": "retail",
    "retail_marketing": "retail",
    "retail_customer_service": "retail",
    "crm_sync": "retail",  # the CRM's contact sync (`forvalg contacts import`)
}


class Action(StrEnum):
    READ = "read"
    WRITE = "write"


class Scope(StrEnum):
    OWN = "own"  # the principal's own rows: an operator's, a subscriber's line
    ALL = "all"  # every row the work item covers
    REPORTED = "reported"  # incidents reported to the regulator or closed (wall/incidents.py)


# Row filters from the widest to the narrowest that several permits may combine to.
WIDEST = (Scope.ALL, Scope.REPORTED, Scope.OWN)


class View(StrEnum):
    FULL = "full"
    ROUTING = "routing"  # number -> carrier code and option, nothing else
    STATUS = "status"  # whether the line has preselection, and with whom
    COUNTS = "counts"  # aggregates, never rows
    QUEUE = "queue"  # orders without their line: id, type, state, reason, operator, times


# Views from what hides most to what hides least: when several permits decide, the
# principal gets the widest view any of them grants.
REVEALS = (View.COUNTS, View.QUEUE, View.STATUS, View.ROUTING, View.FULL)


class PolicyInvalid(Exception):
    """The policy files do not parse or do not validate against the schema."""


@dataclass(frozen=True, slots=True)
class Question:
    """Everything a decision may depend on."""

    roles: frozenset[str]
    kind: str  # the principal's kind: operator, staff, subscriber, system, anonymous
    action: Action
    category: Category
    purpose: str
    work_item: str  # the kind of the work item named, "" if none
    break_glass: bool


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    scope: Scope | None  # the row filter, when allowed
    view: View
    break_glass: bool  # allowed because break-glass was invoked: skip the work-item check
    reason: str


class Policy:
    def __init__(self, policies: str, schema: str) -> None:
        try:
            self._schema = cedarpy.Schema.from_str(schema)
            self._policies = cedarpy.PolicySet.from_str(policies)
        except ValueError as exc:
            raise PolicyInvalid(f"the policy does not parse: {exc}") from exc
        result = cedarpy.validate_policies(policies, self._schema)
        if not result.validation_passed:
            errors = "; ".join(str(e) for e in result.errors)
            raise PolicyInvalid(f"the policy does not validate against the schema: {errors}")
        self._annotations = _annotations(policies)
        digest = hashlib.sha256(schema.encode() + b"\0" + policies.encode()).hexdigest()
        self.version = f"cedar:{digest[:16]}"
        self._cached = lru_cache(maxsize=4096)(self._evaluate)

    @classmethod
    def load(cls, directory: Path = POLICY_DIR) -> Policy:
        try:
            policies = (directory / POLICY_FILE).read_text(encoding="utf-8")
            schema = (directory / SCHEMA_FILE).read_text(encoding="utf-8")
        except OSError as exc:
            raise PolicyInvalid(f"cannot read the policy: {exc}") from exc
        return cls(policies, schema)

    def decide(self, question: Question) -> Decision:
        return self._cached(question)

    def evaluate(self, question: Question) -> Decision:
        """The decision without the cache (for tests and benchmarks)."""
        return self._evaluate(question)

    def _evaluate(self, q: Question) -> Decision:
        request = {
            "principal": {"type": "Forvalg::Principal", "id": "asker"},
            "action": {"type": "Forvalg::Action", "id": q.action.value},
            "resource": {"type": "Forvalg::Category", "id": q.category.value},
            "context": {
                "purpose": q.purpose,
                "work_item": q.work_item,
                "break_glass": q.break_glass,
            },
        }
        result = cedarpy.is_authorized(request, self._policies, _entities(q), self._schema)
        ids = result.diagnostics.reasons
        if result.diagnostics.errors:
            return _deny(f"policy error: {'; '.join(result.diagnostics.errors)}")
        if not result.allowed:
            if ids:
                return _deny("forbidden by " + self._names(ids))
            return _deny(
                f"no permit for {q.action} {q.category} for purpose {q.purpose or '(none)'}"
                f" with work item {q.work_item or '(none)'}"
            )
        notes = [self._annotations.get(i, {}) for i in ids]
        scopes = {n.get("scope", Scope.ALL.value) for n in notes}
        views = {n.get("view", View.FULL.value) for n in notes}
        return Decision(
            allowed=True,
            scope=next(s for s in WIDEST if s.value in scopes),
            view=max((View(v) for v in views), key=REVEALS.index),
            break_glass=q.break_glass and any("break_glass" in n for n in notes),
            reason="granted by " + self._names(ids),
        )

    def _names(self, policy_ids: list[str]) -> str:
        """The deciding policies' @id names, sorted (Cedar reports them in no set order)."""
        return ", ".join(sorted(self._annotations.get(i, {}).get("id", i) for i in policy_ids))


def _deny(reason: str) -> Decision:
    return Decision(False, None, View.FULL, False, reason)


def _annotations(policies: str) -> dict[str, dict[str, str]]:
    """Each policy's annotations (@id, @scope, @view, @break_glass), by Cedar's policy id."""
    parsed: dict[str, Any] = json.loads(cedarpy.policies_to_json_str(policies))
    return {pid: dict(p.get("annotations", {})) for pid, p in parsed["staticPolicies"].items()}


def _uid(kind: str, name: str) -> dict[str, str]:
    return {"type": f"Forvalg::{kind}", "id": name}


def _entities(q: Question) -> list[dict[str, Any]]:
    roles = sorted(q.roles)
    groups = sorted({ROLE_GROUPS[r] for r in roles if r in ROLE_GROUPS})
    return [
        {
            "uid": _uid("Principal", "asker"),
            "attrs": {"kind": q.kind},
            "parents": [_uid("Role", r) for r in roles],
        },
        *(
            {
                "uid": _uid("Role", r),
                "attrs": {},
                "parents": [_uid("Role", ROLE_GROUPS[r])] if r in ROLE_GROUPS else [],
            }
            for r in roles
        ),
        *({"uid": _uid("Role", g), "attrs": {}, "parents": []} for g in groups),
        {
            "uid": _uid("Category", q.category.value),
            "attrs": {},
            "parents": [_uid("Family", q.category.family)],
        },
        {"uid": _uid("Family", q.category.family), "attrs": {}, "parents": []},
    ]
