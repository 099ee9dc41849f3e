"""Regulator inquiries behind the wall (docs/INQUIRIES.md): listing them with their
answers, picking the ledger entries an answer holds with their proofs, recording the
answer, and handing its bundle to the regulator. Every step is a decision, ledgered.

Categories: an inquiry and its answer records are `work.item`; the entries a bundle
holds are `ledger.access`, their audit paths and the checkpoint `ledger.proof`. The
bundle's bytes carry both, so downloading one is a decision for each. A staff member
downloads a bundle only under the inquiry it answers, named as the work item: under any
other it is refused (`E_WORK_ITEM_MISMATCH`), so an inquiry's evidence is read for that
inquiry alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from forvalg.domain.categories import Category
from forvalg.domain.inquiries import Answer
from forvalg.domain.reasons import ReasonCode
from forvalg.domain.work_items import WorkItem, WorkItemKind
from forvalg.ledger import merkle
from forvalg.store import inquiries as inquiry_store
from forvalg.store import ledger as ledger_store
from forvalg.store import work_items as work_store
from forvalg.wall.policy import Action, Scope

if TYPE_CHECKING:
    from forvalg.wall.guard import Guard, Permit


class GuardedInquiries:
    def __init__(self, guard: Guard) -> None:
        self._g = guard

    def _whole(self, action: Action, category: Category) -> Permit:
        """Inquiries and the log at large are nobody's own rows."""
        permit = self._g.permit(action, category)
        if permit.scope is not Scope.ALL:
            self._g.refuse(permit, ReasonCode.E_FORBIDDEN, "inquiries are nobody's own rows")
        return permit

    def find(self) -> tuple[list[WorkItem], list[Answer]]:
        """Every inquiry (newest first) and every answer (oldest first). The answers name
        checkpoints, so this is a `ledger.proof` read as well as a `work.item` one: staff
        who may read their own tickets (`work.item`) do not list the regulator's
        inquiries."""
        permits = [self._whole(Action.READ, c) for c in (Category.WORK_ITEM, Category.LEDGER_PROOF)]
        items = inquiry_store.list_inquiries(self._g.session)
        given = inquiry_store.answers(self._g.session)
        for permit in permits:
            self._g.record(permit, (), {"inquiries": len(items), "answers": len(given)})
        return items, given

    def get(self, inquiry_id: str) -> WorkItem | None:
        """The inquiry, or None if there is no inquiry by that id."""
        permit = self._whole(Action.READ, Category.WORK_ITEM)
        item = work_store.get_work_item(self._g.session, item_id=inquiry_id)
        found = item if item is not None and item.kind is WorkItemKind.INQUIRY else None
        self._g.record(permit, (), {"inquiry": inquiry_id, "found": found is not None})
        return found

    def last_answer(self) -> Answer | None:
        """The last answer given to any inquiry: its checkpoint is the last the regulator
        holds from forvalg."""
        permits = [self._whole(Action.READ, c) for c in (Category.WORK_ITEM, Category.LEDGER_PROOF)]
        found = inquiry_store.latest_answer(self._g.session)
        for permit in permits:
            detail = {"last_answer": None if found is None else found.inquiry_id}
            self._g.record(permit, (), detail)
        return found

    def relevant(
        self, inquiry_id: str, *, size: int, keep: inquiry_store.Keep
    ) -> list[tuple[int, str, tuple[str, ...]]]:
        """(index, entry, why) of the entries of the tree of `size` that `keep` selects:
        one read of the log, ledgered with how many were selected."""
        g = self._g
        permit = self._whole(Action.READ, Category.ACCESS_LOG)
        head = ledger_store.head(g.session)
        if size > head.size:
            raise merkle.BeyondTree(f"size {size} is beyond the tree ({head.size} entries)")
        found = inquiry_store.relevant_entries(g.session, end=size, keep=keep)
        g.record(permit, (), {"inquiry": inquiry_id, "size": size, "entries": len(found)})
        return found

    def audit_paths(self, indices: Iterable[int], *, size: int) -> dict[int, list[bytes]]:
        """Each entry's audit path in the tree of `size`: one decision for all."""
        g = self._g
        wanted = sorted(set(indices))
        permit = self._whole(Action.READ, Category.LEDGER_PROOF)
        nodes = ledger_store.StoredNodes(g.session)
        paths = {i: merkle.inclusion_proof(nodes, i, size) for i in wanted}
        g.record(permit, (), {"size": size, "proofs": len(paths)})
        return paths

    def record_answer(self, answer: Answer, bundle: bytes) -> None:
        """Store the answer and its bundle; the entry names the bundle's SHA-256 and the
        checkpoint, so a later bundle proves what was given."""
        g = self._g
        permit = self._whole(Action.WRITE, Category.WORK_ITEM)
        detail = {
            "inquiry": answer.inquiry_id,
            "answered_by": answer.answered_by,
            "bundle_sha256": answer.bundle_sha256,
            "tree_size": answer.tree_size,
            "root": answer.root,
            "previous_size": answer.previous_size,
            "entries": answer.entry_count,
        }
        g.record(permit, (), detail)
        inquiry_store.add_answer(g.session, answer=answer, bundle=bundle)

    def bundle(self, inquiry_id: str) -> tuple[Answer, bytes] | None:
        """The inquiry's latest answer and its bundle, or None if it has none. Staff must
        name the inquiry itself as the work item."""
        g = self._g
        permits = [
            self._whole(Action.READ, c)
            for c in (Category.WORK_ITEM, Category.ACCESS_LOG, Category.LEDGER_PROOF)
        ]
        if g.bound and g.work_item != inquiry_id:
            g.refuse(
                permits[0],
                ReasonCode.E_WORK_ITEM_MISMATCH,
                f"the bundle of {inquiry_id} is read under {inquiry_id} only",
            )
        found = inquiry_store.latest_bundle(g.session, inquiry_id=inquiry_id)
        detail = {
            "inquiry": inquiry_id,
            "bundle_sha256": None if found is None else found[0].bundle_sha256,
        }
        for permit in permits:
            g.record(permit, (), detail)
        return found
