"""Proofs as JSON (INTERFACES §6): the same objects over HTTP, from `forvalg ledger prove`
and in evidence bundles. Hashes travel as standard base64."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from forvalg.ledger.merkle import HASH_SIZE, ProofError


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def _hash(value: Any, where: str) -> bytes:
    if not isinstance(value, str):
        raise ProofError(f"{where}: expected a base64 string")
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ProofError(f"{where}: not valid base64") from None
    if len(digest) != HASH_SIZE:
        raise ProofError(f"{where}: a hash has 32 bytes, this has {len(digest)}")
    return digest


def _size(value: Any, where: str) -> int:
    if type(value) is not int or value < 0:
        raise ProofError(f"{where}: expected a non-negative integer")
    return value


def _hashes(obj: Mapping[str, Any]) -> list[bytes]:
    hashes = obj.get("hashes")
    if not isinstance(hashes, list):
        raise ProofError("hashes: expected a list of base64 hashes")
    return [_hash(h, f"hashes/{i}") for i, h in enumerate(hashes)]


def _object(obj: Any) -> Mapping[str, Any]:
    if not isinstance(obj, Mapping):
        raise ProofError("a proof is a JSON object")
    return obj


@dataclass(frozen=True)
class InclusionProof:
    index: int
    size: int
    leaf_hash: bytes
    hashes: list[bytes]

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "size": self.size,
            "leaf_hash": b64(self.leaf_hash),
            "hashes": [b64(h) for h in self.hashes],
        }

    @classmethod
    def from_json(cls, obj: Any) -> InclusionProof:
        o = _object(obj)
        return cls(
            _size(o.get("index"), "index"),
            _size(o.get("size"), "size"),
            _hash(o.get("leaf_hash"), "leaf_hash"),
            _hashes(o),
        )


@dataclass(frozen=True)
class ConsistencyProof:
    old: int
    new: int
    hashes: list[bytes]

    def to_json(self) -> dict[str, Any]:
        return {"from": self.old, "to": self.new, "hashes": [b64(h) for h in self.hashes]}

    @classmethod
    def from_json(cls, obj: Any) -> ConsistencyProof:
        o = _object(obj)
        return cls(_size(o.get("from"), "from"), _size(o.get("to"), "to"), _hashes(o))
