"""Retail contacts: the retail CRM's record of who talked to which customer, how and why
(INTERFACES.md §4). Compliance keeps a copy to look for contacts that follow the CPS
side's knowledge (winback); retail writes them and never reads them back.

`parse_contact` takes one row as text (CSV cells, Parquet values, JSON members) and gives
a `Contact` or every reason the row is bad, one per field, each `field: what is wrong`.
Inbound contacts are the customer's own initiative and are legitimate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeVar

from forvalg.domain.numbers import is_national_number

COLUMNS = (
    "contact_id",
    "time_utc",
    "number",
    "channel",
    "direction",
    "agent_id",
    "campaign_id",
    "outcome",
)
REQUIRED = COLUMNS[:6]
MAX_ID = 64  # contact_id, agent_id, campaign_id
MAX_OUTCOME = 500
MAX_SOURCE = 32

E = TypeVar("E", bound=StrEnum)


class Channel(StrEnum):
    PHONE = "PHONE"
    SMS = "SMS"
    EMAIL = "EMAIL"
    LETTER = "LETTER"
    VISIT = "VISIT"


class Direction(StrEnum):
    OUTBOUND = "OUTBOUND"
    INBOUND = "INBOUND"


@dataclass(frozen=True, slots=True)
class Contact:
    contact_id: str
    time_utc: datetime  # aware, UTC
    number: str
    channel: Channel
    direction: Direction
    agent_id: str
    campaign_id: str | None
    outcome: str | None


@dataclass(frozen=True, slots=True)
class RejectedContact:
    """A row that is not a contact: its reasons, one per bad field, in column order."""

    reasons: tuple[str, ...]

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


Value = str | datetime | None


def _text(value: Value) -> str | None:
    """A cell as stripped text; empty is None."""
    if value is None:
        return None
    text = value.isoformat() if isinstance(value, datetime) else str(value).strip()
    return text or None


def parse_time(value: Value) -> datetime | None:
    """An aware timestamp converted to UTC: an ISO 8601 string with an offset (`Z` or
    `+01:00`), or an aware datetime (a naive one from a Parquet timestamp without a zone
    is UTC by the file's contract). None if it is neither."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    text = _text(value)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return None
    return parsed.astimezone(UTC)


def _identifier(name: str, value: Value, reasons: list[str], *, required: bool) -> str | None:
    text = _text(value)
    if text is None:
        if required:
            reasons.append(f"{name}: missing")
        return None
    if len(text) > MAX_ID:
        reasons.append(f"{name}: longer than {MAX_ID} characters")
    elif not text.isprintable():
        reasons.append(f"{name}: contains control characters")
    return text


def parse_contact(row: Mapping[str, Value]) -> Contact | RejectedContact:
    """One row (COLUMNS; campaign_id and outcome may be absent) as a contact, or why not."""
    reasons: list[str] = []
    contact_id = _identifier("contact_id", row.get("contact_id"), reasons, required=True)
    raw_time = row.get("time_utc")
    at = parse_time(raw_time)
    if at is None:
        if _text(raw_time) is None:
            reasons.append("time_utc: missing")
        else:
            reasons.append("time_utc: not an ISO 8601 timestamp with a UTC offset")
    number = _text(row.get("number"))
    if number is None:
        reasons.append("number: missing")
    elif not is_national_number(number):
        reasons.append("number: not an 8-digit national number")
    channel = _choice("channel", row.get("channel"), Channel, reasons)
    direction = _choice("direction", row.get("direction"), Direction, reasons)
    agent_id = _identifier("agent_id", row.get("agent_id"), reasons, required=True)
    campaign_id = _identifier("campaign_id", row.get("campaign_id"), reasons, required=False)
    outcome = _text(row.get("outcome"))
    if outcome is not None and len(outcome) > MAX_OUTCOME:
        reasons.append(f"outcome: longer than {MAX_OUTCOME} characters")
    if reasons:
        return RejectedContact(tuple(reasons))
    if not (contact_id and at and number and channel and direction and agent_id):
        raise AssertionError("a row without reasons has every required field")
    return Contact(contact_id, at, number, channel, direction, agent_id, campaign_id, outcome)


def _choice(name: str, value: Value, kind: type[E], reasons: list[str]) -> E | None:
    text = _text(value)
    if text is None:
        reasons.append(f"{name}: missing")
        return None
    try:
        return kind(text)
    except ValueError:
        reasons.append(f"{name}: not one of {', '.join(kind)}")
        return None


def check_source(source: str) -> str:
    """The name of the CRM a contact came from: contact ids are unique per source."""
    if not (0 < len(source) <= MAX_SOURCE) or not all(c.isalnum() or c in "-_." for c in source):
        raise ValueError(f"source {source!r}: 1 to {MAX_SOURCE} letters, digits, '-', '_' or '.'")
    return source
