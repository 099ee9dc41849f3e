"""Sealed ledger entries: `{"event":…,"index":i,"prev":"<hex>"}` as canonical JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest

from forvalg.ledger.entries import GENESIS_PREV, Seal, read_seal, seal

PREV = bytes(range(32))


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


OBJECT_EVENTS = [
    {},
    {"decision": "permit", "principal": "ops-1", "at": "2024-05-01T10:00:00Z"},
    {"subjects": ["a", "b", "c"], "count": 3, "reason": None},
    {"nested": {"list": [1, [2, [3, None]], "x"], "empty": [], "z": {}}, "a": -7},
    {"navn": "Ærlig Øystein Åsen", "quote": 'say "hi"\\', "tab": "a\tb", "nl": "a\nb"},
    {"big": 2**63, "zero": 0, "negative": -(2**40)},
]
OTHER_EVENTS = ["a string", 42, [1, "two", None, []], None]


@pytest.mark.parametrize("event", OBJECT_EVENTS + OTHER_EVENTS, ids=repr)
@pytest.mark.parametrize(("index", "prev"), [(0, GENESIS_PREV), (1, PREV), (10**12, PREV)])
def test_seal_is_json_of_event_index_and_prev(event: Any, index: int, prev: bytes) -> None:
    entry = seal(canonical(event), index, prev)
    assert json.loads(entry) == {"event": event, "index": index, "prev": prev.hex()}


@pytest.mark.parametrize("event", OBJECT_EVENTS + OTHER_EVENTS, ids=repr)
@pytest.mark.parametrize(("index", "prev"), [(0, GENESIS_PREV), (7, PREV)])
def test_seal_is_canonical_json(event: Any, index: int, prev: bytes) -> None:
    entry = seal(canonical(event), index, prev)
    assert entry == canonical({"event": event, "index": index, "prev": prev.hex()})


def test_the_genesis_prev_is_32_zero_bytes() -> None:
    assert bytes(32) == GENESIS_PREV
    assert json.loads(seal(b"{}", 0, GENESIS_PREV))["prev"] == "0" * 64


@pytest.mark.parametrize("event", OBJECT_EVENTS, ids=repr)
@pytest.mark.parametrize(("index", "prev"), [(0, GENESIS_PREV), (1, PREV), (10**12, PREV)])
def test_read_seal_returns_the_index_and_prev_of_a_sealed_entry(
    event: dict[str, Any], index: int, prev: bytes
) -> None:
    assert read_seal(seal(canonical(event), index, prev)) == Seal(index, prev.hex())


@pytest.mark.parametrize(
    "entry",
    [
        b"",
        b"   ",
        b"not json",
        b"{",
        b'{"event":{},"index":0,"prev":"00"',
        b"\xff\xfe\xfd",
        b'{"event":{},"index":0,"prev":"\xff"}',
        b"\x00",
        b"NaN",
        b"[" * 100_000,  # nested too deep for the parser
    ],
    ids=lambda e: repr(e[:24]),
)
def test_read_seal_of_garbage_is_none(entry: bytes) -> None:
    assert read_seal(entry) is None


@pytest.mark.parametrize(
    "entry",
    [b"null", b"true", b"0", b"1.5", b'"a string"', b"[]", b'[{"event":{},"index":0}]'],
)
def test_read_seal_of_json_that_is_not_an_object_is_none(entry: bytes) -> None:
    assert read_seal(entry) is None


@pytest.mark.parametrize(
    "event", [b'"a string"', b"42", b"[1]", b"null"], ids=["string", "int", "list", "null"]
)
def test_read_seal_needs_the_event_to_be_an_object(event: bytes) -> None:
    assert read_seal(seal(event, 0, GENESIS_PREV)) is None


@pytest.mark.parametrize("missing", ["event", "index", "prev"])
def test_read_seal_with_a_missing_field_is_none(missing: str) -> None:
    entry = {"event": {"a": 1}, "index": 3, "prev": PREV.hex()}
    del entry[missing]
    assert read_seal(canonical(entry)) is None


@pytest.mark.parametrize(
    "index",
    [True, False, 1.0, "1", None, [1]],
    ids=["true", "false", "float", "str", "null", "list"],
)
def test_read_seal_with_an_index_that_is_not_an_integer_is_none(index: Any) -> None:
    assert read_seal(canonical({"event": {}, "index": index, "prev": PREV.hex()})) is None


@pytest.mark.parametrize("prev", [None, 0, ["00"], {"hex": "00"}])
def test_read_seal_with_a_prev_that_is_not_a_string_is_none(prev: Any) -> None:
    assert read_seal(canonical({"event": {}, "index": 0, "prev": prev})) is None
