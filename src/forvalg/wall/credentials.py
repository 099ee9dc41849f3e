"""Bearer tokens: operator API keys (`fvg_<key id>_<secret>`), staff tokens
(`fvu_<user id>_<secret>`) and subscriber sessions (`fvs_<code id>_<secret>`). Random,
shown once, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from forvalg.store import operators as operator_store
from forvalg.store import subscribers as subscriber_store
from forvalg.store import users as user_store
from forvalg.wall.principals import (
    Principal,
    Purpose,
    StaffRole,
    operator_principal,
    staff_principal,
    subscriber_principal,
)

if TYPE_CHECKING:
    from forvalg.wall.gateway import Wall

KEY_PREFIX = "fvg"
USER_PREFIX = "fvu"
SUBSCRIBER_PREFIX = "fvs"


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key_id: str
    token: str  # shown once; never stored or logged

    @property
    def key_hash(self) -> str:
        return hash_token(self.token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_key() -> IssuedKey:
    key_id = "k" + secrets.token_hex(6)
    return IssuedKey(key_id, f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}")


def new_user_token() -> IssuedKey:
    user_id = "u" + secrets.token_hex(6)
    return IssuedKey(user_id, f"{USER_PREFIX}_{user_id}_{secrets.token_urlsafe(32)}")


class Authenticator:
    """Turns a bearer token into a principal; every failure is a denial in the log."""

    def __init__(self, *, wall: Wall, sessions: sessionmaker[Session]) -> None:
        self._wall = wall
        self._sessions = sessions

    def principal(self, token: str | None) -> Principal | None:
        """The operator or staff user holding `token`, or None (and a logged denial)."""
        found = None
        if token:
            with self._sessions() as session:
                if token.startswith(USER_PREFIX + "_"):
                    user = user_store.user_for_token(session, token_hash=hash_token(token))
                    found = user and staff_principal(user[0], StaffRole(user[1]))
                elif token.startswith(SUBSCRIBER_PREFIX + "_"):
                    request = subscriber_store.request_for_session(
                        session, session_hash=hash_token(token), at=self._wall.clock.now()
                    )
                    found = subscriber_principal(request) if request else None
                else:
                    key = operator_store.operator_for_key(session, key_hash=hash_token(token))
                    found = key and operator_principal(key[0])
        if found:
            return found
        claimed = _key_id(token)
        self._wall.failed_sign_in(
            Purpose.ORDER_MANAGEMENT,
            None if claimed is None else f"api-key:{claimed}",
            "api",
            "no credential" if not token else "unknown or revoked key",
        )
        return None


def credential_id(token: str | None) -> str | None:
    """The id a token names (an API key's, a staff user's, a subscriber code's), never
    the secret part: once the token has signed in, the id is the credential's own (the
    stored hash covers the whole token). "malformed" for a token of no known shape."""
    return _key_id(token)


def _key_id(token: str | None) -> str | None:
    """The key id a token claims (never the secret part), for the log."""
    if not token:
        return None
    parts = token.split("_", 2)
    known = (KEY_PREFIX, USER_PREFIX, SUBSCRIBER_PREFIX)
    if len(parts) == 3 and parts[0] in known and parts[1].isalnum() and len(parts[1]) <= 16:
        return parts[1]
    return "malformed"
