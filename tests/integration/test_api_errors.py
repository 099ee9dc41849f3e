"""Errors: RFC 9457 problem+json with a `code`; bad input names its field; API keys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from forvalg.api.app import create_app
from forvalg.store import tables

from .world import AUTH, Operator, TestClient, World, cancel_other, cease, modify, problem, provide


def _without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


BAD_BODIES: list[tuple[str, Any, str]] = [
    ("number as int", provide("22334455") | {"number": 22334455}, "/number"),
    ("postcode as int", provide("22334455") | {"postcode": 150}, "/postcode"),
    ("option as list", provide("22334455") | {"option": ["ALL"]}, "/option"),
    ("unknown field", provide("22334455") | {"operator": "betanett"}, "/operator"),
    (
        "unknown nested field",
        provide("22334455") | {"authorisation": AUTH | {"witness": "x"}},
        "/authorisation/witness",
    ),
    ("9-digit number", provide("22334455") | {"number": "223344556"}, "/number"),
    ("7-digit number", provide("22334455") | {"number": "2233445"}, "/number"),
    ("number with spaces", provide("22334455") | {"number": "22 33 44 55"}, "/number"),
    ("unknown option", provide("22334455") | {"option": "LOCAL"}, "/option"),
    ("lower-case option", provide("22334455") | {"option": "all"}, "/option"),
    ("unknown type", provide("22334455") | {"type": "PORT"}, "/type"),
    ("missing type", _without(provide("22334455"), "type"), "/type"),
    ("missing number", _without(provide("22334455"), "number"), "/number"),
    ("PROVIDE without postcode", _without(provide("22334455"), "postcode"), "/postcode"),
    ("PROVIDE without option", _without(provide("22334455"), "option"), "/option"),
    ("3-digit postcode", provide("22334455") | {"postcode": "150"}, "/postcode"),
    (
        "TRANSFER without postcode",
        _without(provide("22334455"), "postcode") | {"type": "TRANSFER"},
        "/postcode",
    ),
    ("MODIFY without option", _without(modify("22334455", option="ALL"), "option"), "/option"),
    (
        "bad signed_at",
        provide("22334455") | {"authorisation": AUTH | {"signed_at": "20.11.2026"}},
        "/authorisation/signed_at",
    ),
    (
        "empty authorisation reference",
        provide("22334455") | {"authorisation": AUTH | {"reference": ""}},
        "/authorisation/reference",
    ),
    ("bad requested_date", provide("22334455") | {"requested_date": "soon"}, "/requested_date"),
    (
        "CANCEL_OTHER with unknown reason",
        cancel_other("22334455", "o123", reason="CHANGED_MIND"),
        "/reason",
    ),
    (
        "CANCEL_OTHER without target",
        _without(cancel_other("22334455", "o123"), "target_order"),
        "/target_order",
    ),
    (
        "CANCEL_OTHER with an option",
        cancel_other("22334455", "o123") | {"option": "ALL"},
        "/option",
    ),
    ("CEASE with an option", cease("22334455") | {"option": "ALL"}, "/option"),
    ("array body", [provide("22334455")], ""),
    ("string body", "PROVIDE 22334455", ""),
    ("null body", None, ""),
]


def test_malformed_order_is_422_pointing_at_the_field(
    world: World, alpha: Operator, subtests: pytest.Subtests
) -> None:
    for name, body, pointer in BAD_BODIES:
        with subtests.test(name):
            response = alpha.client.post(
                "/v1/orders",
                content=json.dumps(body),
                headers={"Idempotency-Key": "k", "Content-Type": "application/json"},
            )

            found = problem(response, 422, "E_VALIDATION")
            assert pointer in [e.get("pointer") for e in found["errors"]], found
            assert all(e["reason"] for e in found["errors"])
    assert world.count(tables.orders) == 0


def test_malformed_json_is_422(world: World, alpha: Operator, subtests: pytest.Subtests) -> None:
    for name, raw in [
        ("garbage", b"{bad json"),
        ("trailing comma", b'{"type": "PROVIDE", "number": "22334455",}'),
        ("empty", b""),
        ("not utf-8", b"\xff\xfe{}"),
    ]:
        with subtests.test(name):
            response = alpha.client.post(
                "/v1/orders",
                content=raw,
                headers={"Idempotency-Key": "k", "Content-Type": "application/json"},
            )

            found = problem(response, 422, "E_VALIDATION")
            assert [e.get("pointer") for e in found["errors"]] == [""]
    assert world.count(tables.orders) == 0


def test_bad_parameter_is_422_naming_it(alpha: Operator, subtests: pytest.Subtests) -> None:
    for path, parameter in [
        ("/v1/orders?state=OPEN", "state"),
        ("/v1/orders?number=2233445", "number"),
        ("/v1/orders?limit=0", "limit"),
        ("/v1/orders?limit=501", "limit"),
        ("/v1/orders?limit=ten", "limit"),
        ("/v1/events?limit=0", "limit"),
        ("/v1/events?after=zzz", "after"),
        ("/v1/lines/2233445/eligibility", "number"),
        ("/v1/lines/22334455x/eligibility", "number"),
        (f"/v1/orders/{'o' * 33}", "order_id"),
    ]:
        with subtests.test(path):
            found = problem(alpha.client.get(path), 422, "E_VALIDATION")
            assert parameter in [e.get("parameter") for e in found["errors"]], found


def test_body_over_the_size_limit_is_413(world: World, alpha: Operator) -> None:
    limit = world.services.settings.max_body_bytes
    body = provide("22334455") | {"authorisation": AUTH | {"reference": "x" * limit}}

    response = alpha.place(body)

    found = problem(response, 413, "E_PAYLOAD_TOO_LARGE")
    assert str(limit) in found["detail"]
    assert world.count(tables.orders) == 0


def test_body_over_the_size_limit_without_content_length_is_413(
    world: World, alpha: Operator
) -> None:
    """A chunked body (no Content-Length) is counted while it streams in."""
    limit = world.services.settings.max_body_bytes

    def chunks() -> Iterator[bytes]:
        yield b'{"type": "PROVIDE", "number": "22334455", "postcode": "0150", "x": "'
        for _ in range(limit // 1000 + 2):
            yield b"x" * 1000
        yield b'"}'

    response = alpha.client.post(
        "/v1/orders",
        content=chunks(),
        headers={"Idempotency-Key": "k", "Content-Type": "application/json"},
    )

    assert "content-length" not in response.request.headers
    problem(response, 413, "E_PAYLOAD_TOO_LARGE")
    assert world.count(tables.orders) == 0


def test_body_just_under_the_limit_is_read(world: World, alpha: Operator) -> None:
    limit = world.services.settings.max_body_bytes
    body = provide("22334455") | {"authorisation": AUTH | {"reference": "x" * (limit - 300)}}

    found = problem(alpha.place(body), 422, "E_VALIDATION")  # too long a reference, not 413
    assert "/authorisation/reference" in [e.get("pointer") for e in found["errors"]]


def test_unknown_route_is_a_problem(alpha: Operator) -> None:
    problem(alpha.client.get("/v1/nothing-here"), 404, "E_NOT_FOUND")


# Authentication.


def _deny_rows(world: World, after: int) -> list[dict[str, Any]]:
    return [r for r in world.access_log(after) if r["decision"] == "deny"]


def _assert_no_secret(rows: list[dict[str, Any]], *secrets: str) -> None:
    for row in rows:
        for column, value in row.items():
            for secret in secrets:
                assert secret not in str(value), (column, value)


AUTHORIZATIONS = [
    None,
    "",
    "Bearer",
    "Bearer ",
    "Basic YWxmYXRlbDpzZWNyZXQ=",
    "Bearer fvg_k000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "Bearer not-a-key-at-all",
]


def test_missing_or_unknown_api_key_is_401_and_logged(
    world: World, alpha: Operator, subtests: pytest.Subtests
) -> None:
    client = world.client()
    for authorization in AUTHORIZATIONS:
        with subtests.test(repr(authorization)):
            headers = {} if authorization is None else {"Authorization": authorization}
            before = world.last_log_seq()

            for response in (
                client.get("/v1/orders", headers=headers),
                client.post(
                    "/v1/orders",
                    json=provide("22334455"),
                    headers=headers | {"Idempotency-Key": "k"},
                ),
                client.get("/v1/events", headers=headers),
                client.get("/v1/lines/22334455/eligibility", headers=headers),
                client.post("/v1/orders/o123/cancel", headers=headers),
            ):
                problem(response, 401, "E_AUTH")
                assert response.headers["WWW-Authenticate"].startswith("Bearer")

            denials = _deny_rows(world, before)
            assert len(denials) == 5
            assert {r["principal"] for r in denials} == {"anonymous"}
            assert all(r["reason"].startswith("E_AUTH") for r in denials)
            assert world.access_log(before) == denials  # nothing was allowed
            secret = (authorization or "").removeprefix("Bearer").strip()
            _assert_no_secret(
                denials, *(s for s in [secret, secret.rpartition("_")[2]] if len(s) > 6)
            )
    assert world.count(tables.orders) == 0


def test_right_key_id_with_wrong_secret_is_401_and_logged_without_secret(
    world: World, alpha: Operator
) -> None:
    prefix, key_id, secret = alpha.token.split("_", 2)
    forged_secret = secret[::-1]
    before = world.last_log_seq()

    response = world.client(f"{prefix}_{key_id}_{forged_secret}").get("/v1/orders")

    problem(response, 401, "E_AUTH")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="forvalg"'
    [denial] = world.access_log(before)
    assert denial["decision"] == "deny"
    assert denial["principal"] == "anonymous"
    assert denial["work_item"] == f"api-key:{key_id}"  # names the key, not its secret
    _assert_no_secret([denial], secret, forged_secret, alpha.token)


def test_revoked_key_is_401_and_logged_without_secret(world: World, alpha: Operator) -> None:
    assert alpha.list_orders().status_code == 200
    assert world.services.operators.revoke_key(alpha.id, alpha.key_id)
    before = world.last_log_seq()

    response = alpha.list_orders()

    problem(response, 401, "E_AUTH")
    assert "WWW-Authenticate" in response.headers
    [denial] = world.access_log(before)
    assert denial["decision"] == "deny"
    assert denial["action"] == "authenticate"
    assert denial["work_item"] == f"api-key:{alpha.key_id}"
    _assert_no_secret([denial], alpha.token, alpha.token.split("_", 2)[2])
    # A new key for the same operator works, and sees the operator's orders.
    fresh = world.services.operators.new_key(alpha.id)
    assert world.client(fresh.token).get("/v1/orders").status_code == 200


def test_api_key_hashes_only_are_stored(world: World, alpha: Operator) -> None:
    secret = alpha.token.split("_", 2)[2]
    for table in (tables.operator_api_keys, tables.ledger_inbox, tables.operators):
        _assert_no_secret(world.rows(table), secret)


def test_missing_api_key_with_malformed_json_is_401_and_logged(world: World) -> None:
    """Authentication comes first: an anonymous caller learns nothing about the body."""
    before = world.last_log_seq()

    response = world.client().post(
        "/v1/orders",
        content=b"{bad json",
        headers={"Idempotency-Key": "k", "Content-Type": "application/json"},
    )

    problem(response, 401, "E_AUTH")
    assert [r["decision"] for r in world.access_log(before)] == ["deny"]


def test_rate_limit_is_per_operator(world: World, alpha: Operator, beta: Operator) -> None:
    settings = replace(world.services.settings, rate_limit_per_s=0.01, rate_limit_burst=3)
    app = create_app(replace(world.services, settings=settings))
    with (
        TestClient(app, headers={"Authorization": f"Bearer {alpha.token}"}) as a,
        TestClient(app, headers={"Authorization": f"Bearer {beta.token}"}) as b,
    ):
        assert [a.get("/v1/orders").status_code for _ in range(3)] == [200] * 3

        limited = a.get("/v1/orders")

        problem(limited, 429, "E_RATE_LIMITED")
        assert int(limited.headers["Retry-After"]) >= 1
        assert b.get("/v1/orders").status_code == 200
