"""`forvalg canary add` and `forvalg detect`, as a compliance officer runs them: honey-lines
with decoy orders the operator never sees, then a findings file (INTERFACES §5) flagging
a retail agent who called one, exit 0."""

from __future__ import annotations

import json

from .helpers import GOOD_ROWS, Cli, query, write_csv

CONTACTS = "contact_id,time_utc,number,channel,direction,agent_id,campaign_id,outcome"


def printed(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.strip()]


def test_canary_add_then_detect_flags_the_agent_who_called_one(initialised: Cli) -> None:
    cli = initialised
    cli.ok("lines", "import", write_csv(cli.cwd / "lines.csv", *GOOD_ROWS))
    cli.ok("operators", "add", "--id", "alfatel", "--name", "Alfa Telecom AS", "--csc", "1501")
    made = cli.ok("canary", "add", "--count", "2")
    lines = printed(made.stdout)
    assert lines[-1] == "2 honey-line(s) created"
    honey = [line.split()[0] for line in lines[:-1]]
    assert all(n[:5] in {r[:5] for r in GOOD_ROWS} for n in honey)
    db = cli.cwd / "forvalg.db"
    assert sorted(n for (n,) in query(db, "SELECT number FROM honey_lines")) == sorted(honey)
    assert query(db, "SELECT count(*), min(state) FROM orders") == [(2, "RECEIVED")]
    (stamp,) = query(db, "SELECT created_at FROM honey_lines LIMIT 1")[0]
    day = stamp[:10]
    write_csv(
        cli.cwd / "contacts.csv",
        f"k1,{day}T23:00:00Z,{honey[0]},PHONE,OUTBOUND,agent-7,,",
        f"k2,{day}T23:05:00Z,22334455,PHONE,OUTBOUND,agent-7,,",
        header=CONTACTS,
    )
    cli.ok("contacts", "import", "contacts.csv")
    result = cli.ok("detect", "--out", "out/findings.json")
    assert result.stderr == ""
    out = printed(result.stdout)
    assert out[0].startswith("read 2 contacts, 2 cps events, 5 lines, 2 honey lines, ")
    assert out[1].startswith("1 finding(s): 1 critical")
    assert out[-2:] == ["incidents: 1 opened, 0 updated", "findings: out/findings.json"]
    document = json.loads((cli.cwd / "out" / "findings.json").read_text())
    (finding,) = document["findings"]
    assert (finding["detector"], finding["severity"], finding["subject"]) == (
        "honey_line",
        "critical",
        {"agent_id": "agent-7"},
    )
    assert finding["evidence"]["sample_contact_ids"] == ["k1"]


def test_bad_input_is_one_line_and_changes_nothing(initialised: Cli) -> None:
    cli = initialised
    failed = cli.fails("canary", "add", "--count", "1")
    assert failed.stderr.strip() == (
        "forvalg: no operator has an active agreement: a decoy needs one to name"
    )
    # --engine spark without Java: one line saying so, no findings file
    nojava = cli.with_env(PATH=str(cli.cwd / "no-bin"), JAVA_HOME=str(cli.cwd / "no-java"))
    spark = nojava.fails("detect", "--out", "f.json", "--engine", "spark")
    assert spark.stderr.strip() == (
        "forvalg: --engine spark needs Java 17 or later: none found (set JAVA_HOME or put "
        "java on PATH), or use --engine duckdb"
    )
    assert not (cli.cwd / "f.json").exists()


def test_detect_on_spark_writes_what_duckdb_writes(initialised: Cli) -> None:
    """`--engine spark` end to end (its own JVM, local mode): the same findings file as
    `--engine duckdb` on the same database, the same lines printed but the incidents'."""
    cli = initialised
    cli.ok("lines", "import", write_csv(cli.cwd / "lines.csv", *GOOD_ROWS))
    cli.ok("operators", "add", "--id", "alfatel", "--name", "Alfa Telecom AS", "--csc", "1501")
    honey = [line.split()[0] for line in printed(cli.ok("canary", "add", "--count", "2").stdout)]
    (stamp,) = query(cli.cwd / "forvalg.db", "SELECT created_at FROM honey_lines LIMIT 1")[0]
    day = stamp[:10]
    write_csv(
        cli.cwd / "contacts.csv",
        f"k1,{day}T23:00:00Z,{honey[0]},PHONE,OUTBOUND,agent-7,,",
        f"k2,{day}T23:05:00Z,22334455,PHONE,OUTBOUND,agent-7,,",
        f"k3,{day}T23:10:00Z,22334455,PHONE,INBOUND,agent-8,,",
        header=CONTACTS,
    )
    cli.ok("contacts", "import", "contacts.csv")
    duck = cli.ok("detect", "--out", "duck.json", "--min-severity", "info")
    spark = cli.run(
        "detect", "--out", "spark.json", "--engine", "spark", "--min-severity", "info", timeout=600
    )
    assert spark.returncode == 0, spark
    # the same but the ledger entries: the first run's reads are in the second's ledger
    assert printed(spark.stdout)[1:-2] == printed(duck.stdout)[1:-2]
    assert printed(spark.stdout)[-2:] == ["incidents: 0 opened, 1 updated", "findings: spark.json"]
    on_duckdb, on_spark = (
        json.loads((cli.cwd / f).read_text()) for f in ("duck.json", "spark.json")
    )
    assert on_spark["findings"] == on_duckdb["findings"]
    assert on_spark["examined"] == on_duckdb["examined"]
    assert on_spark["findings"][0]["severity"] == "critical"
