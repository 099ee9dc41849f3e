"""Alembic migrations, run programmatically by `forvalg init` and the tests.

Alembic is imported where a migration runs, not with this module: every command line
start imports the bootstrap, and only `forvalg init` migrates (Alembic costs most of a
second to import)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, MetaData, Table, create_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.schema import SchemaConst

from forvalg.store.tables import metadata
from forvalg.store.zones import PLACEMENT, Zone

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def differences(engine: Engine) -> list[Any]:
    """What autogenerate would change to make the database match the declared tables;
    empty when the migrations built exactly what the code declares.

    On PostgreSQL each table must be in its zone's schema (store/zones.py), and `public`
    is compared too: a table left behind there, or in the wrong schema, is a difference.
    The comparison connects with `public` alone on its search path, because reflection
    names a schema (of a table, or of the table a foreign key refers to) only when it
    is off the search path."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    if engine.dialect.name != "postgresql":
        with engine.connect() as connection:
            found: list[Any] = compare_metadata(MigrationContext.configure(connection), metadata)
            return found
    schemas = {None, "public", *Zone}

    def ours(name: str | None, type_: str, _parents: Any) -> bool:
        return type_ != "schema" or name in schemas

    plain = create_engine(
        engine.url, connect_args={"options": "-c search_path=public"}, poolclass=NullPool
    )
    try:
        with plain.connect() as connection:
            options = {"include_schemas": True, "include_name": ours}
            context = MigrationContext.configure(connection, opts=options)
            placed: list[Any] = compare_metadata(context, _placed(metadata))
            return placed
    finally:
        plain.dispose()


def _placed(declared: MetaData) -> MetaData:
    """A copy of `declared` with every table in its schema, as PostgreSQL holds them:
    what the schema is compared against. A table not in `PLACEMENT` stays unqualified."""
    # Indexes were named while their tables were in public; moving them kept the names.
    convention: dict[str, Any] = dict(declared.naming_convention)
    convention["column_0_label"] = _unqualified_label
    placed = MetaData(naming_convention=convention)
    for table in declared.sorted_tables:
        table.to_metadata(
            placed,
            schema=PLACEMENT.get(table.name, SchemaConst.RETAIN_SCHEMA),
            referred_schema_fn=lambda _t, _s, fk, _r: PLACEMENT.get(fk.referred_table.name),
        )
    return placed


def _unqualified_label(index: Any, table: Table) -> str:
    return f"{table.name}_{next(iter(index.columns)).name}"
