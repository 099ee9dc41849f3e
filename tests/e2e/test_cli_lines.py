"""`forvalg lines import FILE.csv`: every row or, on the first bad row, none."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import GOOD_ROWS, HEADER, Cli, copy_initialised, query, write_csv

ALL_LINES = "SELECT number, postcode, line_type, status FROM lines ORDER BY number"
GOOD = sorted(tuple(r.split(",")) for r in GOOD_ROWS)


def lines_in(cli: Cli) -> list[tuple[str, ...]]:
    return [tuple(r) for r in query(cli.cwd / "forvalg.db", ALL_LINES)]


def test_import_a_good_file(initialised: Cli) -> None:
    path = write_csv(initialised.cwd / "good.csv", *GOOD_ROWS)
    result = initialised.ok("lines", "import", "good.csv")
    assert f"imported {len(GOOD_ROWS)} lines" in result.stdout
    assert result.stderr == ""
    assert lines_in(initialised) == GOOD
    assert path.exists()


def test_reimport_updates_lines_in_place(initialised: Cli) -> None:
    write_csv(initialised.cwd / "good.csv", *GOOD_ROWS)
    initialised.ok("lines", "import", "good.csv")
    write_csv(
        initialised.cwd / "update.csv", "22334455,0150,PSTN,CEASED", " 99887766 ,0560,PSTN,ACTIVE"
    )
    initialised.ok("lines", "import", "update.csv")
    found = {n: s for n, _, _, s in lines_in(initialised)}
    assert found["22334455"] == "CEASED"
    assert found["99887766"] == "ACTIVE"
    assert len(found) == len(GOOD_ROWS) + 1


# (rows after the header, row number at fault (1 = header), field at fault, header)
BAD_FILES: dict[str, tuple[tuple[str, ...], int, str, str | None]] = {
    "line_type FOO on row 4": (
        ("22334455,0150,PSTN,ACTIVE", "22334456,0150,PSTN,ACTIVE", "22334457,0150,FOO,ACTIVE"),
        4,
        "line_type",
        None,
    ),
    "9-digit number": (
        ("22334455,0150,PSTN,ACTIVE", "223344567,0150,PSTN,ACTIVE"),
        3,
        "number",
        None,
    ),
    "bad postcode": (("22334455,150,PSTN,ACTIVE",), 2, "postcode", None),
    "bad status": (("22334455,0150,PSTN,ACTIVE", "22334456,0150,PSTN,GONE"), 3, "status", None),
    "duplicate number": (
        ("22334455,0150,PSTN,ACTIVE", "22334456,0150,PSTN,ACTIVE", "22334455,0150,PSTN,ACTIVE"),
        4,
        "number",
        None,
    ),
    "bad header": (("22334455,0150,PSTN,ACTIVE",), 1, "header", "number,zip,line_type,status"),
    "empty file": ((), 1, "header", ""),
}


@pytest.fixture(scope="module")
def inventory(initialised_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """One initialised directory with the good inventory imported; every bad file below is
    tried against it and must leave it exactly as it was."""
    cli = copy_initialised(initialised_template, tmp_path_factory.mktemp("inventory"))
    write_csv(cli.cwd / "good.csv", *GOOD_ROWS)
    cli.ok("lines", "import", "good.csv")
    assert lines_in(cli) == GOOD
    return cli


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_fails_with_one_line_and_changes_nothing(inventory: Cli, case: str) -> None:
    rows, row_no, field, header = BAD_FILES[case]
    name = f"bad-{case.replace(' ', '_')}.csv"
    path = inventory.cwd / name
    if header == "":
        path.write_text("")
    else:
        write_csv(path, *rows, header=HEADER if header is None else header)
    result = inventory.fails("lines", "import", name)
    line = result.error_line
    assert name in line
    assert f"row {row_no}" in line
    assert field in line
    assert lines_in(inventory) == GOOD, "a failed import changed the inventory"


def test_a_bad_row_into_an_empty_inventory_leaves_it_empty(initialised: Cli) -> None:
    write_csv(
        initialised.cwd / "bad.csv",
        "22334455,0150,PSTN,ACTIVE",
        "22334456,0150,PSTN,ACTIVE",
        "22334457,0150,FOO,ACTIVE",
    )
    result = initialised.fails("lines", "import", "bad.csv")
    assert result.error_line.startswith("forvalg: bad.csv: row 4, field line_type")
    assert lines_in(initialised) == []


def test_a_bad_last_row_of_a_large_file_imports_nothing(initialised: Cli) -> None:
    """More rows than one database chunk: the whole file is checked before anything is written."""
    rows = [f"22{i:06d},0150,PSTN,ACTIVE" for i in range(25_000)]
    rows.append("23000000,0560,PSTN,SOLD")
    write_csv(initialised.cwd / "big.csv", *rows)
    result = initialised.fails("lines", "import", "big.csv")
    assert "row 25002" in result.error_line
    assert "status" in result.error_line
    assert lines_in(initialised) == []


def test_a_missing_file_fails_with_one_line_naming_it(initialised: Cli) -> None:
    result = initialised.fails("lines", "import", "nowhere.csv")
    assert "nowhere.csv" in result.error_line
    assert lines_in(initialised) == []


def test_a_file_that_is_not_utf8_fails_with_one_line(initialised: Cli) -> None:
    """A Latin-1 export (ø as byte 0xF8) is bad input: one line, not a traceback."""
    path = initialised.cwd / "latin1.csv"
    path.write_bytes(
        b"number,postcode,line_type,status\n"
        b"22334455,0150,PSTN,ACTIVE\n"
        b"22334456,0150,PSTN,WLR:t\xf8nsberg-tele\n"
    )
    result = initialised.fails("lines", "import", "latin1.csv")
    assert "latin1.csv" in result.error_line
    assert "Traceback" not in result.stderr
    assert lines_in(initialised) == []


def test_import_before_init_fails_with_one_line(cli: Cli, tmp_path: Path) -> None:
    write_csv(tmp_path / "good.csv", *GOOD_ROWS)
    result = cli.fails("lines", "import", "good.csv")
    assert "forvalg init" in result.error_line
