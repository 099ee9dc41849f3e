"""The access-log search's filters: what a query refuses, and the rule an entry must
pass (the store's SQL narrows; this rule decides)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from forvalg.domain.access_log import AccessLogQuery, InvalidSearch, LoggedAccess

AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _event(**fields: Any) -> dict[str, Any]:
    event = {
        "at": AT.isoformat(),
        "principal": "user:u1",
        "organisation": "incumbent:wholesale",
        "roles": ["wholesale_ops"],
        "purpose": "fault_repair",
        "work_item": "FT-0123456789ab",
        "action": "read",
        "resource": "cps.routing",
        "decision": "allow",
        "reason": "granted by ops-repairs-lines",
        "subject_count": 1,
        "subjects": ["p1"],
    }
    return event | fields


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"decision": "permit"}, "decision"),
        ({"since": datetime(2026, 11, 23)}, "since"),  # no zone
        ({"since": AT, "until": AT}, "until"),
        ({"line": "2233445"}, "line"),
        ({"limit": 201}, "limit"),
        ({"before": -1}, "before"),
        ({"principal": ""}, "principal"),
        ({"role": "x" * 201}, "role"),
    ],
)
def test_a_bad_filter_names_itself(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidSearch) as raised:
        AccessLogQuery(**fields)
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("query", "event", "matches"),
    [
        (AccessLogQuery(), _event(), True),
        (AccessLogQuery(principal="user:u1"), _event(), True),
        (AccessLogQuery(principal="user:u2"), _event(), False),
        (AccessLogQuery(role="wholesale_ops"), _event(roles=["a", "wholesale_ops"]), True),
        (AccessLogQuery(role="wholesale"), _event(), False),
        (AccessLogQuery(category="cps.order"), _event(), False),
        (AccessLogQuery(decision="deny"), _event(), False),
        (AccessLogQuery(work_item="FT-0123456789ab"), _event(), True),
        (AccessLogQuery(work_item="FT-0123456789ab"), _event(work_item=None), False),
        (AccessLogQuery(break_glass=True), _event(reason="x; break-glass: urgent"), True),
        (AccessLogQuery(break_glass=True), _event(), False),
        # a denial of a break-glass request is not a break-glass use
        (
            AccessLogQuery(break_glass=True),
            _event(decision="deny", reason="E_FORBIDDEN: x; break-glass: y"),
            False,
        ),
        (AccessLogQuery(break_glass=False), _event(), True),
        (AccessLogQuery(since=AT), _event(), True),
        (AccessLogQuery(until=AT), _event(), False),
        (
            AccessLogQuery(since=AT - timedelta(hours=1), until=AT + timedelta(seconds=1)),
            _event(),
            True,
        ),
        # an entry stamped in another zone is compared by its instant
        (
            AccessLogQuery(until=AT + timedelta(minutes=1)),
            _event(at=AT.astimezone(timezone(timedelta(hours=1))).isoformat()),
            True,
        ),
    ],
)
def test_the_rule_an_entry_passes(
    query: AccessLogQuery, event: dict[str, Any], matches: bool
) -> None:
    assert LoggedAccess(7, event).matches(query) is matches


def test_filters_name_only_what_was_given() -> None:
    query = AccessLogQuery(principal="user:u1", break_glass=False, line="22334455", limit=10)
    assert query.filters == {"principal": "user:u1", "break_glass": False}
