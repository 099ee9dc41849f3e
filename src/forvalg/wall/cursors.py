"""Pagination cursors that reveal nothing.

A cursor names a position in a table shared by all operators; in the clear it would
tell an operator how many orders or notices its competitors had in between. Cursors are
therefore sealed with AES-SIV, bound to the operator and the kind of list, so they can
be neither read nor forged nor used by another operator.

The sealing key is derived from the pseudonym key. After a rotation of that key new
cursors are sealed under the new one, and a cursor sealed under a retired key still
opens (an operator's feed consumer keeps its place); one sealed under a key no longer
kept is refused like any cursor this API did not give (docs/SECURITY.md).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_MAX_POSITION = 2**63 - 1


def _siv(secret: bytes) -> AESSIV:
    key = HKDF(hashes.SHA256(), 64, salt=None, info=b"forvalg pagination cursors").derive(secret)
    return AESSIV(key)


class Cursors:
    def __init__(self, secret: bytes, retired: Sequence[bytes] = ()) -> None:
        self._siv = _siv(secret)
        # Every key a cursor may have been sealed under, current first.
        self._opening = (self._siv, *(_siv(r) for r in retired if r != secret))

    def seal(self, kind: str, owner: str, position: int) -> str:
        sealed = self._siv.encrypt(str(position).encode(), [kind.encode(), owner.encode()])
        return base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def open(self, kind: str, owner: str, cursor: str) -> int | None:
        """The position, or None if this is not a cursor sealed for this owner and kind."""
        try:
            sealed = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            return None
        for siv in self._opening:
            try:
                text = siv.decrypt(sealed, [kind.encode(), owner.encode()]).decode()
            except (ValueError, InvalidTag, UnicodeDecodeError):
                continue
            if not text.isdigit() or not 0 <= int(text) <= _MAX_POSITION:
                return None
            return int(text)
        return None
