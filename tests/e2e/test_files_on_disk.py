"""What forvalg writes is its owner's only (docs/SECURITY.md, L21): a full small demo
writes every kind of file the commands make (lines, CDRs, rated calls, rejects,
statements, findings, the report, an evidence bundle, the ledger export, keys, the
SQLite database), and none of it, file or folder, is readable by the group or others.
`FORVALG_UMASK=027` lets the group read; a bad value is one line naming the variable."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.e2e.helpers import Cli


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("demo-files")
    Cli(cwd).ok("demo", "--small", "--out", "out", timeout=600)
    return cwd / "out"


def _modes(root: Path) -> dict[str, int]:
    paths = [root, *root.rglob("*")]
    return {str(p.relative_to(root.parent)): stat.S_IMODE(p.lstat().st_mode) for p in paths}


def test_a_demo_writes_nothing_the_group_or_others_can_read(demo: Path) -> None:
    modes = _modes(demo)
    kinds = {Path(name).suffix for name in modes}
    assert {".db", ".csv", ".parquet", ".json", ".html", ".zip", ".key"} <= kinds, kinds
    assert len(modes) > 20
    assert {name: oct(mode) for name, mode in modes.items() if mode & 0o077} == {}


def test_the_umask_is_a_setting(demo: Path) -> None:
    cli = Cli(demo.parent).with_env(
        FORVALG_DATABASE_URL=f"sqlite:///{demo / 'forvalg.db'}",
        FORVALG_KEY_DIR=str(demo / "keys"),
    )
    cli.with_env(FORVALG_UMASK="027").ok("detect", "--out", "shared/findings.json")
    assert stat.S_IMODE((demo.parent / "shared" / "findings.json").stat().st_mode) == 0o640
    assert stat.S_IMODE((demo.parent / "shared").stat().st_mode) == 0o750
    bad = cli.with_env(FORVALG_UMASK="rw-r").fails("detect", "--out", "f.json")
    assert bad.error_line == (
        "forvalg: FORVALG_UMASK='rw-r': an octal umask from 000 to 777, e.g. 027"
    )
    assert not (demo.parent / "f.json").exists()
