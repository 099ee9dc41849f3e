"""A compliance officer's search of the access log: which filters, and what a hit is.

The ledger is the record of every access decision; compliance searches it to answer
"who read this line, and why?", "what did this person do last week?", "every
break-glass use under this ticket". A search is a conjunction of exact filters over the
entries' fields (docs/LEDGER.md, "Entries"), newest entry first, a page at a time. The
subject filter takes a line number, which the wall turns into the line's pseudonym (the
ledger never holds a number); it finds bulk decisions whose subject set holds the line
too, as the subscriber's own view does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from forvalg.domain.numbers import is_national_number

DECISIONS = ("allow", "deny")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_TEXT = 200  # a principal, role, purpose, category or work item is an identifier
BREAK_GLASS = "; break-glass: "  # how the guard marks a break-glass allow's reason


class InvalidSearch(ValueError):
    """A search that cannot be run; `field` names the filter at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True, slots=True)
class AccessLogQuery:
    """Every filter given must hold; None means "any". `since` is inclusive, `until`
    exclusive; `before` is the index to continue below (the previous page's last)."""

    principal: str | None = None
    role: str | None = None
    purpose: str | None = None
    category: str | None = None
    decision: str | None = None
    break_glass: bool | None = None
    work_item: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    line: str | None = None
    before: int | None = None
    limit: int = DEFAULT_LIMIT

    def __post_init__(self) -> None:
        for name in ("principal", "role", "purpose", "category", "work_item"):
            value = getattr(self, name)
            if value is not None and not 0 < len(value) <= MAX_TEXT:
                raise InvalidSearch(name, f"must be 1-{MAX_TEXT} characters")
        if self.decision is not None and self.decision not in DECISIONS:
            raise InvalidSearch("decision", f"must be one of {', '.join(DECISIONS)}")
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.utcoffset() is None:
                raise InvalidSearch(name, "must carry a time zone")
        if self.since and self.until and self.since >= self.until:
            raise InvalidSearch("until", "must be after since")
        if self.line is not None and not is_national_number(self.line):
            raise InvalidSearch("line", "must be an 8-digit national number")
        if self.before is not None and self.before < 0:
            raise InvalidSearch("before", "must be an entry index")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidSearch("limit", f"must be 1-{MAX_LIMIT}")

    @property
    def filters(self) -> dict[str, Any]:
        """The filters given, by name (for a page's summary and the search's own entry)."""
        names = (
            "principal",
            "role",
            "purpose",
            "category",
            "decision",
            "break_glass",
            "work_item",
            "since",
            "until",
        )
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}


@dataclass(frozen=True, slots=True)
class LoggedAccess:
    """One entry found: its index in the tree and its event, as the ledger holds it."""

    index: int
    event: dict[str, Any]

    @property
    def at(self) -> datetime:
        return datetime.fromisoformat(self.event["at"])

    @property
    def break_glass(self) -> bool:
        reason = self.event.get("reason") or ""
        return self.event["decision"] == "allow" and BREAK_GLASS in reason

    def matches(self, query: AccessLogQuery) -> bool:
        """Whether the event satisfies the query's field filters (the line filter is the
        subject index's business). The store filters in SQL; this is the same rule, one
        entry at a time, which the store's result is checked against."""
        e = self.event
        exact = (
            (query.principal, e["principal"]),
            (query.purpose, e["purpose"]),
            (query.category, e["resource"]),
            (query.decision, e["decision"]),
            (query.work_item, e.get("work_item")),
        )
        if any(want is not None and want != have for want, have in exact):
            return False
        if query.role is not None and query.role not in e["roles"]:
            return False
        if query.break_glass is not None and query.break_glass != self.break_glass:
            return False
        if query.since is not None and self.at < query.since:
            return False
        return query.until is None or self.at < query.until
