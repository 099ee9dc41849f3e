"""CPS operators: the incumbent's wholesale customers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from forvalg.domain.numbers import CarrierSelectionCode

_OPERATOR_ID = re.compile(r"[a-z][a-z0-9-]{1,31}")
RESERVED_IDS = frozenset({"incumbent", "unknown", "anonymous"})


class InvalidOperator(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Operator:
    id: str
    name: str
    csc: str
    agreement_active: bool = True


def new_operator(operator_id: str, name: str, csc: str) -> Operator:
    if not _OPERATOR_ID.fullmatch(operator_id) or operator_id in RESERVED_IDS:
        raise InvalidOperator(
            "id", f"{operator_id!r} must be 2-32 lowercase letters, digits or '-', not reserved"
        )
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidOperator("name", "the name must be 1-200 characters")
    try:
        CarrierSelectionCode(csc)
    except ValueError as exc:
        raise InvalidOperator("csc", str(exc)) from None
    return Operator(operator_id, name, csc)
