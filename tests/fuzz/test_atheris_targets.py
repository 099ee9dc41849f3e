"""The atheris targets (fuzz/) run for a bounded number of inputs in a subprocess, so CI
exercises them on every run, and every input they once crashed on (tests/fuzz/findings/)
is replayed. Longer runs: fuzz/README.md; FORVALG_FUZZ_RUNS sets the runs here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FINDINGS = Path(__file__).parent / "findings"
# The CDR target rates each input with DuckDB (tens a second on a loaded machine); the
# contacts target reads hundreds a second.
RUNS = {"cdr_reader": 500, "contacts_reader": 5000}


def _run(target: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "fuzz" / f"{target}.py"), *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT / "fuzz",
        check=False,
    )


@pytest.mark.parametrize("target", sorted(RUNS))
def test_the_target_finds_nothing_in_a_bounded_run(target: str, tmp_path: Path) -> None:
    runs = os.environ.get("FORVALG_FUZZ_RUNS", str(RUNS[target]))
    done = _run(
        target,
        str(tmp_path / "corpus"),
        f"-runs={runs}",
        "-seed=1",
        f"-artifact_prefix={tmp_path}/",
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert f"Done {runs} runs" in done.stderr, done.stderr[-2000:]
    assert not list(tmp_path.glob("crash-*"))
    seeded = {p.suffix for p in (tmp_path / "corpus").iterdir()}
    assert {".csv", ".parquet"} <= seeded  # the seeds were written and run


@pytest.mark.parametrize(
    "finding", sorted(FINDINGS.glob("*.bin")), ids=lambda p: p.stem if isinstance(p, Path) else p
)
def test_every_finding_stays_fixed(finding: Path) -> None:
    target = "cdr_reader" if finding.name.startswith("cdr-") else "contacts_reader"
    done = _run(target, str(finding))
    assert done.returncode == 0, done.stderr[-4000:]
    assert "Executed" in done.stderr
