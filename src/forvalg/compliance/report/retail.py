"""The incumbent's own retail orders, the equivalence KPIs' baseline (`--retail-orders`).

They are not in forvalg (retail's systems hold them), so the report reads them from a
CSV export whose columns docs/REPORT.md defines. The file is checked whole before a
figure is taken from it: the first bad row stops the report with one line naming the
file, the row and the field.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from forvalg.compliance.report.period import Period
from forvalg.domain.equivalence import OrderOutcome
from forvalg.domain.orders import OrderState, OrderType

COLUMNS = (
    "order_id",
    "type",
    "received_at",
    "due_date",
    "completed_at",
    "state",
    "reason_code",
)
OPTIONAL = ("cutoff_missed",)
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,39}$")
_TYPES = {t.value for t in OrderType}
_STATES = {s.value for s in OrderState}
Bad = Callable[[str], Exception]  # makes the error for a message about one field


class RetailFileError(ValueError):
    """A retail-orders file that cannot be used; the message names file, row and field."""


@dataclass(frozen=True, slots=True)
class RetailOrders:
    """The rows received in the period, and what the file was (for the report to cite)."""

    file: str
    sha256: str
    rows: int  # data rows in the file
    outcomes: tuple[OrderOutcome, ...]  # those received in the period


def read_retail_orders(path: Path, period: Period) -> RetailOrders:
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except OSError as exc:
        raise RetailFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise RetailFileError(f"{path}: not UTF-8 text") from None
    reader = csv.DictReader(text.splitlines())
    header = reader.fieldnames or []
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise RetailFileError(f"{path}: row 1: missing column(s) {', '.join(missing)}")
    unknown = [c for c in header if c not in COLUMNS + OPTIONAL]
    if unknown:
        raise RetailFileError(f"{path}: row 1: unknown column(s) {', '.join(unknown)}")
    seen: set[str] = set()
    outcomes: list[OrderOutcome] = []
    count = 0
    for index, row in enumerate(reader, start=2):
        count += 1
        if None in row or any(v is None for v in row.values()):
            raise RetailFileError(f"{path}: row {index}: expected {len(header)} fields")
        outcome = _outcome(path, index, row, seen)
        if period.contains(outcome.received_at):
            outcomes.append(outcome)
    return RetailOrders(path.name, hashlib.sha256(raw).hexdigest(), count, tuple(outcomes))


def _outcome(path: Path, index: int, row: dict[str, str], seen: set[str]) -> OrderOutcome:
    def bad(field: str, message: str) -> RetailFileError:
        return RetailFileError(f"{path}: row {index}, field {field}: {message}")

    order_id = row["order_id"].strip()
    if not order_id:
        raise bad("order_id", "empty")
    if order_id in seen:
        raise bad("order_id", f"{order_id!r} appears twice")
    seen.add(order_id)
    kind = row["type"].strip()
    if kind not in _TYPES:
        raise bad("type", f"{kind!r} is not one of {', '.join(sorted(_TYPES))}")
    state = row["state"].strip()
    if state not in _STATES:
        raise bad("state", f"{state!r} is not one of {', '.join(sorted(_STATES))}")
    received = _instant(row["received_at"], lambda m: bad("received_at", m))
    assert received is not None
    completed = _instant(row["completed_at"], lambda m: bad("completed_at", m), optional=True)
    if (state == OrderState.COMPLETED.value) != (completed is not None):
        raise bad("completed_at", "given exactly when the state is COMPLETED")
    if completed is not None and completed < received:
        raise bad("completed_at", "before received_at")
    due = _date(row["due_date"], lambda m: bad("due_date", m))
    if state == OrderState.COMPLETED.value and due is None:
        raise bad("due_date", "a COMPLETED order has its due date")
    reason = row["reason_code"].strip() or None
    if reason is not None and not _CODE.match(reason):
        raise bad("reason_code", f"{reason!r} is not a code like E_LINE_UNKNOWN")
    if state == OrderState.REJECTED.value and reason is None:
        raise bad("reason_code", "a REJECTED order has its reason code")
    flag = (row.get("cutoff_missed") or "").strip().lower()
    if flag not in ("", "true", "false"):
        raise bad("cutoff_missed", f"{flag!r} is not true, false or empty")
    return OrderOutcome(kind, state, reason, received, completed, due, cutoff_miss=flag == "true")


def _instant(text: str, bad: Bad, *, optional: bool = False) -> datetime | None:
    value = text.strip()
    if not value:
        if optional:
            return None
        raise bad("empty; an ISO 8601 timestamp with offset, e.g. 2026-11-02T09:30:00Z")
    try:
        found = datetime.fromisoformat(value)
    except ValueError:
        raise bad(f"{value!r} is not an ISO 8601 timestamp") from None
    if found.tzinfo is None:
        raise bad(f"{value!r} has no offset (write Z for UTC)")
    return found


def _date(text: str, bad: Bad) -> date | None:
    value = text.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise bad(f"{value!r} is not a date YYYY-MM-DD") from None
