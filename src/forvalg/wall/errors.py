"""Errors the wall raises in the services' words (the store's exceptions stay below)."""

from __future__ import annotations

from forvalg.domain.reasons import ReasonCode
from forvalg.ledger.port import AccessEvent


class Conflict(Exception):
    """A write broke a uniqueness rule the database enforces, or lost a deadlock: a
    concurrent writer won. The transaction was rolled back; the caller may retry."""


class AccessDenied(Exception):
    """The wall said no. The denial is in the ledger and, unless it was a failed sign-in,
    in compliance's alerts."""

    def __init__(self, event: AccessEvent, code: ReasonCode = ReasonCode.E_FORBIDDEN) -> None:
        super().__init__(
            f"{event.principal} may not {event.action} {event.resource}: {event.reason}"
        )
        self.event = event
        self.code = code
