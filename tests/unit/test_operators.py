"""CPS operators: `new_operator` validates each field and names the bad one."""

from __future__ import annotations

import pytest

from forvalg.domain.operators import RESERVED_IDS, InvalidOperator, Operator, new_operator


def test_new_operator() -> None:
    op = new_operator("telco-a", "  Telco A AS  ", "1505")
    assert op == Operator("telco-a", "Telco A AS", "1505", agreement_active=True)
    assert op.agreement_active


@pytest.mark.parametrize("operator_id", ["ab", "a1", "a-b", "telco-a", "x" + "y" * 31])
def test_good_ids(operator_id: str) -> None:
    assert new_operator(operator_id, "Name", "1500").id == operator_id


@pytest.mark.parametrize(
    "operator_id",
    [
        "",
        "a",  # too short
        "x" + "y" * 32,  # 33 characters
        "Telco",
        "1telco",
        "-telco",
        "telco_a",
        "telco a",
        "telco.a",
        "télco",
        "telco\n",
        *sorted(RESERVED_IDS),
    ],
)
def test_bad_ids_name_the_id_field(operator_id: str) -> None:
    with pytest.raises(InvalidOperator) as info:
        new_operator(operator_id, "Name", "1505")
    assert info.value.field == "id"
    assert isinstance(info.value, ValueError)


def test_reserved_ids_include_the_incumbent() -> None:
    assert {"incumbent", "unknown", "anonymous"} <= RESERVED_IDS


@pytest.mark.parametrize("name", ["", "   ", "\t\n", "x" * 201])
def test_bad_names_name_the_name_field(name: str) -> None:
    with pytest.raises(InvalidOperator) as info:
        new_operator("telco-a", name, "1505")
    assert info.value.field == "name"


def test_name_of_200_characters_is_accepted() -> None:
    assert new_operator("telco-a", "x" * 200, "1505").name == "x" * 200


@pytest.mark.parametrize("csc", ["", "1499", "1550", "15a0", "150", "15050"])
def test_bad_csc_names_the_csc_field(csc: str) -> None:
    with pytest.raises(InvalidOperator) as info:
        new_operator("telco-a", "Telco A", csc)
    assert info.value.field == "csc"
    assert "1500-1549" in str(info.value)


def test_the_first_bad_field_is_named() -> None:
    with pytest.raises(InvalidOperator) as info:
        new_operator("BAD", "", "0000")
    assert info.value.field == "id"
    with pytest.raises(InvalidOperator) as info:
        new_operator("telco-a", "", "0000")
    assert info.value.field == "name"
