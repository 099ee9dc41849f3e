"""The log filter every handler carries (cli/logs.py): whatever a library logs, a bearer
token's secret, an Authorization or Cookie header, a session cookie or a private key
comes out redacted; the rest of the record is untouched."""

from __future__ import annotations

import logging

from forvalg.cli.logs import REDACTED, RedactSecrets, config

KEY = "fvg_k0123456789ab_Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eA-_x"
STAFF = "fvu_u0123456789ab_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"


def _logged(msg: str, *args: object) -> str:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, msg, args, None)
    assert RedactSecrets().filter(record)
    return record.getMessage()


def test_tokens_headers_cookies_and_keys_are_redacted() -> None:
    scope = {
        "path": "/v1/orders",
        "headers": [
            (b"authorization", f"Bearer {KEY}".encode()),
            (b"cookie", b"forvalg_session=c2VhbGVk; other=1"),
            (b"user-agent", b"curl/8"),
        ],
    }
    text = _logged("ASGI [%d] Started scope=%s", 3, scope)
    assert "Zm9vYmFy" not in text
    assert "c2VhbGVk" not in text
    assert "ASGI [3]" in text
    assert "/v1/orders" in text
    assert "curl/8" in text
    assert f"fvg_k0123456789ab_{REDACTED}" in _logged("token %s", KEY)
    assert STAFF not in _logged(f"signed in with {STAFF}")
    assert "c2VjcmV0" not in _logged("Authorization: Bearer %s", "c2VjcmV0c2VjcmV0")
    assert "AbCd" not in _logged("PRIVATE+KEY+forvalg.local/ledger+613e4757+AbCd+/=")
    assert "c2Vzc2lvbg" not in _logged("Set-Cookie: forvalg_pre=c2Vzc2lvbg; HttpOnly")


def test_subscriber_numbers_in_paths_and_queries_are_redacted() -> None:
    args = ("127.0.0.1:5000", "GET", "/v1/lines/22334455/eligibility", "1.1", 200)
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, "%s %s %s %s %d", args, None
    )
    RedactSecrets().filter(record)
    assert record.args == ("127.0.0.1:5000", "GET", "/v1/lines/########/eligibility", "1.1", 200)
    scope = {"path": "/v1/orders", "query_string": b"number=22334455&limit=5"}
    assert "22334455" not in _logged("ASGI [%d] Started scope=%s", 1, scope)
    assert "22334455" not in _logged("GET /staff/lines/22334455 HTTP/1.1")


def test_access_log_records_keep_their_arguments_for_the_formatter() -> None:
    args = ("127.0.0.1:5000", "GET", "/v1/orders?limit=5", "1.1", 200)
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, "%s %s %s %s %d", args, None
    )
    RedactSecrets().filter(record)
    assert record.args == args


def test_every_handler_carries_the_filter_and_sqlalchemy_never_logs_rows() -> None:
    found = config("trace")
    assert all(h["filters"] == ["secrets"] for h in found["handlers"].values())
    assert found["loggers"]["sqlalchemy"]["level"] == logging.INFO
    assert found["root"]["level"] == 5
