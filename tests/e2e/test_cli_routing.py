"""`forvalg routing versions` and `forvalg routing export`, as a user runs them; the
export recomputes, with the snippet docs/ROUTING.md gives, to the hash it states."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from .helpers import Cli, query
from .test_cli_orders import GOOD, RECEIVED, place_orders

ROUTING_MD = Path(__file__).parents[2] / "docs" / "ROUTING.md"


def recompute_snippet() -> str:
    """The Python snippet of docs/ROUTING.md's section on the content hash."""
    section = ROUTING_MD.read_text().split("## The content hash")[1].split("\n## ")[0]
    [snippet] = re.findall(r"```python\n(.*?)```", section, re.S)
    return snippet


def test_export_writes_the_table_its_delta_and_the_exchange_tables(initialised: Cli) -> None:
    place_orders(initialised, RECEIVED)
    initialised.ok("orders", "process", "--as-of", "2026-12-01T12:00:00Z")
    initialised.ok("orders", "process", "--as-of", "2026-12-07T12:00:00Z")

    listed = initialised.ok("routing", "versions").stdout.splitlines()
    assert [line.split("\t")[:3] for line in listed] == [
        ["0", "1970-01-01T00:00:00+00:00", "0"],
        ["1", "2026-12-06T23:00:00+00:00", "1"],
    ]
    version = listed[1].split("\t")

    result = initialised.ok("routing", "export", "--out", "export", "--since", "0")
    assert result.stderr == ""
    assert "exported version 1 (1 row, effective 2026-12-06T23:00:00+00:00" in result.stdout
    out = initialised.cwd / "export"
    assert sorted(p.name for p in out.iterdir()) == [
        "kamailio-drouting-1",
        "routing-0-1.delta.csv",
        "routing-1.csv",
        "routing-1.json",
    ]
    assert (out / "routing-1.csv").read_text() == (
        f"number,operator_id,csc,option\n{GOOD},telia,1505,ALL\n"
    )
    assert (out / "routing-0-1.delta.csv").read_text() == (
        f"action,number,operator_id,csc,option\nADD,{GOOD},telia,1505,ALL\n"
    )
    sidecar = json.loads((out / "routing-1.json").read_text())
    assert sidecar["content_hash"] == version[3]
    assert (sidecar["version"], sidecar["rows"]) == (1, 1)

    snippet = initialised.cwd / "recompute.py"
    snippet.write_text(recompute_snippet())
    recomputed = subprocess.run(
        [sys.executable, str(snippet), str(out / "routing-1.csv")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert recomputed.stdout.strip() == sidecar["content_hash"]

    exchange = out / "kamailio-drouting-1"
    assert sorted(p.name for p in exchange.iterdir()) == [
        "dr_gateways",
        "dr_groups",
        "dr_gw_lists",
        "dr_rules",
        "version",
    ]
    assert (exchange / "dr_groups").read_text().splitlines()[1] == f"1:{GOOD}:localhost:15051:telia"
    gateways = (exchange / "dr_gateways").read_text().splitlines()
    assert gateways[1:] == [
        "1:0:127.0.0.1\\:5060:0:::incumbent",
        "1505:1:127.0.0.1\\:5060:0:1505:telia:telia\\: carrier selection code 1505",
    ]

    # The export is in the ledger: the exporter's decisions, before any file existed.
    principals = query(
        initialised.cwd / "forvalg.db",
        "SELECT event FROM ledger_inbox UNION ALL SELECT entry FROM ledger_entries",
    )
    assert any("system:routing-exporter" in row[0] for row in principals)


def test_export_of_an_unknown_version_fails_with_one_line(initialised: Cli) -> None:
    result = initialised.fails("routing", "export", "--out", "export", "--version", "3")
    assert result.error_line == "forvalg: no routing table version 3"
    assert not (initialised.cwd / "export").exists()
