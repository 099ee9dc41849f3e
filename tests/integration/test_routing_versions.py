"""Routing table versions: one per completed order that changes the table, numbered
without gaps in the order they take effect, each hash the recompute of the table it
stands for, each named in the ledger; exports that recompute to the stored hash and
deltas that lead from one version to another."""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from forvalg.bootstrap import Services, bootstrap
from forvalg.domain.clock import FixedClock
from forvalg.domain.orders import Option
from forvalg.domain.routing_table import (
    EMPTY_HASH,
    EPOCH,
    VERSION_ZERO,
    DeltaAction,
    DeltaRow,
    RoutingChange,
    RoutingRow,
    RoutingVersion,
    apply_delta,
    content_hash,
)
from forvalg.settings import Settings
from forvalg.store import routing as routing_store
from forvalg.store import tables
from forvalg.store.migrate import downgrade, upgrade
from forvalg.wall.principals import ROUTING_EXPORTER, Purpose
from forvalg.wholesale.routing_export import ExportRefused

from ..conftest import LEDGER_SIGNER, PSEUDONYM_KEY
from .world import SWITCH_T0, Operator, World, cancel_other, cease, modify, provide, transfer

postgres_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def versions(world: World) -> list[RoutingVersion]:
    with world.services.wall.access(ROUTING_EXPORTER, Purpose.PROVISIONING, "test") as guard:
        return guard.routing.versions()


def current_rows(world: World) -> list[RoutingRow]:
    p = tables.preselections
    return [
        RoutingRow(r["number"], r["operator_id"], Option(r["option"]))
        for r in world.rows(p, p.c.valid_to.is_(None))
    ]


def assert_head_is_the_current_table(world: World) -> RoutingVersion:
    head = versions(world)[-1]
    rows = current_rows(world)
    assert head.content_hash == content_hash(rows)
    assert head.rows == len(rows)
    return head


def switch_of(world: World, operator: Operator, order_id: str) -> datetime:
    due = date.fromisoformat(operator.state(order_id)["due_date"])
    return world.services.rules.calendar.switch_at(due)


def routing_entries(world: World) -> list[dict[str, Any]]:
    return [
        e
        for e in world.access_log()
        if e["resource"] == "cps.routing" and e["action"] == "write" and "detail" in e
    ]


def test_completions_make_consecutive_versions_named_in_the_ledger(
    world: World, alpha: Operator, beta: Operator
) -> None:
    assert versions(world) == [VERSION_ZERO]
    assert VERSION_ZERO.content_hash == EMPTY_HASH
    assert VERSION_ZERO.effective_at == EPOCH

    first = world.preselect(alpha, "22334455")
    assert assert_head_is_the_current_table(world).version == 1

    # Two orders switch at the same instant: two versions, in completion order.
    added = beta.order(provide("23456701", option="NATIONAL"))
    changed = alpha.order(modify("22334455", option="INTERNATIONAL"))
    world.process()
    second = switch_of(world, beta, added["id"])
    assert switch_of(world, alpha, changed["id"]) == second
    world.process(second)
    head = assert_head_is_the_current_table(world)
    assert head.version == 3

    # A CANCEL_OTHER completes without touching the table; a CEASE removes a line.
    world.clock.at = second + timedelta(hours=10)
    moving = beta.order(transfer("22334455"))
    world.process()
    stopped = alpha.order(cancel_other("22334455", moving["id"]))
    ended = beta.order(cease("23456701"))
    world.process()
    assert alpha.state(stopped["id"])["state"] == "COMPLETED"
    assert beta.state(moving["id"])["state"] == "CANCELLED"
    third = switch_of(world, beta, ended["id"])
    world.process(third)
    assert_head_is_the_current_table(world)

    found = versions(world)
    assert [v.version for v in found] == [0, 1, 2, 3, 4]
    assert [v.effective_at for v in found] == [EPOCH, SWITCH_T0, second, second, third]
    assert [v.order_id for v in found[1:]] == [first["id"], added["id"], changed["id"], ended["id"]]
    assert [v.rows for v in found] == [0, 1, 2, 2, 1]
    # Each version's hash is the recompute of the table it stands for.
    with Session(world.engine) as session:
        for v in found:
            assert content_hash(routing_store.rows_at(session, at=v.version)) == v.content_hash
    assert found[4].content_hash == content_hash(
        [RoutingRow("22334455", "alfatel", Option.INTERNATIONAL)]
    )

    # The ledger names every version once, with its hash, instant and order.
    named = [item for e in routing_entries(world) for item in e["detail"]["routing_versions"]]
    assert named == [
        [v.version, v.content_hash, v.effective_at.isoformat(), v.order_id] for v in found[1:]
    ]
    for entry in routing_entries(world):
        assert entry["principal"] == "system:order-processor"
        assert entry["decision"] == "allow"


