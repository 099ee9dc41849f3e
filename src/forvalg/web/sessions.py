"""Web sessions: the credential sealed in a cookie, re-checked on every request.

The cookie holds the credential the user signed in with (operator API key, staff token,
subscriber session token), a random session id and an expiry, sealed with AES-GCM under a
key only the server holds. The browser cannot read it (HttpOnly) nor send it from another
site (SameSite=Strict); anyone who steals it learns nothing of the credential, and it
dies at its expiry. Each request opens the cookie and asks the `Authenticator` again, so a
revoked key or user, or an expired subscriber session, signs the page out at once, exactly
as it fails the API, and every worker of `forvalg serve` (sharing the key file) agrees
without a session table. Signing out deletes the cookie.

CSRF tokens are an HMAC of the session id (or, before sign-in, of a random id in a
pre-session cookie), so a form posted from another page or session is refused.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from forvalg.bootstrap import replace_secret

KEY_FILE = "web.key"
SESSION_COOKIE = "forvalg_session"
PRE_COOKIE = "forvalg_pre"
SESSION_SECONDS = 8 * 3600


@dataclass(frozen=True, slots=True)
class Sealed:
    """What a session cookie carries once opened."""

    credential: str
    session_id: str
    expires: int  # Unix seconds


def load_key(key_dir: Path) -> bytes:
    """The web key in `key_dir`, created (0600) on first use. Written to a temporary file
    and linked into place, so workers starting together all read the one that won."""
    path = key_dir / KEY_FILE
    if not path.exists():
        key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temporary = tempfile.mkstemp(dir=key_dir, prefix=".web-key-")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32) + "\n")
            os.chmod(temporary, 0o600)
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    return bytes.fromhex(path.read_text().strip())


def rotate_key(key_dir: Path) -> Path:
    """Replace the web key with a new one (0600, renamed into place): every session
    cookie and CSRF token sealed under the old key stops opening, so every web session
    is signed out. Running `serve` processes read the key at start: restart them."""
    path = key_dir / KEY_FILE
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    replace_secret(path, secrets.token_hex(32))
    return path


def _derive(secret: bytes, label: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=None, info=b"forvalg web " + label).derive(secret)


class SessionSeal:
    def __init__(self, secret: bytes) -> None:
        self._aead = AESGCM(_derive(secret, b"session"))
        self._csrf = _derive(secret, b"csrf")

    def seal(self, credential: str, now: float) -> tuple[str, Sealed]:
        opened = Sealed(credential, secrets.token_urlsafe(16), int(now) + SESSION_SECONDS)
        plain = json.dumps(
            {"c": opened.credential, "s": opened.session_id, "e": opened.expires}
        ).encode()
        nonce = os.urandom(12)
        sealed = nonce + self._aead.encrypt(nonce, plain, SESSION_COOKIE.encode())
        return base64.urlsafe_b64encode(sealed).decode().rstrip("="), opened

    def open(self, cookie: str | None, now: float) -> Sealed | None:
        """The session, or None if the cookie is missing, forged, altered or expired."""
        if not cookie or len(cookie) > 2000:
            return None
        try:
            raw = base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4))
            plain = self._aead.decrypt(raw[:12], raw[12:], SESSION_COOKIE.encode())
            found = json.loads(plain)
            opened = Sealed(str(found["c"]), str(found["s"]), int(found["e"]))
        except (binascii.Error, ValueError, InvalidTag, KeyError, TypeError):
            return None
        return opened if opened.expires > now else None

    def csrf_token(self, session_id: str) -> str:
        mac = hmac.new(self._csrf, session_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def csrf_ok(self, session_id: str | None, token: str | None) -> bool:
        if not session_id or not token:
            return False
        return hmac.compare_digest(self.csrf_token(session_id), token)


def new_pre_session() -> str:
    return secrets.token_urlsafe(16)
