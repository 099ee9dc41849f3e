"""Subscribers appear in the log only as keyed pseudonyms (HMAC-SHA256).

The key can be rotated (`forvalg keys rotate-pseudonym`, docs/SECURITY.md "Key
rotation"): new entries name subjects under the current key, and the retired keys are
kept so that a line is still found in the entries written under them. Each key has an
id (`key_id`), which an entry naming subjects states as `subjects_key`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

# A ledger entry names each subject's pseudonym when it touches at most this many, so a
# subscriber's own accesses can be found; bulk decisions carry the count and digest.
NAMED_SUBJECTS = 10


def key_id(key: bytes) -> str:
    """A pseudonym key's id: 8 hex digits of SHA-256 over a label and the key. It names
    the key (in entries, file names and messages) and reveals nothing of it."""
    return hashlib.sha256(b"forvalg pseudonym key\n" + key).hexdigest()[:8]


class Pseudonymiser:
    def __init__(self, key: bytes, retired: Sequence[bytes] = ()) -> None:
        for k in (key, *retired):
            if len(k) < 32:
                raise ValueError("the pseudonym key must be at least 32 bytes")
        self._key = key
        self.key_id = key_id(key)
        # Retired keys, newest first: only for finding what was written under them.
        self._retired = tuple(k for k in retired if k != key)
        # A batch names the same lines in several decisions; the key never changes.
        self._cached = lru_cache(maxsize=1 << 16)(self._compute)

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The current key's id, then the retired keys' ids."""
        return (self.key_id, *(key_id(k) for k in self._retired))

    def pseudonym(self, subject: str) -> str:
        """The subject's pseudonym under the current key (what new entries name)."""
        return self._cached(subject)

    def pseudonyms(self, subject: str) -> tuple[str, ...]:
        """The subject's pseudonym under the current key and under every retired one:
        what a lookup of the subject's entries searches for."""
        return (self._cached(subject), *(_hmac(k, subject) for k in self._retired))

    def _compute(self, subject: str) -> str:
        return _hmac(self._key, subject)

    def subjects(self, subjects: Iterable[str]) -> SubjectSet:
        """The pseudonyms of a set of subjects, with their count and digest."""
        names = tuple(sorted({self.pseudonym(s) for s in subjects}))
        if not names:
            return NO_SUBJECTS
        digest = hashlib.sha256("\n".join(names).encode()).hexdigest()
        return SubjectSet(names, digest, self.key_id)


def _hmac(key: bytes, subject: str) -> str:
    return hmac.new(key, subject.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class SubjectSet:
    """The subjects of one decision, by pseudonym, sorted; `digest` is SHA-256 over them
    joined by newlines. A ledger entry names them when there are few (`named`), else only
    their count and digest (a bulk decision); the store keeps the members of bulk sets
    so a subscriber can still find every entry that touched their line."""

    members: tuple[str, ...]
    digest: str | None
    key_id: str | None = None  # the pseudonym key's id; None for no subjects

    @property
    def named(self) -> tuple[str, ...]:
        return self.members if len(self.members) <= NAMED_SUBJECTS else ()

    @property
    def bulk(self) -> bool:
        return len(self.members) > NAMED_SUBJECTS


NO_SUBJECTS = SubjectSet((), None)
