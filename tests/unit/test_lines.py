"""Line inventory records: parsing with the bad field named, and eligibility for CPS."""

from __future__ import annotations

import pytest

from forvalg.domain.lines import (
    ELIGIBLE_LINE_TYPES,
    InvalidLine,
    Line,
    LineType,
    eligibility,
    parse_line,
)
from forvalg.domain.reasons import ReasonCode


def test_parse_a_good_line() -> None:
    line = parse_line("22334455", "0150", "PSTN", "ACTIVE")
    assert line == Line("22334455", "0150", LineType.PSTN, "ACTIVE")
    assert line.line_type is LineType.PSTN
    assert line.is_active
    assert not line.wholesale_rented


@pytest.mark.parametrize("line_type", [t.value for t in LineType])
def test_every_line_type_parses(line_type: str) -> None:
    assert parse_line("22334455", "0150", line_type, "ACTIVE").line_type == LineType(line_type)


@pytest.mark.parametrize("status", ["ACTIVE", "CEASED", "WLR:telco-a", "WLR:x"])
def test_every_status_form_parses(status: str) -> None:
    assert parse_line("22334455", "0150", "PSTN", status).status == status


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("2233445", "0150", "PSTN", "ACTIVE"), "number"),
        (("223344556", "0150", "PSTN", "ACTIVE"), "number"),
        (("2233445x", "0150", "PSTN", "ACTIVE"), "number"),
        (("", "0150", "PSTN", "ACTIVE"), "number"),
        (("22334455", "150", "PSTN", "ACTIVE"), "postcode"),
        (("22334455", "01500", "PSTN", "ACTIVE"), "postcode"),
        (("22334455", "01a0", "PSTN", "ACTIVE"), "postcode"),
        (("22334455", "", "PSTN", "ACTIVE"), "postcode"),
        (("22334455", "0150", "pstn", "ACTIVE"), "line_type"),
        (("22334455", "0150", "ISDN", "ACTIVE"), "line_type"),
        (("22334455", "0150", "", "ACTIVE"), "line_type"),
        (("22334455", "0150", "PSTN", "active"), "status"),
        (("22334455", "0150", "PSTN", "SUSPENDED"), "status"),
        (("22334455", "0150", "PSTN", "WLR:"), "status"),
        (("22334455", "0150", "PSTN", ""), "status"),
    ],
)
def test_parse_line_names_the_bad_field(args: tuple[str, str, str, str], field: str) -> None:
    with pytest.raises(InvalidLine) as info:
        parse_line(*args)
    assert info.value.field == field
    assert isinstance(info.value, ValueError)
    assert str(info.value)


def test_parse_line_reports_the_first_bad_field() -> None:
    with pytest.raises(InvalidLine) as info:
        parse_line("bad", "bad", "bad", "bad")
    assert info.value.field == "number"
    with pytest.raises(InvalidLine) as info:
        parse_line("22334455", "bad", "bad", "bad")
    assert info.value.field == "postcode"


def test_line_type_error_lists_the_allowed_types() -> None:
    with pytest.raises(InvalidLine) as info:
        parse_line("22334455", "0150", "FIBRE", "ACTIVE")
    for kind in LineType:
        assert kind.value in str(info.value)


@pytest.mark.parametrize("postcode", ["０１５０", "٠١٥٠"])
def test_postcode_refuses_non_ascii_digits(postcode: str) -> None:
    """Postcodes are compared with the order's postcode as text: only ASCII digits."""
    with pytest.raises(InvalidLine) as info:
        parse_line("22334455", postcode, "PSTN", "ACTIVE")
    assert info.value.field == "postcode"


def test_line_properties() -> None:
    ceased = Line("22334455", "0150", LineType.PSTN, "CEASED")
    rented = Line("22334455", "0150", LineType.PSTN, "WLR:telco-a")
    assert not ceased.is_active
    assert not ceased.wholesale_rented
    assert rented.is_active
    assert rented.wholesale_rented


def test_eligible_line_types() -> None:
    assert frozenset({LineType.PSTN, LineType.ISDN_BRA}) == ELIGIBLE_LINE_TYPES


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (None, ReasonCode.E_LINE_UNKNOWN),
        (Line("22334455", "0150", LineType.PSTN, "ACTIVE"), None),
        (Line("22334455", "0150", LineType.ISDN_BRA, "ACTIVE"), None),
        (Line("22334455", "0150", LineType.PSTN, "CEASED"), ReasonCode.E_LINE_NOT_ACTIVE),
        (Line("22334455", "0150", LineType.PAYPHONE, "CEASED"), ReasonCode.E_LINE_NOT_ACTIVE),
        (Line("22334455", "0150", LineType.PAYPHONE, "ACTIVE"), ReasonCode.E_LINE_NOT_ELIGIBLE),
        (Line("22334455", "0150", LineType.ISDN_PRA, "ACTIVE"), ReasonCode.E_LINE_NOT_ELIGIBLE),
        (Line("22334455", "0150", LineType.PSTN, "WLR:telco-a"), ReasonCode.E_LINE_NOT_ELIGIBLE),
        (
            Line("22334455", "0150", LineType.ISDN_BRA, "WLR:telco-a"),
            ReasonCode.E_LINE_NOT_ELIGIBLE,
        ),
    ],
)
def test_eligibility(line: Line | None, expected: ReasonCode | None) -> None:
    assert eligibility(line) == expected
