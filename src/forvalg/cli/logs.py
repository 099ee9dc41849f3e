"""Logging for the command line and `forvalg serve`, with secrets redacted.

`FORVALG_LOG_LEVEL` (`trace`, `debug`, `info`, `warning`, `error`, `critical`) turns on
logging to stderr for every command; `serve` passes the same configuration to uvicorn
(its own loggers, and the root logger for the application's and SQLAlchemy's). Every
handler carries `RedactSecrets`, so that even at `trace` (uvicorn logs each request's
ASGI messages; it hides their headers itself) no API key, staff token, subscriber
session, session cookie or private key reaches a log by any library's doing, and no
subscriber number in a request's path or query (the access log would otherwise show
which lines operators check and staff open).
SQLAlchemy never logs parameters (`hide_parameters`, store/engine.py) nor, whatever the
level, result rows (its DEBUG). tests/e2e/test_no_secrets_in_logs.py holds it.
"""

from __future__ import annotations

import copy
import logging
import logging.config
import re
from typing import Any

TRACE = 5  # uvicorn's TRACE level
LEVELS = {
    "trace": TRACE,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}
REDACTED = "[redacted]"
_SECRETS = (
    # Bearer tokens by shape: the id stays (it names the key), the secret goes.
    (re.compile(r"\b(fv[gus]_[A-Za-z0-9]{1,16}_)[A-Za-z0-9_\-]{8,}"), rf"\g<1>{REDACTED}"),
    (re.compile(r"(?i)\b(bearer\s+)[^\s'\",;]+"), rf"\g<1>{REDACTED}"),
    # Header pairs as uvicorn's trace logs the ASGI scope: (b'authorization', b'...').
    (
        re.compile(
            r"(?i)(\(b?'(?:authorization|proxy-authorization|cookie|set-cookie)',\s*b?')[^']*'"
        ),
        rf"\g<1>{REDACTED}'",
    ),
    (re.compile(r"\b(forvalg_(?:session|pre)=)[^;\s'\"]+"), rf"\g<1>{REDACTED}"),
    (re.compile(r"PRIVATE\+KEY\+[^\s'\"]+"), f"PRIVATE+KEY+{REDACTED}"),
    # A subscriber number in a path or a query (`/v1/lines/22334455/eligibility`,
    # `?number=22334455`): which lines an operator or staff asked about is CPS data.
    (re.compile(r"(?<=[/=])[0-9]{8}(?![0-9])"), "########"),
)


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def _redact_arg(arg: Any) -> Any:
    if arg is None or isinstance(arg, int | float):
        return arg
    text = str(arg)
    cleaned = redact(text)
    return arg if cleaned == text else cleaned


class RedactSecrets(logging.Filter):
    """Rewrites a record's message and arguments with every secret's shape redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            # Its formatter unpacks the arguments: redact each, keep the tuple.
            record.args = tuple(_redact_arg(a) for a in record.args)
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: what it holds, redacted
            message = f"{record.msg} {record.args}"
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def config(level: str) -> dict[str, Any]:
    """uvicorn's logging configuration, with the redacting filter on every handler and
    the root logger (the application, SQLAlchemy) at `level` on stderr."""
    from uvicorn.config import LOGGING_CONFIG

    found: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    found["filters"] = {"secrets": {"()": RedactSecrets}}
    for handler in found["handlers"].values():
        handler["filters"] = ["secrets"]
    number = LEVELS[level]
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        found["loggers"][name]["level"] = number
    # SQLAlchemy's DEBUG logs result rows: data, which a log must never hold. Its INFO
    # (statements, parameters hidden) is the most it may say.
    found["loggers"]["sqlalchemy"] = {"level": max(number, logging.INFO)}
    found["root"] = {"handlers": ["default"], "level": number}
    return found


def configure(level: str | None) -> None:
    """Log at `level` (a name of `LEVELS`) with secrets redacted; None: leave logging
    as Python's default (warnings and errors on stderr)."""
    if level is None:
        return
    logging.addLevelName(TRACE, "TRACE")
    logging.config.dictConfig(config(level))
