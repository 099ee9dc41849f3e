"""Every command and sub-command answers --help with a description (INTERFACES.md §1)."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .helpers import Cli, Result

# command path -> names its help must show (the contract's command and option names)
COMMANDS: dict[tuple[str, ...], tuple[str, ...]] = {
    (): ("init", "lines", "operators", "orders", "worker", "serve", "demo", "canary", "detect"),
    ("init",): (),
    ("lines",): ("import",),
    ("lines", "import"): ("file",),
    ("operators",): ("add", "list", "new-key", "revoke-key", "agreement"),
    ("operators", "add"): ("--id", "--name", "--csc"),
    ("operators", "list"): (),
    ("operators", "new-key"): ("--id",),
    ("operators", "revoke-key"): ("--id", "--key-id"),
    ("operators", "agreement"): ("--id", "--active", "--suspended"),
    ("orders",): ("process",),
    ("orders", "process"): ("--as-of",),
    ("worker",): ("--once", "--interval"),
    ("serve",): ("--host", "--port"),
    ("demo",): ("--out", "--lines", "--days", "--orders-per-day", "--seed"),
    ("routing",): ("versions", "export"),
    ("routing", "versions"): (),
    ("routing", "export"): ("--out", "--version", "--since", "--gateway", "--sip-domain"),
    ("canary",): ("add",),
    ("canary", "add"): ("--count", "--operator"),
    ("detect",): ("--out", "--engine", "--min-severity"),
}


@pytest.fixture(scope="module")
def helps(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, ...], Result]:
    """Every --help, run once and side by side (each start of the executable takes a second)."""
    cwd = tmp_path_factory.mktemp("help")
    cli = Cli(cwd)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(
            zip(COMMANDS, pool.map(lambda c: cli.run(*c, "--help"), COMMANDS), strict=True)
        )
    results[("created",)] = Result((), 0, "\n".join(p.name for p in cwd.iterdir()), "")
    return results


def description(help_text: str) -> str:
    """The prose between the usage line and the first box of arguments, options or commands."""
    lines = help_text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("Usage:"))
    prose = []
    for line in lines[start + 1 :]:
        if line.lstrip().startswith("╭"):
            break
        prose.append(line.strip())
    return " ".join(p for p in prose if p)


@pytest.mark.parametrize("command", list(COMMANDS), ids=lambda c: " ".join(c) or "forvalg")
def test_help_exits_zero_and_describes_the_command(
    helps: dict[tuple[str, ...], Result], command: tuple[str, ...]
) -> None:
    result = helps[command]
    assert result.returncode == 0, str(result)
    assert result.stderr == "", str(result)
    assert " ".join(("Usage: forvalg", *command)) in result.stdout, str(result)
    words = description(result.stdout).split()
    assert len(words) >= 2, f"no description in the help of {command}\n{result}"
    text = result.stdout.lower()
    for name in COMMANDS[command]:
        assert name.lower() in text, f"{name} missing from the help of {command}\n{result}"


def test_help_creates_nothing(helps: dict[tuple[str, ...], Result]) -> None:
    """--help works in any directory and leaves no database or key behind."""
    assert helps[("created",)].stdout == ""


def test_help_of_subcommands_is_listed_with_their_descriptions(
    helps: dict[tuple[str, ...], Result],
) -> None:
    """A group's help shows each sub-command with the first words of that command's own help."""
    for command, names in COMMANDS.items():
        if len(command) != 1 or not names or command == ("worker",):
            continue
        for name in names:
            if name.startswith("-") or (*command, name) not in helps:
                continue
            own = description(helps[(*command, name)].stdout).split()[:3]
            assert " ".join(own) in helps[command].stdout, (command, name)


def test_unknown_command_fails(tmp_path: Path) -> None:
    result = Cli(tmp_path).run("frobnicate")
    assert result.returncode != 0
    assert "frobnicate" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_command_does_not_import_the_statistics_it_does_not_run(tmp_path: Path) -> None:
    """scipy takes a second or more to import, Alembic most of one; only a detection run
    needs the one and only `forvalg init` the other, so the command line (every `forvalg`
    start) must import neither (domain/statistics.py, store/migrate.py)."""
    probe = (
        "import sys, forvalg.cli.main\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('scipy', 'alembic')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", probe],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
