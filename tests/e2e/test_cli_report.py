"""`forvalg report --period YYYY-MM --out DIR` as compliance runs it: report.html and
report.json written together, with the retail baseline and the findings when given; a
bad period or a bad input file is one line on stderr and writes nothing."""

from __future__ import annotations

import json
import re

from .helpers import GOOD_ROWS, Cli, write_csv

RETAIL = "order_id,type,received_at,due_date,completed_at,state,reason_code"


def test_report_writes_html_and_json_with_the_same_figures(initialised: Cli) -> None:
    cli = initialised
    cli.ok("lines", "import", write_csv(cli.cwd / "lines.csv", *GOOD_ROWS))
    cli.ok("operators", "add", "--id", "alfatel", "--name", "Alfa Telecom AS", "--csc", "1501")
    write_csv(
        cli.cwd / "retail.csv",
        "r1,PROVIDE,2026-11-02T09:00:00Z,2026-11-16,2026-11-15T23:00:00Z,COMPLETED,",
        "r2,MODIFY,2026-11-03T09:00:00Z,,,REJECTED,E_POSTCODE_MISMATCH",
        header=RETAIL,
    )
    findings = {
        "generated_at": "2026-11-30T08:00:00Z",
        "findings": [
            {"id": "f1", "detector": "honey_line", "severity": "critical", "summary": "A7 called"}
        ],
    }
    (cli.cwd / "findings.json").write_text(json.dumps(findings))
    done = cli.ok(
        "report",
        "--period",
        "2026-11",
        "--out",
        "out",
        "--retail-orders",
        "retail.csv",
        "--findings",
        "findings.json",
    )
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[0].startswith("report 2026-11: 0 operator(s), ")
    assert lines[-2:] == ["wrote out/report.html", "wrote out/report.json"]
    doc = json.loads((cli.cwd / "out" / "report.json").read_text())
    html = (cli.cwd / "out" / "report.html").read_text()
    retail = doc["equivalence"]["retail"]
    assert (retail["received"], retail["rejected"], retail["rejection_rate"]) == (2, 1, 0.5)
    assert "50.0 %" in html
    assert doc["findings"]["serious"][0]["summary"] == "A7 called"
    assert "A7 called" in html
    size = doc["checkpoint"]["tree_size"]
    assert size > 0
    assert f"<strong>{size}</strong> entries" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert sorted(p.name for p in (cli.cwd / "out").iterdir()) == ["report.html", "report.json"]


def test_without_retail_orders_the_report_says_so(initialised: Cli) -> None:
    done = initialised.ok("report", "--period", "2026-10", "--out", "out")
    assert "no retail baseline supplied" in done.stdout
    html = (initialised.cwd / "out" / "report.html").read_text()
    assert "No retail baseline was supplied" in html


def test_bad_input_is_one_line_and_writes_nothing(initialised: Cli) -> None:
    cli = initialised
    bad = cli.fails("report", "--period", "2026-13", "--out", "out")
    assert bad.error_line == (
        "forvalg: --period '2026-13': not a calendar month YYYY-MM (e.g. 2026-11)"
    )
    write_csv(cli.cwd / "retail.csv", "r1,PROVIDE,soon,,,REJECTED,E_X", header=RETAIL)
    bad = cli.fails(
        "report", "--period", "2026-11", "--out", "out", "--retail-orders", "retail.csv"
    )
    assert bad.error_line == (
        "forvalg: retail.csv: row 2, field received_at: 'soon' is not an ISO 8601 timestamp"
    )
    (cli.cwd / "findings.json").write_text("[]")
    bad = cli.fails("report", "--period", "2026-11", "--out", "out", "--findings", "findings.json")
    assert bad.error_line.startswith("forvalg: findings.json: no `findings` list")
    assert not (cli.cwd / "out").exists()
