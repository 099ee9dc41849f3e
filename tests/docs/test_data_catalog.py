"""The data catalog is complete and true: every column the tables declare and the migrated
schema holds (SQLite and PostgreSQL, every schema) has a category, the catalog names
nothing else, docs/DATA-CATALOG.md shows exactly the catalog, and every category is used
or reserved for a reason."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, inspect, text

from forvalg.domain.categories import Category
from forvalg.store.engine import make_engine
from forvalg.store.tables import metadata
from forvalg.store.zones import PLACEMENT
from forvalg.wall import catalog

DOC = Path(__file__).parents[2] / "docs" / "DATA-CATALOG.md"
REFRESH = "python -m forvalg.wall.catalog --write docs/DATA-CATALOG.md"
NOT_APPLICATION = {"alembic_version"}

Columns = set[tuple[str, str]]


def catalogued() -> Columns:
    return {(t.name, c.name) for t in catalog.tables() for c in t.columns}


def differences(actual: Columns) -> str:
    missing = sorted(f"{t}.{c}" for t, c in actual - catalogued())
    stale = sorted(f"{t}.{c}" for t, c in catalogued() - actual)
    return f"not in the catalog: {missing}; in the catalog but not in the schema: {stale}"


def migrated_columns(connection: Connection) -> Columns:
    """Every column of every table and view in every non-system schema, named as the
    catalog names tables: bare in the default schema or in its zone's schema on
    PostgreSQL (store/zones.py), `schema.table` anywhere else."""
    inspector = inspect(connection)
    found: Columns = set()
    for schema in inspector.get_schema_names():
        if schema == "information_schema" or schema.startswith("pg_"):
            continue
        names = inspector.get_table_names(schema) + inspector.get_view_names(schema)
        if connection.dialect.name == "postgresql":
            names += inspector.get_materialized_view_names(schema)
        for name in names:
            if name in NOT_APPLICATION:
                continue
            home = (inspector.default_schema_name, PLACEMENT.get(name))
            qualified = name if schema in home else f"{schema}.{name}"
            found |= {(qualified, c["name"]) for c in inspector.get_columns(name, schema)}
    return found


# (a) The tables the code declares.


def test_every_declared_column_is_catalogued_and_the_catalog_names_nothing_else() -> None:
    declared = {(t.fullname, c.name) for t in metadata.tables.values() for c in t.columns}
    assert declared == catalogued(), differences(declared)


def test_the_catalog_names_each_table_and_column_once_and_describes_it() -> None:
    names = [t.name for t in catalog.tables()]
    assert len(names) == len(set(names))
    for table in catalog.tables():
        assert table.description.strip(), table.name
        columns = [c.name for c in table.columns]
        assert len(columns) == len(set(columns)), table.name
        for column in table.columns:
            assert column.description.strip(), f"{table.name}.{column.name}"
            assert "|" not in column.description + table.description


# (b) The schema the migrations actually build.


def test_every_migrated_column_is_catalogued_and_the_catalog_names_nothing_else(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            actual = migrated_columns(connection)
    finally:
        engine.dispose()
    assert actual == catalogued(), differences(actual)


def test_a_table_in_another_schema_is_seen(database_url: str) -> None:
    """Tables may later live in a schema per zone: the check above must look there too."""
    if database_url.startswith("sqlite"):
        # Plain pysqlite, without the application's BEGIN IMMEDIATE: ATTACH cannot run
        # inside a transaction.
        engine = create_engine(database_url)
        setup = ["ATTACH DATABASE ':memory:' AS zone_probe"]
    else:
        engine = make_engine(database_url)
        setup = ["CREATE SCHEMA zone_probe"]
    setup.append("CREATE TABLE zone_probe.contacts (contact_id VARCHAR(40))")
    try:
        with engine.connect() as connection:
            for statement in setup:
                connection.execute(text(statement))
            seen = migrated_columns(connection)
            connection.rollback()  # PostgreSQL: the schema is gone again
    finally:
        engine.dispose()
    assert ("zone_probe.contacts", "contact_id") in seen
    assert ("orders", "number") in seen


# (c) The page.


def test_the_page_shows_exactly_the_catalog() -> None:
    assert catalog.embedded(DOC.read_text(encoding="utf-8")) == catalog.render_markdown(), (
        f"docs/DATA-CATALOG.md is out of date: run `{REFRESH}`"
    )


def test_every_table_has_a_section_on_the_page() -> None:
    text = catalog.render_markdown()
    for table in catalog.tables():
        assert f"\n### `{table.name}`\n" in text
        for column in table.columns:
            assert f"| `{column.name}` | `{column.category}` | {column.description} |" in text


def test_the_refresh_command_prints_the_catalog() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "forvalg.wall.catalog"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert printed.stdout == catalog.render_markdown()
    assert printed.stderr == ""


def test_the_refresh_command_rewrites_only_the_block(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(f"# Intro\n\n{catalog.BEGIN}\nstale\n{catalog.END}\n\nOutro.\n")
    assert catalog.main(["--write", str(page)]) == 0
    assert page.read_text() == (
        f"# Intro\n\n{catalog.BEGIN}\n{catalog.render_markdown()}{catalog.END}\n\nOutro.\n"
    )


@pytest.mark.parametrize(
    "page",
    [
        "no markers\n",
        f"{catalog.BEGIN}\nonly a beginning\n",
        f"{catalog.END}\n{catalog.BEGIN}\nthe wrong way round\n",
        f"{catalog.BEGIN}\none\n{catalog.END}\n{catalog.BEGIN}\ntwo\n{catalog.END}\n",
        f"text {catalog.BEGIN}\nnot on a line of its own\n{catalog.END}\n",
    ],
)
def test_a_page_without_one_well_placed_block_is_refused(page: str) -> None:
    with pytest.raises(ValueError, match="catalog:begin"):
        catalog.embedded(page)


# (d) The categories.


def test_every_category_is_used_by_a_column_or_reserved_with_a_reason() -> None:
    used = {c.category for t in catalog.tables() for c in t.columns}
    reserved = set(catalog.RESERVED)
    unaccounted = set(Category) - used - reserved
    assert not unaccounted, f"neither used by a column nor reserved: {sorted(unaccounted)}"
    stale = used & reserved
    assert not stale, f"used by a column, so no longer reserved: {sorted(stale)}"
    for category, reason in catalog.RESERVED.items():
        assert len(reason.split()) >= 5, f"{category} is reserved without a reason"


def test_every_category_has_a_meaning() -> None:
    assert set(catalog.MEANINGS) == set(Category)
    assert all(meaning.strip() for meaning in catalog.MEANINGS.values())


# The lookups the wall uses.


def test_lookups_answer_from_the_catalog() -> None:
    assert catalog.category_of("orders", "number") is Category.ORDER
    assert catalog.category_of("lines", "number") is Category.SUBSCRIBER
    assert catalog.category_of("lines", "status") is Category.LINE
    assert catalog.categories_of("staff_users") == {Category.STAFF_USER, Category.CREDENTIAL}
    assert catalog.categories_of("staff_users", ["id", "role"]) == {Category.STAFF_USER}
    assert catalog.table("preselections").categories == {Category.ROUTING}


def test_an_uncatalogued_table_or_column_has_no_category() -> None:
    with pytest.raises(catalog.Uncatalogued, match=r"orders\.winback_score"):
        catalog.category_of("orders", "winback_score")
    with pytest.raises(catalog.Uncatalogued, match="retail_campaigns"):
        catalog.categories_of("retail_campaigns")
    with pytest.raises(catalog.Uncatalogued):
        catalog.categories_of("lines", ["number", "serving_operator"])


def test_the_line_inventory_reveals_nothing_competitor_derived() -> None:
    """DOMAIN.md: retail must not learn even whether a line has CPS. The inventory is the
    one table retail service may one day be granted part of, so none of it is `cps.*`."""
    assert not any(c.family == "cps" for c in catalog.categories_of("lines"))
