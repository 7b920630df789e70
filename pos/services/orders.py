"""Orders after the sale: find, show, cancel, reprint, resend, preview."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from pos.db import audit
from pos.db.engine import transaction
from pos.db.models import Article, Customer, Order, OrderLine, PromoUse, Ticket
from pos.db.orders import load_order, order_json
from pos.db.promos import return_uses
from pos.domain.roles import Role
from pos.domain.ticket_code import CodeProblem, looks_like_ticket_code, parse_code
from pos.domain.values import MAX_ID, ascii_whole
from pos.errors import NotFound, Refused
from pos.printing.render import PrintSettings, preview
from pos.runtime import Runtime
from pos.services.base import Actor, require
from pos.services.delivery import (
    PrintOutcome,
    SendOutcome,
    enqueue_order_print,
    find_ticket_in_order,
    list_jobs,
    mail_enabled,
    queue_resend,
    run_jobs,
    send_all_pending,
)
from pos.services.documents import order_docs

ORDER_HITS = 50


@dataclass(frozen=True)
class OrderHit:
    id: int
    created_at: datetime
    status: str
    customer: str | None
    email: str | None
    total_cents: int
    tickets: int
    payment: str


def show_order(rt: Runtime, actor: Actor, order_id: int) -> dict[str, Any]:
    """The order as `pos order show --json` prints it."""
    require(actor, Role.CASHIER, "look up orders")
    with transaction(rt.engine) as session:
        return order_json(session, load_order(session, order_id), rt.config.venue.zone)


def order_of_ticket(rt: Runtime, actor: Actor, code: str) -> dict[str, Any]:
    """The order a scanned ticket code belongs to, as `pos order show` prints it."""
    require(actor, Role.CASHIER, "look up orders")
    with transaction(rt.engine) as session:
        ticket = session.get(Ticket, _serial(rt, code))
        if ticket is None:
            raise NotFound("No ticket with code {code} was sold here.", code=code.strip())
        return order_json(session, load_order(session, ticket.order_id), rt.config.venue.zone)


def _serial(rt: Runtime, code: str) -> int:
    parsed = parse_code(code.strip(), rt.config.brand.id, rt.config.brand_secret())
    if parsed.serial is not None:
        return parsed.serial
    if parsed.problem is CodeProblem.FOREIGN_BRAND:
        raise NotFound("Ticket code {code} belongs to another brand.", code=code.strip()[:64])
    if parsed.problem is CodeProblem.FORGED:
        raise NotFound(
            "Ticket code {code} is not one of ours (its security digits do not match).",
            code=code.strip()[:64],
        )
    raise NotFound(
        "{code!r} is not a valid ticket code: 24 digits with a correct check digit.", code=code.strip()[:64]
    )


def find_orders(rt: Runtime, actor: Actor, query: str, *, limit: int = ORDER_HITS) -> list[OrderHit]:
    """By order number, by ticket code (typed or scanned), else by customer or guest name or e-mail.

    An empty query lists the latest orders, newest first.
    """
    require(actor, Role.CASHIER, "look up orders")
    text = query.strip().removeprefix("#")
    with transaction(rt.engine) as session:
        condition: Any = None
        if looks_like_ticket_code(text):
            ticket = session.get(Ticket, _serial(rt, text))
            if ticket is None:
                raise NotFound("No ticket with code {code} was sold here.", code=text)
            condition = col(Order.id) == ticket.order_id
        elif (number := ascii_whole(text)) is not None and number <= MAX_ID:
            condition = col(Order.id) == number
        elif text:
            pattern = f"%{text.lower()}%"
            condition = or_(
                func.lower(col(Order.guest_name)).like(pattern),
                func.lower(col(Order.guest_email)).like(pattern),
                func.lower(col(Customer.name)).like(pattern),
                func.lower(col(Customer.email)).like(pattern),
            )
        tickets = (
            select(func.count()).select_from(Ticket).where(col(Ticket.order_id) == col(Order.id))
        ).scalar_subquery()
        statement = (
            select(Order, col(Customer.name), col(Customer.email), tickets)
            .outerjoin(Customer, col(Customer.id) == col(Order.customer_id))
            .order_by(col(Order.created_at).desc(), col(Order.id).desc())
            .limit(limit)
        )
        if condition is not None:
            statement = statement.where(condition)
        rows = session.execute(statement).all()
    return [
        OrderHit(
            id=order.id,
            created_at=order.created_at,
            status=order.status,
            customer=name or order.guest_name,
            email=email or order.guest_email,
            total_cents=order.total_cents,
            tickets=int(count),
            payment=order.payment_method,
        )
        for order, name, email, count in rows
    ]


# --- cancelling ----------------------------------------------------------------------------------------


def cancel_order(rt: Runtime, actor: Actor, order_id: int) -> dict[str, Any]:
    """Void the tickets, return the units and promo uses; a second cancel is refused, never double-counted."""
    require(actor, Role.CASHIER, "cancel orders")
    zone = rt.config.venue.zone
    with transaction(rt.engine) as session:
        now = rt.now()
        marked = session.execute(
            update(Order)
            .where(col(Order.id) == order_id, col(Order.status) == "paid")
            .values(status="cancelled", cancelled_at=now)
            .execution_options(synchronize_session=False)
        )
        if marked.rowcount != 1:  # type: ignore[attr-defined]
            _refuse_cancel(session, order_id, rt)
        voided = session.execute(
            update(Ticket)
            .where(col(Ticket.order_id) == order_id, col(Ticket.voided).is_(False))
            .values(voided=True)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        returned = _return_units(session, order_id)
        promo_uses = session.exec(
            select(func.count(col(PromoUse.id))).where(PromoUse.order_id == order_id)
        ).one()
        if promo_uses:
            return_uses(session, order_id)
        audit.record(
            session,
            rt,
            "order.cancel",
            f"order #{order_id}",
            before={"status": "paid"},
            after={"status": "cancelled", "tickets_voided": voided, "units_returned": returned},
            by=actor.name,
        )
        return order_json(session, load_order(session, order_id), zone)


def _refuse_cancel(session: Session, order_id: int, rt: Runtime) -> NoReturn:
    order = load_order(session, order_id)
    zone = rt.config.venue.zone
    when = order.cancelled_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if order.cancelled_at else "earlier"
    raise Refused("Order {id} was already cancelled at {when}.", id=order_id, when=when)


def _return_units(session: Session, order_id: int) -> dict[str, int]:
    per_article = session.execute(
        select(OrderLine.article_id, func.sum(OrderLine.quantity))
        .where(OrderLine.order_id == order_id)
        .group_by(col(OrderLine.article_id))
        .order_by(col(OrderLine.article_id))
    ).all()
    returned = {}
    for article_id, units in per_article:
        session.execute(
            update(Article)
            .where(col(Article.id) == article_id)
            .values(sold=col(Article.sold) - int(units))
            .execution_options(synchronize_session=False)
        )
        returned[f"#{article_id}"] = int(units)
    return returned


# --- documents again -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reprint:
    outcome: PrintOutcome
    jobs: list[dict[str, Any]]


def reprint(rt: Runtime, actor: Actor, order_id: int, ticket_codes: Sequence[str] = ()) -> Reprint:
    """Queue the order's documents (or only the named tickets) again, marked REPRINT, and print them."""
    require(actor, Role.CASHIER, "reprint orders")
    with transaction(rt.engine) as session:
        ticket_ids = [find_ticket_in_order(session, order_id, code) for code in ticket_codes] or None
        job_ids = enqueue_order_print(session, order_id, reprint=True, ticket_ids=ticket_ids, at=rt.now())
        audit.record(
            session, rt, "order.reprint", f"order #{order_id}", after={"jobs": job_ids}, by=actor.name
        )
    outcome = run_jobs(rt, job_ids=job_ids)
    return Reprint(outcome, list_jobs(rt, job_ids=job_ids))


