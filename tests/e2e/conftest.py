"""End-to-end fixtures: a user's working directory and the real `forvalg` executable."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import FORVALG, Cli, copy_initialised


@pytest.fixture(scope="session", autouse=True)
def _installed() -> None:
    assert FORVALG.is_file(), f"the console script is not installed at {FORVALG}"


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """`forvalg` in an empty directory with no FORVALG_* settings: the defaults apply."""
    return Cli(tmp_path)


@pytest.fixture(scope="session")
def initialised_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory after one real `forvalg init` (each start of the executable costs a second,
    so tests that need an initialised directory copy this one)."""
    directory = tmp_path_factory.mktemp("initialised")
    Cli(directory).ok("init")
    return directory


@pytest.fixture
def initialised(initialised_template: Path, tmp_path: Path) -> Cli:
    """`forvalg` in a directory where `forvalg init` has run (database and key, defaults)."""
    return copy_initialised(initialised_template, tmp_path)
