"""Retail contacts into the compliance zone: `forvalg contacts import` and the CRM's push.

Bad rows are rejected with a reason per bad field and the good ones kept; a file whose
schema is wrong imports nothing (compliance/contact_files.py). Everything a call stores
is written in one unit of work behind one wall decision, a chunk at a time, and logged in
one ledger entry with the counts (wall/contacts.py). A contact id already stored for the
source is skipped and counted, never duplicated, so an import can be run again.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from forvalg.compliance.contact_files import ContactFileError, open_contacts
from forvalg.domain.contacts import (
    COLUMNS,
    Contact,
    RejectedContact,
    Value,
    check_source,
    parse_contact,
)
from forvalg.wall import Principal, Purpose, Wall
from forvalg.wall.principals import CRM_SYNC, Statement

DEFAULT_SOURCE = "crm"
MAX_PUSH = 10_000  # contacts per API call

__all__ = ["ContactDesk", "ContactFileError", "ImportReport", "PushReport"]


@dataclass
class ImportReport:
    path: Path
    rejects: Path
    source: str
    rows: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)  # every reason given, counted


@dataclass(frozen=True, slots=True)
class ItemError:
    index: int
    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class PushReport:
    source: str
    received: int
    imported: int
    duplicates: int
    errors: tuple[ItemError, ...]


def default_rejects(path: Path) -> Path:
    return path.with_name(path.name + ".rejects.csv")


def _field_and_reason(reason: str) -> tuple[str, str]:
    name, _, why = reason.partition(": ")
    return (name, why) if why else ("", reason)


class ContactDesk:
    def __init__(self, wall: Wall) -> None:
        self._wall = wall

    def import_file(
        self,
        path: Path,
        *,
        source: str = DEFAULT_SOURCE,
        rejects: Path | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """Import a CSV or Parquet contact file in one transaction: good rows stored (new
        ones only), bad rows to `rejects` (default FILE.rejects.csv: row, reason and the
        raw fields; written even when empty, so a stale one never remains). A wrong
        schema raises `ContactFileError` before anything is read or written."""
        check_source(source)
        checked = open_contacts(path)
        out = rejects or default_rejects(path)
        if out.resolve() == path.resolve():
            raise ContactFileError(f"{path}: the rejects file must be another file")
        report = ImportReport(path, out, source)
        partial = out.with_name(out.name + ".part")
        try:
            with (
                partial.open("w", encoding="utf-8", newline="") as f,
                self._wall.access(CRM_SYNC, Purpose.CRM_SYNC, f"contacts:{path.name}") as guard,
            ):
                writer = csv.writer(f)
                writer.writerow(["row", "reason", *COLUMNS])
                write = guard.contacts.begin(source)
                for batch in checked.batches():
                    good: list[Contact] = []
                    for raw in batch:
                        parsed: Contact | RejectedContact = (
                            RejectedContact((raw.malformed,))
                            if raw.malformed
                            else parse_contact(raw.values)
                        )
                        if isinstance(parsed, Contact):
                            good.append(parsed)
                            continue
                        report.rejected += 1
                        report.reasons.update(
                            r if ": " in r else f"row: {r}" for r in parsed.reasons
                        )
                        writer.writerow(
                            [raw.row, parsed.reason, *(_cell(raw.values.get(c)) for c in COLUMNS)]
                        )
                    report.rows += len(batch)
                    guard.contacts.write(write, good)
                    if progress is not None:
                        progress(report.rows)
                guard.contacts.finish(write, rejected=report.rejected)
                report.imported, report.duplicates = write.added, write.duplicates
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, out)
        return report

    def push(
        self,
        principal: Principal,
        items: Sequence[Mapping[str, Value]],
        *,
        source: str = DEFAULT_SOURCE,
    ) -> PushReport:
        """The CRM's push (`POST /v1/retail/contacts`): valid items stored (new ones only),
        each invalid item's reasons returned by index and field. The purpose is the
        route's, `crm_sync`, whatever the request states; no work item is named."""
        good: list[Contact] = []
        errors: list[ItemError] = []
        for index, item in enumerate(items):
            parsed = parse_contact(item)
            if isinstance(parsed, Contact):
                good.append(parsed)
            else:
                errors.extend(ItemError(index, *_field_and_reason(r)) for r in parsed.reasons)
        rejected = len({e.index for e in errors})
        stated = Statement(Purpose.CRM_SYNC)
        with self._wall.access_for(principal, stated, Purpose.CRM_SYNC, "crm-push") as guard:
            write = guard.contacts.begin(source)
            guard.contacts.write(write, good)
            guard.contacts.finish(write, rejected=rejected)
        return PushReport(source, len(items), write.added, write.duplicates, tuple(errors))


def _cell(value: Value) -> str:
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
