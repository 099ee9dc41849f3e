"""A live `forvalg serve` for end-to-end tests: started from the real executable on a
free port, and plain HTTP to it (the CLI tests of `serve`, the ledger over HTTP, the
browser tests)."""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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
