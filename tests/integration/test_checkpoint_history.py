"""The checkpoints signed so far, for the regulator's page: newest first, the first
covering the tree as it stands; a consistency proof from any of them to the current one
verifies against the two signed roots. Reading them is ledgered; an operator is
refused."""

from __future__ import annotations

import pytest

from forvalg.bootstrap import Services
from forvalg.domain.clock import FixedClock
from forvalg.domain.work_items import WorkItemKind
from forvalg.ledger.merkle import verify_consistency
from forvalg.ledger.note import Checkpoint
from forvalg.wall import AccessDenied, Principal
from forvalg.wall.principals import (
    Purpose,
    StaffRole,
    Statement,
    operator_principal,
    staff_principal,
)

from ..conftest import LEDGER_SIGNER


def _regulator(services: Services) -> tuple[Principal, Statement]:
    user = services.users.add("Nkom", "regulator")
    principal = staff_principal(user.user_id, StaffRole.REGULATOR)
    opening = Statement(Purpose.REGULATORY_INSPECTION)
    audit = services.work.open(principal, opening, WorkItemKind.AUDIT, summary="witnessing the log")
    return principal, Statement(Purpose.REGULATORY_INSPECTION, audit.id)


def test_checkpoints_newest_first_and_provably_consistent(
    services: Services, clock: FixedClock
) -> None:
    principal, stated = _regulator(services)
    sizes = []
    for _ in range(3):
        sizes.append(services.transparency.checkpoint(principal, stated).checkpoint.size)
    listed = services.transparency.checkpoints(principal, stated, limit=10)
    opened = [Checkpoint.open(c.note, LEDGER_SIGNER.verifier) for c in listed]
    assert [c.size for c in listed] == [o.size for o in opened]
    assert [c.size for c in listed] == sorted((c.size for c in listed), reverse=True)
    assert set(sizes) <= {c.size for c in listed}
    current, oldest = opened[0], opened[-1]
    assert current.size >= sizes[-1]  # signed afresh before the listing read
    proof = services.transparency.consistency(principal, oldest.size, current.size, stated)
    verify_consistency(oldest.size, current.size, oldest.root, current.root, proof.hashes)
    assert len(services.transparency.checkpoints(principal, stated, limit=2)) == 2


def test_an_operator_may_not_list_checkpoints(services: Services) -> None:
    services.operators.add("alpha", "Alpha Tele", "1505")
    with pytest.raises(AccessDenied):
        services.transparency.checkpoints(operator_principal("alpha"))
