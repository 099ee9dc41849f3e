"""The retail contact file reader (compliance/contact_files.py) with every row through
`parse_contact`, as `forvalg contacts import` reads them. Whatever the file holds (CSV or
Parquet), the only error is `ContactFileError` naming the file; every row it yields is a
contact or a rejection whose reasons each name a field; valid files read back exactly."""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from forvalg.compliance.contact_files import ContactFileError, open_contacts
from forvalg.domain.contacts import COLUMNS, Channel, Contact, Direction, parse_contact

from .mutations import mutated

ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,20}", fullmatch=True)
contacts = st.builds(
    Contact,
    contact_id=ids,
    time_utc=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
    ),
    number=st.text(alphabet="0123456789", min_size=8, max_size=8).filter(
        lambda n: n[0] not in "01"
    ),
    channel=st.sampled_from(list(Channel)),
    direction=st.sampled_from(list(Direction)),
    agent_id=ids,
    campaign_id=st.none() | ids,
    outcome=st.none()
    | st.text(
        st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40
    ).filter(lambda t: t.strip() == t and t.isprintable()),
)
files = st.lists(contacts, max_size=12)


def _row(c: Contact) -> list[str]:
    return [
        c.contact_id,
        c.time_utc.isoformat(),
        c.number,
        c.channel.value,
        c.direction.value,
        c.agent_id,
        c.campaign_id or "",
        c.outcome or "",
    ]


def _csv(found: list[Contact]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(_row(c) for c in found)
    return out.getvalue().encode()


def _parquet(found: list[Contact]) -> bytes:
    columns = {name: [_row(c)[i] or None for c in found] for i, name in enumerate(COLUMNS)}
    sink = io.BytesIO()
    pq.write_table(pa.table({n: pa.array(v, pa.string()) for n, v in columns.items()}), sink)
    return sink.getvalue()


def _read(data: bytes, suffix: str) -> list[Contact | tuple[str, ...]] | ContactFileError:
    """Every row as a contact or its reasons, or the file's error."""
    with tempfile.TemporaryDirectory() as temp:
        path = Path(temp) / f"contacts{suffix}"
        path.write_bytes(data)
        rows: list[Contact | tuple[str, ...]] = []
        last = 0
        try:
            for batch in open_contacts(path).batches():
                for raw in batch:
                    assert raw.row > last
                    last = raw.row
                    if raw.malformed:
                        rows.append((raw.malformed,))
                        continue
                    parsed = parse_contact(raw.values)
                    if isinstance(parsed, Contact):
                        rows.append(parsed)
                    else:
                        assert parsed.reasons
                        fields = {r.partition(": ")[0] for r in parsed.reasons}
                        assert fields <= set(COLUMNS), parsed.reasons
                        rows.append(parsed.reasons)
        except ContactFileError as exc:
            error = exc
        else:
            return rows
    assert str(error).startswith(f"{path}: ")
    return error


@settings(max_examples=200)
@given(st.binary(max_size=400), st.sampled_from([".csv", ".parquet"]))
def test_arbitrary_bytes_are_rows_or_a_contact_file_error(data: bytes, suffix: str) -> None:
    _read(data, suffix)


@settings(max_examples=100)
@given(files)
def test_a_valid_csv_file_reads_back_exactly(found: list[Contact]) -> None:
    assert _read(_csv(found), ".csv") == found


@settings(max_examples=60)
@given(files)
def test_a_valid_parquet_file_reads_back_exactly(found: list[Contact]) -> None:
    assert _read(_parquet(found), ".parquet") == found


@settings(max_examples=200)
@given(st.data(), files.filter(bool))
def test_a_mutated_csv_file_is_rows_or_a_contact_file_error(
    data: st.DataObject, found: list[Contact]
) -> None:
    _read(data.draw(mutated(_csv(found))), ".csv")


@settings(max_examples=150)
@given(st.data(), files.filter(bool))
def test_a_mutated_parquet_file_is_rows_or_a_contact_file_error(
    data: st.DataObject, found: list[Contact]
) -> None:
    _read(data.draw(mutated(_parquet(found), max_edits=2)), ".parquet")


def test_a_parquet_string_that_is_not_utf8_names_its_row_and_column() -> None:
    valid = _parquet(
        [
            Contact(
                "k1",
                datetime(2026, 11, 20, tzinfo=UTC),
                "22334455",
                Channel.SMS,
                Direction.INBOUND,
                "agent-77",
                None,
                None,
            )
        ]
    )
    broken = valid.replace(b"agent-77", b"agent\xff77")
    error = _read(broken, ".parquet")
    assert isinstance(error, ContactFileError)
    assert "row 1, column agent_id: not UTF-8 text" in str(error)


def test_a_parquet_column_name_that_is_not_utf8_is_a_contact_file_error() -> None:
    valid = _parquet([])
    broken = valid.replace(b"outcome", b"\x80utcome")
    error = _read(broken, ".parquet")
    assert isinstance(error, ContactFileError)
    assert "not a readable Parquet file" in str(error)
