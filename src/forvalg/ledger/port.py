"""The port between the wall and the ledger.

The wall hands every decision, allow or deny, to an `AccessLog` before any data leaves.
The line is drawn here so that the wall does not care how the ledger stores and seals
its entries (the store queues them for the Merkle tree), and so that tests can use
`MemoryAccessLog` without patching.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class AccessEvent:
    """One access decision. Subjects appear only as keyed pseudonyms: each one when there
    are few (`subjects`), and always their count and digest."""

    at: datetime
    principal: str
    organisation: str
    roles: tuple[str, ...]
    purpose: str
    work_item: str | None
    action: str
    resource: str
    decision: str  # "allow" or "deny"
    reason: str | None
    policy_version: str
    subject_count: int
    subjects_digest: str | None
    subjects: tuple[str, ...] = ()
    # What the access wrote, where the record needs it: the routing versions a batch
    # made (docs/ROUTING.md). Absent from the entry when None.
    detail: dict[str, Any] | None = None
    # The id of the pseudonym key the subjects are named under (docs/LEDGER.md), in
    # entries naming subjects. Absent from the entry when None.
    subjects_key: str | None = None

    def as_entry(self) -> dict[str, Any]:
        entry = {f.name: getattr(self, f.name) for f in fields(self)}
        entry["at"] = self.at.isoformat()
        entry["roles"] = list(self.roles)
        entry["subjects"] = list(self.subjects)
        for optional in ("detail", "subjects_key"):
            if entry[optional] is None:
                del entry[optional]
        return entry


class AccessLog(Protocol):
    def append(self, event: AccessEvent) -> None:
        """Record the event; it must be durable when the surrounding transaction commits."""


class MemoryAccessLog:
    """An in-memory `AccessLog` for tests."""

    def __init__(self) -> None:
        self.events: list[AccessEvent] = []

    def append(self, event: AccessEvent) -> None:
        self.events.append(event)
