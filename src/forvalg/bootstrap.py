"""Wiring: the one place that builds engines, the wall and the services from settings.

Nothing happens at import time; `forvalg init` calls `initialise`, every entry point
(CLI, API, simulator, tests) calls `bootstrap`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, make_url, text
from sqlalchemy.exc import SQLAlchemyError

from forvalg.domain.clock import Clock, SystemClock
from forvalg.domain.validation import OrderRules
from forvalg.settings import Settings
from forvalg.store.engine import make_engine, make_sessions
from forvalg.store.migrate import upgrade
from forvalg.wall import Wall
from forvalg.wall.credentials import Authenticator
from forvalg.wall.cursors import Cursors
from forvalg.wall.pseudonyms import Pseudonymiser
from forvalg.wholesale.events import EventFeed
from forvalg.wholesale.ids import new_order_id
from forvalg.wholesale.operators import OperatorAdmin
from forvalg.wholesale.orders import OrderDesk
from forvalg.wholesale.processing import OrderProcessor

PSEUDONYM_KEY_FILE = "pseudonym.key"


class NotInitialised(Exception):
    pass


class DatabaseUnavailable(Exception):
    """The database cannot be reached or is not initialised; the message says which."""


@dataclass
class Services:
    settings: Settings
    engine: Engine
    clock: Clock
    rules: OrderRules
    wall: Wall
    authenticator: Authenticator
    desk: OrderDesk
    processor: OrderProcessor
    feed: EventFeed
    operators: OperatorAdmin
    cursors: Cursors

    def close(self) -> None:
        self.engine.dispose()

    def check(self) -> None:
        """Fail early, with one clear message, if the database is unusable."""
        _check(self.engine)


def initialise(settings: Settings) -> list[str]:
    """Create or upgrade the database and create missing key files; says what it did."""
    done = []
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
    except SQLAlchemyError as exc:
        where = _safe_url(settings.database_url)
        raise DatabaseUnavailable(f"{where}: {_one_line(exc)}") from None
    finally:
        engine.dispose()
    done.append(f"database ready: {_safe_url(settings.database_url)}")
    key_path = settings.key_dir / PSEUDONYM_KEY_FILE
    if key_path.exists():
        done.append(f"pseudonym key kept: {key_path}")
    else:
        settings.key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        done.append(f"pseudonym key created: {key_path} (mode 0600)")
    return done


def read_pseudonym_key(settings: Settings) -> bytes:
    path = settings.key_dir / PSEUDONYM_KEY_FILE
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        raise NotInitialised(f"no pseudonym key at {path}: run `forvalg init` first") from None


def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    ids: Callable[[datetime], str] = new_order_id,
    pseudonym_key: bytes | None = None,
) -> Services:
    engine = make_engine(settings.database_url)
    sessions = make_sessions(engine)
    clock = clock or SystemClock()
    rules = settings.order_rules
    key = pseudonym_key if pseudonym_key is not None else read_pseudonym_key(settings)
    wall = Wall(sessions=sessions, pseudonymiser=Pseudonymiser(key), clock=clock)
    return Services(
        settings=settings,
        engine=engine,
        clock=clock,
        rules=rules,
        wall=wall,
        authenticator=Authenticator(wall=wall, sessions=sessions),
        desk=OrderDesk(wall=wall, rules=rules, clock=clock, ids=ids),
        processor=OrderProcessor(wall=wall, rules=rules),
        feed=EventFeed(wall),
        operators=OperatorAdmin(wall),
        cursors=Cursors(key),
    )


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _one_line(exc: SQLAlchemyError) -> str:
    return " ".join(str(getattr(exc, "orig", None) or exc).split())


def _check(engine: Engine) -> None:
    where = engine.url.render_as_string(hide_password=True)
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and not Path(database).exists():
        raise DatabaseUnavailable(f"{where}: no such database; run `forvalg init`")
    try:
        with engine.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError as exc:
        hint = "(run `forvalg init` first?)"
        raise DatabaseUnavailable(f"{where}: {_one_line(exc)} {hint}") from None
    if version is None:
        raise DatabaseUnavailable(f"{where}: not initialised; run `forvalg init`")
