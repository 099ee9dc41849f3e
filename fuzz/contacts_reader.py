"""atheris target: bytes as a retail contact file (CSV or Parquet, INTERFACES.md §4)
through the real reader (compliance/contact_files.py: `open_contacts`, then every batch)
and every row through `parse_contact`, as `forvalg contacts import` takes them. The only
error allowed is `ContactFileError`; a row is a contact or a rejection with reasons, each
naming its field. Anything else, or a crash, is a finding.

    python fuzz/contacts_reader.py CORPUS_DIR -max_total_time=600   (see fuzz/README.md)
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["forvalg"]):
    from forvalg.compliance.contact_files import ContactFileError, open_contacts
    from forvalg.domain.contacts import COLUMNS, Contact, RejectedContact, parse_contact

from harness import as_file, contact_seeds, fuzz

FIELDS = (*COLUMNS, "row")


def read(path: Path) -> None:
    try:
        last = 0
        for batch in open_contacts(path).batches():
            for raw in batch:
                if raw.row <= last:  # blank lines are skipped, so numbers may jump
                    raise AssertionError(f"row {raw.row} numbered after row {last}")
                last = raw.row
                parsed = parse_contact(raw.values) if raw.malformed is None else None
                if isinstance(parsed, RejectedContact):
                    named = {reason.partition(": ")[0] for reason in parsed.reasons}
                    if not parsed.reasons or not named <= set(FIELDS):
                        raise AssertionError(f"reasons without a field: {parsed.reasons}")
                elif parsed is not None and not isinstance(parsed, Contact):
                    raise AssertionError(f"neither a contact nor a rejection: {parsed!r}")
    except ContactFileError:
        return


def test_one_input(data: bytes) -> None:
    as_file(data, read)


if __name__ == "__main__":
    fuzz(sys.argv, contact_seeds(), test_one_input)
