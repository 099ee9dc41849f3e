"""Registering CPS operators and managing their API keys."""

from __future__ import annotations

from dataclasses import dataclass

from forvalg.domain.operators import Operator, new_operator
from forvalg.wall import Conflict, Purpose, Wall
from forvalg.wall.credentials import IssuedKey, new_key
from forvalg.wall.principals import WHOLESALE_ADMIN


class OperatorExists(Exception):
    pass


class UnknownOperator(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Registered:
    operator: Operator
    key: IssuedKey


class OperatorAdmin:
    def __init__(self, wall: Wall) -> None:
        self._wall = wall

    def add(self, operator_id: str, name: str, csc: str) -> Registered:
        """Register an operator with an active agreement; returns its first API key."""
        operator = new_operator(operator_id, name, csc)
        key = new_key()
        try:
            with self._wall.access(
                WHOLESALE_ADMIN, Purpose.ADMINISTRATION, f"operator:{operator_id}"
            ) as guard:
                guard.operators.add(operator)
                guard.operators.add_key(
                    key_id=key.key_id, operator_id=operator.id, key_hash=key.key_hash
                )
        except Conflict:
            raise OperatorExists(
                f"an operator with id {operator_id!r} or carrier code {csc} already exists"
            ) from None
        return Registered(operator, key)

    def new_key(self, operator_id: str) -> IssuedKey:
        key = new_key()
        with self._wall.access(
            WHOLESALE_ADMIN, Purpose.ADMINISTRATION, f"operator:{operator_id}"
        ) as guard:
            if operator_id not in guard.operators.standing([operator_id]):
                raise UnknownOperator(operator_id)
            guard.operators.add_key(
                key_id=key.key_id, operator_id=operator_id, key_hash=key.key_hash
            )
        return key

    def revoke_key(self, operator_id: str, key_id: str) -> bool:
        with self._wall.access(
            WHOLESALE_ADMIN, Purpose.ADMINISTRATION, f"operator:{operator_id}"
        ) as guard:
            return guard.operators.revoke_key(key_id=key_id, operator_id=operator_id)

    def set_agreement(self, operator_id: str, active: bool) -> None:
        with self._wall.access(
            WHOLESALE_ADMIN, Purpose.ADMINISTRATION, f"operator:{operator_id}"
        ) as guard:
            if not guard.operators.set_agreement(operator_id, active):
                raise UnknownOperator(operator_id)

    def list(self) -> list[Operator]:
        with self._wall.access(WHOLESALE_ADMIN, Purpose.ADMINISTRATION) as guard:
            return list(guard.operators.standing().values())
