"""The retail CRM's contacts behind the wall: retail writes them, compliance reads them.

A write names no subject: it gives the writer nothing back about any line (only how
many of the contacts it sent were new), and a contact is retail's own record, not CPS
data. Its ledger entry carries the source and the counts instead, and is written in the
same transaction as the rows, after them (the counts are known only then), so an import
that fails leaves neither. A read is compliance's, for detection: one decision for the
whole table, naming every line in it as a subject (by pseudonym, as every subject).

`begin`/`add`/`finish` let an import stream a large file through one decision and one
ledger entry, a chunk at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa

from forvalg.domain.categories import Category
from forvalg.domain.contacts import Contact, check_source
from forvalg.domain.reasons import ReasonCode
from forvalg.store import contacts as contact_store
from forvalg.wall.policy import Action, Scope, View

if TYPE_CHECKING:
    from forvalg.wall.guard import Guard, Permit


@dataclass
class ContactWrite:
    """One decided write in progress: what has been sent and stored so far."""

    permit: Permit
    source: str
    received: int = 0
    added: int = 0

    @property
    def duplicates(self) -> int:
        return self.received - self.added


class GuardedContacts:
    def __init__(self, guard: Guard) -> None:
        self._g = guard

    def begin(self, source: str) -> ContactWrite:
        """Decide the write before a row is written (a denial raises here)."""
        return ContactWrite(self._g.permit(Action.WRITE, Category.CONTACT), check_source(source))

    def write(self, write: ContactWrite, contacts: Sequence[Contact]) -> int:
        """Store the contacts not yet stored for the source; how many were new."""
        added = contact_store.add_contacts(
            self._g.session, source=write.source, contacts=contacts, at=self._g.wall.clock.now()
        )
        write.received += len(contacts)
        write.added += added
        return added

    def finish(self, write: ContactWrite, *, rejected: int = 0) -> None:
        """Log the write with its counts, in the transaction that wrote the rows."""
        detail = {
            "source": write.source,
            "received": write.received,
            "added": write.added,
            "duplicates": write.duplicates,
            "rejected": rejected,
        }
        self._g.record(write.permit, (), detail)

    def add(self, contacts: Sequence[Contact], *, source: str = "crm", rejected: int = 0) -> int:
        """Decide, write and log in one go; how many were new."""
        write = self.begin(source)
        added = self.write(write, contacts)
        self.finish(write, rejected=rejected)
        return added

    def table(self) -> pa.Table:
        """Every stored contact (store.contacts.SCHEMA), for detection: only for a grant
        that reaches every row, unmasked."""
        g = self._g
        permit = g.permit(Action.READ, Category.CONTACT)
        if permit.scope is not Scope.ALL or permit.view is not View.FULL:
            g.refuse(permit, ReasonCode.E_FORBIDDEN, "the contacts are read whole or not at all")
        found = contact_store.table(g.session)
        g.record(permit, (str(n) for n in found.column("number").unique().to_pylist()))
        return found
