"""Loading the incumbent's line inventory: all rows or none."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

from forvalg.domain.lines import InvalidLine, Line, parse_line
from forvalg.wall import Purpose, Wall
from forvalg.wall.principals import WHOLESALE_ADMIN

COLUMNS = ("number", "postcode", "line_type", "status")


class BadInput(Exception):
    """Bad input in a file: names the file, the row (1 = header) and the field."""

    def __init__(self, path: Path, row: int | None, field: str | None, message: str) -> None:
        where = [str(path)]
        if row is not None:
            where.append(f": row {row}")
        if field is not None:
            where.append(f", field {field}")
        super().__init__(f"{''.join(where)}: {message}")
        self.path, self.row, self.field = path, row, field


def read_text(path: Path) -> str:
    """The file as text: UTF-8, with or without a byte-order mark."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInput(path, None, None, f"cannot read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n") + 1
        raise BadInput(path, row, None, f"not UTF-8 text (byte {data[exc.start]:#04x})") from None


def read_lines(path: Path) -> list[Line]:
    """Parse the whole file first; the first bad row raises `BadInput`."""
    reader = csv.reader(io.StringIO(read_text(path), newline=""))
    try:
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != COLUMNS:
            message = f"expected columns {','.join(COLUMNS)}, got {header}"
            raise BadInput(path, 1, "header", message)
        seen: dict[str, int] = {}
        found: list[Line] = []
        for row in reader:
            row_no = reader.line_num
            if not any(cell.strip() for cell in row):
                continue  # blank lines carry nothing
            if len(row) != len(COLUMNS):
                message = f"expected {len(COLUMNS)} fields, got {len(row)}"
                raise BadInput(path, row_no, None, message)
            try:
                line = parse_line(*(cell.strip() for cell in row))
            except InvalidLine as exc:
                raise BadInput(path, row_no, exc.field, str(exc)) from None
            if line.number in seen:
                message = f"{line.number} already given on row {seen[line.number]}"
                raise BadInput(path, row_no, "number", message)
            seen[line.number] = row_no
            found.append(line)
    except csv.Error as exc:  # e.g. a field beyond the csv module's field size limit
        raise BadInput(path, max(reader.line_num, 1), None, str(exc)) from None
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
