"""`make audit`'s gate (.ci/audit.py), on pip-audit reports written here: a known
vulnerability fails it; packages that could not be audited are counted and reported
loudly without failing it; a clean audit passes quietly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

GATE = Path(__file__).parents[2] / ".ci" / "audit.py"


def judge(tmp_path: Path, dependencies: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    report = tmp_path / "audit.json"
    report.write_text(json.dumps({"dependencies": dependencies, "fixes": []}))
    return subprocess.run(
        [sys.executable, str(GATE), "--json", str(report)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_known_vulnerability_fails_the_gate(tmp_path: Path) -> None:
    done = judge(
        tmp_path,
        [
            {
                "name": "jinja2",
                "version": "3.1.2",
                "vulns": [{"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"], "aliases": []}],
            },
            {"name": "anyio", "version": "4.16.0", "vulns": []},
        ],
    )
    assert done.returncode == 1, done
    assert "GHSA-h5c8-rqwp-cp95" in done.stderr
    assert "2 packages, 2 audited, 0 could not be audited, 1 known vulnerabilities" in done.stdout


def test_packages_it_could_not_audit_are_reported_loudly_not_failed(tmp_path: Path) -> None:
    skipped = [
        {
            "name": n,
            "skip_reason": f"Dependency not found on PyPI and could not be audited: {n} (1.0)",
        }
        for n in ("alembic", "anyio", "fastapi")
    ]
    own = {"name": "forvalg", "skip_reason": "distribution marked as editable"}

    done = judge(tmp_path, [*skipped, own])

    assert done.returncode == 0, done
    assert "3 packages, 0 audited, 3 could not be audited" in done.stdout
    assert "could NOT audit 3 of 3 packages" in done.stderr
    assert "blocked: no vulnerability database reachable from this machine" in done.stderr


def test_a_clean_audit_passes_quietly(tmp_path: Path) -> None:
    done = judge(tmp_path, [{"name": "anyio", "version": "4.16.0", "vulns": []}])
    assert done.returncode == 0, done
    assert done.stderr == ""
