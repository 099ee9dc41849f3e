"""Database zones on PostgreSQL: a schema and a role per zone, GRANTs, row-level security.

The wall decides every access in Python; this is the second line, for when that code is
wrong or bypassed (DESIGN.md, "The wall"). Each zone is a role that may touch only the
tables its work needs, the API role sees only the current operator's rows and the
regulator only the incidents reported to it, so raw SQL from the wrong zone finds
nothing. Everything here is data (`PLACEMENT`, `GRANTS`, `OWN_ROWS`, `ZONE_ROWS`) so
that migrations, tests and docs read one definition. A database gets the matrix as it is
when a migration `place`s its tables: a change to it needs a migration that places the
tables again (`place` is idempotent).

The application logs in as the tables' owner and `enter`s a zone per transaction
(`SET LOCAL ROLE`): that guards against the application's own mistakes, not against
SQL injection, which could `RESET ROLE` or set `forvalg.operator`. A process that must
hold less logs in as a zone role itself (the tests do).

SQLite has no roles, schemas or row-level security: the embedded default relies on the
wall alone, and every function here does nothing there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from forvalg.domain.incidents import REGULATOR_STATES


class Zone(StrEnum):
    """A zone's role; its schema has the same name."""

    API = "forvalg_api"  # CPS operators' API requests
    WHOLESALE = "forvalg_wholesale"  # wholesale staff, the order processor, operator admin
    BILLING = "forvalg_billing"  # rating and settlement
    COMPLIANCE = "forvalg_compliance"  # compliance staff, the ledger sequencer, reports
    REGULATOR = "forvalg_regulator"  # the regulator's inspections and inquiries
    RETAIL = "forvalg_retail"  # the incumbent's retail units: no CPS data, ever


class Privilege(StrEnum):
    SELECT = "SELECT"
    INSERT = "INSERT"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


INCIDENT_TABLES: Final = ("incidents", "incident_events", "incident_evidence")

# Where each table lives. Billing holds the settlement statements; regulator and retail
# hold nothing (retail's contacts live with compliance, which they are for). Later
# migrations `place` the tables they create.
PLACEMENT: Final[Mapping[str, Zone]] = {
    **dict.fromkeys(
        (
            *("operators", "lines", "orders", "order_history", "cancel_refusals"),
            "preselections",
            *("operator_events", "customer_letters", "work_items", "work_item_lines"),
            *("routing_versions", "routing_buckets"),
        ),
        Zone.WHOLESALE,
    ),
    "operator_api_keys": Zone.API,
    **dict.fromkeys(
        (
            *("ledger_inbox", "ledger_entries", "ledger_heads", "ledger_checkpoints"),
            *("ledger_subjects", "ledger_subject_sets"),
            *("staff_users", "compliance_alerts", "subscriber_codes", "subscriber_messages"),
        ),
        Zone.COMPLIANCE,
    ),
    "statements": Zone.BILLING,
    # The retail CRM's contacts: compliance's copy, written by retail (docs/CONTACTS.md).
    "retail_contacts": Zone.COMPLIANCE,
    # Honey-lines: compliance's secret (docs/DETECTION.md).
    "honey_lines": Zone.COMPLIANCE,
    # Incidents opened from findings, their history and evidence (docs/INCIDENTS.md).
    **dict.fromkeys(INCIDENT_TABLES, Zone.COMPLIANCE),
    # The answers to regulator inquiries: evidence bundles (docs/INQUIRIES.md).
    "inquiry_answers": Zone.COMPLIANCE,
}

# Every connection's search path (make_engine), so unqualified names resolve wherever
# the tables live, before and after the move. A role skips schemas it may not use.
SEARCH_PATH: Final = ",".join([*Zone, "public"])

_S = frozenset({Privilege.SELECT})
_I = frozenset({Privilege.INSERT})
_SI = _S | _I
_SIU = _SI | {Privilege.UPDATE}
# Every zone may leave a record: its decisions (and refusals), the members of a bulk
# decision's subjects (for the subject index), and the alerts they raise.
_RECORD = {"ledger_inbox": _I, "ledger_subject_sets": _I, "compliance_alerts": _I}
_LEDGER = ("ledger_entries", "ledger_heads", "ledger_checkpoints")
_WORK = {"work_items": _SI, "work_item_lines": _SI}
# Staff who open work items also close them (UPDATE closed_at).
_OWN_WORK = {"work_items": _SIU, "work_item_lines": _SI}

