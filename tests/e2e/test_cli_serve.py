"""`forvalg serve`: the operator API over HTTP, from the real executable."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import forvalg.wall.policy
from forvalg.bootstrap import bootstrap
from forvalg.settings import Settings

from .helpers import FORVALG, Cli


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def get(
    port: int, path: str, token: str | None = None, headers: dict[str, str] | None = None
) -> tuple[int, str, bytes]:
    return send(port, "GET", path, token, headers=headers)


def send(
    port: int,
    method: str,
    path: str,
    token: str | None = None,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        if body is not None:
            sent["Content-Type"] = "application/json"
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        return response.status, response.getheader("content-type", ""), response.read()
    finally:
        connection.close()


def register_operator(cli: Cli) -> str:
    settings = Settings(
        database_url=f"sqlite:///{cli.cwd / 'forvalg.db'}", key_dir=cli.cwd / ".forvalg"
    )
    svc = bootstrap(settings)
    try:
        return svc.operators.add("telia", "Telia Norge", "1505").key.token
    finally:
        svc.close()


@contextmanager
def served(cli: Cli, log: Path, **env: str) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """`forvalg serve` on a free port, answering; terminated (SIGTERM) on the way out."""
    port = free_port()
    with (
        log.open("w") as output,
        subprocess.Popen(
            [str(FORVALG), "serve", "--port", str(port)],
            cwd=cli.cwd,
            env={**cli.env, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        ) as server,
    ):
        try:
            deadline = time.monotonic() + 60
            while True:
                assert server.poll() is None, f"serve exited early:\n{log.read_text()}"
                assert time.monotonic() < deadline, f"serve never answered:\n{log.read_text()}"
                try:
                    get(port, "/openapi.json")
                    break
                except OSError:
                    time.sleep(0.2)
            yield port, server
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    # Uvicorn shuts down gracefully, then re-raises the SIGTERM it caught (the Unix convention).
    assert server.returncode in (0, -signal.SIGTERM), log.read_text()
    assert "Finished server process" in log.read_text()
    assert "Traceback" not in log.read_text()


def test_serve_answers_openapi_and_authenticates_operators(
    initialised: Cli, tmp_path: Path
) -> None:
    token = register_operator(initialised)
    with served(initialised, tmp_path / "serve.log") as (port, _):
        status, kind, body = get(port, "/openapi.json")
        assert status == 200
        assert kind.startswith("application/json")
        spec = json.loads(body)
        assert "/v1/orders" in spec["paths"]

        status, kind, body = get(port, "/v1/orders", token)
        assert status == 200, body
        assert json.loads(body)["items"] == []

        status, kind, body = get(port, "/v1/orders")
        assert status == 401
        assert kind.startswith("application/problem+json")
        assert json.loads(body)["code"] == "E_AUTH"


def test_serve_in_an_uninitialised_directory_fails_with_one_line(cli: Cli) -> None:
    result = cli.fails("serve", "--port", str(free_port()), timeout=60)
    assert "forvalg init" in result.error_line


def test_a_policy_that_does_not_validate_stops_serve_with_cedars_error(
    initialised: Cli, tmp_path: Path
) -> None:
    shipped = Path(forvalg.wall.policy.POLICY_DIR)
    broken = tmp_path / "policy"
    broken.mkdir()
    (broken / "forvalg.cedarschema").write_text((shipped / "forvalg.cedarschema").read_text())
    text = (shipped / "forvalg.cedar").read_text()
    (broken / "forvalg.cedar").write_text(text.replace("context.purpose", "context.reason", 1))

    result = initialised.with_env(FORVALG_POLICY_DIR=str(broken)).fails(
        "serve", "--port", str(free_port()), timeout=60
    )

    assert "does not validate against the schema" in result.error_line
    assert "reason" in result.error_line
    assert result.stderr.count("\n") == 1
