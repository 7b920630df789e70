"""Operators: log in with a PIN, add one, change a PIN, list them; and who the CLI acts as."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import select

from pos.db import operators as store
from pos.db.engine import transaction
from pos.db.models import Operator
from pos.domain.clock import iso_local
from pos.domain.roles import Role, parse_role
from pos.errors import Refused
from pos.runtime import Runtime
from pos.services.base import Actor, require

SYSTEM = "system"


@dataclass(frozen=True)
class OperatorView:
    id: int
    name: str
    role: str
    active: bool
    created_at: datetime

    def json(self, zone: ZoneInfo) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "active": self.active,
            "created_at": iso_local(self.created_at, zone),
        }


def _view(operator: Operator) -> OperatorView:
    assert operator.id is not None
    return OperatorView(operator.id, operator.name, operator.role, operator.active, operator.created_at)


def actor_of(operator: OperatorView) -> Actor:
    return Actor(operator.name, Role(operator.role), operator.id)


def actor_named(rt: Runtime, name: str) -> Actor:
    """The operator of that name as an actor; a name that is no operator (the CLI's "system") acts as admin."""
    with transaction(rt.engine) as session:
        operator = session.exec(select(Operator).where(Operator.name == name)).first()
    if operator is None or not operator.active:
        return Actor(name or SYSTEM, Role.ADMIN)
    return Actor(operator.name, Role(operator.role), operator.id)


def log_in(rt: Runtime, name: str, pin: str) -> Actor:
    """The active operator with this name and PIN; any mismatch is the same one refusal."""
    return actor_of(_view(store.login(rt, name, pin)))


def add_operator(rt: Runtime, actor: Actor, name: str, role: str, pin: str) -> OperatorView:
    require(actor, Role.ADMIN, "add operators")
    try:
        checked = parse_role(role)
    except ValueError:
        raise Refused("The role must be cashier or admin, not {role!r}.", role=role) from None
    return _view(store.add_operator(rt, actor.name, name, checked.value, pin))


def change_pin(rt: Runtime, actor: Actor, name: str, pin: str) -> OperatorView:
    require(actor, Role.ADMIN, "change PINs")
    return _view(store.change_pin(rt, actor.name, name, pin))


def list_operators(rt: Runtime, actor: Actor) -> list[OperatorView]:
    require(actor, Role.ADMIN, "list operators")
    return [_view(operator) for operator in store.list_operators(rt)]


def cli_actor(rt: Runtime) -> Actor:
    """Who the CLI acts as: `[terminal] operator` from the config.

    The CLI is the admin's tool. When the configured name is a real operator, that operator's role applies
    (a till configured for a cashier cannot run admin commands); the default "system" is an admin.
    """
    return actor_named(rt, rt.config.terminal.operator)
