"""The database zones on PostgreSQL (store/zones.py): connected *as* each zone's role,
with hand-written SQL, a zone reaches exactly what the privilege matrix grants it, the
API role sees only the current operator's rows, and retail reads no table at all.

Every test here runs on PostgreSQL only: SQLite has no roles, schemas or row-level
security (the last test shows `enter` does nothing there)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import psycopg.errors
import pytest
import rfc8785
from sqlalchemy import Connection, Engine, insert, make_url, select, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from forvalg.store.bulk import COPY_THRESHOLD, insert_rows
from forvalg.store.engine import make_engine
from forvalg.store.ledger import Sequencer
from forvalg.store.migrate import differences, downgrade, upgrade
from forvalg.store.tables import (
    ledger_inbox,
    lines,
    metadata,
    operator_events,
    operators,
    order_history,
    orders,
    staff_users,
    work_item_lines,
    work_items,
)
from forvalg.store.zones import GRANTS, PLACEMENT, Privilege, Zone, enter

from ..conftest import T0, scratch_database

postgres_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

A, B = "alfatel", "betanett"
ORDERS = {A: ["o-a1", "o-a2"], B: ["o-b1"]}
EVENTS = {A: 1, B: 2}
WORK = {A: ("w-a", ["21000001", "21000002"]), B: ("w-b", ["21000003"])}
RECORD_TABLES = {"ledger_inbox", "ledger_subject_sets", "compliance_alerts"}  # any zone may record
RETAIL_WRITES = RECORD_TABLES | {"retail_contacts"}  # and retail its CRM's contacts


def qualified(table: str) -> str:
    return f"{PLACEMENT[table]}.{table}"


@contextmanager
def connected_as(database_url: str, zone: Zone) -> Iterator[Engine]:
    """An engine that logs in as the zone's role itself (not the owner switching)."""
    engine = make_engine(make_url(database_url).set(username=zone.value))
    try:
        yield engine
    finally:
        engine.dispose()


def refused(connection: Connection, sql: str, params: dict[str, Any] | None = None) -> str:
    """Run `sql`, which PostgreSQL must refuse for want of privilege; its message."""
    with pytest.raises(ProgrammingError) as caught:
        connection.execute(text(sql), params or {})
    connection.rollback()
    assert isinstance(caught.value.orig, psycopg.errors.InsufficientPrivilege), caught.value
    return str(caught.value.orig)


