"""`forvalg serve`: the operator API over HTTP, from the real executable."""

from __future__ import annotations

import json
from pathlib import Path

import forvalg.wall.policy
from forvalg.bootstrap import bootstrap
from forvalg.settings import Settings

from .helpers import Cli
from .server import free_port, get, served


def register_operator(cli: Cli) -> str:
    settings = Settings(
        database_url=f"sqlite:///{cli.cwd / 'forvalg.db'}", key_dir=cli.cwd / ".forvalg"
    )
    svc = bootstrap(settings)
    try:
        return svc.operators.add("telia", "Telia Norge", "1505").key.token
    finally:
        svc.close()


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
