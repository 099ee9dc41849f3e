"""Running the real `forvalg` executable the way a user does, and looking at what it left."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORVALG = Path(sys.executable).parent / "forvalg"
HEADER = "number,postcode,line_type,status"


@dataclass(frozen=True)
class Result:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return (
            f"forvalg {' '.join(self.args)} -> exit {self.returncode}\n"
            f"--- stdout ---\n{self.stdout}--- stderr ---\n{self.stderr}"
        )

    @property
    def last_line(self) -> str:
        lines = self.stdout.splitlines()
        assert lines, f"no output on stdout\n{self}"
        return lines[-1]

    @property
    def error_line(self) -> str:
        """The one line on stderr (asserts there is exactly one, and nothing else)."""
        lines = self.stderr.splitlines()
        assert len(lines) == 1, f"expected exactly one line on stderr\n{self}"
        assert lines[0].strip(), f"the stderr line is blank\n{self}"
        return lines[0]


def user_environment(**overrides: str) -> dict[str, str]:
    """The caller's environment without any FORVALG_* setting or terminal width."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORVALG_") and k != "COLUMNS"}
    env.update(overrides)
    return env


class Cli:
    """`forvalg` run as a subprocess in one working directory with one environment."""

    def __init__(self, cwd: Path, env: dict[str, str] | None = None) -> None:
        self.cwd = cwd
        self.env = user_environment() if env is None else env

    def with_env(self, **overrides: str) -> Cli:
        return Cli(self.cwd, {**self.env, **overrides})

    def run(self, *args: str | Path, timeout: float = 120) -> Result:
        argv = tuple(str(a) for a in args)
        done = subprocess.run(
            [str(FORVALG), *argv],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Result(argv, done.returncode, done.stdout, done.stderr)

    def ok(self, *args: str | Path, timeout: float = 120) -> Result:
        result = self.run(*args, timeout=timeout)
        assert result.returncode == 0, str(result)
        return result

    def fails(self, *args: str | Path, timeout: float = 120) -> Result:
        result = self.run(*args, timeout=timeout)
        assert result.returncode != 0, f"expected a failure\n{result}"
        return result


def copy_initialised(template: Path, target: Path) -> Cli:
    """Copy a directory where `forvalg init` ran (database and key dir) into `target`."""
    for entry in template.iterdir():
        if entry.is_dir():
            shutil.copytree(entry, target / entry.name)
        else:
            shutil.copy2(entry, target / entry.name)
    return Cli(target)


def query(database: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows from the SQLite file, read directly (under the wall, as an auditor would)."""
    assert database.exists(), f"{database} does not exist"
    with closing(sqlite3.connect(database)) as connection:
        return connection.execute(sql, params).fetchall()


def write_csv(path: Path, *rows: str, header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


GOOD_ROWS = (
    "22334455,0150,PSTN,ACTIVE",
    "22334456,0150,ISDN_BRA,ACTIVE",
    "55001122,5003,PAYPHONE,CEASED",
    "73001122,7010,PSTN,WLR:phonero",
)
