"""`forvalg inquiries open | list | answer` and `forvalg-verify bundle`, as subprocesses:
an inquiry recorded from a letter is listed with its deadline, answered twice (with the
report, then proving consistency with the first answer), and both zips verify offline
against the exported key; bad input is one line on stderr and leaves no zip."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from .helpers import Cli, query

VERIFY = Path(sys.executable).parent / "forvalg-verify"
QUESTION = "Which staff read CPS data on line 22334455 in November 2026, and why?"


def verify(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VERIFY), "bundle", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_open_list_answer_and_verify(initialised: Cli) -> None:
    cli = initialised
    opened = cli.ok(
        "inquiries", "open", "--question", QUESTION, "--period", "2026-11",
        "--deadline", "2099-12-10", "--by", "Nkom tilsyn",
    )  # fmt: skip
    inquiry = opened.last_line
    assert inquiry.startswith("INQ-")
    row = cli.ok("inquiries", "list").last_line.split("\t")
    assert row[0] == inquiry
    assert row[1:3] == ["2026-11", "2099-12-10T23:00:00Z"]
    assert row[3].startswith("due in ")
    assert row[4:] == ["0 answer(s)", QUESTION]

    report = cli.cwd / "report"
    report.mkdir()
    (report / "report.html").write_text("<html><body>November</body></html>")
    (report / "report.json").write_text('{"period": "2026-11"}')
    first = cli.ok(
        "inquiries", "answer", inquiry, "--out", "a.zip", "--by", "Kari", "--report", report
    )
    assert "wrote a.zip" in first.stdout
    cli.ok("ledger", "export", "--out", "export")
    checked = verify(cli.cwd, "a.zip", "--key", "export/key.pub")
    assert checked.returncode == 0, checked.stderr
    assert f"OK: evidence bundle for {inquiry}" in checked.stdout
    assert "report files: report.html, report.json" in checked.stdout
    with zipfile.ZipFile(cli.cwd / "a.zip") as zf:
        (cli.cwd / "held-checkpoint").write_bytes(zf.read("checkpoint"))

    second = cli.ok(
        "inquiries", "answer", inquiry, "--out", "b.zip", "--by", "Kari",
        "--previous", "held-checkpoint",
    )  # fmt: skip
    assert "extends size" in second.stdout
    checked = verify(cli.cwd, "b.zip", "--key", "export/key.pub", "--previous", "held-checkpoint")
    assert checked.returncode == 0, checked.stderr
    assert "the log extends the previous checkpoint" in checked.stdout
    # Without --report the bundle holds the compliance report of the inquiry's period.
    assert "report files: report.html, report.json" in checked.stdout
    with zipfile.ZipFile(cli.cwd / "b.zip") as zf:
        names = zf.namelist()
        made = json.loads(next(zf.read(n) for n in names if n.endswith("report.json")))
        page = next(zf.read(n) for n in names if n.endswith("report.html")).decode()
    assert made["report"]["period"] == "2026-11"
    assert inquiry in page
    row = cli.ok("inquiries", "list").last_line.split("\t")
    assert row[3:5] == ["answered on time", "2 answer(s)"]
    stored = query(cli.cwd / "forvalg.db", "SELECT answered_by, entry_count FROM inquiry_answers")
    assert [r[0] for r in stored] == ["Kari", "Kari"]

    # Without --key the verifier uses the bundle's own key, and says so.
    own = verify(cli.cwd, "b.zip")
    assert own.returncode == 0
    assert "the bundle's own key" in own.stdout


def test_bad_input_is_one_line_and_leaves_no_zip(initialised: Cli) -> None:
    cli = initialised
    bad = cli.fails("inquiries", "open", "--question", QUESTION, "--period", "2026-13",
                    "--deadline", "2099-01-01", "--by", "Nkom")  # fmt: skip
    assert "period" in bad.error_line
    bad = cli.fails("inquiries", "open", "--question", QUESTION, "--period", "2026-11",
                    "--deadline", "1.1.2099", "--by", "Nkom")  # fmt: skip
    assert "not a date written as YYYY-MM-DD" in bad.error_line
    bad = cli.fails("inquiries", "open", "--question", QUESTION, "--period", "2026-11",
                    "--deadline", "2001-01-01", "--by", "Nkom")  # fmt: skip
    assert bad.error_line == "forvalg: --deadline: a inquiry has a deadline in the future"
    inquiry = cli.ok(
        "inquiries", "open", "--question", QUESTION, "--period", "2026-11",
        "--deadline", "2099-12-10", "--by", "Nkom",
    ).last_line  # fmt: skip
    missing = cli.fails("inquiries", "answer", "INQ-ffffffffffff", "--out", "x.zip", "--by", "K")
    assert missing.error_line.endswith("no inquiry INQ-ffffffffffff")
    no_report = cli.fails(
        "inquiries", "answer", inquiry, "--out", "x.zip", "--by", "K", "--report", "nowhere"
    )
    assert "--report nowhere" in no_report.error_line
    junk = cli.cwd / "junk"
    junk.write_text("not a checkpoint\n")
    bad_previous = cli.fails(
        "inquiries", "answer", inquiry, "--out", "x.zip", "--by", "K", "--previous", junk
    )
    assert bad_previous.error_line.startswith("forvalg: --previous: ")
    assert not list(cli.cwd.glob("*.zip"))
    assert query(cli.cwd / "forvalg.db", "SELECT count(*) FROM inquiry_answers") == [(0,)]
    garbage = cli.cwd / "garbage.zip"
    garbage.write_bytes(b"not a zip")
    checked = verify(cli.cwd, "garbage.zip")
    assert checked.returncode == 1
    assert checked.stderr.strip() == "forvalg-verify: FAILED: garbage.zip: not a zip file"
