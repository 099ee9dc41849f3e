"""Subscribers appear in the log only as keyed pseudonyms (HMAC-SHA256)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
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

    def subjects(self, subjects: Iterable[str]) -> SubjectSet:
        """The pseudonyms of a set of subjects, with their count and digest."""
        names = tuple(sorted({self.pseudonym(s) for s in subjects}))
        if not names:
            return NO_SUBJECTS
        return SubjectSet(names, hashlib.sha256("\n".join(names).encode()).hexdigest())


@dataclass(frozen=True, slots=True)
class SubjectSet:
    """The subjects of one decision, by pseudonym, sorted; `digest` is SHA-256 over them
    joined by newlines. A ledger entry names them when there are few (`named`), else only
    their count and digest (a bulk decision); the store keeps the members of bulk sets
    so a subscriber can still find every entry that touched their line."""

    members: tuple[str, ...]
    digest: str | None

    @property
    def named(self) -> tuple[str, ...]:
        return self.members if len(self.members) <= NAMED_SUBJECTS else ()

    @property
    def bulk(self) -> bool:
        return len(self.members) > NAMED_SUBJECTS


NO_SUBJECTS = SubjectSet((), None)
