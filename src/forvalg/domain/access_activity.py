"""Access statistics over the ledger's decisions: who read what, for which purpose, what
was refused and when break-glass was used (the compliance report, docs/REPORT.md).

Counts only, and a short line per break-glass use that names who and when but leaves out
the written justification (it may name a customer; the ledger keeps it for an auditor).
Pure: it takes the decisions as the ledger's entries spell them (`AccessEvent.as_entry`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

BREAK_GLASS = "; break-glass: "  # how the guard marks a break-glass allow's reason


def principal_kind(principal: str) -> str:
    """staff, system, operator, subscriber or anonymous, from the principal's id."""
    prefix = principal.split(":", 1)[0]
    return {"user": "staff", "system": "system", "operator": "operator"}.get(
        prefix, "subscriber" if prefix == "subscriber" else "anonymous"
    )


def reason_code(reason: str | None) -> str:
    """A denial's code (`E_FORBIDDEN: no permit ...` -> `E_FORBIDDEN`)."""
    if not reason:
        return "UNKNOWN"
    return reason.split(":", 1)[0].strip() or "UNKNOWN"


@dataclass(frozen=True, slots=True)
class BreakGlassUse:
    at: datetime
    principal: str
    roles: tuple[str, ...]
    purpose: str
    category: str


@dataclass
class AccessActivity:
    """What the ledger records for a period: decisions counted every way the report shows."""

    decisions: Counter[str] = field(default_factory=Counter)  # allow / deny
    by_role: dict[str, Counter[str]] = field(default_factory=dict)  # role -> allow/deny
    by_purpose: dict[str, Counter[str]] = field(default_factory=dict)
    by_category: dict[str, Counter[str]] = field(default_factory=dict)
    by_kind: dict[str, Counter[str]] = field(default_factory=dict)  # staff/system/...
    denials: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # code, role, cat
    break_glass: list[BreakGlassUse] = field(default_factory=list)

    def add(self, event: Mapping[str, Any]) -> None:
        decision = str(event["decision"])
        roles = tuple(event.get("roles") or ()) or ("(none)",)
        category = str(event["resource"])
        self.decisions[decision] += 1
        for role in roles:
            self.by_role.setdefault(role, Counter())[decision] += 1
        purpose = str(event.get("purpose") or "(none)")
        self.by_purpose.setdefault(purpose, Counter())[decision] += 1
        self.by_category.setdefault(category, Counter())[decision] += 1
        kind = principal_kind(str(event["principal"]))
        self.by_kind.setdefault(kind, Counter())[decision] += 1
        reason = event.get("reason")
        if decision == "deny":
            self.denials[(reason_code(reason), "+".join(roles), category)] += 1
        elif reason and BREAK_GLASS in reason:
            self.break_glass.append(
                BreakGlassUse(
                    at=datetime.fromisoformat(str(event["at"])),
                    principal=str(event["principal"]),
                    roles=roles,
                    purpose=purpose,
                    category=category,
                )
            )


def activity(
    events: Iterable[Mapping[str, Any]], *, start: datetime, end: datetime
) -> AccessActivity:
    """The decisions made in [start, end)."""
    found = AccessActivity()
    for event in events:
        at = datetime.fromisoformat(str(event["at"]))
        if start <= at < end:
            found.add(event)
    return found
