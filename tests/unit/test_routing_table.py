"""The routing table's content hash, its incremental upkeep, versions and deltas."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forvalg.domain.lifecycle import Effects, complete
from forvalg.domain.orders import Option, OrderState, OrderType, StateChange, new_order
from forvalg.domain.preselection import Closed, Opened, Preselection
from forvalg.domain.routing_table import (
    EMPTY_HASH,
    EPOCH,
    LEDGER_FIELDS,
    VERSION_ZERO,
    Bucket,
    DeltaAction,
    DeltaMismatch,
    DeltaRow,
    RoutingChange,
    RoutingRow,
    RoutingState,
    RoutingTableCorrupt,
    _Chain,
    apply_delta,
    bucket_digest,
    buckets_of,
    changes_of,
    content_hash,
    delta,
    ledger_detail,
    replay,
    row_text,
    table_hash,
)
from forvalg.domain.validation import LineFacts, OrderRules

T0 = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)
A, N, INT = Option.ALL, Option.NATIONAL, Option.INTERNATIONAL


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def test_the_empty_table_hashes_the_empty_string() -> None:
    assert hashlib.sha256(b"").hexdigest() == EMPTY_HASH
    assert content_hash([]) == EMPTY_HASH
    assert table_hash([]) == EMPTY_HASH
    assert type(VERSION_ZERO)(0, EMPTY_HASH, EPOCH, None, 0) == VERSION_ZERO
    assert EPOCH.isoformat() == "1970-01-01T00:00:00+00:00"


def test_the_hash_by_hand() -> None:
    rows = [
        RoutingRow("23456701", "betanett", N),
        RoutingRow("22334455", "alfatel", A),
        RoutingRow("22334401", "betanett", INT),
    ]
    assert rows[0].text == b"23456701,betanett,NATIONAL\n"
    assert row_text("22334455", "alfatel", A) == b"22334455,alfatel,ALL\n"
    b2233 = sha(b"22334401,betanett,INTERNATIONAL\n22334455,alfatel,ALL\n")
    b2345 = sha(b"23456701,betanett,NATIONAL\n")
    expected = hashlib.sha256(b"2233" + b2233 + b"2345" + b2345).hexdigest()
    assert content_hash(rows) == expected
    assert buckets_of(rows) == [Bucket("2233", b2233, 2), Bucket("2345", b2345, 1)]
    assert bucket_digest(rows[1:]) == b2233
    # Empty buckets do not count; the order buckets come in does not matter.
    buckets = [Bucket("2345", b2345, 1), Bucket("9999", sha(b""), 0), Bucket("2233", b2233, 2)]
    assert table_hash(buckets) == expected


def test_the_hash_does_not_depend_on_the_order_of_rows() -> None:
    rows = [RoutingRow(f"2233{i:04d}", "alfatel", A) for i in range(0, 300, 7)]
    assert content_hash(rows) == content_hash(reversed(rows))


numbers = st.sampled_from(
    # Two crowded buckets (more rows than a midstate stride), and some lone ones.
    [f"2233{i:04d}" for i in range(150)]
    + [f"2234{i:04d}" for i in range(0, 9000, 60)]
    + ["99990000", "21000000", "55501234"]
)
some_row = st.builds(
    RoutingRow,
    number=st.just(""),
    operator_id=st.sampled_from(["alfatel", "betanett", "gammatel"]),
    option=st.sampled_from(list(Option)),
)
rows = st.one_of(st.none(), some_row)


def _changes(draws: list[tuple[str, RoutingRow | None]]) -> list[RoutingChange]:
    found = []
    for i, (number, row) in enumerate(draws):
        placed = None if row is None else RoutingRow(number, row.operator_id, row.option)
        found.append(RoutingChange(f"o{i}", T0 + timedelta(minutes=i), number, placed))
    return found


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(numbers, rows), max_size=400))
def test_incremental_bucket_updates_equal_the_full_recompute(
    draws: list[tuple[str, RoutingRow | None]],
) -> None:
    """For any sequence of changes, every version's hash and row count is the hash of
    the whole table at that point, recomputed from scratch."""
    table: dict[str, RoutingRow] = {}
    versions, buckets = replay(_changes(draws))
    for version, change in zip(versions, _changes(draws), strict=True):
        if change.row is None:
            table.pop(change.number, None)
        else:
            table[change.number] = change.row
        assert version.content_hash == content_hash(table.values())
        assert version.rows == len(table)
        assert version.order_id == change.order_id
    assert [v.version for v in versions] == list(range(1, len(draws) + 1))
    # The buckets kept are those of the final table (emptied ones say so).
    kept = {b.prefix: b for b in buckets if b.rows}
    assert kept == {b.prefix: b for b in buckets_of(table.values())}


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(numbers, rows), max_size=200),
    st.lists(st.tuples(numbers, rows), min_size=1, max_size=100),
)
def test_a_state_built_from_stored_buckets_continues_where_the_last_one_stopped(
    first: list[tuple[str, RoutingRow | None]], second: list[tuple[str, RoutingRow | None]]
) -> None:
    """What the processor does per batch: the stored digests of every bucket, the rows of
    the buckets the batch touches, then the batch's changes."""
    everything = _changes(first + second)
    expected, _ = replay(everything)
    done, stored = replay(everything[: len(first)])
    head = done[-1] if done else VERSION_ZERO
    table: dict[str, RoutingRow] = {}
    for c in everything[: len(first)]:
        if c.row is None:
            table.pop(c.number, None)
        else:
            table[c.number] = c.row
    touched = {c.number[:4] for c in everything[len(first) :]}
    state = RoutingState(head, stored)
    for prefix in touched:
        state.load(prefix, [(r.number, r.text) for r in table.values() if r.number[:4] == prefix])
    assert state.loaded == touched
    assert [state.apply(c) for c in everything[len(first) :]] == expected[len(first) :]
    # What the store writes back, and a state built from that, continue alike.
    state.mark_saved()
    assert state.changed() == []