def column(connection: Connection, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
    return list(connection.execute(text(sql), params or {}).scalars())


def as_operator(connection: Connection, operator: str) -> None:
    """What a hand-written query in the API zone would do: name the operator."""
    connection.execute(text("SELECT set_config('forvalg.operator', :o, true)"), {"o": operator})


def order_row(order_id: str, operator: str, number: str) -> dict[str, Any]:
    return {
        "id": order_id,
        "type": "PROVIDE",
        "number": number,
        "operator_id": operator,
        "state": "RECEIVED",
        "idempotency_key": f"key-{order_id}",
        "request_hash": "0" * 64,
        "created_at": T0,
        "updated_at": T0,
    }


@pytest.fixture
def seeded(database_url: str) -> str:
    """Two operators' orders, history, events and work items, staff, and a ledger
    entry, written by the owner (who is subject to no zone)."""
    owner = make_engine(database_url)
    numbers = iter(f"2100{i:04d}" for i in range(1, 100))
    with owner.begin() as c:
        for op, csc in ((A, "1501"), (B, "1502")):
            c.execute(
                insert(operators),
                {"id": op, "name": op, "csc": csc, "agreement_active": True, "created_at": T0},
            )
        line_rows = [
            {"number": f"2100{i:04d}", "postcode": "0150", "line_type": "PSTN"}
            for i in range(1, 10)
        ]
        c.execute(insert(lines), [r | {"status": "active", "updated_at": T0} for r in line_rows])
        for op, ids in ORDERS.items():
            for order_id in ids:
                c.execute(insert(orders), order_row(order_id, op, next(numbers)))
                c.execute(
                    insert(order_history),
                    {"order_id": order_id, "state": "RECEIVED", "at": T0, "recorded_at": T0},
                )
            for _ in range(EVENTS[op]):
                c.execute(
                    insert(operator_events),
                    {"operator_id": op, "type": "STATE", "number": "21000001"}
                    | {"at": T0, "payload": {}, "recorded_at": T0},
                )
            item, item_lines = WORK[op]
            c.execute(
                insert(work_items),
                {"id": item, "kind": "fault_ticket", "operator_id": op, "summary": "s"}
                | {"opened_by": "user:u1", "opened_at": T0},
            )
            c.execute(
                insert(work_item_lines), [{"work_item_id": item, "number": n} for n in item_lines]
            )
        c.execute(
            insert(work_items),
            {"id": "w-inquiry", "kind": "inquiry", "operator_id": None, "summary": "s"}
            | {"opened_by": "user:reg", "opened_at": T0},
        )
        c.execute(
            insert(staff_users),
            {"id": "u1", "name": "Kari", "role": "compliance_officer", "token_hash": "1" * 64}
            | {"created_at": T0},
        )
    Sequencer(owner).append([rfc8785.dumps({"seed": 1})], at=T0)
    owner.dispose()
    return database_url


def test_every_declared_table_has_a_zone_and_the_matrix_names_no_other() -> None:
    assert set(PLACEMENT) == set(metadata.tables)
    assert all(set(grants) <= set(PLACEMENT) for grants in GRANTS.values())


@postgres_only
def test_every_zone_holds_exactly_the_privileges_of_the_matrix(seeded: str) -> None:
    """The whole matrix, privilege by privilege, as the catalog records it: what is not
    in GRANTS is refused, PUBLIC holds nothing, sequences follow INSERT, a zone may use
    exactly the schemas of its tables, and no zone may create in any schema."""
    owner = make_engine(seeded)
    try:
        with owner.connect() as c:
            for table, schema in PLACEMENT.items():
                name = f"{schema}.{table}"
                for privilege in (*Privilege, "TRUNCATE", "REFERENCES", "TRIGGER"):
                    check = "SELECT has_table_privilege(:role, :t, :p)"
                    public = column(c, check, {"role": "public", "t": name, "p": privilege})
                    assert public == [False], (name, privilege)
                    for zone in Zone:
                        held = column(c, check, {"role": zone.value, "t": name, "p": privilege})
                        granted = privilege in GRANTS[zone].get(table, frozenset())
                        assert held == [granted], (zone, name, privilege)
            # A zone may draw from a table's serial sequence exactly when it may insert.
            sequences = c.execute(
                text(
                    "SELECT s.oid, t.relname FROM pg_depend d "
                    "JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
                    "JOIN pg_class t ON t.oid = d.refobjid WHERE d.deptype = 'a'"
                )
            ).all()
            assert {t for _, t in sequences} >= {"orders", "ledger_inbox", "compliance_alerts"}
            check = "SELECT has_sequence_privilege(:role, CAST(:s AS oid), :p)"
            for oid, table in sequences:
                for privilege in ("USAGE", "SELECT", "UPDATE"):
                    public = column(c, check, {"role": "public", "s": oid, "p": privilege})
                    assert public == [False], (table, privilege)
                    for zone in Zone:
                        held = column(c, check, {"role": zone.value, "s": oid, "p": privilege})
                        inserts = Privilege.INSERT in GRANTS[zone].get(table, frozenset())
                        assert held == [privilege == "USAGE" and inserts], (zone, table)
            for zone in Zone:
                used = {PLACEMENT[t] for t in GRANTS[zone]}
                for schema in Zone:
                    check = "SELECT has_schema_privilege(:role, :s, :p)"
                    usage = column(c, check, {"role": zone.value, "s": schema.value, "p": "USAGE"})
                    create = column(
                        c, check, {"role": zone.value, "s": schema.value, "p": "CREATE"}
                    )
                    assert usage == [schema in used], (zone, schema)
                    assert create == [False], (zone, schema)
    finally:
        owner.dispose()


@postgres_only
def test_retail_can_read_no_table_at_all_and_can_only_leave_a_record(seeded: str) -> None:
    assert set(GRANTS[Zone.RETAIL]) == RETAIL_WRITES
    assert all(GRANTS[Zone.RETAIL][t] == {Privilege.INSERT} for t in RETAIL_WRITES)
    with connected_as(seeded, Zone.RETAIL) as retail, retail.connect() as c:
        for table in PLACEMENT:
            message = refused(c, f"SELECT * FROM {qualified(table)}")
            assert "permission denied" in message
        for schema in (Zone.WHOLESALE, Zone.API, Zone.BILLING, Zone.REGULATOR):
            assert column(c, "SELECT has_schema_privilege(:s, 'USAGE')", {"s": schema}) == [False]
        # The catalog shows it only the tables it may write to, none holding CPS data.
        listed = column(
            c,
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
        )
        usable = column(
            c,
            "SELECT t.tablename FROM pg_tables t "
            "JOIN pg_namespace n ON n.nspname = t.schemaname "
            "JOIN pg_class r ON r.relnamespace = n.oid AND r.relname = t.tablename "
            "WHERE t.schemaname NOT IN ('pg_catalog', 'information_schema') "
            "AND has_table_privilege(r.oid, "
            "'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')",
        )
        assert set(listed) == set(usable) == RETAIL_WRITES
        # Its refusals are logged: the inbox (and the alerts) take its rows.
        c.execute(text("INSERT INTO ledger_inbox (event) VALUES ('{}')"))
        c.execute(
            text(
                "INSERT INTO compliance_alerts (at, kind, principal, purpose, category, reason) "
                "VALUES (now(), 'denial', 'user:r1', 'marketing', 'cps.order', 'no grant')"
            )
        )
        c.commit()
        refused(c, "UPDATE ledger_inbox SET event = '{}'")
        refused(c, "DELETE FROM compliance_alerts")


CONTACT_INSERT = (
    "INSERT INTO retail_contacts (source, contact_id, time_utc, number, channel, direction, "
    "agent_id, imported_at) VALUES ('crm', :id, now(), '22334455', 'PHONE', 'OUTBOUND', "
    "'agent-1', now()) ON CONFLICT DO NOTHING"
)


@postgres_only
def test_retail_inserts_contacts_but_never_reads_them_back(seeded: str) -> None:
    with connected_as(seeded, Zone.RETAIL) as retail, retail.connect() as c:
        assert c.execute(text(CONTACT_INSERT), {"id": "c-1"}).rowcount == 1
        # A re-import of the same contact inserts nothing and needs no SELECT to say so.
        assert c.execute(text(CONTACT_INSERT), {"id": "c-1"}).rowcount == 0
        c.commit()
        refused(c, "SELECT count(*) FROM retail_contacts")
        refused(c, "SELECT 1 FROM retail_contacts WHERE contact_id = 'c-1'")
        upsert = "ON CONFLICT (source, contact_id) DO UPDATE SET agent_id = 'x'"
        refused(c, CONTACT_INSERT.replace("ON CONFLICT DO NOTHING", upsert), {"id": "c-1"})
        refused(c, "UPDATE retail_contacts SET agent_id = 'x'")
        refused(c, "DELETE FROM retail_contacts")
        refused(c, CONTACT_INSERT + " RETURNING contact_id", {"id": "c-2"})
    with connected_as(seeded, Zone.COMPLIANCE) as compliance, compliance.connect() as c:
        assert column(c, "SELECT contact_id FROM retail_contacts") == ["c-1"]
        refused(c, CONTACT_INSERT, {"id": "c-3"})
    for zone in (Zone.API, Zone.WHOLESALE, Zone.BILLING, Zone.REGULATOR):
        with connected_as(seeded, zone) as other, other.connect() as c:
            refused(c, f"SELECT count(*) FROM {qualified('retail_contacts')}")


@postgres_only
def test_the_api_role_sees_only_the_current_operators_rows(seeded: str) -> None:
    with connected_as(seeded, Zone.API) as api, api.connect() as c:
        # No operator named: row-level security shows nothing.
        for table in ("orders", "order_history", "operator_events", "operators", "work_items"):
            assert column(c, f"SELECT count(*) FROM {table}") == [0], table
        assert column(c, "SELECT count(*) FROM work_item_lines") == [0]
        c.rollback()
        for op in (A, B):
            as_operator(c, op)
            assert sorted(column(c, "SELECT id FROM orders")) == ORDERS[op]
            assert column(c, "SELECT DISTINCT operator_id FROM orders") == [op]
            history = column(c, "SELECT order_id FROM order_history ORDER BY order_id")
            assert history == ORDERS[op]
            assert column(c, "SELECT operator_id FROM operator_events") == [op] * EVENTS[op]
            assert column(c, "SELECT id FROM operators") == [op]
            assert column(c, "SELECT id FROM work_items") == [WORK[op][0]]
            item_lines = column(c, "SELECT number FROM work_item_lines ORDER BY number")
            assert item_lines == WORK[op][1]
            # Eligibility reads the inventory, which is not any operator's.
            assert column(c, "SELECT count(*) FROM lines") == [9]
            c.rollback()


@postgres_only
def test_the_api_role_writes_only_its_own_operators_rows(seeded: str) -> None:
    with connected_as(seeded, Zone.API) as api, api.connect() as c:
        as_operator(c, A)
        placed = c.execute(
            text(
                "INSERT INTO orders (id, type, number, operator_id, state, idempotency_key, "
                "request_hash, created_at, updated_at) VALUES ('o-a3', 'PROVIDE', '21000009', "
                ":op, 'RECEIVED', 'k3', :h, now(), now()) "
                "ON CONFLICT (operator_id, idempotency_key) DO NOTHING RETURNING seq"
            ),
            {"op": A, "h": "0" * 64},
        ).scalar_one()
        assert placed > 0
        c.execute(
            text(
                "INSERT INTO order_history (order_id, state, at, recorded_at) "
                "VALUES ('o-a3', 'RECEIVED', now(), now())"
            )
        )
        c.execute(text("INSERT INTO ledger_inbox (event) VALUES ('{}')"))
        c.commit()

        as_operator(c, A)
        message = refused(
            c,
            "INSERT INTO orders (id, type, number, operator_id, state, idempotency_key, "
            "request_hash, created_at, updated_at) VALUES ('o-b9', 'PROVIDE', '21000008', "
            ":op, 'RECEIVED', 'k9', :h, now(), now())",
            {"op": B, "h": "0" * 64},
        )
        assert "row-level security" in message
        as_operator(c, A)
        message = refused(
            c,
            "INSERT INTO order_history (order_id, state, at, recorded_at) "
            "VALUES ('o-b1', 'CANCELLED', now(), now())",
        )
        assert "row-level security" in message
        # UPDATE (and so a locked read, for a cancel) reaches the operator's own orders
        # only, and cannot hand one to another operator.
        as_operator(c, A)
        locked = column(c, "SELECT operator_id FROM orders FOR UPDATE")
        assert locked
        assert set(locked) == {A}
        touched = c.execute(
            text("UPDATE orders SET state = 'CANCELLED' WHERE operator_id = :op"), {"op": B}
        )
        assert touched.rowcount == 0
        c.rollback()
        as_operator(c, A)
        message = refused(c, "UPDATE orders SET operator_id = :op", {"op": B})
        assert "row-level security" in message
        for sql in (
            "DELETE FROM orders",
            "DELETE FROM order_history",
            "UPDATE operators SET agreement_active = false",
            "INSERT INTO operator_events (operator_id, type, number, at, payload, recorded_at) "
            "VALUES ('alfatel', 'STATE', '1', now(), '{}', now())",
        ):
            as_operator(c, A)
            refused(c, sql)
        for table in (*RECORD_TABLES, "ledger_entries", "ledger_heads", "ledger_checkpoints"):
            as_operator(c, A)
            refused(c, f"SELECT * FROM {qualified(table)}")
        for table in ("operator_api_keys", "staff_users", "preselections", "customer_letters"):
            refused(c, f"SELECT * FROM {qualified(table)}")


@postgres_only
def test_wholesale_works_the_orders_of_every_operator_but_reads_no_ledger_or_staff(
    seeded: str,
) -> None:
    with connected_as(seeded, Zone.WHOLESALE) as wholesale:
        with wholesale.connect() as c:
            assert sorted(column(c, "SELECT id FROM orders")) == sorted(ORDERS[A] + ORDERS[B])
            assert column(c, "SELECT count(*) FROM work_items") == [3]
            c.execute(text("UPDATE orders SET state = 'VALIDATED' WHERE id = 'o-b1'"))
            c.execute(text("UPDATE operator_api_keys SET revoked_at = now() WHERE false"))
            c.commit()
            for table in ("ledger_entries", "staff_users", "subscriber_codes"):
                refused(c, f"SELECT * FROM {qualified(table)}")
            refused(c, "DELETE FROM orders WHERE id = 'o-b1'")
            refused(c, "DELETE FROM lines")
        # The processor's bulk writes go through row-level security: COPY is refused
        # there, so they fall back to INSERT (store/bulk.py).
        with Session(wholesale) as session, session.begin():
            rows = [
                {"order_id": "o-b1", "state": "VALIDATED", "at": T0 + timedelta(seconds=i)}
                | {"recorded_at": T0}
                for i in range(COPY_THRESHOLD + 10)
            ]
            insert_rows(session, order_history, rows)
        with wholesale.connect() as c:
            found = column(c, "SELECT count(*) FROM order_history WHERE order_id = 'o-b1'")
            assert found == [1 + COPY_THRESHOLD + 10]


@postgres_only
def test_billing_reads_orders_and_routing_but_not_history_events_or_ledger(seeded: str) -> None:
    with connected_as(seeded, Zone.BILLING) as billing, billing.connect() as c:
        assert len(column(c, "SELECT id FROM orders")) == 3
        assert column(c, "SELECT count(*) FROM preselections") == [0]
        assert len(column(c, "SELECT id FROM operators")) == 2
        for table in ("order_history", "operator_events", "lines", "ledger_entries"):
            refused(c, f"SELECT * FROM {qualified(table)}")
        refused(c, "UPDATE orders SET state = 'CANCELLED'")


@postgres_only
def test_the_regulator_reads_the_ledger_but_no_order_or_line(seeded: str) -> None:
    with connected_as(seeded, Zone.REGULATOR) as regulator, regulator.connect() as c:
        assert column(c, "SELECT count(*) FROM ledger_entries") == [1]
        assert column(c, "SELECT count(*) FROM ledger_heads") == [1]
        assert column(c, "SELECT count(*) FROM ledger_checkpoints") == [0]
        assert column(c, "SELECT count(*) FROM work_items") == [3]
        c.execute(
            text(
                "INSERT INTO work_items (id, kind, summary, opened_by, opened_at) "
                "VALUES ('w-nkom', 'inquiry', 'period 2026-10', 'user:reg', now())"
            )
        )
        c.commit()
        for table in ("orders", "lines", "preselections", "operators", "ledger_inbox"):
            refused(c, f"SELECT * FROM {qualified(table)}")
        refused(c, "INSERT INTO ledger_entries (idx, entry, leaf, closes) VALUES (9, '', '', '')")


@postgres_only
def test_compliance_reads_everything_and_still_cannot_rewrite_the_ledger(seeded: str) -> None:
    with connected_as(seeded, Zone.COMPLIANCE) as compliance:
        with compliance.connect() as c:
            for table in PLACEMENT:
                c.execute(text(f"SELECT * FROM {qualified(table)}"))
            refused(c, "UPDATE ledger_entries SET entry = 'rewritten'")
            refused(c, "DELETE FROM ledger_entries")
            c.execute(text("INSERT INTO ledger_inbox (event) VALUES ('{}')"))
            c.commit()
            # It may DELETE from the inbox, but the inbox's trigger refuses it outside the
            # sequencer's transaction.
            message = refused(c, "DELETE FROM ledger_inbox")
            assert "append-only" in message
        # The sequencer, logged in as compliance, integrates the queue.
        assert Sequencer(compliance).integrate_all(at=T0) == 1
        with compliance.connect() as c:
            assert column(c, "SELECT count(*) FROM ledger_inbox") == [0]
            assert column(c, "SELECT count(*) FROM ledger_entries") == [2]


@postgres_only
def test_enter_switches_the_owners_connection_for_one_transaction(seeded: str) -> None:
    owner = make_engine(seeded)
    try:
        with owner.connect() as c:
            login = column(c, "SELECT current_user")
            enter(c, Zone.RETAIL)
            assert column(c, "SELECT current_user") == [Zone.RETAIL.value]
            refused(c, f"SELECT * FROM {qualified('orders')}")
            assert column(c, "SELECT current_user") == login  # the rollback ended it

            enter(c, Zone.API, operator=B)
            assert column(c, "SELECT current_user") == [Zone.API.value]
            assert column(c, "SELECT id FROM orders") == ORDERS[B]
            c.commit()
            assert column(c, "SELECT current_user") == login
            assert column(c, "SELECT current_setting('forvalg.operator', true)") in ([""], [None])
            assert len(column(c, "SELECT id FROM orders")) == 3  # the owner again
            c.rollback()

        with Session(owner) as session, session.begin():
            enter(session, Zone.API)  # no operator: nothing
            assert session.execute(select(orders.c.id)).all() == []
            assert session.execute(text("SELECT current_user")).scalar() == Zone.API.value
    finally:
        owner.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_enter_does_nothing_on_sqlite(database_url: str) -> None:
    """SQLite has no roles: the embedded default relies on the wall alone."""
    engine = make_engine(database_url)
    try:
        with engine.begin() as c:
            enter(c, Zone.RETAIL)
            c.execute(insert(ledger_inbox), {"event": "{}"})
            assert c.execute(select(ledger_inbox.c.event)).scalars().all() == ["{}"]
    finally:
        engine.dispose()


@pytest.fixture
def throwaway(postgres_server: str) -> Iterator[str]:
    with scratch_database(postgres_server, "forvalg_zones") as url:
        yield url


def test_the_zones_migration_runs_down_and_up_again(throwaway: str) -> None:
    """Down: the tables back in public with their rows, no policies, no zone privileges,
    no schemas; the roles stay (other databases share them). Up again: as before."""
    engine = make_engine(throwaway)
    names = {"t": list(metadata.tables), "z": [z.value for z in Zone]}
    try:
        upgrade(engine)
        with engine.begin() as c:
            c.execute(
                insert(operators),
                {"id": A, "name": A, "csc": "1501", "agreement_active": True, "created_at": T0},
            )
        downgrade(engine, "0005")
        with engine.connect() as c:
            tables = "FROM pg_class c WHERE relname = ANY(:t) AND relkind = 'r'"
            where = "SELECT DISTINCT relnamespace::regnamespace::text " + tables
            assert column(c, where, names) == ["public"]
            assert column(c, "SELECT bool_or(relrowsecurity) " + tables, names) == [False]
            assert column(c, "SELECT count(*) FROM pg_policies") == [0]
            held = (
                "SELECT count(*) FROM pg_class c, unnest(CAST(:z AS text[])) AS z "
                "WHERE relkind = 'r' AND relname = ANY(:t) "
                "AND has_table_privilege(z, c.oid, 'SELECT, INSERT, UPDATE, DELETE') "
                "OR relkind = 'S' AND has_sequence_privilege(z, c.oid, 'USAGE, SELECT, UPDATE')"
            )
            assert column(c, held, names) == [0]
            schemas = "SELECT nspname FROM pg_namespace WHERE nspname = ANY(:z)"
            assert column(c, schemas, names) == []
            roles = "SELECT rolname FROM pg_roles WHERE rolname = ANY(:z) ORDER BY 1"
            assert column(c, roles, names) == sorted(names["z"])
            assert column(c, "SELECT id FROM operators") == [A]
        upgrade(engine)
        assert differences(engine) == []
        with connected_as(throwaway, Zone.API) as api, api.connect() as c:
            as_operator(c, A)
            assert column(c, "SELECT id FROM operators") == [A]
            refused(c, f"SELECT * FROM {qualified('ledger_entries')}")
    finally:
        engine.dispose()


def test_a_table_outside_its_zone_is_a_difference(throwaway: str) -> None:
    """The head comparison sees schemas: a table left in public is caught."""
    engine = make_engine(throwaway)
    try:
        upgrade(engine)
        with engine.begin() as c:
            c.execute(text(f"ALTER TABLE {qualified('lines')} SET SCHEMA public"))
        found = differences(engine)
        assert {(d[0], d[1].schema, d[1].name) for d in found if d[0].endswith("_table")} == {
            ("add_table", Zone.WHOLESALE, "lines"),
            ("remove_table", None, "lines"),
        }
    finally:
        engine.dispose()
