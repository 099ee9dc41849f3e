"""Run-time settings, read once from the environment by `Settings.from_env()`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from forvalg.domain.calendar import CalendarRules, WorkingCalendar
from forvalg.domain.orders import Option
from forvalg.domain.validation import OrderRules

DEFAULT_DATABASE_URL = "sqlite:///forvalg.db"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    key_dir: Path = Path(".forvalg")
    calendar: CalendarRules = field(default_factory=CalendarRules)
    offered_options: frozenset[Option] = frozenset(Option)
    max_body_bytes: int = 16 * 1024
    page_limit_max: int = 500
    process_batch_size: int = 500
    worker_interval_s: float = 5.0
    rate_limit_per_s: float = 2000.0
    rate_limit_burst: int = 4000

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        calendar = CalendarRules(
            lead_working_days=int(env.get("FORVALG_LEAD_WORKING_DAYS", "10")),
            cooling_off_days=int(env.get("FORVALG_COOLING_OFF_DAYS", "14")),
        )
        options = env.get("FORVALG_OFFERED_OPTIONS")
        return cls(
            database_url=env.get("FORVALG_DATABASE_URL", DEFAULT_DATABASE_URL),
            key_dir=Path(env.get("FORVALG_KEY_DIR", ".forvalg")),
            calendar=calendar,
            offered_options=(
                frozenset(Option(o.strip()) for o in options.split(","))
                if options
                else frozenset(Option)
            ),
            rate_limit_per_s=float(env.get("FORVALG_RATE_LIMIT_PER_S", "2000")),
        )

    @property
    def order_rules(self) -> OrderRules:
        return OrderRules(WorkingCalendar(self.calendar), self.offered_options)