def test_a_bucket_that_does_not_match_its_stored_digest_is_refused() -> None:
    row = RoutingRow("22334455", "alfatel", A)
    stored = buckets_of([row])
    head = replay([RoutingChange("o1", T0, row.number, row)])[0][0]
    RoutingState(head, stored).load("2233", [(row.number, row.text)])  # consistent
    other = RoutingRow("22334455", "betanett", A)
    with pytest.raises(RoutingTableCorrupt, match="bucket 2233"):
        RoutingState(head, stored).load("2233", [(other.number, other.text)])
    with pytest.raises(RoutingTableCorrupt, match="bucket 2233"):
        RoutingState(head, stored).load("2233", [])
    with pytest.raises(RoutingTableCorrupt, match="bucket 2345"):
        RoutingState(head, stored).load("2345", [("23456701", other.text)])
    with pytest.raises(RoutingTableCorrupt, match="rows"):
        RoutingState(VERSION_ZERO, stored)
    with pytest.raises(ValueError, match="not loaded"):
        RoutingState(head, stored).apply(RoutingChange("o2", T0, "22334455", None))
    state = RoutingState(head, stored)
    state.load("2233", [(row.number, row.text)])
    assert state.loaded_rows == 1
    state.forget_rows()
    assert state.loaded == frozenset()


def test_a_version_never_takes_effect_before_its_predecessor() -> None:
    late = RoutingChange("o1", T0, "22334455", RoutingRow("22334455", "alfatel", A))
    early = RoutingChange("o2", T0 - timedelta(days=3), "23456701", None)
    same = RoutingChange("o3", T0, "23456702", RoutingRow("23456702", "alfatel", A))
    versions, _ = replay([late, early, same])
    assert [v.effective_at for v in versions] == [T0, T0, T0]


