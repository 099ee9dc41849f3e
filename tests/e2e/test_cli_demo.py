"""`forvalg demo`: the story on a synthetic world, end to end, reproducibly."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from .helpers import Cli, query

SMALL = ("--small",)
# `--small`: 6,000 lines, 46 days from Monday 2026-10-05 (no public holiday in them: six
# weeks and Monday to Thursday, 34 working days), 40 orders a working day.
WORKING_DAYS, LINES = 34, 6000
FINAL_STATES = {"COMPLETED", "REJECTED", "CANCELLED"}


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any]]:
    """The same small demo run twice, with the same (default) seed, into two directories."""
    cwd = tmp_path_factory.mktemp("demo")
    cli = Cli(cwd)
    results = [cli.run("demo", "--out", out, *SMALL, timeout=600) for out in ("one", "two")]
    return cwd, results


def summary(directory: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((directory / "summary.json").read_text())
    return loaded


def test_demo_exits_zero_and_names_its_output(demo_runs: tuple[Path, list[Any]]) -> None:
    cwd, results = demo_runs
    for name, result in zip(("one", "two"), results, strict=True):
        assert result.returncode == 0, str(result)
        out = cwd / name
        assert "Output:" in result.stdout
        assert str(out.resolve()) in " ".join(result.stdout.split()), str(result)
        assert (out / "summary.json").is_file()
        assert (out / "forvalg.db").is_file()
        assert (out / "lines.csv").is_file()
    # the demo works in its own directory: the caller's directory gets no database or keys
    assert sorted(p.name for p in cwd.iterdir()) == ["one", "two"]


def test_demo_summary_tells_the_story(demo_runs: tuple[Path, list[Any]]) -> None:
    cwd, _ = demo_runs
    found = summary(cwd / "one")
    by_state: dict[str, int] = found["orders_by_state"]
    assert by_state.get("COMPLETED", 0) > 0
    assert by_state.get("REJECTED", 0) > 0
    # the world runs 30 days past its last day: every order has reached a final state
    assert set(by_state) <= FINAL_STATES, by_state
    assert found["orders_submitted"] == WORKING_DAYS * 40
    # every order is one an operator placed, a CANCEL_OTHER, or a honey-line's decoy
    placed = found["orders_submitted"] + found["cancel_other_sent"] + found["honey_lines"]
    assert sum(by_state.values()) == placed
    assert sum(found["rejections"].values()) == by_state["REJECTED"]
    # a state change is the processor's or an operator's own cancel
    cancelled = found["own_cancels"]["done"]
    assert found["events_by_type"]["ORDER_STATE"] == found["transitions"] + cancelled
    assert found["world"]["lines"] == str(LINES)
    assert found["world"]["days"] == "46"
    assert found["world"]["orders_per_day"] == "40"
    assert sum(found["preselections_by_operator"].values()) > 0
    assert set(found["preselections_by_operator"]) <= {"telia", "ice", "phonero", "nextgentel"}
    assert isinstance(found["seconds"], int | float)

    # the summary agrees with the database the demo leaves behind
    database = cwd / "one" / "forvalg.db"
    rows = query(database, "SELECT state, count(*) FROM orders GROUP BY state")
    assert dict(rows) == by_state
    honey = found["honey_lines"]
    assert honey == 16
    assert query(database, "SELECT count(*) FROM lines") == [(LINES + honey,)]
    assert query(database, "SELECT count(*) FROM honey_lines") == [(honey,)]
    assert len((cwd / "one" / "lines.csv").read_text().splitlines()) == LINES + 1


def test_detection_finds_the_leaks_and_leaves_the_clean_alone(
    demo_runs: tuple[Path, list[Any]],
) -> None:
    """The story knows who leaked: the winback campaign, agent A042 and the curious
    employee; the retention campaign, the tenure mailing and the diligent employee are
    clean. Detection must say exactly that, and the demo must print it."""
    cwd, results = demo_runs
    found = summary(cwd / "one")
    verdicts = {v["subject"]: v for v in found["verdicts"]}
    assert {s for s, v in verdicts.items() if v["leaking"]} == {"WINBACK-Q4", "A042", "Ola Vik"}
    assert all(v["right"] for v in verdicts.values()), verdicts
    assert verdicts["Ola Vik"]["strongest"] == "unexplained_access medium"
    contacts = found["contacts"]
    assert contacts["honey_reached"].get("WINBACK-Q4", 0) >= 1
    assert contacts["leaked"]["WINBACK-Q4"] > contacts["leaked"]["A042"] > 0
    staff = found["staff"]
    assert (staff["refused"], staff["break_glass"]) == (3, 2)
    # The findings file is the published format, and every serious finding has an incident.
    findings = json.loads((cwd / "one" / "findings.json").read_text())["findings"]
    assert len(findings) == found["detection"]["findings"]
    honey = [f for f in findings if f["detector"] == "honey_line"]
    assert {f["severity"] for f in honey} == {"critical"}
    serious = [f for f in findings if f["severity"] in ("medium", "high", "critical")]
    assert found["detection"]["incidents_opened"] == len(serious)
    rows = query(cwd / "one" / "forvalg.db", "SELECT count(*) FROM incidents")
    assert rows == [(len(serious),)]
    crm = (cwd / "one" / "crm-contacts.csv").read_text().splitlines()
    assert len(crm) == contacts["rows"] + 1
    out = " ".join(results[0].stdout.split())
    assert "WINBACK-Q4 │ leaking │ flagged" in out
    assert "RETENTION-Q4 │ clean │ not flagged" in out


def test_demo_exports_a_ledger_that_the_regulators_verifier_accepts(
    demo_runs: tuple[Path, list[Any]],
) -> None:
    cwd, results = demo_runs
    ledger = summary(cwd / "one")["ledger"]
    export = cwd / "one" / ledger["export"]
    assert ledger["verified"].startswith(f"OK: {ledger['entries']} entries"), ledger
    assert len((export / "entries.jsonl").read_bytes().splitlines()) == ledger["entries"]
    # every decision of the run is in it: at least one per order submitted and processed
    assert ledger["entries"] > summary(cwd / "one")["orders_submitted"]
    verify = Path(sys.executable).parent / "forvalg-verify"
    checked = subprocess.run(
        [verify, "--export", export], capture_output=True, text=True, timeout=60, check=False
    )
    assert checked.returncode == 0, checked.stderr
    assert ledger["root"] in checked.stdout
    assert "Ledger:" in results[0].stdout


def test_demo_rates_and_settles_a_month_that_reconciles(
    demo_runs: tuple[Path, list[Any]],
) -> None:
    cwd, results = demo_runs
    months = summary(cwd / "one")["traffic"]
    assert [m["month"] for m in months] == ["2026-10", "2026-11"]
    for traffic in months:
        _reconciled(cwd, traffic)
    assert results[0].stdout.count("reconciled: True") == 2


def _reconciled(cwd: Path, traffic: dict[str, Any]) -> None:
    assert traffic["rated"] == traffic["calls"] == LINES * 10
    assert traffic["routes"]["CPS"] > 0
    assert traffic["mismatches"] > 0  # the exchange misroutes a few calls
    operators = set(traffic["statements"])
    assert operators <= {"telia", "ice", "phonero", "nextgentel"}
    assert operators
    billed = sum(Decimal(t["charge_nok"]) for t in traffic["statements"].values())
    assert billed == Decimal(traffic["charge_nok"])
    assert traffic["fetched_by_operator"] == dict.fromkeys(operators, True)
    assert traffic["reconciled"] is True
    for op in operators:
        assert (cwd / "one" / "statements" / traffic["month"] / f"{op}.json").is_file()


def test_demo_is_reproducible(demo_runs: tuple[Path, list[Any]]) -> None:
    cwd, _ = demo_runs
    one, two = summary(cwd / "one"), summary(cwd / "two")
    for run in (one, two):
        run.pop("seconds")
        assert set(run.pop("stage_seconds")) >= {"orders", "traffic", "detection"}
        for month in run["traffic"]:
            month.pop("rating_seconds")
        # the entries name subscribers by pseudonyms keyed with each run's own random key
        run["ledger"].pop("root")
        run["ledger"].pop("verified")
        # work item ids are random: the inquiry's id names the bundle and its check
        for key in ("id", "bundle", "verified"):
            run["inquiry"].pop(key)
    assert one == two
    for name in ("lines.csv", "crm-contacts.csv"):
        assert (cwd / "one" / name).read_bytes() == (cwd / "two" / name).read_bytes()
    order_ids = "SELECT id, state, reason_code, due_date FROM orders ORDER BY id"
    assert query(cwd / "one" / "forvalg.db", order_ids) == query(
        cwd / "two" / "forvalg.db", order_ids
    )


def test_the_regulator_gets_a_report_and_a_bundle_that_verify(
    demo_runs: tuple[Path, list[Any]],
) -> None:
    """Issue 7's done-when: the report shows the leaks found and the clean campaign not
    flagged, and the inquiry's evidence bundle verifies offline with the regulator's
    own verifier and the key from the ledger export."""
    cwd, results = demo_runs
    found = summary(cwd / "one")
    report = found["report"]
    assert report["period"] == "2026-11"
    page = (cwd / "one" / "report" / "report.html").read_text()
    figures = json.loads((cwd / "one" / "report" / "report.json").read_text())
    verdicts = {v["kind"]: v for v in figures["findings"]["verdicts"]}
    campaigns = verdicts["campaign_id"]
    assert [name for name, _ in campaigns["flagged"]] == ["WINBACK-Q4"]
    assert campaigns["not_flagged"] == ["RETENTION-Q4", "TENURE-Q4"]
    assert "A042" in [name for name, _ in verdicts["agent_id"]["flagged"]]
    assert "<strong>WINBACK-Q4</strong> (critical)" in page
    assert "RETENTION-Q4, TENURE-Q4" in page
    assert figures["equivalence"]["retail"] is not None  # the retail baseline was read

    inquiry = found["inquiry"]
    assert inquiry["id"].startswith("INQ-")
    assert inquiry["verified"].startswith(f"OK: evidence bundle for {inquiry['id']}")
    assert "checked with your key" in inquiry["verified"]
    bundle = cwd / "one" / inquiry["bundle"]
    verify = Path(sys.executable).parent / "forvalg-verify"
    key = cwd / "one" / "ledger" / "key.pub"
    checked = subprocess.run(
        [verify, "bundle", bundle, "--key", key],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert "report files: report.html, report.json" in checked.stdout
    assert f"{inquiry['entries']} entries, each included" in checked.stdout
    out = " ".join(results[0].stdout.split())
    assert f"Inquiry {inquiry['id']}" in out
    assert "Report for 2026-11:" in out
