"""A retail contact row: a contact, or a reason per bad field (domain/contacts.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from forvalg.domain.contacts import (
    Channel,
    Contact,
    Direction,
    RejectedContact,
    Value,
    check_source,
    parse_contact,
)

GOOD: dict[str, Value] = {
    "contact_id": "c-1",
    "time_utc": "2026-11-20T10:00:00Z",
    "number": "22334455",
    "channel": "PHONE",
    "direction": "OUTBOUND",
    "agent_id": "agent-7",
    "campaign_id": "WINBACK-1",
    "outcome": "declined",
}


def test_a_good_row_is_a_contact_in_utc() -> None:
    contact = parse_contact(
        GOOD | {"time_utc": "2026-11-20T11:00:00+01:00", "number": " 22334455 "}
    )
    assert contact == Contact(
        "c-1",
        datetime(2026, 11, 20, 10, tzinfo=UTC),
        "22334455",
        Channel.PHONE,
        Direction.OUTBOUND,
        "agent-7",
        "WINBACK-1",
        "declined",
    )


def test_campaign_and_outcome_are_optional() -> None:
    contact = parse_contact({k: v for k, v in GOOD.items() if k not in ("campaign_id", "outcome")})
    assert isinstance(contact, Contact)
    assert (contact.campaign_id, contact.outcome) == (None, None)
    empty = parse_contact(GOOD | {"campaign_id": "", "outcome": "  "})
    assert isinstance(empty, Contact)
    assert (empty.campaign_id, empty.outcome) == (None, None)


def test_a_parquet_timestamp_is_taken_as_utc() -> None:
    naive = parse_contact(GOOD | {"time_utc": datetime(2026, 11, 20, 10)})
    assert isinstance(naive, Contact)
    assert naive.time_utc == datetime(2026, 11, 20, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "reasons"),
    [
        ({"number": "2233445"}, ["number: not an 8-digit national number"]),
        ({"number": "+4722334455"}, ["number: not an 8-digit national number"]),
        ({"number": None}, ["number: missing"]),
        (
            {"time_utc": "2026-11-20T10:00:00"},
            ["time_utc: not an ISO 8601 timestamp with a UTC offset"],
        ),
        ({"time_utc": "yesterday"}, ["time_utc: not an ISO 8601 timestamp with a UTC offset"]),
        ({"channel": "FAX"}, ["channel: not one of PHONE, SMS, EMAIL, LETTER, VISIT"]),
        ({"channel": "phone"}, ["channel: not one of PHONE, SMS, EMAIL, LETTER, VISIT"]),
        ({"direction": "SIDEWAYS"}, ["direction: not one of OUTBOUND, INBOUND"]),
        ({"contact_id": ""}, ["contact_id: missing"]),
        ({"agent_id": "a" * 65}, ["agent_id: longer than 64 characters"]),
        ({"campaign_id": "x\x00y"}, ["campaign_id: contains control characters"]),
        ({"outcome": "o" * 501}, ["outcome: longer than 500 characters"]),
        (
            {"number": "1", "channel": "", "direction": "OUT"},
            [
                "number: not an 8-digit national number",
                "channel: missing",
                "direction: not one of OUTBOUND, INBOUND",
            ],
        ),
    ],
)
def test_every_bad_field_has_its_reason(changes: dict[str, Value], reasons: list[str]) -> None:
    rejected = parse_contact(GOOD | changes)
    assert rejected == RejectedContact(tuple(reasons))
    assert isinstance(rejected, RejectedContact)
    assert rejected.reason == "; ".join(reasons)


def test_sources() -> None:
    assert check_source("crm-2.eu_west") == "crm-2.eu_west"
    for bad in ("", "a b", "x" * 33, "crm;drop"):
        with pytest.raises(ValueError, match="source"):
            check_source(bad)
