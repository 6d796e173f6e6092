"""The three roles and their order: each role includes the rights of the ones below it."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"  # read everything except secrets
    OPERATOR = "operator"  # + create, start, pause, resume and abort campaigns
    ADMIN = "admin"  # + inventory, credentials, packages, windows, API tokens

    @property
    def rank(self) -> int:
        return _RANK[self]

    def includes(self, other: Role) -> bool:
        return self.rank >= other.rank


_RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


def highest(roles: list[Role]) -> Role | None:
    """The strongest role of a user in several groups; None when no group maps to a role."""
    return max(roles, key=lambda role: role.rank, default=None)
