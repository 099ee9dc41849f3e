"""The rating desk on SQLite and PostgreSQL: one settlement access through the wall (in
the billing zone on PostgreSQL) reads the history, the codes and the routing versions;
then the engine judges each call by the preselection valid at its time."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from forvalg.domain.tariffs import tariff_from_toml
from forvalg.store import tables

from .world import Operator, World

LINE = "22334455"
TARIFF = tariff_from_toml(
    (Path(__file__).parents[2] / "src/forvalg/traffic/tariffs/default.toml").read_text(),
    "default.toml",
)


def _iso(at: Any) -> str:
    return at.isoformat().replace("+00:00", "Z")


def test_a_rating_run_reads_through_the_wall_once_and_judges_by_the_time_of_the_call(
    world: World, alpha: Operator, tmp_path: Path
) -> None:
    order = world.preselect(alpha, LINE)
    [period] = world.rows(tables.preselections)
    [*_, version] = world.rows(tables.routing_versions)
    switch = period["valid_from"]
    cdrs = tmp_path / "cdrs.csv"
    cdrs.write_text(
        "call_id,start_utc,duration_s,a_number,dialed,carrier\n"
        f"before,{_iso(switch - timedelta(hours=1))},60,{LINE},91234567,INCUMBENT\n"
        f"after,{_iso(switch + timedelta(hours=10))},60,{LINE},91234567,alfatel\n"
        f"code,{_iso(switch + timedelta(hours=10))},60,22334466,150191234567,alfatel\n"
    )
    before = world.last_log_seq()

    summary = world.services.rating.rate(cdrs, tmp_path / "rated.parquet", TARIFF)

    assert (summary.rows, summary.rated, summary.mismatches) == (3, 3, 0)
    rows = {r["call_id"]: r for r in pq.read_table(tmp_path / "rated.parquet").to_pylist()}
    assert (rows["before"]["route_reason"], rows["before"]["order_id"]) == ("DEFAULT", None)
    assert (rows["after"]["route_reason"], rows["after"]["order_id"]) == ("CPS", order["id"])
    assert rows["after"]["routing_version"] == version["content_hash"]
    assert rows["before"]["routing_version"] != version["content_hash"]
    assert (rows["code"]["route_reason"], rows["code"]["expected_carrier"]) == ("CSC", "alfatel")

    entries = [e for e in world.access_log(before) if e["principal"] == "system:traffic-rater"]
    assert sorted(e["resource"] for e in entries) == ["cps.operator", "cps.routing", "cps.routing"]
    for entry in entries:
        assert (entry["purpose"], entry["decision"]) == ("settlement", "allow")
        assert entry["work_item"] == "rating-run:cdrs.csv"
    history = next(e for e in entries if e["resource"] == "cps.routing" and e["subject_count"])
    assert history["subject_count"] == 1  # the one line that ever had preselection
