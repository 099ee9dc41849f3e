"""The ledger from a running `forvalg serve`: the keeper integrates and signs in the
background, and what the server hands out over HTTP verifies with `forvalg-verify`."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from .helpers import Cli, query
from .server import get, send, served
from .test_cli_serve import register_operator

VERIFY = Path(sys.executable).parent / "forvalg-verify"


def verify(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VERIFY), *map(str, args)], capture_output=True, text=True, timeout=60, check=False
    )


def test_proofs_served_over_http_verify_and_the_keeper_signs_by_itself(
    initialised: Cli, tmp_path: Path
) -> None:
    operator = register_operator(initialised)
    regulator = initialised.ok("users", "add", "--name", "Nkom", "--role", "regulator").last_line
    database = initialised.cwd / "forvalg.db"
    with served(initialised, tmp_path / "serve.log", FORVALG_CHECKPOINT_INTERVAL_S="1") as (
        port,
        _,
    ):
        assert get(port, "/v1/orders", operator)[0] == 200
        # Nobody asks for a checkpoint: the keeper integrates the queue and signs anyway.
        deadline = time.monotonic() + 30
        while query(database, "SELECT count(*) FROM ledger_checkpoints") == [(0,)]:
            assert time.monotonic() < deadline, "the keeper signed no checkpoint"
            time.sleep(0.2)
        assert query(database, "SELECT count(*) FROM ledger_inbox") == [(0,)]

        # The regulator states its purpose and names its audit on every read.
        inspecting = {"X-Forvalg-Purpose": "regulatory_inspection"}
        status, _, opened = send(
            port,
            "POST",
            "/v1/work-items",
            regulator,
            body=json.dumps({"kind": "audit", "summary": "witnessing the ledger"}).encode(),
            headers=inspecting,
        )
        assert status == 201, opened
        audit = json.loads(opened)["id"]
        stated = inspecting | {"X-Forvalg-Work-Item": audit}
        assert get(port, "/v1/log/checkpoint", regulator)[0] == 403  # E_PURPOSE_REQUIRED
        status, kind, note = get(port, "/v1/log/checkpoint", regulator, stated)
        assert status == 200, note
        assert kind.startswith("text/plain")
        size = int(note.decode().split("\n")[1])
        (tmp_path / "checkpoint").write_bytes(note)
        status, _, key = get(port, "/v1/log/key", regulator, stated)
        assert key.decode().strip() == initialised.ok("ledger", "key").last_line
        (tmp_path / "key.pub").write_bytes(key)
        for index in (0, size - 1):
            status, _, proof = get(
                port, f"/v1/log/proof/inclusion?index={index}&size={size}", regulator, stated
            )
            assert status == 200, proof
            (tmp_path / "proof.json").write_bytes(proof)
            checked = verify(
                "inclusion",
                *("--key", tmp_path / "key.pub", "--checkpoint", tmp_path / "checkpoint"),
                *("--proof", tmp_path / "proof.json"),
            )
            assert checked.returncode == 0, checked.stderr
            assert f"is at index {index} of the tree of size {size}" in checked.stdout

        # The regulator's witness, straight from the server: pin, then extend.
        url, state = f"http://127.0.0.1:{port}", tmp_path / "nkom"
        witness = ("witness", "--state", state, "--key", tmp_path / "key.pub", "--url", url)
        witness += ("--work-item", audit)
        first = verify(*witness, "--token", regulator)
        assert first.returncode == 0, first.stderr
        assert "first checkpoint pinned" in first.stdout
        assert get(port, "/v1/orders", operator)[0] == 200
        second = verify(*witness, "--token", regulator)
        assert second.returncode == 0, second.stderr
        assert "extends size" in second.stdout
        # An operator's key opens nothing here; the witness says so and keeps its state.
        pinned = (state / "checkpoint").read_bytes()
        refused = verify(*witness, "--token", operator)
        assert refused.returncode == 2
        assert "HTTP 403" in refused.stderr
        assert (state / "checkpoint").read_bytes() == pinned

    # On shutdown the server leaves nothing queued and the tree head signed.
    assert query(database, "SELECT count(*) FROM ledger_inbox") == [(0,)]
    [(latest,)] = query(database, "SELECT size FROM ledger_checkpoints ORDER BY seq DESC LIMIT 1")
    assert query(database, "SELECT count(*) FROM ledger_entries") == [(latest,)]
    export = initialised.ok("ledger", "export", "--out", str(tmp_path / "export"))
    assert "exported" in export.stdout
    previous = verify("--export", tmp_path / "export", "--previous", state / "checkpoint")
    assert previous.returncode == 0, previous.stderr
    assert json.loads((tmp_path / "proof.json").read_text())["size"] == size
