"""Orders after the sale: find, show, return, reprint, resend."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pos.domain.roles import Role
from pos.runtime import Runtime
from pos.services.base import Actor, require


def show_order(rt: Runtime, actor: Actor, order_id: int) -> dict[str, Any]:
    """The order as `pos order show --json` prints it."""
    from pos.db.sales import get_order

    require(actor, Role.CASHIER, "look up orders")
    return get_order(rt, order_id)


def reprint(rt: Runtime, actor: Actor, order_id: int, ticket_codes: Sequence[str] = ()) -> Any:
    """Queue the order's documents (or the named tickets) again, marked REPRINT, and print them."""
    from pos.db.backoffice import reprint as run

    require(actor, Role.CASHIER, "reprint orders")
    return run(rt, order_id, ticket_codes)


def resend(rt: Runtime, actor: Actor, order_id: int) -> tuple[list[int], Any]:
    """A fresh copy of every ticket mail of the order, sent now when SMTP is set up."""
    from pos.db.backoffice import resend as run

    require(actor, Role.CASHIER, "resend tickets")
    return run(rt, order_id)
