"""Ledger entries: an access event, sealed with its index and its predecessor's hash.

Entry i is the canonical JSON (RFC 8785) object

    {"event":<the event, canonical JSON>,"index":i,"prev":"<hex leaf hash of entry i-1>"}

The event arrives already canonical, and the keys `event` < `index` < `prev` are in
canonical order, so sealing is concatenation. The Merkle root alone says *that* an
export was altered; `index` and `prev` let the verifier say *where*: a deleted or
moved entry breaks the index sequence at the first bad index, and an edited entry no
longer matches the `prev` its successor recorded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from forvalg.ledger.merkle import HASH_SIZE

GENESIS_PREV = bytes(HASH_SIZE)


def seal(event: bytes, index: int, prev: bytes) -> bytes:
    """The entry bytes for a canonical event at `index` after a leaf with hash `prev`."""
    return b'{"event":%b,"index":%d,"prev":"%b"}' % (event, index, prev.hex().encode())


@dataclass(frozen=True, slots=True)
class Seal:
    index: int
    prev: str


def read_seal(entry: bytes) -> Seal | None:
    """The index and prev an entry claims, or None if it is not a sealed entry."""
    try:
        parsed = json.loads(entry)
    except (ValueError, RecursionError):  # garbage, bad UTF-8, or nesting to exhaust the stack
        return None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("event"), dict):
        return None
    index, prev = parsed.get("index"), parsed.get("prev")
    if type(index) is not int or not isinstance(prev, str):
        return None
    return Seal(index, prev)