def test_the_export_recomputes_to_the_stored_hash_and_its_delta_leads_from_m_to_n(
    world: World, alpha: Operator, beta: Operator, tmp_path: Path
) -> None:
    world.preselect(alpha, "22334455")
    world.preselect(beta, "23456701", option="NATIONAL")
    world.preselect(alpha, "23456702", option="INTERNATIONAL")
    moving = beta.order(transfer("22334455", option="NATIONAL"))
    beta.order(cease("23456701"))
    world.process()
    world.process(switch_of(world, beta, moving["id"]))
    found = versions(world)
    assert [v.version for v in found] == [0, 1, 2, 3, 4, 5]
    before_export = len(world.access_log())

    out = tmp_path / "export"
    done = world.services.routing.export(out, version=5, since=2)
    assert done.version == found[5]
    assert done.delta_changes == 3

    table = list(csv.DictReader(io.StringIO((out / "routing-5.csv").read_text())))
    assert list(table[0]) == ["number", "operator_id", "csc", "option"]
    rows = [RoutingRow(r["number"], r["operator_id"], Option(r["option"])) for r in table]
    assert [r.number for r in rows] == sorted(r.number for r in rows)
    assert content_hash(rows) == found[5].content_hash
    assert {(r["operator_id"], r["csc"]) for r in table} == {
        ("alfatel", "1501"),
        ("betanett", "1502"),
    }
    sidecar = json.loads((out / "routing-5.json").read_text())
    assert sidecar == {
        "version": 5,
        "content_hash": found[5].content_hash,
        "effective_at": found[5].effective_at.isoformat(),
        "order_id": found[5].order_id,
        "rows": 2,
        "table": "routing-5.csv",
        "exchange": "kamailio-drouting-5",
        "delta": {
            "file": "routing-2-5.delta.csv",
            "since": 2,
            "since_content_hash": found[2].content_hash,
            "changes": 3,
        },
    }

    delta = list(csv.DictReader(io.StringIO((out / "routing-2-5.delta.csv").read_text())))
    assert list(delta[0]) == ["action", "number", "operator_id", "csc", "option"]
    assert [(d["action"], d["number"], d["operator_id"], d["csc"], d["option"]) for d in delta] == [
        ("CHANGE", "22334455", "betanett", "1502", "NATIONAL"),
        ("REMOVE", "23456701", "betanett", "1502", "NATIONAL"),
        ("ADD", "23456702", "alfatel", "1501", "INTERNATIONAL"),
    ]
    changes = [
        DeltaRow(
            DeltaAction(d["action"]), RoutingRow(d["number"], d["operator_id"], Option(d["option"]))
        )
        for d in delta
    ]
    with Session(world.engine) as session:
        at_two = routing_store.rows_at(session, at=2)
    assert content_hash(at_two) == found[2].content_hash
    assert apply_delta(at_two, changes) == rows

    # One unit of work: one routing read naming every line, one operator read.
    entries = world.access_log(before_export)
    exporter = [e for e in entries if e["principal"] == "system:routing-exporter"]
    assert [(e["resource"], e["action"], e["decision"]) for e in exporter] == [
        ("cps.routing", "read", "allow"),
        ("cps.operator", "read", "allow"),
    ]
    assert exporter[0]["purpose"] == "provisioning"
    assert exporter[0]["subject_count"] == 3  # the 2 lines at 5 and the one removed since 2

    # The exchange's tables are there, one group row per line.
    groups = (out / "kamailio-drouting-5" / "dr_groups").read_text().splitlines()
    assert groups[0].startswith("id(int,auto) username(string)")
    assert [g.split(":")[1] for g in groups[1:]] == [r.number for r in rows]


def test_version_zero_exports_the_empty_table_and_unknown_versions_are_refused(
    world: World, tmp_path: Path
) -> None:
    done = world.services.routing.export(tmp_path)
    assert done.version == VERSION_ZERO
    assert (tmp_path / "routing-0.csv").read_text() == "number,operator_id,csc,option\n"
    sidecar = json.loads((tmp_path / "routing-0.json").read_text())
    assert (sidecar["content_hash"], sidecar["rows"], sidecar["order_id"]) == (EMPTY_HASH, 0, None)
    assert sidecar["effective_at"] == "1970-01-01T00:00:00+00:00"
    with pytest.raises(ExportRefused, match="no routing table version 3"):
        world.services.routing.export(tmp_path, version=3)
    with pytest.raises(ExportRefused, match="version 1 is after version 0"):
        world.services.routing.export(tmp_path, version=0, since=1)


def test_an_order_received_later_but_due_earlier_gets_the_earlier_version(
    world: World, alpha: Operator, beta: Operator
) -> None:
    """Processing keeps due order within a batch: an intake that creates a completion due
    before a completion already in the batch stops the batch there."""
    late = alpha.order(provide("22334455", requested_date="2026-12-30"))
    world.process()
    assert alpha.state(late["id"])["due_date"] == "2026-12-30"
    world.clock.at += timedelta(days=1)
    early = beta.order(provide("23456701"))  # due ten working days later, 8 December
    world.process(datetime(2027, 1, 4, 12, 0, tzinfo=UTC))
    found = versions(world)
    assert [v.order_id for v in found[1:]] == [early["id"], late["id"]]
    assert found[1].effective_at == switch_of(world, beta, early["id"])
    assert found[2].effective_at == switch_of(world, alpha, late["id"])
    assert found[1].effective_at < found[2].effective_at


