"""The subscriber desk behind the wall: one-time codes to a line, and the sessions a
right code buys. Codes are random and stored as keyed hashes (the pseudonym key); the
letter or SMS carrying one waits in `subscriber_messages`, in the compliance zone only.
A session token is random and stored as a SHA-256 hash."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from forvalg.domain.categories import Category
from forvalg.domain.subscribers import (
    CODE_DIGITS,
    CODES_PER_DAY,
    DAY,
    MAX_ATTEMPTS,
    MAX_LIVE_CODES,
    SESSION,
    Channel,
    code_message,
)
from forvalg.domain.work_items import WorkItemKind, new_work_item
from forvalg.store import lines as line_store
from forvalg.store import subscribers as subscriber_store
from forvalg.store import work_items as work_store
from forvalg.wall.credentials import SUBSCRIBER_PREFIX, hash_token
from forvalg.wall.errors import Conflict
from forvalg.wall.policy import Action
from forvalg.wall.work import new_work_item_id

if TYPE_CHECKING:
    from forvalg.wall.guard import Guard


@dataclass(frozen=True, slots=True)
class SubscriberSession:
    request_id: str  # the subscriber request (work item) it serves
    token: str  # shown once
    expires_at: datetime


class GuardedSubscribers:
    def __init__(self, guard: Guard) -> None:
        self._g = guard

    def _hash(self, code_id: str, code: str) -> str:
        return self._g.wall.pseudonymiser.pseudonym(f"one-time-code:{code_id}:{code}")

    def send_code(self, number: str, channel: Channel) -> bool:
        """Send a code to the line if it is an active line of the inventory with fewer
        than `MAX_LIVE_CODES` outstanding. Whether one was sent is for the ledger, not
        for the caller, who must not learn whether the number is a line."""
        g, subjects = self._g, [number]
        g.authorize(Action.READ, Category.LINE, subjects)
        line = line_store.get_lines(g.session, numbers=subjects).get(number)
        now = g.wall.clock.now()
        if line is None or not line.is_active:
            return False
        g.authorize(Action.WRITE, Category.CREDENTIAL, subjects)
        live = subscriber_store.live_codes(
            g.session, number=number, at=now, max_attempts=MAX_ATTEMPTS, lock=True
        )
        recent = subscriber_store.codes_sent_since(g.session, number=number, since=now - DAY)
        if len(live) >= MAX_LIVE_CODES or recent >= CODES_PER_DAY:
            return False
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        code_id = "c" + secrets.token_hex(8)
        valid_until = now + channel.valid_for
        subscriber_store.add_code(
            g.session,
            code_id=code_id,
            number=number,
            code_hash=self._hash(code_id, code),
            at=now,
            expires_at=valid_until,
        )
        message = code_message(number, code, channel, valid_until=valid_until, at=now)
        subscriber_store.add_message(g.session, code_id=code_id, message=message)
        return True

    def open_session(self, number: str, code: str) -> SubscriberSession | None:
        """A session for the line if `code` is one of its live codes; a wrong code counts
        against them all (`MAX_ATTEMPTS` each)."""
        g, subjects = self._g, [number]
        g.authorize(Action.WRITE, Category.CREDENTIAL, subjects)
        now = g.wall.clock.now()
        live = subscriber_store.live_codes(
            g.session, number=number, at=now, max_attempts=MAX_ATTEMPTS, lock=True
        )
        # A code sent before a pseudonym key rotation was hashed under a retired key.
        right = [
            c
            for c in live
            if any(
                hmac.compare_digest(c.code_hash, h)
                for h in self._g.wall.pseudonymiser.pseudonyms(f"one-time-code:{c.id}:{code}")
            )
        ]
        if not right:
            subscriber_store.count_attempt(g.session, code_ids=[c.id for c in live])
            return None
        token = f"{SUBSCRIBER_PREFIX}_{right[0].id}_{secrets.token_urlsafe(32)}"
        g.authorize(Action.WRITE, Category.WORK_ITEM, subjects)
        request = new_work_item(
            new_work_item_id(WorkItemKind.SUBSCRIBER_REQUEST),
            WorkItemKind.SUBSCRIBER_REQUEST,
            summary="the subscriber asks for the line's status and who accessed it",
            opened_by=g.principal.id,
            opened_at=now,
            lines=subjects,
        )
        work_store.add_work_item(g.session, item=request)
        started = subscriber_store.start_session(
            g.session,
            code_id=right[0].id,
            at=now,
            session_hash=hash_token(token),
            expires_at=now + SESSION,
            work_item_id=request.id,
        )
        if not started:  # spent by a concurrent request a moment ago
            raise Conflict(f"one-time code {right[0].id} was used already")
        return SubscriberSession(request.id, token, now + SESSION)
