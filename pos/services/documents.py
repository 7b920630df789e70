"""Documents (tickets, order slip, receipt, Z report) built from the tables, for printing, previews and mail.

Read only. A document holds raw values (cents, UTC times), never formatted text, so the printing layer can
lay it out for 58 or 80 mm paper, preview it as text or draw it as an image, in German or English.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlmodel import Session, col, select

from pos.config import Config
from pos.db.journal import paid_tenders
from pos.db.models import Article, JournalLine, Order, OrderLine, PrintJob, Ticket
from pos.db.orders import customer_of, load_order, order_lines, priced_order_lines
from pos.domain.fiscal import fiscal_from_dict
from pos.domain.order import PricedLine, vat_groups
from pos.domain.till import ShiftFigures
from pos.errors import NotFound, Refused
from pos.i18n import venue_language
from pos.printing.documents import (
    CashDoc,
    Document,
    GroupTotal,
    Letterhead,
    ReceiptDoc,
    ReceiptLine,
    ReturnDoc,
    SlipDoc,
    SlipLine,
    TenderLine,
    TenderTotal,
    TicketDoc,
    VatTotal,
    ZReportDoc,
)
from pos.printing.render import ticket_pdf, ticket_png


def letterhead(config: Config) -> Letterhead:
    venue = config.venue
    return Letterhead(
        venue_name=venue.name,
        brand_header=config.brand.header,
        address=venue.address,
        tax_number=venue.tax_number,
        vat_id=venue.vat_id,
    )


def load_ticket_doc(session: Session, config: Config, ticket_id: int, *, reprint: bool = False) -> TicketDoc:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound("Ticket {id} does not exist.", id=ticket_id)
    if not ticket.code:
        raise Refused("Ticket {id} has no code yet.", id=ticket_id)
    order = session.get(Order, ticket.order_id)
    article = session.get(Article, ticket.article_id)
    assert order is not None and article is not None
    line = session.get(OrderLine, ticket.order_line_id) if ticket.order_line_id else None
    own_validity = ticket.event_date or ticket.valid_from or ticket.valid_until
    source: Ticket | Article = ticket if own_validity else article
    return TicketDoc(
        letterhead=letterhead(config),
        code=ticket.code,
        ticket_id=ticket_id,
        order_id=ticket.order_id,
        article_name=line.article_name if line else article.name,
        price_cents=line.total_cents // max(line.quantity, 1) if line else article.price_cents,
        issued_at=order.created_at,
        event_date=source.event_date,
        valid_from=source.valid_from,
        valid_until=source.valid_until,
        repeat=ticket.repeat,
        repeat_limit=ticket.repeat_limit,
        holder_name=ticket.holder_name or customer_of(session, order)[0],
        reprint=reprint,
        training=order.status == "training",
    )


def slip_lines(session: Session, order_id: int) -> list[OrderLine]:
    query = (
        select(OrderLine)
        .join(Article, col(Article.id) == OrderLine.article_id)
        .where(OrderLine.order_id == order_id, col(Article.is_ticket).is_(False))
        .order_by(col(OrderLine.id))
    )
    return list(session.exec(query))


def load_slip_doc(
    session: Session, config: Config, order_id: int, *, reprint: bool = False
) -> SlipDoc | None:
    """The order slip for the non-ticket lines; None when the order has only tickets."""
    order = load_order(session, order_id)
    lines = slip_lines(session, order_id)
    if not lines:
        return None
    return SlipDoc(
        letterhead=letterhead(config),
        order_id=order_id,
        created_at=order.created_at,
        terminal=order.terminal,
        operator=order.operator,
        lines=tuple(SlipLine(quantity=line.quantity, name=line.article_name) for line in lines),
        reprint=reprint,
        training=order.status == "training",
    )


def load_receipt_doc(session: Session, config: Config, order_id: int, *, reprint: bool = False) -> ReceiptDoc:
    order = load_order(session, order_id)
    lines = order_lines(session, order_id)
    priced = priced_order_lines(session, lines)
    return ReceiptDoc(
        letterhead=letterhead(config),
        order_id=order_id,
        created_at=order.created_at,
        terminal=order.terminal,
        operator=order.operator,
        lines=_merge_receipt_lines(priced),
        vat=vat_groups(priced),
        total_cents=order.total_cents,
        payment_method=order.payment_method,
        given_cents=order.given_cents,
        change_cents=order.change_cents,
        reprint=reprint,
        tenders=_split_tenders(session, order_id) if order.payment_method == "split" else (),
        training=order.status == "training",
        **_fiscal_of_sale(session, order_id),
    )


def _fiscal_of_sale(session: Session, order_id: int) -> dict[str, Any]:
    """With a TSE: the receipt number (the journal's) and the signature or outage mark of the sale."""
    sale = session.exec(
        select(JournalLine).where(JournalLine.order_id == order_id, JournalLine.kind == "sale")
    ).first()
    if sale is None or not sale.fiscal:
        return {}
    return {"receipt_number": sale.number, "fiscal": fiscal_from_dict(json.loads(sale.fiscal))}


def _split_tenders(session: Session, order_id: int) -> tuple[TenderLine, ...]:
    paid = paid_tenders(session, order_id)
    return tuple(TenderLine(tender, amounts[0]) for tender, amounts in sorted(paid.items()) if amounts[0])


def _merge_receipt_lines(lines: Sequence[PricedLine]) -> tuple[ReceiptLine, ...]:
    """Ten equal tickets are one receipt line '10 x ...', in the order they were sold."""
    merged: dict[tuple[str, int, int, int, str | None], ReceiptLine] = {}
    for line in lines:
        key = (line.name, line.unit_price_cents, line.discount_cents, line.vat_bp, line.promo_code)
        seen = merged.get(key)
        quantity = line.quantity + (seen.quantity if seen else 0)
        merged[key] = ReceiptLine(
            name=line.name,
            quantity=quantity,
            unit_price_cents=line.unit_price_cents,
            discount_cents=line.discount_cents,
            total_cents=line.final_price_cents * quantity,
            vat_bp=line.vat_bp,
            promo_code=line.promo_code,
        )
    return tuple(merged.values())


def zreport_doc(
    config: Config, figures: ShiftFigures, *, tse_outages: int = 0, reprint: bool = False
) -> ZReportDoc:
    """The X or Z report as printed, from the shift's figures (a snapshot: a reprint shows the same)."""
    sums = figures.sums
    return ZReportDoc(
        letterhead=letterhead(config),
        shift_id=figures.shift_id,
        z_number=figures.z_number,
        terminal=figures.terminal,
        operator=figures.operator,
        opened_at=figures.opened_at,
        closed_at=figures.closed_at,
        float_cents=sums.float_cents,
        sales_cents=sums.sales_cents,
        returns_cents=sums.returns_cents,
        cash_in_cents=sums.cash_in_cents,
        cash_out_cents=sums.cash_out_cents,
        cash_taken_cents=sums.cash_taken_cents,
        change_cents=sums.change_cents,
        cash_refunded_cents=sums.cash_refunded_cents,
        expected_cash_cents=figures.expected_cash_cents,
        counted_cents=figures.counted_cents,
        by_tender=tuple(TenderTotal(t.tender, t.count, t.total_cents) for t in sums.by_tender),
        by_group=tuple(GroupTotal(g.group, g.units, g.total_cents) for g in sums.by_group),
        by_vat=tuple(VatTotal(v.rate_bp, v.net_cents, v.vat_cents, v.gross_cents) for v in sums.by_vat),
        tse_outages=tse_outages,
        reprint=reprint,
    )


def load_job_doc(session: Session, config: Config, job: PrintJob) -> Document:
    if job.kind == "ticket" and job.ticket_id is not None:
        return load_ticket_doc(session, config, job.ticket_id, reprint=job.reprint)
    if job.kind == "slip" and job.order_id is not None:
        slip = load_slip_doc(session, config, job.order_id, reprint=job.reprint)
        if slip is None:
            raise Refused("Order {id} has no lines for an order slip.", id=job.order_id)
        return slip
    if job.kind == "receipt" and job.order_id is not None:
        return load_receipt_doc(session, config, job.order_id, reprint=job.reprint)
    if job.payload:
        data = json.loads(job.payload)
        if job.kind == "zreport":
            return replace(ZReportDoc.from_json(data), reprint=job.reprint)
        if job.kind == "return":
            return replace(ReturnDoc.from_json(data), reprint=job.reprint)
        if job.kind == "cash":
            return replace(CashDoc.from_json(data), reprint=job.reprint)
    raise Refused("Print job {id} of kind {kind!r} has nothing to print.", id=job.id, kind=job.kind)


def order_docs(session: Session, config: Config, order_id: int) -> list[Document]:
    """Everything an order prints, in print order."""
    tickets = session.exec(
        select(Ticket.id)
        .where(Ticket.order_id == order_id, col(Ticket.voided).is_(False))
        .order_by(col(Ticket.id))
    )
    docs: list[Document] = [load_ticket_doc(session, config, ticket_id) for ticket_id in tickets if ticket_id]
    slip = load_slip_doc(session, config, order_id)
    if slip is not None:
        docs.append(slip)
    docs.append(load_receipt_doc(session, config, order_id))
    return docs


def ticket_attachment(
    session: Session, config: Config, ticket_id: int, *, fmt: str = "png", language: str | None = None
) -> bytes:
    """The ticket as PNG or PDF for e-mail; its barcode and QR code decode to the ticket code."""
    doc = load_ticket_doc(session, config, ticket_id)
    lang = venue_language(config.venue, language)
    return ticket_pdf(doc, lang) if fmt == "pdf" else ticket_png(doc, lang)
