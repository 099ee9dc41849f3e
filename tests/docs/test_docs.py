"""Docs that tests keep true: the CLI page, the reason codes, the operator API page,
the database zones' privilege matrix."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer.main

from forvalg.api.app import create_app
from forvalg.cli.main import create_cli
from forvalg.domain.reasons import DESCRIPTIONS, ReasonCode
from forvalg.store.zones import GRANTS, OWN_ROWS, PLACEMENT, ZONE_ROWS, Privilege, Zone

DOCS = Path(__file__).parents[2] / "docs"


def _commands(command: Any, path: list[str]) -> Iterator[tuple[str, Any]]:
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _commands(sub, [*path, name])
    else:
        yield " ".join(["forvalg", *path]), command


def test_every_command_is_documented_and_every_documented_command_exists() -> None:
    commands = dict(_commands(typer.main.get_command(create_cli()), []))
    documented = set(re.findall(r"^### (forvalg[a-z -]*)$", (DOCS / "cli.md").read_text(), re.M))
    assert documented == set(commands)
    for name, command in commands.items():
        assert (command.help or "").strip(), f"{name} has no help text"


def test_every_reason_code_is_documented_with_its_description() -> None:
    text = (DOCS / "REASON-CODES.md").read_text()
    rows = dict(re.findall(r"^\| `([A-Z_]+)` \| (.+) \|$", text, re.M))
    assert set(rows) == {c.value for c in ReasonCode}
    for code in ReasonCode:
        assert rows[code.value] == DESCRIPTIONS[code]


def test_every_route_has_a_summary_and_is_in_the_operator_api_page(services: Any) -> None:
    schema = create_app(services).openapi()
    text = (DOCS / "OPERATOR-API.md").read_text()
    operations = [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]
    assert len(operations) >= 6
    for method, path, operation in operations:
        assert operation.get("summary"), f"{method} {path} has no summary"
        assert f"`{method} {path}`" in text, f"{method} {path} is not on OPERATOR-API.md"


def test_the_database_zones_matrix_in_security_md_is_the_one_granted() -> None:
    text = (DOCS / "SECURITY.md").read_text()
    section = text.split("## Database zones (PostgreSQL)")[1].split("\n## ")[0]
    header = re.search(r"^\| table \| schema \|(.+)\|$", section, re.M)
    assert header is not None
    zones = [Zone(name) for name in re.findall(r"`(forvalg_\w+)`", header.group(1))]
    assert zones == list(Zone)
    rows = re.findall(r"^\| `(\w+)` \| `(\w+)` \|(.+)\|$", section, re.M)
    assert sorted(table for table, _, _ in rows) == sorted(PLACEMENT)
    for table, schema, cells in rows:
        assert PLACEMENT[table] == schema, table
        for zone, cell in zip(zones, cells.split("|"), strict=True):
            granted = GRANTS[zone].get(table, frozenset())
            privileges = re.sub(r"\([^)]*\)", "", cell)
            documented = [] if cell.strip() == "–" else privileges.split()
            assert documented == [p.value for p in Privilege if p in granted], (table, zone)
            own = zone is Zone.API and table in OWN_ROWS and bool(granted)
            assert ("(own rows)" in cell) == own, (table, zone, cell)
            some = zone in ZONE_ROWS.get(table, {}) and bool(granted)
            assert ("(reported or closed)" in cell) == some, (table, zone, cell)
