"""Norwegian national numbers (8 ASCII digits) and carrier selection codes (1500-1549)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forvalg.domain.numbers import (
    CSC_FIRST,
    CSC_LAST,
    CarrierSelectionCode,
    InvalidCarrierCode,
    InvalidNumber,
    is_national_number,
    national_number,
)


@pytest.mark.parametrize("text", ["22334455", "00000000", "99999999", "41234567"])
def test_eight_digits_are_a_national_number(text: str) -> None:
    assert national_number(text) == text
    assert is_national_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2233445",  # 7 digits
        "223344556",  # 9 digits
        "2233 4455",
        " 22334455",
        "22334455 ",
        "22334455\n",
        "+4722334455",
        "004722334455",
        "2233445a",
        "22-33-44-55",
        "２２３３４４５５",  # full-width digits
        "٢٢٣٣٤٤٥٥",  # Arabic-Indic digits
    ],
)
def test_anything_but_eight_ascii_digits_is_refused(text: str) -> None:
    assert not is_national_number(text)
    with pytest.raises(InvalidNumber, match="8-digit"):
        national_number(text)


def test_invalid_number_is_a_value_error() -> None:
    assert issubclass(InvalidNumber, ValueError)


@given(st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_every_eight_digit_string_is_accepted(text: str) -> None:
    assert national_number(text) == text


@given(st.text(alphabet="0123456789", max_size=12).filter(lambda t: len(t) != 8))
def test_no_other_length_is_accepted(text: str) -> None:
    assert not is_national_number(text)
    with pytest.raises(InvalidNumber):
        national_number(text)


def test_csc_range_constants() -> None:
    assert (CSC_FIRST, CSC_LAST) == (1500, 1549)


@pytest.mark.parametrize("code", ["1500", "1505", "1525", "1549"])
def test_csc_in_range_is_accepted(code: str) -> None:
    csc = CarrierSelectionCode(code)
    assert csc.code == code
    assert str(csc) == code


@pytest.mark.parametrize("value", range(1500, 1550))
def test_every_code_1500_to_1549_inclusive_is_accepted(value: int) -> None:
    assert str(CarrierSelectionCode(str(value))) == str(value)


@pytest.mark.parametrize(
    "code", ["1499", "1550", "15a0", "150", "15000", "", " 1505", "1505 ", "-150", "+150", "0150"]
)
def test_csc_out_of_range_or_malformed_is_refused(code: str) -> None:
    with pytest.raises(InvalidCarrierCode, match="1500-1549"):
        CarrierSelectionCode(code)


@pytest.mark.parametrize(
    "code",
    [
        "١٥٠٥",  # Arabic-Indic digits for 1505: str.isdigit() and int() accept them
        "１５００",  # full-width digits for 1500
        "¹⁵⁰⁰",  # superscript digits: isdigit() is True but int() fails
    ],
)
def test_csc_refuses_non_ascii_digits(code: str) -> None:
    """A CSC is dialled: it is four ASCII digits, like a national number."""
    with pytest.raises(InvalidCarrierCode):
        CarrierSelectionCode(code)


@given(st.integers(min_value=0, max_value=9999))
def test_csc_accepts_exactly_the_range(value: int) -> None:
    code = f"{value:04d}"
    if CSC_FIRST <= value <= CSC_LAST:
        assert CarrierSelectionCode(code).code == code
    else:
        with pytest.raises(InvalidCarrierCode):
            CarrierSelectionCode(code)


def test_csc_is_frozen_and_compares_by_value() -> None:
    a, b = CarrierSelectionCode("1505"), CarrierSelectionCode("1505")
    assert a == b
    assert hash(a) == hash(b)
    with pytest.raises(AttributeError):
        a.code = "1506"  # type: ignore[misc]
