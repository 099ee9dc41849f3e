"""`forvalg orders process --as-of` and `forvalg worker`: advancing orders that are due."""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from forvalg.bootstrap import bootstrap
from forvalg.domain.clock import FixedClock
from forvalg.domain.orders import Authorisation, Option, OrderRequest, OrderType
from forvalg.settings import Settings
from forvalg.wall.principals import operator_principal
from forvalg.wholesale.inventory import import_lines

from .helpers import FORVALG, GOOD_ROWS, Cli, query, write_csv

OSLO = ZoneInfo("Europe/Oslo")
RECEIVED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Oslo
GOOD = "22334455"  # PSTN, 0150, ACTIVE in GOOD_ROWS
OTHER = "22334456"  # ISDN_BRA, 0150, ACTIVE


def settings_for(cli: Cli) -> Settings:
    return Settings(
        database_url=f"sqlite:///{cli.cwd / 'forvalg.db'}", key_dir=cli.cwd / ".forvalg"
    )


def place_orders(cli: Cli, at: datetime) -> dict[str, str]:
    """In-process, as the API would: the inventory, Telia, and two PROVIDE orders received at
    `at`, one good and one with the wrong postcode. Returns {number: order id}."""
    signed = at.astimezone(OSLO).date() - timedelta(days=1)
    svc = bootstrap(settings_for(cli), clock=FixedClock(at))
    try:
        import_lines(svc.wall, write_csv(cli.cwd / "lines.csv", *GOOD_ROWS))
        svc.operators.add("telia", "Telia Norge", "1505")
        telia = operator_principal("telia")
        placed = {}
        for number, postcode in ((GOOD, "0150"), (OTHER, "9999")):
            request = OrderRequest(
                OrderType.PROVIDE,
                number,
                Option.ALL,
                postcode,
                Authorisation(f"LOA-{number}", signed, "web"),
            )
            submitted = svc.desk.submit(telia, request, idempotency_key=f"e2e-{number}")
            placed[number] = submitted.order.id
        return placed
    finally:
        svc.close()


def order_rows(cli: Cli) -> dict[str, tuple[str, str | None, str | None]]:
    rows = query(cli.cwd / "forvalg.db", "SELECT number, state, reason_code, due_date FROM orders")
    return {number: (state, reason, due) for number, state, reason, due in rows}


def test_process_as_of_moves_orders_on_and_says_what_it_did(initialised: Cli) -> None:
    place_orders(initialised, RECEIVED)
    assert {n: s for n, (s, _, _) in order_rows(initialised).items()} == {
        GOOD: "RECEIVED",
        OTHER: "RECEIVED",
    }

    result = initialised.ok("orders", "process", "--as-of", "2026-12-01T12:00:00Z")
    assert result.stderr == ""
    out = " ".join(result.stdout.split())
    assert "as of 2026-12-01T12:00:00+00:00" in out
    assert "3 transitions" in out  # accept + commit the good one, reject the other
    assert "COMMITTED 1" in out
    assert "REJECTED 1" in out
    assert "rejected E_POSTCODE_MISMATCH: 1" in out
    rows = order_rows(initialised)
    assert rows[GOOD][0] == "COMMITTED"
    assert rows[GOOD][2] is not None
    assert date.fromisoformat(rows[GOOD][2]) > date(2026, 12, 1)
    assert rows[OTHER][:2] == ("REJECTED", "E_POSTCODE_MISMATCH")
    history = query(
        initialised.cwd / "forvalg.db",
        "SELECT h.state FROM order_history h JOIN orders o ON o.id = h.order_id "
        "WHERE o.number = ? ORDER BY h.seq",
        GOOD,
    )
    assert [s for (s,) in history][-2:] == ["VALIDATED", "COMMITTED"]

    # Without an offset the time is Oslo's: 13:00 in Oslo is 12:00Z, and nothing more is due.
    again = initialised.ok("orders", "process", "--as-of", "2026-12-01T13:00")
    assert "2026-12-01T13:00:00+01:00" in again.stdout
    assert "0 transitions" in again.stdout
    assert "nothing due" in again.stdout
    assert order_rows(initialised) == rows

    # After the due date the order completes and the routing table has the preselection.
    later = initialised.ok("orders", "process", "--as-of", "2026-12-31T12:00:00Z")
    assert "COMPLETED 1" in " ".join(later.stdout.split())
    assert order_rows(initialised)[GOOD][0] == "COMPLETED"
    assert query(
        initialised.cwd / "forvalg.db",
        "SELECT number, operator_id, option FROM preselections WHERE valid_to IS NULL",
    ) == [(GOOD, "telia", "ALL")]


def test_process_with_a_bad_as_of_fails_with_one_line_and_changes_nothing(
    initialised: Cli,
) -> None:
    place_orders(initialised, RECEIVED)
    before = order_rows(initialised)
    for bad in ("yesterday", "2026-13-01T12:00:00Z"):
        result = initialised.fails("orders", "process", "--as-of", bad)
        assert "--as-of" in result.error_line
        assert bad in result.error_line
        assert order_rows(initialised) == before


def test_worker_once_processes_what_is_due_now(initialised: Cli) -> None:
    place_orders(initialised, datetime.now(UTC) - timedelta(hours=1))
    result = initialised.ok("worker", "--once", timeout=60)
    out = " ".join(result.stdout.split())
    assert "COMMITTED 1" in out
    assert "REJECTED 1" in out
    rows = order_rows(initialised)
    assert rows[GOOD][0] == "COMMITTED"
    assert rows[OTHER][0] == "REJECTED"

    idle = initialised.ok("worker", "--once", timeout=60)
    assert "COMMITTED" not in idle.stdout
    assert order_rows(initialised) == rows


def test_worker_stops_cleanly_on_sigterm(initialised: Cli, tmp_path: Path) -> None:
    place_orders(initialised, datetime.now(UTC) - timedelta(hours=1))
    with (
        (tmp_path / "worker.out").open("w") as out,
        (tmp_path / "worker.err").open("w") as err,
        subprocess.Popen(
            [str(FORVALG), "worker", "--interval", "0.2"],
            cwd=initialised.cwd,
            env=initialised.env,
            stdout=out,
            stderr=err,
        ) as worker,
    ):
        try:
            deadline = time.monotonic() + 60
            while order_rows(initialised)[GOOD][0] != "COMMITTED":
                assert worker.poll() is None, (tmp_path / "worker.err").read_text()
                assert time.monotonic() < deadline, "the worker did not process the order"
                time.sleep(0.2)
            worker.send_signal(signal.SIGTERM)
            code = worker.wait(timeout=30)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    assert code == 0, (tmp_path / "worker.err").read_text()
    assert "COMMITTED 1" in " ".join((tmp_path / "worker.out").read_text().split())


def test_the_report_keeps_each_fact_on_one_line_when_piped(initialised: Cli) -> None:
    """The worker and `orders process` usually write to a log or a pipe, not a terminal: a
    report line must not be hard-wrapped at 80 columns into two log lines."""
    place_orders(initialised, RECEIVED)
    result = initialised.ok("orders", "process", "--as-of", "2026-12-01T12:00:00Z")
    reports = [line for line in result.stdout.splitlines() if line.startswith("as of ")]
    assert len(reports) == 1, str(result)
    assert reports[0].endswith("(COMMITTED 1, REJECTED 1, VALIDATED 1)"), str(result)
