"""Subscriber transparency: a subscriber proves control of the line with a one-time code
sent to it, then sees the line's preselection status and every ledger entry that touched
it, bulk decisions included, each with an inclusion proof against a signed checkpoint."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from forvalg.domain.lines import LineView
from forvalg.domain.subscribers import Channel
from forvalg.ledger.merkle import leaf_hash
from forvalg.ledger.wire import InclusionProof
from forvalg.wall import Principal, Purpose, Wall
from forvalg.wall.errors import Conflict
from forvalg.wall.guard import Guard
from forvalg.wall.ledger import LedgerKeeper
from forvalg.wall.principals import SUBSCRIBER_DESK, Statement, subscriber_statement
from forvalg.wall.subscribers import SubscriberSession


@dataclass(frozen=True, slots=True)
class Touch:
    """One ledger entry that touched the line, with its audit path."""

    entry: dict[str, Any]
    proof: InclusionProof


@dataclass(frozen=True, slots=True)
class Accesses:
    checkpoint: str  # the signed note the proofs are against
    size: int
    touches: list[Touch]


class SubscriberDesk:
    def __init__(self, *, wall: Wall, keeper: LedgerKeeper) -> None:
        self._wall = wall
        self._keeper = keeper

    @staticmethod
    def _line(guard: Guard, principal: Principal) -> str:
        request = subscriber_statement(principal).work_item or ""
        [number] = guard.work_items.get(request).lines
        return number

    def request_code(self, number: str, channel: Channel) -> None:
        """Send a one-time code to the line (if it is one); the caller learns nothing."""
        with self._wall.access(SUBSCRIBER_DESK, Purpose.SUBSCRIBER_REQUEST, "one-time-code") as g:
            g.subscribers.send_code(number, channel)

    def open_session(self, number: str, code: str) -> SubscriberSession | None:
        """A session for the line if the code is right; a wrong code is a ledgered
        denial (a guessed line shows up in the access detector)."""
        try:
            with self._wall.access(SUBSCRIBER_DESK, Purpose.SUBSCRIBER_REQUEST, "session") as g:
                opened = g.subscribers.open_session(number, code)
        except Conflict:  # a concurrent request spent the same code first
            opened = None
        if opened is None:
            self._wall.failed_sign_in(
                Purpose.SUBSCRIBER_REQUEST,
                None,
                "subscriber",
                "wrong, expired or spent one-time code",
                [number],
            )
        return opened

    def line(self, principal: Principal, stated: Statement) -> LineView:
        """The line of the subscriber's request, in the policy's `status` view. (Anyone
        else is judged on what they stated, and refused.)"""
        with self._wall.access_for(principal, stated, Purpose.SUBSCRIBER_REQUEST) as guard:
            number = self._line(guard, principal)
            return guard.lines.view(number)

    def accesses(self, principal: Principal, stated: Statement) -> Accesses:
        """Every entry that touched the line up to a checkpoint signed now (once the wall
        has let the caller in: nobody else makes the log sign)."""
        with self._wall.access_for(principal, stated, Purpose.SUBSCRIBER_REQUEST) as guard:
            number = self._line(guard, principal)
        self._keeper.integrate()
        signed = self._keeper.checkpoint()
        size = signed.checkpoint.size
        with self._wall.access_for(principal, stated, Purpose.SUBSCRIBER_REQUEST) as guard:
            found = guard.ledger.touching(number, size=size)
        touches = [
            Touch(json.loads(entry), InclusionProof(i, size, leaf_hash(entry.encode()), path))
            for i, entry, path in found
        ]
        return Accesses(signed.note, size, touches)
