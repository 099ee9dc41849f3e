"""Run-time settings, read once from the environment by `Settings.from_env()`.

| variable | default | meaning |
|---|---|---|
| FORVALG_DATABASE_URL | sqlite:///forvalg.db | SQLite file or postgresql+psycopg://... |
| FORVALG_KEY_DIR | .forvalg | where `forvalg init` keeps the pseudonym and ledger keys |
| FORVALG_LEDGER_KEY | $FORVALG_KEY_DIR/ledger.key | the ledger's Ed25519 signing key (0600) |
| FORVALG_LEDGER_ORIGIN | forvalg.local/ledger | the log's name, first line of each checkpoint |
| FORVALG_POLICY_DIR | (packaged) | holds `forvalg.cedar` and `.cedarschema`, validated at start |
| FORVALG_CHECKPOINT_INTERVAL_S | 60 | `serve` and `worker` sign a checkpoint this often |
| FORVALG_LEAD_WORKING_DAYS | 10 | due date = receipt + this many working days |
| FORVALG_CUTOFF_TIME | 12:00 | cancel cut-off, Oslo time, on the working day before due |
| FORVALG_SWITCH_TIME | 00:00 | when a change takes effect on the due date, Oslo time |
| FORVALG_COOLING_OFF_DAYS | 14 | the customer's withdrawal window, in the letter |
| FORVALG_OFFERED_OPTIONS | ALL,NATIONAL,INTERNATIONAL | preselection options offered |
| FORVALG_RATE_LIMIT_PER_S | 2000 | API requests per second per operator and process |
| FORVALG_KEY_RATE_LIMIT_PER_S | (as above) | API requests per second per API key and process |
| FORVALG_LOG_LEVEL | (unset) | `trace` … `critical`: log to stderr, secrets redacted |
| FORVALG_UMASK | 077 | the umask of every command: what it writes is its owner's only |
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import TypeVar

from forvalg.domain.calendar import CalendarRules, WorkingCalendar
from forvalg.domain.orders import Option
from forvalg.domain.validation import OrderRules

DEFAULT_DATABASE_URL = "sqlite:///forvalg.db"


T = TypeVar("T")


class InvalidSetting(ValueError):
    """An environment variable with a value forvalg cannot use; names the variable."""


def _options(text: str) -> frozenset[Option]:
    return frozenset(Option(part.strip()) for part in text.split(","))


def _origin(text: str) -> str:
    if not text or "+" in text or any(c.isspace() for c in text):
        raise ValueError("a log origin is non-empty, without '+' or spaces")
    return text


LOG_LEVELS = ("trace", "debug", "info", "warning", "error", "critical")


def _log_level(text: str) -> str:
    if text.lower() not in LOG_LEVELS:
        raise ValueError(f"one of {', '.join(LOG_LEVELS)}")
    return text.lower()


def _umask(text: str) -> int:
    try:
        value = int(text, 8)
    except ValueError:
        value = -1
    if not 0 <= value <= 0o777:
        raise ValueError("an octal umask from 000 to 777, e.g. 027")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError("must be a positive number of seconds")
    return value


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    key_dir: Path = Path(".forvalg")
    calendar: CalendarRules = field(default_factory=CalendarRules)
    offered_options: frozenset[Option] = frozenset(Option)
    max_body_bytes: int = 16 * 1024
    max_contacts_body_bytes: int = 8 * 1024 * 1024  # POST /v1/retail/contacts: 10,000 a call
    rate_limit_per_s: float = 2000.0
    rate_limit_burst: int = 4000
    # Each API key (or staff token, subscriber session) has a bucket of its own as well
    # as its principal's; None: the principal's rate and burst (docs/OPERATOR-API.md).
    key_rate_limit_per_s: float | None = None
    key_rate_limit_burst: int | None = None
    ledger_key: Path | None = None  # None: key_dir / "ledger.key"
    ledger_origin: str = "forvalg.local/ledger"
    checkpoint_interval_s: float = 60.0
    policy_dir: Path | None = None  # None: the policy shipped in forvalg/wall/policies
    log_level: str | None = None  # None: Python's default (warnings on stderr)
    # Rated calls, statements, findings, reports, bundles, exports, keys and the SQLite
    # database are written by the command's user for that user alone (docs/SECURITY.md,
    # L21); 027 lets the group read them.
    umask: int = 0o077

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def read(name: str, parse: Callable[[str], T], default: T) -> T:
            text = env.get(name)
            if text is None:
                return default
            try:
                return parse(text)
            except ValueError as exc:
                raise InvalidSetting(f"{name}={text!r}: {exc}") from None

        base, rules = cls(), CalendarRules()
        return cls(
            database_url=read("FORVALG_DATABASE_URL", str, base.database_url),
            key_dir=read("FORVALG_KEY_DIR", Path, base.key_dir),
            calendar=CalendarRules(
                lead_working_days=read("FORVALG_LEAD_WORKING_DAYS", int, rules.lead_working_days),
                cutoff_time=read("FORVALG_CUTOFF_TIME", time.fromisoformat, rules.cutoff_time),
                switch_time=read("FORVALG_SWITCH_TIME", time.fromisoformat, rules.switch_time),
                cooling_off_days=read("FORVALG_COOLING_OFF_DAYS", int, rules.cooling_off_days),
            ),
            offered_options=read("FORVALG_OFFERED_OPTIONS", _options, base.offered_options),
            rate_limit_per_s=read("FORVALG_RATE_LIMIT_PER_S", float, base.rate_limit_per_s),
            key_rate_limit_per_s=read("FORVALG_KEY_RATE_LIMIT_PER_S", _positive, None),
            ledger_key=read("FORVALG_LEDGER_KEY", Path, None),
            ledger_origin=read("FORVALG_LEDGER_ORIGIN", _origin, base.ledger_origin),
            checkpoint_interval_s=read(
                "FORVALG_CHECKPOINT_INTERVAL_S", _positive, base.checkpoint_interval_s
            ),
            policy_dir=read("FORVALG_POLICY_DIR", Path, None),
            log_level=read("FORVALG_LOG_LEVEL", _log_level, None),
            umask=read("FORVALG_UMASK", _umask, base.umask),
        )

    @property
    def ledger_key_path(self) -> Path:
        return self.ledger_key or self.key_dir / "ledger.key"

    @property
    def order_rules(self) -> OrderRules:
        return OrderRules(WorkingCalendar(self.calendar), self.offered_options)
