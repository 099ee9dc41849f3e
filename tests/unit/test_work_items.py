"""Work items in the domain: what each kind must name, the kind an id claims by its
shape, and what a work item covers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from forvalg.domain.work_items import InvalidWorkItem, WorkItemKind, kind_of, new_work_item

AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_the_kind_an_id_claims_is_read_from_its_shape() -> None:
    assert kind_of("o" + "0" * 26) is WorkItemKind.ORDER
    assert kind_of("FT-0123456789ab") is WorkItemKind.FAULT_TICKET
    assert kind_of("SR-0123456789ab") is WorkItemKind.SETTLEMENT_RUN
    assert kind_of("INQ-0123456789ab") is WorkItemKind.INQUIRY
    assert kind_of("SUB-0123456789ab") is WorkItemKind.SUBSCRIBER_REQUEST
    assert kind_of("AUD-0123456789ab") is WorkItemKind.AUDIT
    for text in ("", "FT-", "FT-0123456789AB", "XX-0123456789ab", "user:u1", "o123"):
        assert kind_of(text) is None, text


@pytest.mark.parametrize(
    ("kind", "fields", "field"),
    [
        (WorkItemKind.ORDER, {}, "kind"),
        (WorkItemKind.FAULT_TICKET, {}, "lines"),
        (WorkItemKind.FAULT_TICKET, {"lines": [str(n) for n in range(101)]}, "lines"),
        (WorkItemKind.SETTLEMENT_RUN, {"period": "2026-11"}, "operator"),
        (WorkItemKind.SETTLEMENT_RUN, {"operator_id": "alfatel", "period": "2026-13"}, "period"),
        (WorkItemKind.INQUIRY, {"period": "2026-11"}, "due_at"),
        (WorkItemKind.INQUIRY, {"period": "2026-11", "due_at": AT}, "due_at"),
    ],
)
def test_a_work_item_names_what_its_kind_needs(
    kind: WorkItemKind, fields: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidWorkItem) as refused:
        new_work_item("x", kind, summary="s", opened_by="user:u1", opened_at=AT, **fields)
    assert refused.value.field == field
    with pytest.raises(InvalidWorkItem) as blank:
        new_work_item("x", WorkItemKind.AUDIT, summary="  ", opened_by="u", opened_at=AT)
    assert blank.value.field == "summary"


def test_a_work_item_covers_its_lines_its_operator_and_nothing_once_closed() -> None:
    ticket = new_work_item(
        "FT-0123456789ab",
        WorkItemKind.FAULT_TICKET,
        summary="no dial tone",
        opened_by="user:u1",
        opened_at=AT,
        lines=["22334455"],
    )
    assert ticket.uncovered(["22334455"]) is None
    assert ticket.uncovered(["22334455", "22334466"]) == (
        "1 line(s) touched are not on fault_ticket FT-0123456789ab"
    )
    run = new_work_item(
        "SR-0123456789ab",
        WorkItemKind.SETTLEMENT_RUN,
        summary="November",
        opened_by="user:u2",
        opened_at=AT,
        operator_id="alfatel",
        period="2026-11",
    )
    assert run.uncovered(["22334466"], ["alfatel"]) is None
    assert run.uncovered([], ["betanett"]) == "operator(s) betanett are not invoiced by " + run.id
    inquiry = new_work_item(
        "INQ-0123456789ab",
        WorkItemKind.INQUIRY,
        summary="q",
        opened_by="user:u3",
        opened_at=AT,
        period="2026-11",
        due_at=AT + timedelta(days=7),
    )
    assert inquiry.uncovered(["22334455"]) is None
    closed = replace(ticket, closed_at=AT + timedelta(days=1))
    assert closed.uncovered(["22334455"]) == "work item FT-0123456789ab is closed"
