"""Tickets after the sale: show one, its detail with the order, and the admin's corrections of the protocol.

Reading needs the cashier role, every correction the admin role; each correction is audited (who, when, the
state before and after) in the transaction that makes it. `pos ticket ...`, the ticket detail screen and the
admin screens call these functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pos.db import audit
from pos.db import redemption as store
from pos.db.engine import transaction
from pos.db.orders import load_order, order_json
from pos.domain.roles import Role
from pos.runtime import Runtime
from pos.services.base import Actor, require


@dataclass(frozen=True)
class Selection:
    """Which tickets a bulk correction touches: codes, one article (name or #ID), or all tickets."""

    codes: Sequence[str] = ()
    article: str | None = None
    all_tickets: bool = False


@dataclass(frozen=True)
class TicketDetail:
    ticket: dict[str, Any]  # as `pos ticket show` prints it
    order: dict[str, Any]  # as `pos order show` prints the ticket's order
    birthday: date | None = None  # of the order's customer record
    entries: int = field(default=0)  # first validation plus protocol entries


def show_ticket(rt: Runtime, actor: Actor, code: str) -> dict[str, Any]:
    """`pos ticket show`: settings, first validation and repeat protocol of one ticket."""
    require(actor, Role.CASHIER, "look up tickets")
    with transaction(rt.engine) as session:
        return store.ticket_json(session, store.find_ticket(session, rt, code), rt.config.venue.zone)


def ticket_detail(rt: Runtime, actor: Actor, code: str) -> TicketDetail:
    """The ticket, its order and the customer's birthday, read in one transaction (one consistent picture)."""
    require(actor, Role.CASHIER, "look up tickets")
    zone = rt.config.venue.zone
    with transaction(rt.engine) as session:
        ticket = store.find_ticket(session, rt, code)
        shown = store.ticket_json(session, ticket, zone)
        order = load_order(session, ticket.order_id)
        birthday = store.customer_birthday(session, order.customer_id)
        return TicketDetail(
            ticket=shown,
            order=order_json(session, order, zone),
            birthday=birthday,
            entries=(1 if shown["first_redeemed_at"] else 0) + len(shown["protocol"]),
        )


def protocol_delete(rt: Runtime, actor: Actor, code: str, entry_id: int) -> dict[str, Any]:
    """Delete one re-entry from the protocol (a mistaken scan, or a credit): one more entry is left."""
    require(actor, Role.ADMIN, "correct the door protocol")
    zone = rt.config.venue.zone
    with transaction(rt.engine) as session:
        ticket = store.find_ticket(session, rt, code)
        before = store.delete_protocol_entry(session, ticket, entry_id, zone)
        audit.record(
            session, rt, "ticket.protocol_delete", f"ticket #{ticket.id}", before=before, by=actor.name
        )
        return store.ticket_json(session, ticket, zone)


def reset(rt: Runtime, actor: Actor, selection: Selection, *, full: bool = False) -> dict[str, Any]:
    """Clear the repeat protocols of the selection; `full` also undoes the first validations."""
    require(actor, Role.ADMIN, "reset door protocols")
    with transaction(rt.engine) as session:
        selected = store.select_tickets(
            session, rt, selection.codes, selection.article, selection.all_tickets
        )
        before, after = store.reset_protocols(session, selected, full=full, zone=rt.config.venue.zone)
        action = "ticket.reset_full" if full else "ticket.reset"
        audit.record(session, rt, action, selected.target, before, after, by=actor.name)
        return after


def set_repeat(
    rt: Runtime, actor: Actor, selection: Selection, repeat: str, repeat_limit: int | None
) -> dict[str, Any]:
    """Change repeat type and limit of tickets after the sale (the article's own option stays)."""
    require(actor, Role.ADMIN, "change repeat options")
    with transaction(rt.engine) as session:
        selected = store.select_tickets(
            session, rt, selection.codes, selection.article, selection.all_tickets
        )
        before, after = store.change_repeat(session, selected, repeat, repeat_limit)
        audit.record(session, rt, "ticket.set_repeat", selected.target, before, after, by=actor.name)
        return after
