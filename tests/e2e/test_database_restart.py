"""A PostgreSQL restart under the API and under `forvalg worker`.

While the database cannot be reached the API answers `503 E_UNAVAILABLE` with
`Retry-After` (problem+json), never a bare 500, and answers normally once it is back;
`forvalg worker` waits and retries instead of exiting. Each test restarts a private
PostgreSQL cluster of its own (benchmarks/loadlib.py), never the shared server.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from benchmarks.loadlib import PrivateCluster, Proc, World, executable, postcode, scratch_world

from forvalg.api.app import create_app
from forvalg.bootstrap import bootstrap
from forvalg.domain.orders import Authorisation, Option, OrderRequest, OrderType
from forvalg.settings import Settings
from forvalg.wall.principals import operator_principal

from ..integration.world import TestClient

FIRST = 40_000_000


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[PrivateCluster, World]]:
    with (
        PrivateCluster() as cluster,
        scratch_world(
            cluster.admin_url, tmp_path, first_number=FIRST, lines=10, operators=1, quiet=True
        ) as found,
    ):
        try:
            yield cluster, found
        finally:
            if not cluster.running():  # a test that failed while it was down
                cluster.start()


def _provide(found: World, number: int, key: str) -> str:
    """An order placed in-process, as the API would; its id."""
    svc = bootstrap(_settings(found))
    try:
        request = OrderRequest(
            OrderType.PROVIDE,
            f"{number:08d}",
            Option.ALL,
            postcode(number),
            Authorisation(f"LOA-{key}", (datetime.now(UTC) - timedelta(days=2)).date(), "web"),
        )
        principal = operator_principal(found.operators[0])
        return svc.desk.submit(principal, request, idempotency_key=key).order.id
    finally:
        svc.close()


def _state(found: World, order_id: str) -> str:
    svc = bootstrap(_settings(found))
    try:
        return svc.desk.get(operator_principal(found.operators[0]), order_id).state.value
    finally:
        svc.close()


def _wait_committed(found: World, order_id: str, worker: Proc, log: Path) -> None:
    deadline = time.monotonic() + 60
    while (state := _state(found, order_id)) != "COMMITTED":
        assert worker.process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, (state, log.read_text())
        time.sleep(0.2)


def _settings(world: World) -> Settings:
    return Settings(database_url=world.url, key_dir=world.key_dir)


def _order(number: int) -> dict[str, object]:
    signed = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    return {
        "type": "PROVIDE",
        "number": f"{number:08d}",
        "postcode": postcode(number),
        "option": "ALL",
        "authorisation": {"reference": "LOA-1", "signed_at": signed, "channel": "web"},
    }


def test_the_api_answers_503_while_the_database_is_down_and_recovers(
    world: tuple[PrivateCluster, World],
) -> None:
    cluster, found = world
    svc = bootstrap(_settings(found))
    try:
        client = TestClient(create_app(svc))
        auth = {"Authorization": f"Bearer {found.tokens[0]}"}
        assert client.get("/v1/orders", headers=auth).status_code == 200

        cluster.stop("immediate")
        for method, path, body in (
            ("GET", "/v1/orders", None),  # the key is checked first: sign-in needs the database
            ("POST", "/v1/orders", _order(FIRST)),
        ):
            headers = auth | {"Idempotency-Key": "k-1"}
            answer = client.request(method, path, headers=headers, json=body)
            assert answer.status_code == 503, answer.text
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.headers["retry-after"] == "1"
            problem = answer.json()
            assert problem["code"] == "E_UNAVAILABLE"
            assert problem["status"] == 503

        cluster.start()
        # A pooled connection from before the restart fails once (503); then it works.
        statuses = []
        for _ in range(5):
            answer = client.post(
                "/v1/orders", headers=auth | {"Idempotency-Key": "k-1"}, json=_order(FIRST)
            )
            statuses.append(answer.status_code)
            if answer.status_code == 201:
                break
        assert statuses[-1] == 201, statuses
        assert set(statuses) <= {201, 503}, statuses
        placed = answer.json()["id"]
        # The retry with the same key after the outage is the same order, stored once.
        again = client.post(
            "/v1/orders", headers=auth | {"Idempotency-Key": "k-1"}, json=_order(FIRST)
        )
        assert again.status_code == 201
        assert again.json()["id"] == placed
        assert [o["id"] for o in client.get("/v1/orders", headers=auth).json()["items"]] == [placed]
    finally:
        svc.close()


def test_a_worker_waits_out_a_database_restart_and_carries_on(
    world: tuple[PrivateCluster, World], tmp_path: Path
) -> None:
    cluster, found = world
    log = tmp_path / "worker.log"
    worker = Proc([executable("forvalg"), "worker", "--interval", "0.2"], found.env(), log)
    try:
        _wait_committed(found, _provide(found, FIRST, "before"), worker, log)  # it runs
        cluster.stop("immediate")
        deadline = time.monotonic() + 30
        while "the database cannot be reached" not in log.read_text():
            assert worker.process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        cluster.start()
        # An order placed after the restart is still validated and committed by it.
        _wait_committed(found, _provide(found, FIRST + 1, "after"), worker, log)
    finally:
        code = worker.stop()
    text = log.read_text()
    assert code == 0, text
    assert "Traceback" not in text, text
