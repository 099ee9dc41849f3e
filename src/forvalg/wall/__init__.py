"""The wall: every read and write of competitor-derived data passes here.

It decides (who, why, which work item, what), hands the decision to the ledger port,
and only then touches the store. Services above never import the store.
"""

from forvalg.wall.errors import Conflict
from forvalg.wall.gateway import AccessDenied, Guard, Wall
from forvalg.wall.principals import Principal, PrincipalKind, Purpose

__all__ = ["AccessDenied", "Conflict", "Guard", "Principal", "PrincipalKind", "Purpose", "Wall"]