# The privilege matrix: zone -> table -> privileges; what is not here is refused.
# DELETE is granted only where the code deletes: the sequencer empties the inbox.
GRANTS: Final[Mapping[Zone, Mapping[str, frozenset[Privilege]]]] = {
    Zone.API: {
        # UPDATE on its own rows: an operator's cancel locks its order (FOR UPDATE).
        "orders": _SIU,
        "order_history": _SI,
        "cancel_refusals": _SI,  # its own cancels refused (row-level security)
        "operator_events": _S,
        "lines": _S,
        "operators": _S,
        "statements": _S,  # its own statements (row-level security)
        "honey_lines": _S,  # to hide the decoy orders from the operator they name
        **_WORK,
        **_RECORD,
    },
    Zone.WHOLESALE: {
        **{t: _SIU for t, z in PLACEMENT.items() if z is Zone.WHOLESALE},
        **{"operator_api_keys": _SIU, **_RECORD},
        "routing_versions": _SI,  # insert-only (and refused by trigger)
    },
    Zone.BILLING: {
        **{"operators": _S, "preselections": _S, "orders": _S, "routing_versions": _S},
        **{"statements": _SI, **_OWN_WORK, **_RECORD},
    },
    Zone.COMPLIANCE: {
        **dict.fromkeys(PLACEMENT, _S),
        **dict.fromkeys((*_LEDGER, "ledger_subjects", "ledger_subject_sets"), _SI),
        "ledger_inbox": _SI | {Privilege.DELETE},
        **dict.fromkeys(
            ("staff_users", "compliance_alerts", "subscriber_codes", "subscriber_messages"), _SIU
        ),
        "honey_lines": _SI,
        **dict.fromkeys(_WORK, _SIU),
        # Incidents move (UPDATE of the state); their history and evidence only grow.
        "incidents": _SIU,
        "incident_events": _SI,
        "incident_evidence": _SI,
        "inquiry_answers": _SI,  # an answer is recorded once, never changed
    },
    # The regulator reads the incidents reported to it or closed (row-level security:
    # ZONE_ROWS), with their history and evidence, and the answers to its inquiries.
    Zone.REGULATOR: {
        **dict.fromkeys(_LEDGER, _S),
        **dict.fromkeys(INCIDENT_TABLES, _S),
        "inquiry_answers": _S,
        **_OWN_WORK,
        **_RECORD,
    },
    # Retail writes its CRM's contacts and reads nothing, not even those back.
    Zone.RETAIL: {"retail_contacts": _I, **_RECORD},
}

# Row-level security: the rows the API role may see and write, by the operator `enter`
# names. No operator set (or an empty one) matches nothing.
CURRENT_OPERATOR: Final = "NULLIF(current_setting('forvalg.operator', true), '')"
_MINE = f"operator_id = {CURRENT_OPERATOR}"


def _through(column: str, table: str) -> str:
    """Rows whose `column` names one of the operator's rows of `table`."""
    return f"{column} IN (SELECT id FROM {PLACEMENT[table]}.{table} WHERE {_MINE})"  # noqa: S608


OWN_ROWS: Final[Mapping[str, str]] = {
    "orders": _MINE,
    "order_history": _through("order_id", "orders"),
    "cancel_refusals": _through("order_id", "orders"),
    "operator_events": _MINE,
    "operators": f"id = {CURRENT_OPERATOR}",
    "work_items": _MINE,
    "work_item_lines": _through("work_item_id", "work_items"),
    "statements": _MINE,
}
_OWN_POLICY, _ALL_POLICY = "zone_api_own_rows", "zone_staff_all_rows"

# Row-level security for a staff zone that may read only some rows of a table: the
# regulator sees an incident once it is reported or closed (`REGULATOR_STATES`), and
# that incident's events and evidence. Read-only filters:
# every zone they name holds SELECT alone on the table.
_SHOWN = f"state IN ({', '.join(repr(s.value) for s in sorted(REGULATOR_STATES))})"
_SHOWN_INCIDENT = (
    f"incident_id IN (SELECT id FROM {PLACEMENT['incidents']}.incidents WHERE {_SHOWN})"  # noqa: S608
)
ZONE_ROWS: Final[Mapping[str, Mapping[Zone, str]]] = {
    "incidents": {Zone.REGULATOR: _SHOWN},
    "incident_events": {Zone.REGULATOR: _SHOWN_INCIDENT},
    "incident_evidence": {Zone.REGULATOR: _SHOWN_INCIDENT},
}

_ENTER = text(
    "SELECT set_config('role', :role, true), set_config('forvalg.operator', :operator, true)"
)


def enter(db: Connection | Session, zone: Zone, *, operator: str | None = None) -> None:
    """Act as `zone` (and, for the API, as `operator`) until the transaction ends: one
    statement, transaction-local, the same as `SET LOCAL ROLE`. Nothing on SQLite."""
    bind = db if isinstance(db, Connection) else db.get_bind()
    if bind.dialect.name == "postgresql":
        db.execute(_ENTER, {"role": zone.value, "operator": operator or ""})


def privileges(table: str) -> dict[Zone, frozenset[Privilege]]:
    """Who may do what on `table`: the matrix read by table."""
    return {zone: grants[table] for zone, grants in GRANTS.items() if table in grants}


