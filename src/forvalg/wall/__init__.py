"""The wall: every read and write of competitor-derived data passes here.

It decides (who, why, which work item, what), hands the decision to the ledger port,
and only then touches the store. Services above never import the store.
"""

from forvalg.wall.errors import AccessDenied, Conflict
from forvalg.wall.gateway import Wall
from forvalg.wall.guard import Guard
from forvalg.wall.principals import Principal, PrincipalKind, Purpose

__all__ = ["AccessDenied", "Conflict", "Guard", "Principal", "PrincipalKind", "Purpose", "Wall"]