LINES_PER_DAY = 8
DAYS = 5


def _many(world: World, operators: list[Operator]) -> None:
    lines = {
        f"2345{d}{i:03d}": ("0560", "PSTN", "ACTIVE")
        for d in range(DAYS)
        for i in range(LINES_PER_DAY)
    }
    world.add_lines(lines)
    for day in range(DAYS):
        world.clock.at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC) + timedelta(days=day)
        for i in range(LINES_PER_DAY):
            operator = operators[(day + i) % len(operators)]
            operator.order(
                provide(f"2345{day}{i:03d}", postcode="0560", option=list(Option)[i % 3])
            )


def _all_at_once(jobs: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(jobs))

    def run(job: Callable[[], Any]) -> Any:
        barrier.wait(timeout=30)
        return job()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return [f.result(timeout=300) for f in [pool.submit(run, job) for job in jobs]]


@pytest.fixture
def workers(settings: Settings, clock: FixedClock) -> Iterator[list[Services]]:
    """Two more processors over the same database, each with its own engine."""
    found = [
        bootstrap(
            settings, clock=clock, pseudonym_key=PSEUDONYM_KEY, ledger_signers=[LEDGER_SIGNER]
        )
        for _ in range(2)
    ]
    yield found
    for services in found:
        services.close()


def test_concurrent_workers_make_gap_free_versions_in_due_order(
    world: World, alpha: Operator, beta: Operator, workers: list[Services]
) -> None:
    """Three processors at once, in small batches, take receipts of five days and their
    completions in one run: every completion has one version, numbered without gaps, in
    the order they take effect, each at its own switch instant."""
    _many(world, [alpha, beta])
    everyone = [world.services, *workers]
    far = datetime(2027, 1, 29, 12, 0, tzinfo=UTC)
    reports = _all_at_once([lambda s=s: s.processor.process(far, batch_size=3) for s in everyone])
    assert sum(r.transitions for r in reports) == 3 * DAYS * LINES_PER_DAY

    found = versions(world)
    total = DAYS * LINES_PER_DAY
    assert [v.version for v in found] == list(range(total + 1))
    instants = [v.effective_at for v in found]
    assert instants == sorted(instants)
    p = tables.preselections
    opened = {r["order_id"]: r["valid_from"] for r in world.rows(p)}
    assert len(opened) == total
    assert {v.order_id: v.effective_at for v in found[1:]} == opened
    assert_head_is_the_current_table(world)
    with Session(world.engine) as session:
        for v in found:
            assert content_hash(routing_store.rows_at(session, at=v.version)) == v.content_hash
    listed = [i[0] for e in routing_entries(world) for i in e["detail"]["routing_versions"]]
    assert sorted(listed) == list(range(1, total + 1))


def test_a_batch_that_rolls_back_leaves_nothing_for_the_next(
    world: World, alpha: Operator, beta: Operator
) -> None:
    """The processor keeps the state a batch leaves for the next; a rolled-back batch's
    state is ahead of the database and must not be used."""
    world.preselect(alpha, "22334455")
    row = RoutingRow("23456701", "betanett", Option.ALL)
    with Session(world.engine) as session:
        planned = routing_store.plan(
            session, changes=[RoutingChange("o-gone", SWITCH_T0, row.number, row)]
        )
        assert [v.version for v in planned.versions] == [2]
        session.rollback()
    world.preselect(beta, "23456702")
    found = versions(world)
    assert [v.version for v in found] == [0, 1, 2]
    assert found[2].order_id != "o-gone"
    assert_head_is_the_current_table(world)


def test_versions_are_insert_only(world: World, alpha: Operator) -> None:
    world.preselect(alpha, "22334455")
    with world.engine.connect() as connection:
        for statement in (
            "UPDATE routing_versions SET content_hash = 'x'",
            "DELETE FROM routing_versions",
        ):
            with pytest.raises(DatabaseError, match="insert-only"):
                connection.execute(text(statement))
            connection.rollback()


def test_the_migration_derives_the_versions_of_completed_orders(
    world: World, alpha: Operator, beta: Operator
) -> None:
    """A database upgraded with completed orders gets the versions the processor would
    have written."""
    world.preselect(alpha, "22334455")
    world.preselect(beta, "23456701", option="NATIONAL")
    moving = beta.order(transfer("22334455"))
    world.process()
    world.process(switch_of(world, beta, moving["id"]))
    written = versions(world)
    with Session(world.engine) as session:
        buckets = routing_store.stored_buckets(session)
    assert len(written) == 4

    downgrade(world.engine, "0006")
    upgrade(world.engine)
    assert versions(world) == written
    with Session(world.engine) as session:
        assert routing_store.stored_buckets(session) == buckets
        recorded = session.execute(select(tables.routing_versions.c.recorded_at)).scalars().all()
    assert len(recorded) == 3