def reprint_last_receipt(rt: Runtime, actor: Actor) -> Reprint:
    """The receipt of this terminal's latest order again (a customer asking for it at the till)."""
    require(actor, Role.CASHIER, "reprint orders")
    with transaction(rt.engine) as session:
        order_id = session.exec(
            select(Order.id).where(Order.terminal == rt.terminal).order_by(col(Order.id).desc()).limit(1)
        ).first()
    if order_id is None:
        raise NotFound("No order was sold on this terminal yet.")
    return reprint(rt, actor, order_id)


@dataclass(frozen=True)
class Resend:
    queued: list[int]
    sent: SendOutcome | None  # None when e-mail delivery is off (the mails wait in the outbox)


def resend(rt: Runtime, actor: Actor, order_id: int) -> Resend:
    """A fresh copy of every ticket mail of the order, sent now when SMTP is set up."""
    require(actor, Role.CASHIER, "resend tickets")
    queued = queue_resend(rt, actor, order_id)
    return Resend(queued, send_all_pending(rt, order_id=order_id) if mail_enabled(rt) else None)


def preview_order(rt: Runtime, actor: Actor, order_id: int, *, language: str | None = None) -> str:
    """The text preview of every document of an order, as they would print."""
    require(actor, Role.CASHIER, "look up orders")
    settings = PrintSettings.from_config(rt.config, language=language)
    with transaction(rt.engine) as session:
        docs = order_docs(session, rt.config, order_id)
    return "\n\n".join(preview(doc, settings) for doc in docs)


def print_jobs(rt: Runtime, actor: Actor, job_ids: Sequence[int]) -> list[dict[str, Any]]:
    require(actor, Role.CASHIER, "look up print jobs")
    return list_jobs(rt, job_ids=job_ids)
