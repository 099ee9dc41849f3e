"""Bulk reads and writes: arrays and COPY on PostgreSQL, IN lists and executemany elsewhere.

The order processor writes several rows per order (history, notices, letters,
preselection periods). On PostgreSQL one INSERT per row, even pipelined, leaves the
server executing hundreds of thousands of statements; COPY streams them in one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import psycopg
import pyarrow as pa
from psycopg import sql
from sqlalchemy import JSON, ColumnElement, Connection, Table, any_, bindparam, insert, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from forvalg.store.zones import OWN_ROWS

# Below this many rows a plain executemany is as fast and simpler to reason about.
COPY_THRESHOLD = 50


def dialect_name(db: Session | Connection) -> str:
    return (db.dialect if isinstance(db, Connection) else db.get_bind().dialect).name


def among(
    db: Session | Connection, column: ColumnElement[Any], values: Sequence[Any]
) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL `= ANY(array)`, one parameter however many values
    (an IN list of 500 parameters costs psycopg more to convert than the query to run)."""
    if dialect_name(db) == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) into `table` in the caller's transaction."""
    if not rows:
        return
    if (
        session.get_bind().dialect.name != "postgresql"
        or len(rows) < COPY_THRESHOLD
        or _row_security(session, table)
    ):
        session.execute(insert(table), rows)
        return
    columns = list(rows[0])
    as_json = {c for c in columns if isinstance(table.c[c].type, JSON)}
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    dbapi = session.connection().connection.dbapi_connection
    assert isinstance(dbapi, psycopg.Connection)
    with dbapi.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([json.dumps(row[c]) if c in as_json else row[c] for c in columns])


def _row_security(session: Session, table: Table) -> bool:
    """Whether row policies apply to the current role on `table` (in a zone other than
    the owner's; store/zones.py): PostgreSQL refuses COPY FROM there."""
    if table.name not in OWN_ROWS:
        return False
    active = session.execute(text("SELECT row_security_active(:t)"), {"t": table.name})
    return bool(active.scalar())


def insert_values(
    db: Connection, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert plain value tuples straight through the driver: COPY on PostgreSQL,
    `executemany` on SQLite. For the ledger's batches, where SQLAlchemy's per-row
    parameter processing cost more than the database did."""
    if not rows:
        return
    dbapi = db.connection.dbapi_connection
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    if isinstance(dbapi, psycopg.Connection):
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table.name), names)
        with dbapi.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    cursor = dbapi.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(
            f'INSERT INTO "{table.name}" ({", ".join(columns)}) VALUES ({marks})',  # noqa: S608
            rows,
        )
    finally:
        cursor.close()


def arrow_table(rows: Sequence[Sequence[Any]], schema: pa.Schema) -> pa.Table:
    """Rows (tuples in `schema`'s column order) as an Arrow table of that schema."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(schema)
    return pa.table(
        [pa.array(col, f.type) for col, f in zip(columns, schema, strict=True)], schema=schema
    )
