"""Compliance alerts: the wall raises one on every denial and every break-glass access."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Alert:
    at: datetime
    kind: str  # denial | break_glass
    principal: str
    purpose: str
    work_item: str | None
    category: str
    reason: str
    seq: int = 0  # given by the store
