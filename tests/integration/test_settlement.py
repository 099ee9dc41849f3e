"""Settlement end to end below the CLI, on SQLite and PostgreSQL: the files and the
statements filed are the same bytes, a re-run files the next version, the run is in the
ledger and closed, bad input writes nothing, and an operator fetches only its own
statement over the API (`GET /v1/statements`)."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text

from forvalg.domain.settlement import Period, period_run
from forvalg.store import tables
from forvalg.store.engine import make_engine
from forvalg.store.zones import Zone
from forvalg.traffic.settlement import BadOutput, Settled
from forvalg.traffic.sources import BadRatedFile
from forvalg.wall import AccessDenied, Purpose
from forvalg.wall.principals import ORDER_PROCESSOR, SETTLEMENT_JOB
from tests.rated import Call, at, reference_total, write_csv, write_parquet

from .world import Operator, World, problem

PERIOD = "2026-11"
NOVEMBER = Period.parse(PERIOD)
CALLS = [
    Call(at(2026, 11, 2, 8), 61, charge="0.1220"),
    Call(at(2026, 11, 7, 12), 120, call_class="MOBILE", band="WEEKEND", charge="0.4800"),
    Call(at(2026, 11, 2, 9), 30, expected="betanett", reason="CSC", charge="0.0600"),
    Call(at(2026, 11, 3, 9), 45, mismatch=True, carrier="INCUMBENT", charge="0.0900"),
    Call(at(2026, 10, 31, 22, 30), 60, charge="0.1200"),  # 23:30 Oslo, 31 Oct: October
    Call(at(2026, 11, 4, 9), 50, expected="INCUMBENT", reason="DEFAULT", charge="0.0000"),
]


def rated(tmp_path: Path) -> list[Path]:
    metadata = {"forvalg.tariff_version": "T1"}
    return [
        write_parquet(tmp_path / "exchange-a.parquet", CALLS[:3], metadata=metadata),
        write_csv(tmp_path / "exchange-b.csv", CALLS[3:]),
    ]


def settle(world: World, files: list[Path], out: Path, period: str = PERIOD) -> Settled:
    return world.services.settlement.settle(period, files, out)


def test_each_operator_gets_a_statement_filed_as_written(
    world: World, alpha: Operator, beta: Operator, tmp_path: Path
) -> None:
    settled = settle(world, rated(tmp_path), tmp_path / "out")

    assert [w.statement.operator for w in settled.written] == ["alfatel", "betanett"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "alfatel.csv",
        "alfatel.json",
        "betanett.csv",
        "betanett.json",
    ]
    body = json.loads((tmp_path / "out" / "alfatel.json").read_bytes())
    calls, seconds, charge = reference_total(CALLS, "alfatel", NOVEMBER.start, NOVEMBER.end)
    assert body["totals"] == {
        "calls": calls,
        "seconds": seconds,
        "minutes": "3.77",
        "charge_nok": f"{charge:.4f}",
    }
    assert body["outside_period"]["calls"] == 1
    assert body["mismatches"]["billed_recorded_other"]["calls"] == 1
    assert [s["name"] for s in body["sources"]] == ["exchange-a.parquet", "exchange-b.csv"]
    assert body["sources"][0]["rating"] == {"forvalg.tariff_version": "T1"}
    assert Decimal(body["totals"]["charge_nok"]) == sum(
        (Decimal(li["charge_nok"]) for li in body["lines"]), Decimal(0)
    )

    filed = {r["operator_id"]: r for r in world.rows(tables.statements)}
    assert set(filed) == {"alfatel", "betanett"}
    for operator, row in filed.items():
        written = (tmp_path / "out" / f"{operator}.json").read_bytes()
        assert row["body"].encode() == written
        assert row["sha256"] == hashlib.sha256(written).hexdigest()
        csv = (tmp_path / "out" / f"{operator}.csv").read_bytes()
        assert row["csv_sha256"] == hashlib.sha256(csv).hexdigest()
        assert (row["period"], row["version"], row["run_id"]) == (PERIOD, 1, settled.run_id)


def test_the_same_input_gives_the_same_bytes_in_any_order_and_a_rerun_is_version_2(
    world: World, alpha: Operator, beta: Operator, tmp_path: Path
) -> None:
    files = rated(tmp_path)
    first = settle(world, files, tmp_path / "one")
    second = settle(world, list(reversed(files)), tmp_path / "two")

    for name in ("alfatel.json", "alfatel.csv", "betanett.json", "betanett.csv"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    assert [w.version for w in second.written] == [2, 2]
    versions = sorted((r["operator_id"], r["version"]) for r in world.rows(tables.statements))
    assert versions == [("alfatel", 1), ("alfatel", 2), ("betanett", 1), ("betanett", 2)]
    assert first.run_id != second.run_id


def test_the_run_is_opened_read_once_filed_and_closed_in_the_ledger(
    world: World, alpha: Operator, beta: Operator, tmp_path: Path
) -> None:
    before = world.last_log_seq()
    settled = settle(world, rated(tmp_path), tmp_path / "out")

    events = [e for e in world.access_log(before) if e["principal"] == SETTLEMENT_JOB.id]
    assert {e["work_item"] for e in events} == {settled.run_id}
    assert all(e["purpose"] == "settlement" and e["decision"] == "allow" for e in events)
    reads = [e for e in events if e["resource"] == "cps.traffic"]
    assert len(reads) == 1  # one access for the whole run
    pseudonym = world.services.wall.pseudonymiser.pseudonym
    assert sorted(reads[0]["subjects"]) == sorted(pseudonym(o) for o in ("alfatel", "betanett"))
    assert [e["action"] for e in events if e["resource"] == "work.item"] == ["write", "write"]
    (run,) = world.rows(tables.work_items, tables.work_items.c.id == settled.run_id)
    assert (run["kind"], run["period"], run["operator_id"]) == ("settlement_run", PERIOD, None)
    assert run["closed_at"] is not None


def test_bad_input_writes_nothing(
    world: World, alpha: Operator, beta: Operator, tmp_path: Path
) -> None:
    files = rated(tmp_path)
    bad = write_csv(tmp_path / "exchange-c.csv", CALLS[:2], time_band="NIGHT")
    with pytest.raises(BadRatedFile, match=r"exchange-c\.csv: row 2, column time_band"):
        settle(world, [*files, bad], tmp_path / "out")
    with pytest.raises(ValueError, match="YYYY-MM"):
        settle(world, files, tmp_path / "out", period="2026-13")
    (tmp_path / "a-file").write_text("")
    with pytest.raises(BadOutput, match="not a directory"):
        settle(world, files, tmp_path / "a-file")
    # A statement for an operator with no agreement on file: refused, naming where.
    stranger = [Call(at(2026, 11, 2, 8), expected="gammatel")]
    unknown = write_parquet(tmp_path / "stranger.parquet", stranger)
    where = r"stranger\.parquet: row 1, column expected_carrier: bills operator 'gammatel'"
    with pytest.raises(BadRatedFile, match=where):
        settle(world, [*files, unknown], tmp_path / "out")

    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]
    assert world.count(tables.statements) == 0
    assert world.count(tables.work_items, tables.work_items.c.kind == "settlement_run") == 0


def test_only_the_settlement_job_may_run_a_settlement(world: World, tmp_path: Path) -> None:
    run = period_run(
        "SR-000000000001", NOVEMBER, summary="s", opened_by="x", opened_at=at(2026, 12, 1)
    )
    with (
        pytest.raises(AccessDenied),
        world.services.wall.access(ORDER_PROCESSOR, Purpose.SETTLEMENT, run.id) as guard,
    ):
        guard.settlement.read_traffic(run)


# ----------------------------------------------------------------------------- the API


def test_an_operator_fetches_its_own_statement_byte_for_byte(
    world: World, alpha: Operator, beta: Operator, tmp_path: Path
) -> None:
    settle(world, rated(tmp_path), tmp_path / "out")

    response = alpha.client.get("/v1/statements", params={"period": PERIOD})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.content == (tmp_path / "out" / "alfatel.json").read_bytes()
    own = beta.client.get("/v1/statements", params={"period": PERIOD})
    assert own.content == (tmp_path / "out" / "betanett.json").read_bytes()
    # Another month: none.
    problem(alpha.client.get("/v1/statements", params={"period": "2026-10"}), 404, "E_NOT_FOUND")


def test_the_latest_version_is_served(
    world: World, alpha: Operator, beta: Operator, tmp_path: Path
) -> None:
    settle(world, rated(tmp_path), tmp_path / "one")
    late = [Call(at(2026, 11, 29, 8), 600, charge="1.0000")]
    more = write_parquet(tmp_path / "late.parquet", late)
    settle(world, [*rated(tmp_path), more], tmp_path / "two")

    response = alpha.client.get("/v1/statements", params={"period": PERIOD})
    assert response.content == (tmp_path / "two" / "alfatel.json").read_bytes()
    assert response.content != (tmp_path / "one" / "alfatel.json").read_bytes()


def test_operator_b_gets_404_for_a_period_only_a_has(
    world: World, alpha: Operator, beta: Operator, tmp_path: Path
) -> None:
    only_alpha = write_parquet(tmp_path / "a.parquet", [Call(at(2026, 11, 2, 8))])
    settle(world, [only_alpha], tmp_path / "out")
    before = world.last_log_seq()

    assert alpha.client.get("/v1/statements", params={"period": PERIOD}).status_code == 200
    body = problem(beta.client.get("/v1/statements", params={"period": PERIOD}), 404, "E_NOT_FOUND")
    assert "alfatel" not in json.dumps(body)
    reads = [e for e in world.access_log(before) if e["resource"] == "cps.settlement"]
    assert [(e["principal"], e["decision"]) for e in reads] == [
        ("operator:alfatel", "allow"),
        ("operator:betanett", "allow"),
    ]


@pytest.mark.parametrize("period", ["2026-13", "2026-1", "november", "", "0000-01", "9999-12"])
def test_a_bad_period_is_422(world: World, alpha: Operator, period: str) -> None:
    body = problem(
        alpha.client.get("/v1/statements", params={"period": period}), 422, "E_VALIDATION"
    )
    assert body["errors"][0]["parameter"] == "period"


def test_staff_are_refused_even_billing_with_its_run(
    world: World, alpha: Operator, tmp_path: Path
) -> None:
    settle(
        world, [write_parquet(tmp_path / "a.parquet", [Call(at(2026, 11, 2, 8))])], tmp_path / "o"
    )
    billing = world.add_staff("wholesale_billing")
    run = billing.opened(
        "settlement", kind="settlement_run", summary="m", operator="alfatel", period=PERIOD
    )
    response = billing.get("/v1/statements", purpose="settlement", work_item=run, period=PERIOD)
    problem(response, 403, "E_FORBIDDEN")
    assert "alfatel" not in response.text.replace(run, "")


# ----------------------------------------------------------------------------- PostgreSQL

postgres_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _as_zone(database_url: str, zone: Zone) -> Engine:
    return make_engine(make_url(database_url).set(username=zone.value))


@postgres_only
def test_the_api_role_reads_only_its_operators_statements(
    world: World, alpha: Operator, beta: Operator, tmp_path: Path, database_url: str
) -> None:
    settle(world, rated(tmp_path), tmp_path / "out")
    api = _as_zone(database_url, Zone.API)
    try:
        with api.connect() as c:
            assert c.execute(text("SELECT count(*) FROM statements")).scalar() == 0
            c.execute(text("SELECT set_config('forvalg.operator', 'alfatel', true)"))
            found = c.execute(text("SELECT DISTINCT operator_id FROM statements")).scalars().all()
            assert found == ["alfatel"]
            c.rollback()
    finally:
        api.dispose()
    billing = _as_zone(database_url, Zone.BILLING)
    try:
        with billing.connect() as c:
            assert c.execute(text("SELECT count(*) FROM statements")).scalar() == 2
            assert c.execute(text("SELECT current_schema()")).scalar() is not None
            schema = c.execute(
                text("SELECT schemaname FROM pg_tables WHERE tablename = 'statements'")
            ).scalar()
            assert schema == "forvalg_billing"
    finally:
        billing.dispose()
