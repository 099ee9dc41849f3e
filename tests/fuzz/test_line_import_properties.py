"""The line inventory import (wholesale/inventory.py `read_lines`, `read_text`): whatever
the file holds, the only error is `BadInput` naming the file and, where there is one, the
row (1 = the header) and the field; a valid file reads back exactly."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from forvalg.domain.lines import Line, LineType
from forvalg.wholesale.inventory import COLUMNS, BadInput, read_lines

from .mutations import mutated

HEADER = ",".join(COLUMNS)

digits = st.text(alphabet="0123456789", min_size=1, max_size=1)
numbers = st.text(alphabet="0123456789", min_size=8, max_size=8)
lines = st.builds(
    Line,
    number=numbers,
    postcode=st.text(alphabet="0123456789", min_size=4, max_size=4),
    line_type=st.sampled_from(list(LineType)),
    status=st.one_of(
        st.sampled_from(["ACTIVE", "CEASED"]),
        st.from_regex(r"WLR:[a-z][a-z0-9]{0,15}", fullmatch=True),
    ),
)
inventories = st.lists(lines, max_size=20, unique_by=lambda line: line.number)


def _csv(found: list[Line], *, crlf: bool = False, bom: bool = False) -> bytes:
    rows = [HEADER, *(f"{x.number},{x.postcode},{x.line_type.value},{x.status}" for x in found)]
    text = ("\r\n" if crlf else "\n").join(rows) + "\n"
    return ("\ufeff" if bom else "").encode() + text.encode()


def _read(data: bytes) -> list[Line] | BadInput:
    with tempfile.TemporaryDirectory() as temp:
        path = Path(temp) / "lines.csv"
        path.write_bytes(data)
        try:
            return read_lines(path)
        except BadInput as exc:
            found = exc
    assert str(found).startswith(f"{path}: ")
    assert found.path == path
    return found


def _rows(data: bytes) -> int:
    return data.count(b"\n") + data.count(b"\r") + 1


@settings(max_examples=150)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_are_lines_or_bad_input_naming_where(data: bytes) -> None:
    found = _read(data)
    if isinstance(found, BadInput) and found.row is not None:
        assert 1 <= found.row <= _rows(data)


@settings(max_examples=100)
@given(inventories, st.booleans(), st.booleans())
def test_a_valid_inventory_reads_back_exactly(found: list[Line], crlf: bool, bom: bool) -> None:
    assert _read(_csv(found, crlf=crlf, bom=bom)) == found


@settings(max_examples=200)
@given(st.data(), inventories.filter(bool))
def test_a_mutated_inventory_is_lines_or_bad_input_naming_where(
    data: st.DataObject, found: list[Line]
) -> None:
    raw = data.draw(mutated(_csv(found)))
    result = _read(raw)
    if isinstance(result, BadInput):
        assert result.row is None or 1 <= result.row <= _rows(raw)
        assert result.field in (None, "header", *COLUMNS)
    else:
        assert all(isinstance(x, Line) for x in result)


def test_a_field_beyond_the_csv_field_limit_is_bad_input_not_a_csv_error() -> None:
    data = f'{HEADER}\n"{"2" * 200_000}",0150,PSTN,ACTIVE\n'.encode()
    result = _read(data)
    assert isinstance(result, BadInput)
    assert result.row == 2
