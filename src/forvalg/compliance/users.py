"""Staff users: created with one role, holding a bearer token shown once."""

from __future__ import annotations

from dataclasses import dataclass

from forvalg.wall import Purpose, Wall
from forvalg.wall.credentials import new_user_token
from forvalg.wall.principals import USER_ADMIN, StaffRole


class UnknownRole(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class NewUser:
    user_id: str
    name: str
    role: StaffRole
    token: str  # shown once; never stored or logged


class UserAdmin:
    def __init__(self, wall: Wall) -> None:
        self._wall = wall

    def add(self, name: str, role: str) -> NewUser:
        try:
            staff_role = StaffRole(role)
        except ValueError:
            known = ", ".join(r.value for r in StaffRole)
            raise UnknownRole(f"unknown role {role!r}; known roles: {known}") from None
        if not name.strip():
            raise ValueError("a user needs a name")
        issued = new_user_token()
        with self._wall.access(
            USER_ADMIN, Purpose.ADMINISTRATION, f"user:{issued.key_id}"
        ) as guard:
            guard.users.add(
                user_id=issued.key_id,
                name=name.strip(),
                role=staff_role,
                token_hash=issued.key_hash,
            )
        return NewUser(issued.key_id, name.strip(), staff_role, issued.token)

    def revoke(self, user_id: str) -> bool:
        """Revoke a user's token at once (its next request, API or page, is refused);
        False if there is no live user with that id. Ledgered like adding one."""
        with self._wall.access(USER_ADMIN, Purpose.ADMINISTRATION, f"user:{user_id}") as guard:
            return guard.users.revoke(user_id=user_id)
