"""Engines and sessions. Nothing connects at import time; `make_engine` is called by bootstrap."""

from __future__ import annotations

from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from forvalg.store.zones import SEARCH_PATH


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine for SQLite (WAL, immediate transactions) or PostgreSQL (psycopg 3).

    On PostgreSQL every connection's search path names the zones' schemas, so the
    application's unqualified table names resolve wherever the tables live (in `public`
    before migration 0005, in the zones' schemas after it; store/zones.py)."""
    url = make_url(url)
    # Never log or raise with bound parameters: they hold subscribers' numbers and the
    # one-time codes in the messages to them (cli/logs.py, docs/SECURITY.md).
    kwargs.setdefault("hide_parameters", True)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _sqlite_pragmas(engine)
        return engine
    # Options given in the URL are kept; ours come after, so the search path is ours.
    given = url.query.get("options", ())
    options = [given] if isinstance(given, str) else list(given)
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args["options"] = " ".join([*options, f"-c search_path={SEARCH_PATH}"])
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 20)
    # No pre-ping (a round trip per checkout); connections are recycled hourly instead,
    # and one that died is invalidated by SQLAlchemy on its first error.
    kwargs.setdefault("pool_recycle", 3600)
    return create_engine(url, connect_args=connect_args, **kwargs)


def _sqlite_pragmas(engine: Engine) -> None:
    """Every SQLite transaction takes the write lock up front: every request writes the log."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let us issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit (and so a ledger entry) survives power loss, not only a crash.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)
