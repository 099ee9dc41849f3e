"""SECURITY.md's threat model is held true: every leak path names a control that stops
or detects it and shows it working by a test or page that exists, every kind of leak
path the issue names is there (as a row, or honestly under "Not yet"), and the key
rotation section names the commands that exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SECURITY = ROOT / "docs" / "SECURITY.md"
NONE = {"", "—", "-", "none", "n/a"}
# The paths issue 8 asks the threat model to cover, and a word each row or "Not yet"
# item about it must contain.
REQUIRED = {
    "retail agent": "retail agent",
    "marketing analyst": "marketing analyst",
    "wholesale staff": "wholesale staff",
    "a DBA": "DBA",
    "a developer": "developer",
    "an operator probing another": "operator probing another",
    "a stolen key": "stolen API key",
    "a compromised process": "compromised process",
    "logs": "Logs",
    "backups": "Backups",
    "exports": "Exports",
    "the detection's own outputs": "detection's own outputs",
    "reports": "reports",
    "evidence bundles": "evidence bundles",
    "pseudonyms reversed by brute force": "brute force over the 8-digit number space",
    "counts in answers": "Counts in answers",
    "pagination": "Pagination",
    "error differences": "error differences",
    "timing side channels": "Timing side channels",
}
CITED_TEST = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")
CITED_PAGE = re.compile(r"\]\(([\w./-]+\.md)(?:#[\w-]+)?\)|`((?:docs/)?[A-Z][\w-]*\.md)`")


def _section(text: str, heading: str) -> str:
    start = text.index(f"\n## {heading}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def _rows() -> list[list[str]]:
    section = _section(SECURITY.read_text(), "Threat model: leak paths")
    rows = [line for line in section.splitlines() if re.match(r"\| L\d+ \|", line)]
    return [[cell.strip() for cell in row.strip().strip("|").split("|")] for row in rows]


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


def test_the_table_has_rows_of_six_cells_numbered_once() -> None:
    rows = _rows()
    assert len(rows) >= 15
    assert all(len(r) == 6 for r in rows), [r[0] for r in rows if len(r) != 6]
    numbers = [r[0] for r in rows]
    assert len(set(numbers)) == len(numbers)


def test_every_leak_path_names_a_control_that_stops_or_detects_it() -> None:
    for number, who, learns, stops, detects, _ in _rows():
        assert who, number
        assert learns, number
        assert stops.lower() not in NONE or detects.lower() not in NONE, (
            f"{number} names no control: list it under Not yet instead"
        )


def test_every_leak_path_is_shown_by_tests_that_exist() -> None:
    missing = []
    for number, *_, shown in _rows():
        cited = CITED_TEST.findall(shown)
        assert cited, f"{number} cites no test"
        for file, name in cited:
            path = ROOT / file
            if not path.is_file() or name not in _tests_in(path):
                missing.append(f"{number}: {file}::{name}")
    assert missing == []


def test_every_page_the_security_page_links_exists() -> None:
    text = SECURITY.read_text()
    for link, code in CITED_PAGE.findall(text):
        name = link or code
        found = [ROOT / "docs" / name, ROOT / name]
        assert any(p.is_file() for p in found), name


@pytest.mark.parametrize("path", sorted(REQUIRED))
def test_every_kind_of_leak_path_the_issue_names_is_covered(path: str) -> None:
    text = SECURITY.read_text()
    table = " ".join(r[1] for r in _rows()).lower()
    not_yet = _section(text, "Not yet (later issues)").lower()
    word = REQUIRED[path].lower()
    assert word in table or f"**{word}" in not_yet, f"no row and no Not yet item for {path}"


def test_the_rotation_commands_named_exist() -> None:
    from typer.main import get_command

    from forvalg.cli.main import create_cli

    root = get_command(create_cli())
    rotation = _section(SECURITY.read_text(), "Key rotation")
    named = set(re.findall(r"`forvalg ((?:[a-z-]+ )*[a-z-]+)(?: --[^`]*)?`", rotation))
    assert {"keys rotate-pseudonym", "keys rotate-web", "ledger rotate-key"} <= named
    for command in named:
        node = root
        for part in command.split():
            node = node.commands[part]  # type: ignore[attr-defined]
        assert node.help, command
