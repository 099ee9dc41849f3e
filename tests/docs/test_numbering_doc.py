"""docs/NUMBERING.md stays true: its ranges table is NORWAY, its exclusion file is
DEFAULT_EXCLUSIONS, its call classes are CallClass, and its disagreements with
libphonenumber are the ones the reference test explains."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from tests.unit.test_numbering_reference import EXPLAINED

from forvalg.domain.numbering import (
    DEFAULT_EXCLUSIONS,
    NORWAY,
    CallClass,
    exclusions_from_toml,
    exclusions_to_toml,
)

DOC = Path(__file__).parents[2] / "docs" / "NUMBERING.md"


def section(title: str) -> str:
    text = DOC.read_text()
    assert f"\n{title}\n" in text, title
    return text.split(f"\n{title}\n")[1].split("\n## ")[0]


def table_rows(text: str) -> list[list[str]]:
    """The cells of the rows of the one markdown table in `text`, header and rule left out."""
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("|")
    ]
    return rows[2:]


def lengths(cell: str) -> range:
    first, _, last = cell.partition("-")
    return range(int(first), int(last or first) + 1)


def test_the_ranges_table_is_norway() -> None:
    documented: Counter[tuple[str, int, str, str]] = Counter()
    for prefixes, length, call_class, note in table_rows(section("## Ranges").split("###")[0]):
        assert re.fullmatch(r"(`[0-9]+` ?)+", prefixes), prefixes
        for prefix in re.findall(r"`([0-9]+)`", prefixes):
            for n in lengths(length):
                documented[(prefix, n, call_class, note)] += 1
    actual = Counter((r.prefix, r.length, r.call_class.value, r.note) for r in NORWAY)
    assert documented == actual, (
        f"in the doc only: {sorted((documented - actual).elements())[:10]}; "
        f"in NORWAY only: {sorted((actual - documented).elements())[:10]}"
    )


def test_the_exclusion_file_shown_is_the_default() -> None:
    blocks = re.findall(r"```toml\n(.*?)```", section("## The exclusion list"), re.S)
    assert blocks == [exclusions_to_toml(DEFAULT_EXCLUSIONS)]
    assert exclusions_from_toml(blocks[0], "docs/NUMBERING.md") == DEFAULT_EXCLUSIONS


def test_every_call_class_is_described() -> None:
    classes = [row[0].strip("`") for row in table_rows(section("## Call classes"))]
    assert sorted(classes) == sorted(c.value for c in CallClass)


def test_the_disagreements_explained_are_the_ones_the_reference_test_explains() -> None:
    rows = table_rows(section("## Agreement with libphonenumber").split("### Every")[1])
    documented = [(int(row[0]), row[1].strip("`")) for row in rows]
    assert sorted(documented) == sorted(EXPLAINED)
