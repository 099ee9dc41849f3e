"""The migrations build exactly the tables the code declares, and run down and up again."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from forvalg.store.engine import make_engine
from forvalg.store.migrate import differences, downgrade, upgrade
from forvalg.store.tables import metadata


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server: str = request.getfixturevalue("postgres_server")
    name = f"forvalg_migrations_{uuid.uuid4().hex[:10]}"
    admin = make_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_head_matches_the_declared_tables(empty_database: str) -> None:
    engine = make_engine(empty_database)
    try:
        upgrade(engine)
        # On PostgreSQL each table in its zone's schema, and nothing left in public.
        assert differences(engine) == []
    finally:
        engine.dispose()


def test_downgrade_to_base_and_upgrade_again(empty_database: str) -> None:
    engine = make_engine(empty_database)
    try:
        upgrade(engine)
        downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= {t.name for t in metadata.sorted_tables}
    finally:
        engine.dispose()
