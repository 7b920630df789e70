"""Read models of an order: its lines priced again as the domain sees them, and the JSON every face prints.

Reading only; the writes of a sale or a return are in pos/services. Receipts, `pos order show` and the
sale's own result all come through `order_json`, so they cannot disagree.
"""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from pos.db.models import Customer, JournalLine, JournalTender, Order, OrderLine, PromoCode, Ticket
from pos.domain.clock import iso_local
from pos.domain.fiscal import fiscal_from_dict
from pos.domain.money import rate_number
from pos.domain.order import PricedLine, totals
from pos.errors import NotFound


def load_order(session: Session, order_id: int) -> Order:
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound("Order {id} does not exist.", id=order_id)
    return order


def order_lines(session: Session, order_id: int) -> list[OrderLine]:
    return list(
        session.exec(select(OrderLine).where(OrderLine.order_id == order_id).order_by(col(OrderLine.id)))
    )


def order_tickets(session: Session, order_id: int) -> list[Ticket]:
    return list(session.exec(select(Ticket).where(Ticket.order_id == order_id).order_by(col(Ticket.id))))


def order_json(
    session: Session,
    order: Order,
    zone: ZoneInfo,
    *,
    unused_codes: tuple[str, ...] | list[str] = (),
    lines: list[OrderLine] | None = None,
    tickets: list[Ticket] | None = None,
) -> dict[str, Any]:
    """The `pos sell --json` shape; `pos order ...` commands print the same. A sale passes its rows in."""
    assert order.id is not None
    if lines is None:
        lines = order_lines(session, order.id)
    if tickets is None:
        tickets = order_tickets(session, order.id)
    code_by_line = {ticket.order_line_id: ticket.code for ticket in tickets}
    ticket_by_line = {ticket.order_line_id: ticket for ticket in tickets}
    names = {line.article_id: line.article_name for line in lines}
    priced = priced_order_lines(session, lines)
    order_totals = totals(priced)
    sale = session.exec(
        select(JournalLine).where(JournalLine.order_id == order.id, JournalLine.kind == "sale")
    ).first()
    payments = (
        [
            {"tender": t.tender, "amount_cents": t.amount_cents}
            for t in session.exec(
                select(JournalTender)
                .where(JournalTender.journal_id == sale.id)
                .order_by(col(JournalTender.id))
            )
        ]
        if sale is not None
        else []
    )
    return {
        "id": order.id,
        "status": order.status,
        "created_at": iso_local(order.created_at, zone),
        "cancelled_at": iso_local(order.cancelled_at, zone),
        "lines": [
            _line_json(line, row, code_by_line, ticket_by_line.get(row.id))
            for line, row in zip(priced, lines, strict=True)
        ],
        "total_cents": order.total_cents,
        "discount_cents": order_totals.discount_cents,
        "vat": [
            {
                "rate": rate_number(group.rate_bp),
                "net_cents": group.net_cents,
                "vat_cents": group.vat_cents,
                "gross_cents": group.gross_cents,
            }
            for group in order_totals.vat
        ],
        "payment": {
            "method": order.payment_method,
            "given_cents": order.given_cents,
            "change_cents": order.change_cents,
        },
        "payments": payments,
        "refunded_cents": order.refunded_cents,
        "journal_number": sale.number if sale is not None else None,
        "fiscal": _fiscal_json(sale.fiscal if sale is not None else None),
        "tickets": [{"code": t.code, "article": names.get(t.article_id)} for t in tickets],
        "unused_codes": list(unused_codes),
        "customer": _customer_json(session, order),
    }


def priced_order_lines(session: Session, lines: list[OrderLine]) -> list[PricedLine]:
    """Stored lines back as the domain's priced lines (discount per unit), for totals, VAT and receipts."""
    promo_codes = _promo_codes(session, {line.promo_code_id for line in lines if line.promo_code_id})
    return [_priced_line(index, line, promo_codes) for index, line in enumerate(lines)]


def _priced_line(index: int, line: OrderLine, promo_codes: dict[int, str]) -> PricedLine:
    return PricedLine(
        source=index,
        article_id=line.article_id,
        name=line.article_name,
        group=line.article_group,
        quantity=line.quantity,
        unit_price_cents=line.unit_price_cents,
        vat_bp=line.vat_bp,
        is_ticket=False,
        discount_cents=line.discount_cents // line.quantity,
        promo_code=promo_codes.get(line.promo_code_id) if line.promo_code_id else None,
    )


def _line_json(
    line: PricedLine, row: OrderLine, code_by_line: dict[int | None, str | None], ticket: Ticket | None
) -> dict[str, Any]:
    return {
        "article": line.name,
        "article_id": line.article_id,
        "quantity": line.quantity,
        "unit_price_cents": line.unit_price_cents,
        "discount_cents": line.discount_cents,
        "final_price_cents": line.final_price_cents,
        "total_cents": line.total_cents,
        "promo_code": line.promo_code,
        "ticket_code": code_by_line.get(row.id),
        "returned_quantity": row.returned_quantity,
        "admitted": ticket is not None and ticket.first_redeemed_at is not None,
    }


def _promo_codes(session: Session, ids: set[int | None]) -> dict[int, str]:
    if not ids:
        return {}
    found = session.execute(select(PromoCode.id, PromoCode.code).where(col(PromoCode.id).in_(ids)))
    return {promo_id: code for promo_id, code in found.all()}


def customer_of(session: Session, order: Order) -> tuple[str | None, str | None]:
    """(name, e-mail) of the order's customer record, else of its guest."""
    if order.customer_id is not None:
        customer = session.get(Customer, order.customer_id)
        if customer is not None:
            return customer.name, customer.email
    return order.guest_name, order.guest_email


def _customer_json(session: Session, order: Order) -> dict[str, Any] | None:
    if order.customer_id is not None:
        customer = session.get(Customer, order.customer_id)
        if customer is not None:
            return {"id": customer.id, "name": customer.name, "email": customer.email}
    if order.guest_name or order.guest_email:
        return {"id": None, "name": order.guest_name, "email": order.guest_email}
    return None


def _fiscal_json(stored: str | None) -> dict[str, Any] | None:
    """The sale's TSE data as `pos sell --json` shows it (null without a signer)."""
    result = fiscal_from_dict(json.loads(stored)) if stored else None
    return result.to_json() if result is not None else None
