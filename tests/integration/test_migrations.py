"""The migrations build exactly the tables the code declares, and run down and up again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect

from forvalg.store.engine import make_engine
from forvalg.store.migrate import differences, downgrade, upgrade
from forvalg.store.tables import metadata

from ..conftest import scratch_database


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with scratch_database(request.getfixturevalue("postgres_server"), "forvalg_migrations") as url:
        yield url


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
