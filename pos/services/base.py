"""What every use case shares: who acts, and the role check that runs before anything is read or written."""

from __future__ import annotations

from dataclasses import dataclass

from pos.domain.roles import Role, may
from pos.errors import Forbidden
from pos.runtime import Runtime


@dataclass(frozen=True)
class Actor:
    """The operator a use case runs for: recorded in the audit log and the journal, checked for its role."""

    name: str
    role: Role
    operator_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def require(actor: Actor, needed: Role, what: str) -> None:
    """Refuse with one sentence when `actor` lacks the role `needed` for `what` (e.g. "change availability")."""
    if not may(actor.role, needed):
        raise Forbidden(
            "Only an admin may {what}; {name} is logged in as {role}.",
            what=what,
            name=actor.name,
            role=actor.role.value,
        )


def system_actor(rt: Runtime) -> Actor:
    """The till itself, before anyone logged in (e.g. prefetching the catalog while the PIN is typed)."""
    return Actor(f"{rt.terminal} (system)", Role.CASHIER)
