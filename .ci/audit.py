#!/usr/bin/env python3
"""`make audit`: pip-audit over the virtual environment, as a CI gate.

Fails (exit 1) on any known vulnerability pip-audit reports. A package it could not
audit (its vulnerability service unreachable, or the package unknown to it) does not
fail the gate, but is counted and explained loudly on stderr: on a machine that can
reach no vulnerability database every package is skipped and the audit proves nothing
(docs/SECURITY.md, "Dependencies"). Exit 2 if pip-audit failed for another reason.

    python .ci/audit.py                # runs .venv/bin/pip-audit -f json
    python .ci/audit.py --json FILE    # judges a report pip-audit already wrote
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

PIP_AUDIT = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "pip-audit"
UNREACHABLE = re.compile(
    r"ConnectionError|Max retries exceeded|Name or service not known|"
    r"Temporary failure in name resolution|timed out|NewConnectionError|Failed to resolve",
    re.I,
)
BLOCKED = "blocked: no vulnerability database reachable from this machine"


def _loud(lines: list[str]) -> None:
    bar = "!" * 78
    print("\n".join([bar, *(f"!! {line}" for line in lines), bar]), file=sys.stderr)


def judge(report: dict[str, Any]) -> int:
    """0 if no vulnerability was found, 1 otherwise; says what was and was not audited."""
    # The project itself, installed editable, is not on PyPI: not a dependency to audit.
    dependencies = [
        d
        for d in report.get("dependencies", [])
        if "marked as editable" not in d.get("skip_reason", "")
    ]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    audited = len(dependencies) - len(skipped)
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version"
            print(
                f"audit: {dependency['name']} {dependency.get('version', '?')}: "
                f"{vuln.get('id', '?')} (fixed in {fixes})",
                file=sys.stderr,
            )
    print(
        f"audit: {len(dependencies)} packages, {audited} audited, {len(skipped)} could not "
        f"be audited, {sum(len(d['vulns']) for d in vulnerable)} known vulnerabilities "
        f"in {len(vulnerable)} packages"
    )
    if skipped:
        reasons = Counter(
            "not found on the vulnerability service (PyPI)"
            if "not found on PyPI" in d["skip_reason"]
            else d["skip_reason"]
            for d in skipped
        )
        lines = [f"pip-audit could NOT audit {len(skipped)} of {len(dependencies)} packages:"]
        lines += [f"  {count} x {reason}" for reason, count in reasons.most_common()]
        if audited == 0:
            lines.append(f"{BLOCKED}: this audit proves nothing about vulnerabilities.")
        _loud(lines)
    return 1 if vulnerable else 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["--json"] and len(argv) == 2:
        return judge(json.loads(Path(argv[1]).read_text()))
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    done = subprocess.run(  # noqa: S603 (a fixed command line)
        [str(PIP_AUDIT), "-f", "json", "--progress-spinner", "off", "--skip-editable"],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(done.stdout)
    except ValueError:
        if UNREACHABLE.search(done.stderr):
            _loud([f"pip-audit could not run: {BLOCKED}.", *done.stderr.strip().splitlines()[-3:]])
            return 0
        print(f"audit: pip-audit failed (exit {done.returncode}):\n{done.stderr}", file=sys.stderr)
        return 2
    return judge(report)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