def create_zones(bind: Connection) -> None:
    """The six roles (cluster-wide, so only if missing; never dropped), membership for
    the login running the migration so it can `SET ROLE`, and the six schemas."""
    if bind.dialect.name != "postgresql":
        return
    for zone in Zone:
        role = _ident(zone)
        # Databases sharing the cluster may be migrated at the same moment: whoever
        # loses the race finds the role (or the membership) there, which is the point.
        for statement in (
            f"IF to_regrole('{role}') IS NULL THEN CREATE ROLE {role} LOGIN; END IF;",
            f"GRANT {role} TO CURRENT_USER;",  # a member already: a notice, no error
        ):
            _run(
                bind,
                f"DO $$ BEGIN {statement} "
                "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
            )
        _run(bind, f"CREATE SCHEMA IF NOT EXISTS {role}")


def place(bind: Connection, table: str, schema: Zone) -> None:
    """Move `table` into `schema` and give it exactly the matrix's privileges and row
    policies: only the owner and the zones granted may touch it, PUBLIC nothing. Later
    migrations call it for each table they create. Idempotent."""
    if bind.dialect.name != "postgresql":
        return
    current = bind.execute(
        text(
            "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.oid = to_regclass(:t)"
        ),
        {"t": table},
    ).scalar()
    if current is None:
        raise LookupError(f"no table {table!r} on the search path to place")
    if current != schema:
        _run(bind, f"ALTER TABLE {_ident(current)}.{_ident(table)} SET SCHEMA {schema}")
    name = _clear(bind, table, schema, "PUBLIC")
    granted = privileges(table)
    for zone, privs in granted.items():
        _run(bind, f"GRANT {', '.join(sorted(privs))} ON TABLE {name} TO {zone}")
        _run(bind, f"GRANT USAGE ON SCHEMA {schema} TO {zone}")
        if Privilege.INSERT in privs:
            for sequence in _owned_sequences(bind, name):
                _run(bind, f"GRANT USAGE ON SEQUENCE {sequence} TO {zone}")
    own = OWN_ROWS.get(table)
    filtered = {z: rows for z, rows in ZONE_ROWS.get(table, {}).items() if z in granted}
    if own is not None or filtered:
        # The other zones see every row their grants allow: RLS would otherwise hide them all.
        staff = ", ".join(z for z in granted if z is not Zone.API and z not in filtered)
        _run(bind, f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY")
        if own is not None:
            _run(
                bind,
                f"CREATE POLICY {_OWN_POLICY} ON {name} TO {Zone.API} USING ({own}) "
                f"WITH CHECK ({own})",
            )
        for zone, rows in filtered.items():
            if granted[zone] != _S:
                raise ValueError(f"{zone} may only read {table}: its row filter is read-only")
            _run(
                bind,
                f"CREATE POLICY {_zone_policy(zone)} ON {name} FOR SELECT TO {zone} USING ({rows})",
            )
        if staff:
            _run(bind, f"CREATE POLICY {_ALL_POLICY} ON {name} TO {staff} USING (true)")


def _zone_policy(zone: Zone) -> str:
    return f"zone_{_ident(zone.value.removeprefix('forvalg_'))}_some_rows"


def unplace(bind: Connection, table: str) -> None:
    """Undo `place`: no policies, no zone privileges, back in `public`."""
    if bind.dialect.name == "postgresql":
        name = _clear(bind, table, PLACEMENT[table])
        _run(bind, f"ALTER TABLE {name} SET SCHEMA public")


def drop_schemas(bind: Connection) -> None:
    """Drop the (by now empty) schemas; the roles stay, other databases share them."""
    if bind.dialect.name == "postgresql":
        _run(bind, *(f"DROP SCHEMA IF EXISTS {_ident(zone)} RESTRICT" for zone in Zone))


def _owned_sequences(bind: Connection, table: str) -> list[str]:
    """The sequences of the table's serial columns (they move with it), qualified."""
    rows = bind.execute(
        text(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(s.relname) FROM pg_depend d "
            "JOIN pg_class s ON s.oid = d.objid JOIN pg_namespace n ON n.oid = s.relnamespace "
            "WHERE d.refobjid = CAST(:t AS regclass) AND s.relkind = 'S' "
            "AND d.deptype IN ('a', 'i') ORDER BY 1"
        ),
        {"t": table},
    )
    return [r[0] for r in rows]


def _clear(bind: Connection, table: str, schema: Zone, *also: str) -> str:
    """Take every zone's privileges (and `also`'s) and row policies off the table and
    its sequences; its qualified name."""
    name = f"{_ident(schema)}.{_ident(table)}"
    zones = ", ".join([*also, *Zone])
    _run(
        bind,
        *(
            f"DROP POLICY IF EXISTS {p} ON {name}"
            for p in (_OWN_POLICY, _ALL_POLICY, *map(_zone_policy, Zone))
        ),
        f"ALTER TABLE {name} DISABLE ROW LEVEL SECURITY",
        f"REVOKE ALL ON TABLE {name} FROM {zones}",
        *(f"REVOKE ALL ON SEQUENCE {s} FROM {zones}" for s in _owned_sequences(bind, name)),
    )
    return name


def _run(bind: Connection, *statements: str) -> None:
    for statement in statements:
        bind.execute(text(statement))


def _ident(name: str) -> str:
    """A name from this module's own constants, checked so it needs no quoting."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ValueError(f"not a plain SQL name: {name!r}")
    return name