def test_the_chain_caches_midstates_and_recomputes_after_any_change() -> None:
    chain = _Chain()
    assert chain.digest() == sha(b"")
    values = {f"{i:04d}": f"v{i}|".encode() for i in range(0, 500, 3)}
    for key in sorted(values, reverse=True):
        chain.set(key, values[key])

    def expected() -> bytes:
        return sha(b"".join(values[k] for k in sorted(values)))

    assert chain.digest() == expected()
    for key in ("0000", "0250", "0498", "0499", "0100"):
        values[key] = b"changed|"
        chain.set(key, values[key])
        assert chain.digest() == expected()
    for key in ("0003", "0498", "0101"):
        values.pop(key, None)
        chain.set(key, None)
        assert chain.digest() == expected()
    assert len(chain) == len(values)


def _effects_of(order_type: OrderType, current: Preselection | None) -> Effects:
    rules = OrderRules()
    order = new_order(
        order_id=f"o-{order_type.value.lower()}",
        order_type=order_type,
        number="22334455",
        operator_id="betanett",
        received_at=T0 - timedelta(days=20),
        option=None if order_type is OrderType.CEASE else N,
    )
    order.state = OrderState.COMMITTED
    order.due_date = date(2026, 12, 7)
    return complete(order, LineFacts(None, current, order.id), rules.calendar)


def test_completions_become_changes_in_completion_order() -> None:
    current = Preselection("22334455", "alfatel", A, T0 - timedelta(days=60), "o-old")
    effects = Effects()
    for order_type in (OrderType.TRANSFER, OrderType.MODIFY, OrderType.CEASE):
        effects.merge(_effects_of(order_type, current))
    effects.merge(_effects_of(OrderType.PROVIDE, None))
    found = changes_of(effects)
    assert [c.order_id for c in found] == ["o-transfer", "o-modify", "o-cease", "o-provide"]
    assert {c.effective_at for c in found} == {T0}
    assert found[0].row == RoutingRow("22334455", "betanett", N)
    assert found[2].row is None
    # A CANCEL_OTHER completes without touching the table; other states are not changes.
    other = Effects(
        history=[
            ("o-x", StateChange(OrderState.COMPLETED, T0)),
            ("o-y", StateChange(OrderState.COMMITTED, T0)),
        ],
        closed=[Closed("22334466", "alfatel", T0, "o-z")],
        opened=[Opened(Preselection("22334477", "alfatel", A, T0, "o-w"))],
    )
    assert changes_of(other) == []


def test_the_ledger_detail_names_each_version() -> None:
    versions, _ = replay(
        [RoutingChange("o1", T0, "22334455", RoutingRow("22334455", "alfatel", A))]
    )
    assert ledger_detail(versions) == {
        "routing_versions": [[1, versions[0].content_hash, "2026-12-06T23:00:00+00:00", "o1"]]
    }
    assert LEDGER_FIELDS == ("version", "content_hash", "effective_at", "order_id")


table_strategy = st.dictionaries(numbers, some_row, max_size=60)


@given(table_strategy, table_strategy)
def test_a_delta_turns_one_table_into_the_other(
    old: dict[str, RoutingRow], new: dict[str, RoutingRow]
) -> None:
    before = [RoutingRow(n, r.operator_id, r.option) for n, r in old.items()]
    after = [RoutingRow(n, r.operator_id, r.option) for n, r in new.items()]
    changes = delta(before, after)
    assert apply_delta(before, changes) == sorted(after, key=lambda r: r.number)
    assert [c.row.number for c in changes] == sorted({c.row.number for c in changes})
    for change in changes:
        if change.action is DeltaAction.REMOVE:
            assert change.row in before


def test_a_delta_that_does_not_fit_is_refused() -> None:
    row = RoutingRow("22334455", "alfatel", A)
    with pytest.raises(DeltaMismatch, match="ADD 22334455: the line is there"):
        apply_delta([row], [DeltaRow(DeltaAction.ADD, row)])
    for action in (DeltaAction.CHANGE, DeltaAction.REMOVE):
        with pytest.raises(DeltaMismatch, match="not there"):
            apply_delta([], [DeltaRow(action, row)])
