"""`forvalg incidents list | show | move | verify`: incidents opened from findings (as
`forvalg detect` will, through `IncidentDesk.open_from_findings`) are listed, shown as
JSON with their evidence and proofs, moved through their life cycle with every move in
the ledger, and verified; bad input is one line on stderr and changes nothing. The proof
in `show`'s JSON verifies with the regulator's `forvalg-verify inclusion`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from forvalg.bootstrap import bootstrap
from forvalg.compliance.detectors.findings import Finding
from forvalg.domain.statistics import Severity
from forvalg.settings import Settings
from forvalg.wall.principals import INCIDENT_CLERK

from .helpers import Cli, query

VERIFY = Path(sys.executable).parent / "forvalg-verify"
INCLUSION = ["inclusion", "--key", "key.pub", "--checkpoint", "checkpoint"]
INCLUSION += ["--proof", "proof.json", "--entry", "entry"]


def finding(campaign: str, severity: Severity, entries: list[int]) -> Finding:
    return Finding(
        id=f"targeting-{campaign.lower():0>16}",
        detector="targeting",
        severity=severity,
        subject={"campaign_id": campaign},
        summary=f"Campaign {campaign} contacted lines after a CPS event 3.6 times as often.",
        statistics={"p_value": 1e-9, "lift": 3.6, "n": 120},
        evidence={"test": "line_days", "sample_contact_ids": [], "entry_indices": entries},
    )


def open_incidents(cli: Cli) -> dict[str, str]:
    """Open incidents in the directory's database the way `forvalg detect` will: campaign
    -> incident id."""
    settings = Settings(
        database_url=f"sqlite:///{cli.cwd / 'forvalg.db'}", key_dir=cli.cwd / ".forvalg"
    )
    svc = bootstrap(settings)
    try:
        for _ in range(3):
            svc.incidents.find(INCIDENT_CLERK)  # some entries to name as evidence
        svc.keeper.integrate()
        report = svc.incidents.open_from_findings(
            [finding("WB", Severity.HIGH, [0, 2]), finding("EARLY", Severity.CRITICAL, [1])]
        )
        svc.keeper.integrate()
    finally:
        svc.close()
    return {f.removeprefix("targeting-").lstrip("0").upper(): i for f, i in report.opened.items()}


@pytest.fixture
def opened(initialised: Cli) -> tuple[Cli, dict[str, str]]:
    return initialised, open_incidents(initialised)


def lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.strip()]


def test_list_show_move_and_verify(opened: tuple[Cli, dict[str, str]]) -> None:
    cli, ids = opened
    wb = ids["WB"]
    listed = [line.split("\t") for line in lines(cli.ok("incidents", "list").stdout)]
    assert sorted((row[0], row[1], row[2]) for row in listed) == sorted(
        [(ids["WB"], "open", "high"), (ids["EARLY"], "open", "critical")]
    )
    shown = json.loads(cli.ok("incidents", "show", wb).stdout)
    assert (shown["id"], shown["state"], shown["subject"]) == (wb, "open", {"campaign_id": "WB"})
    assert [e["reference"] for e in shown["evidence"]] == ["0", "2"]
    assert [h["kind"] for h in shown["history"]] == ["opened"]
    moves = [
        ("--to", "investigating"),
        ("--to", "reported", "--note", "reported to Nkom"),
        ("--to", "closed", "--note", "Nkom closed the case"),
    ]
    said = [lines(cli.ok("incidents", "move", wb, *m, "--by", "Kari").stdout) for m in moves]
    assert said == [
        [f"{wb}: open -> investigating (by Kari)"],
        [f"{wb}: investigating -> reported (by Kari)"],
        [f"{wb}: reported -> closed (by Kari)"],
    ]
    shown = json.loads(cli.ok("incidents", "show", wb).stdout)
    assert [(h["to_state"], h["by"], h["note"]) for h in shown["history"]] == [
        ("open", "system:detector", None),
        ("investigating", "Kari", None),
        ("reported", "Kari", "reported to Nkom"),
        ("closed", "Kari", "Nkom closed the case"),
    ]
    assert lines(cli.ok("incidents", "list", "--state", "closed").stdout)[0].startswith(wb)
    # Every move is a ledger entry of the CLI's job, naming the person.
    db = cli.cwd / "forvalg.db"
    events = [e for (e,) in query(db, "SELECT event FROM ledger_inbox ORDER BY seq")]
    events += [e for (e,) in query(db, "SELECT entry FROM ledger_entries ORDER BY idx")]
    moved = [
        json.loads(e).get("event", json.loads(e))
        for e in events
        if '"compliance.incident"' in e and '"write"' in e and '"system:incident-cli"' in e
    ]
    assert sorted((m["detail"]["from"], m["detail"]["to"]) for m in moved) == sorted(
        [("open", "investigating"), ("investigating", "reported"), ("reported", "closed")]
    )
    assert {m["detail"]["by"] for m in moved} == {"Kari"}
    verified = cli.ok("incidents", "verify", wb)
    assert lines(verified.stdout)[-1] == f"{wb}: 2 ledger entries verified"


def test_the_regulator_verifies_the_evidence_with_its_own_tool(
    opened: tuple[Cli, dict[str, str]],
) -> None:
    cli, ids = opened
    shown = json.loads(cli.ok("incidents", "show", ids["EARLY"]).stdout)
    (item,) = shown["evidence"]
    payload = item["payload"]
    (cli.cwd / "entry").write_text(payload["entry"])
    (cli.cwd / "proof.json").write_text(json.dumps(payload["proof"]))
    (cli.cwd / "checkpoint").write_text(payload["checkpoint"])
    (cli.cwd / "key.pub").write_text(cli.ok("ledger", "key").stdout)
    done = subprocess.run(
        [str(VERIFY), *INCLUSION],
        cwd=cli.cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK: the entry is at index 1 of the tree")
    # A tampered entry fails both verifiers.
    entry = payload["entry"]
    (cli.cwd / "entry").write_text(entry.replace('"allow"', '"deny"'))
    done = subprocess.run(
        [str(VERIFY), *INCLUSION],
        cwd=cli.cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("move", "INC-000000000000", "--to", "investigating", "--by", "Kari"),
            "forvalg: no incident INC-000000000000",
        ),
        (
            ("move", "{WB}", "--to", "reported", "--by", "Kari"),
            "forvalg: --to reported: incident {WB} is open: it can only move to investigating, "
            "not to reported",
        ),
        (
            ("move", "{WB}", "--to", "open", "--by", "Kari"),
            "forvalg: --to 'open': not one of investigating, reported, closed",
        ),
        (
            ("move", "{WB}", "--to", "sideways", "--by", "Kari"),
            "forvalg: --to 'sideways': not one of investigating, reported, closed",
        ),
        (
            ("move", "{EARLY}", "--to", "closed", "--by", "Kari"),
            "forvalg: --to closed: incident {EARLY} is open: it can only move to investigating, "
            "not to closed",
        ),
        (
            ("move", "{WB}", "--to", "investigating", "--by", " "),
            "forvalg: --by: who made the change must be 1-80 printable characters",
        ),
        (("show", "INC-ffffffffffff"), "forvalg: no incident INC-ffffffffffff"),
        (("verify", "nonsense"), "forvalg: no incident nonsense"),
        (
            ("list", "--state", "done"),
            "forvalg: --state 'done': not one of open, investigating, reported, closed",
        ),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    opened: tuple[Cli, dict[str, str]], args: tuple[str, ...], message: str
) -> None:
    cli, ids = opened
    db = cli.cwd / "forvalg.db"
    before = query(db, "SELECT id, state, updated_at FROM incidents ORDER BY id")
    history = query(db, "SELECT count(*) FROM incident_events")
    argv = [a.format(**ids) for a in args]
    failed = cli.fails("incidents", *argv)
    assert failed.error_line == message.format(**ids)
    assert query(db, "SELECT id, state, updated_at FROM incidents ORDER BY id") == before
    assert query(db, "SELECT count(*) FROM incident_events") == history


def test_closing_needs_a_note(opened: tuple[Cli, dict[str, str]]) -> None:
    cli, ids = opened
    cli.ok("incidents", "move", ids["EARLY"], "--to", "investigating", "--by", "Kari")
    failed = cli.fails("incidents", "move", ids["EARLY"], "--to", "closed", "--by", "Kari")
    assert failed.error_line == (
        f"forvalg: --note: closing incident {ids['EARLY']} needs a note saying why"
    )
    said = cli.ok(
        "incidents", "move", ids["EARLY"], "--to", "closed", "--by", "Kari", "--note", "false alarm"
    )
    assert lines(said.stdout) == [f"{ids['EARLY']}: investigating -> closed (by Kari)"]
