"""Loading the incumbent's line inventory: all rows or none."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from forvalg.domain.lines import InvalidLine, Line, parse_line
from forvalg.wall import Purpose, Wall
from forvalg.wall.principals import WHOLESALE_ADMIN

COLUMNS = ("number", "postcode", "line_type", "status")


class BadInput(Exception):
    """Bad input in a file: names the file, the row (1 = header) and the field."""

    def __init__(self, path: Path, row: int, field: str, message: str) -> None:
        super().__init__(f"{path}: row {row}, field {field}: {message}")
        self.path, self.row, self.field = path, row, field


def read_lines(path: Path) -> list[Line]:
    """Parse the whole file first; the first bad row raises `BadInput`."""
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise BadInput(path, 0, "-", exc.strerror or str(exc)) from None
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != COLUMNS:
            raise BadInput(path, 1, "header", f"expected columns {','.join(COLUMNS)}, got {header}")
        seen: dict[str, int] = {}
        found: list[Line] = []
        for row_no, row in enumerate(reader, start=2):
            if len(row) != len(COLUMNS):
                raise BadInput(path, row_no, "-", f"expected {len(COLUMNS)} fields, got {len(row)}")
            try:
                line = parse_line(*(cell.strip() for cell in row))
            except InvalidLine as exc:
                raise BadInput(path, row_no, exc.field, str(exc)) from None
            if line.number in seen:
                raise BadInput(
                    path,
                    row_no,
                    "number",
                    f"{line.number} already given on row {seen[line.number]}",
                )
            seen[line.number] = row_no
            found.append(line)
    return found


def import_lines(
    wall: Wall, path: Path, *, progress: Callable[[int, int], None] | None = None
) -> int:
    """Import a line inventory CSV atomically; returns the number of lines."""
    found = read_lines(path)
    chunk = 10_000
    with wall.access(WHOLESALE_ADMIN, Purpose.ADMINISTRATION, f"inventory:{path.name}") as guard:
        for start in range(0, len(found), chunk):
            guard.lines.import_lines(found[start : start + chunk])
            if progress is not None:
                progress(min(start + chunk, len(found)), len(found))
    return len(found)
