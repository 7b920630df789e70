"""Who may do what: the two operator roles and the use cases only an admin reaches."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CASHIER = "cashier"
    ADMIN = "admin"


ROLES: tuple[str, ...] = tuple(role.value for role in Role)


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise ValueError(f"the role must be {' or '.join(ROLES)}, not {text!r}") from None


def may(role: Role | str, needed: Role) -> bool:
    """An admin may do everything a cashier may; a cashier only what needs the cashier role."""
    return needed is Role.CASHIER or Role(role) is Role.ADMIN
