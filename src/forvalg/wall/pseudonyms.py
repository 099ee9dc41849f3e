"""Subscribers appear in the log only as keyed pseudonyms (HMAC-SHA256)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from functools import lru_cache

# A ledger entry names each subject's pseudonym when it touches at most this many, so a
# subscriber's own accesses can be found; bulk decisions carry the count and digest.
NAMED_SUBJECTS = 10


class Pseudonymiser:
    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the pseudonym key must be at least 32 bytes")
        self._key = key
        # A batch names the same lines in several decisions; the key never changes.
        self._cached = lru_cache(maxsize=1 << 16)(self._compute)

    def pseudonym(self, subject: str) -> str:
        return self._cached(subject)

    def _compute(self, subject: str) -> str:
        return hmac.new(self._key, subject.encode(), hashlib.sha256).hexdigest()

    def digest(self, subjects: Iterable[str]) -> tuple[int, str | None, tuple[str, ...]]:
        """(count, SHA-256 over the sorted pseudonyms, the pseudonyms themselves when
        there are at most `NAMED_SUBJECTS`) for a set of subjects."""
        names = sorted({self.pseudonym(s) for s in subjects})
        if not names:
            return 0, None, ()
        named = tuple(names) if len(names) <= NAMED_SUBJECTS else ()
        return len(names), hashlib.sha256("\n".join(names).encode()).hexdigest(), named
