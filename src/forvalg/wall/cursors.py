"""Pagination cursors that reveal nothing.

A cursor names a position in a table shared by all operators; in the clear it would
tell an operator how many orders or notices its competitors had in between. Cursors are
therefore sealed with AES-SIV, bound to the operator and the kind of list, so they can
be neither read nor forged nor used by another operator.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_MAX_POSITION = 2**63 - 1


class Cursors:
    def __init__(self, secret: bytes) -> None:
        key = HKDF(hashes.SHA256(), 64, salt=None, info=b"forvalg pagination cursors").derive(
            secret
        )
        self._siv = AESSIV(key)

    def seal(self, kind: str, owner: str, position: int) -> str:
        sealed = self._siv.encrypt(str(position).encode(), [kind.encode(), owner.encode()])
        return base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def open(self, kind: str, owner: str, cursor: str) -> int | None:
        """The position, or None if this is not a cursor sealed for this owner and kind."""
        try:
            sealed = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            text = self._siv.decrypt(sealed, [kind.encode(), owner.encode()]).decode()
        except (binascii.Error, ValueError, InvalidTag, UnicodeDecodeError):
            return None
        if not text.isdigit() or not 0 <= int(text) <= _MAX_POSITION:
            return None
        return int(text)
