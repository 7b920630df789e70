"""Orders after the sale: find, show, cancel, reprint, resend, preview."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from pos.db import audit
from pos.db.articles import find_article
from pos.db.engine import transaction
from pos.db.journal import book, hold_open_shift, open_shift_of, paid_tenders
from pos.db.models import Article, Customer, Order, OrderLine, Ticket
from pos.db.orders import load_order, order_json, order_lines
from pos.db.promos import return_line_uses
from pos.domain.order import PricedLine, group_amounts, vat_groups
from pos.domain.roles import Role
from pos.domain.ticket_code import CodeProblem, looks_like_ticket_code, parse_code
from pos.domain.till import GroupAmount, PaidTender, Tender, VatAmount, refund_tenders
from pos.domain.values import MAX_ID, ascii_whole
from pos.errors import NotFound, Refused
from pos.printing.documents import ReturnDoc, ReturnLine, TenderLine
from pos.printing.render import PrintSettings, preview
from pos.runtime import Runtime
from pos.services.base import Actor, require
from pos.services.delivery import (
    PrintOutcome,
    SendOutcome,
    attach_fiscal,
    enqueue_order_print,
    enqueue_payload_print,
    find_ticket_in_order,
    list_jobs,
    mail_enabled,
    queue_resend,
    run_jobs,
    send_all_pending,
)
from pos.services.documents import letterhead, order_docs
from pos.services.fiscal import finish_signing, fiscal_json, sign_booked

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


# --- returns --------------------------------------------------------------------------------------------


class AdmittedTickets(Refused):
    """Some tickets to return were already admitted at the door: returned only when forced."""


@dataclass(frozen=True)
class ReturnRequest:
    """What comes back: everything left (no tickets, no lines named), or the named tickets and units."""

    order_id: int
    ticket_codes: Sequence[str] = ()
    lines: Sequence[tuple[str, int]] = ()  # (article as typed: exact name or #ID, units) of non-ticket lines
    refund: str | None = None  # cash | card; None: as paid
    force: bool = False  # return tickets already admitted (their places are not sold again)
    shift_id: int | None = None  # the app's shift; None: the terminal's open shift, if any


@dataclass(frozen=True)
class ReturnResult:
    order_id: int
    refund_cents: int
    tenders: tuple[Tender, ...]
    tickets: tuple[str, ...]  # codes voided
    lines: tuple[dict[str, Any], ...]  # {article, quantity, refund_cents}
    forced: tuple[str, ...]  # admitted tickets returned on purpose
    journal_number: int
    print_job_ids: tuple[int, ...]
    data: dict[str, Any]  # the order afterwards, as `pos order show` prints it
    fiscal: dict[str, Any] | None = None  # the TSE's signature of the return (None without a signer)

    @property
    def tender(self) -> str:
        names = {t.tender for t in self.tenders}
        return names.pop() if len(names) == 1 else ("split" if names else "none")

    def json(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "refund_cents": self.refund_cents,
            "tender": self.tender,
            "refunds": [{"tender": t.tender, "amount_cents": -t.amount_cents} for t in self.tenders],
            "tickets": list(self.tickets),
            "lines": list(self.lines),
            "forced": list(self.forced),
            "journal_number": self.journal_number,
            "fiscal": self.fiscal,
        }


def return_order(rt: Runtime, actor: Actor, request: ReturnRequest) -> ReturnResult:
    """Return tickets and units of an order in one transaction: tickets voided, units and promo uses back, the
    refund journalled into this terminal's shift (not the sale's), a return slip queued.

    A ticket already admitted at the door is returned only with `force` (audited), and its unit stays sold: the
    place was used.
    """
    require(actor, Role.CASHIER, "return orders")
    zone = rt.config.venue.zone
    with transaction(rt.engine) as session:
        shift_id = _booking_shift(session, rt, request.shift_id)
        order = load_order(session, request.order_id)
        if order.status == "training":
            raise Refused(
                "Order {id} was a training sale; nothing was taken, so nothing comes back.", id=order.id
            )
        lines = {line.id: line for line in order_lines(session, request.order_id)}
        tickets = list(
            session.exec(select(Ticket).where(Ticket.order_id == order.id).order_by(col(Ticket.id)))
        )
        chosen_tickets, chosen_units = _chosen(session, rt, order, lines, tickets, request)
        admitted = [t for t in chosen_tickets if t.first_redeemed_at is not None]
        if admitted and not request.force:
            raise AdmittedTickets(
                "Ticket {code} was already admitted at the door; return it only on purpose (force).",
                code=admitted[0].code,
            )
        now = rt.now()
        returned: list[tuple[OrderLine, int]] = []
        for ticket in chosen_tickets:
            voided = session.execute(
                update(Ticket)
                .where(col(Ticket.id) == ticket.id, col(Ticket.voided).is_(False))
                .values(voided=True)
                .execution_options(synchronize_session=False)
            )
            if voided.rowcount != 1:  # type: ignore[attr-defined]
                raise Refused("Ticket {code} was returned meanwhile.", code=ticket.code)
            returned.append((lines[ticket.order_line_id], 1))
        for line, units in chosen_units:
            returned.append((line, units))
        for line, units in returned:
            taken = session.execute(
                update(OrderLine)
                .where(
                    col(OrderLine.id) == line.id,
                    col(OrderLine.returned_quantity) + units <= col(OrderLine.quantity),
                )
                .values(returned_quantity=col(OrderLine.returned_quantity) + units)
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                raise Refused(
                    "{name} of order {id} was returned meanwhile.", name=line.article_name, id=order.id
                )
        kept = {t.order_line_id for t in admitted}
        back: dict[int, int] = {}
        for line, units in returned:
            if line.id not in kept:
                back[line.article_id] = back.get(line.article_id, 0) + units
        for article_id in sorted(back):
            session.execute(
                update(Article)
                .where(col(Article.id) == article_id)
                .values(sold=col(Article.sold) - back[article_id])
                .execution_options(synchronize_session=False)
            )
        return_line_uses(
            session,
            [line.id for line, _units in returned if line.id in {t.order_line_id for t in chosen_tickets}],
        )
        refunds = [(line, units, _refund(line, units)) for line, units in returned]
        refund_cents = sum(amount for _line, _units, amount in refunds)
        paid = paid_tenders(session, order.id or 0)
        tenders = refund_tenders(
            refund_cents,
            [PaidTender(name, amounts[0], amounts[1]) for name, amounts in paid.items()],
            request.refund,
        )
        everything_back = _all_returned(session, order.id or 0)
        session.execute(
            update(Order)
            .where(col(Order.id) == order.id)
            .values(
                refunded_cents=col(Order.refunded_cents) + refund_cents,
                **({"status": "cancelled", "cancelled_at": now} if everything_back else {}),
            )
            .execution_options(synchronize_session=False)
        )
        priced = [
            PricedLine(
                0,
                line.article_id,
                line.article_name,
                line.article_group,
                units,
                amount // units,
                line.vat_bp,
                False,
            )
            for line, units, amount in refunds
        ]
        booked = book(
            session,
            terminal=rt.terminal,
            kind="return",
            at=now,
            operator=actor.name,
            total_cents=-refund_cents,
            shift_id=shift_id,
            order_id=order.id,
            tenders=tenders,
            vat=[
                VatAmount(v.rate_bp, -v.net_cents, -v.vat_cents, -v.gross_cents) for v in vat_groups(priced)
            ],
            groups=[GroupAmount(g.group, -g.units, -g.total_cents) for g in group_amounts(priced)],
        )
        signed = sign_booked(session, rt, booked)
        codes = {t.order_line_id: t.code for t in chosen_tickets}
        slip_lines = tuple(
            ReturnLine(line.article_name, units, amount, codes.get(line.id))
            for line, units, amount in refunds
        )
        forced = tuple(t.code or "" for t in admitted)
        doc = ReturnDoc(
            letterhead=letterhead(rt.config),
            order_id=order.id or 0,
            journal_number=booked.number,
            at=now,
            terminal=rt.terminal,
            operator=actor.name,
            lines=slip_lines,
            refunds=tuple(TenderLine(t.tender, t.amount_cents) for t in tenders),
            refund_cents=refund_cents,
            forced=bool(forced),
            fiscal=signed,
        )
        job_id = enqueue_payload_print(session, "return", doc.to_json())
        audit.record(
            session,
            rt,
            "order.return",
            f"order #{order.id}",
            before={"status": order.status, "refunded_cents": order.refunded_cents},
            after={
                "refund_cents": refund_cents,
                "tickets": [t.code for t in chosen_tickets],
                "lines": [{"article": line.article_name, "quantity": units} for line, units in chosen_units],
                "forced": list(forced),
                "journal_number": booked.number,
            },
            by=actor.name,
        )
        session.expire_all()
        data = order_json(session, load_order(session, order.id or 0), zone)
    result = finish_signing(rt, booked, signed)
    if signed is None and result is not None:  # signed after the commit: the slip gets it now
        with transaction(rt.engine) as session:
            attach_fiscal(session, [job_id], result.to_dict())
    fiscal = fiscal_json(result)
    return ReturnResult(
        order_id=order.id or 0,
        refund_cents=refund_cents,
        tenders=tenders,
        tickets=tuple(t.code or "" for t in chosen_tickets),
        lines=tuple(
            {"article": line.article_name, "quantity": units, "refund_cents": amount}
            for line, units, amount in refunds
            if line.id not in codes
        ),
        forced=forced,
        journal_number=booked.number,
        print_job_ids=(job_id,),
        data=data,
        fiscal=fiscal,
    )


def print_return_slip(rt: Runtime, actor: Actor, result: ReturnResult) -> PrintOutcome:
    """The return slip (the drawer opens for a cash refund), printed after the return committed."""
    require(actor, Role.CASHIER, "print")
    return run_jobs(rt, job_ids=list(result.print_job_ids))


def cancel_order(rt: Runtime, actor: Actor, order_id: int, *, force: bool = False) -> ReturnResult:
    """Cancelling is returning all that is left of the order (refund as paid)."""
    return return_order(rt, actor, ReturnRequest(order_id=order_id, force=force))


def _booking_shift(session: Session, rt: Runtime, shift_id: int | None) -> int | None:
    if shift_id is not None:
        return hold_open_shift(session, shift_id).id
    shift = open_shift_of(session, rt.terminal, hold=True)
    return shift.id if shift is not None else None


def _chosen(
    session: Session,
    rt: Runtime,
    order: Order,
    lines: dict[int | None, OrderLine],
    tickets: list[Ticket],
    request: ReturnRequest,
) -> tuple[list[Ticket], list[tuple[OrderLine, int]]]:
    """The tickets and (line, units) to return; refused when something named is not there or gone already."""
    by_line = {t.order_line_id for t in tickets}
    other_lines = [line for line in lines.values() if line.id not in by_line]
    if not request.ticket_codes and not request.lines:
        if order.status == "cancelled":
            _refuse_returned(order, rt)
        chosen = [t for t in tickets if not t.voided]
        units = [(line, line.quantity - line.returned_quantity) for line in other_lines]
        units = [(line, n) for line, n in units if n > 0]
        if not chosen and not units:
            _refuse_returned(order, rt)
        return chosen, units
    by_code = {t.code: t for t in tickets}
    chosen_tickets: list[Ticket] = []
    for typed in request.ticket_codes:
        code = typed.strip()
        ticket = by_code.get(code)
        if ticket is None:
            raise NotFound("Ticket {code} is not in order {id}.", code=code, id=order.id)
        if ticket.voided:
            raise Refused("Ticket {code} was already returned.", code=code)
        if ticket not in chosen_tickets:
            chosen_tickets.append(ticket)
    chosen_units: list[tuple[OrderLine, int]] = []
    for ref, units in request.lines:
        if units < 1:
            raise Refused("Return at least one unit of {name}.", name=ref)
        article = find_article(session, ref)
        matching = [line for line in other_lines if line.article_id == article.id]
        if not matching:
            if any(line.article_id == article.id for line in lines.values()):
                raise Refused("{name} is a ticket article: return its tickets by code.", name=article.name)
            raise NotFound("Order {id} has no {name}.", id=order.id, name=article.name)
        left = sum(line.quantity - line.returned_quantity for line in matching)
        if units > left:
            if left == 0:
                raise Refused("{name} of order {id} was already returned.", name=article.name, id=order.id)
            raise Refused("Only {n} of {name} are left to return.", n=left, name=article.name)
        for line in matching:
            part = min(units, line.quantity - line.returned_quantity)
            if part > 0:
                chosen_units.append((line, part))
                units -= part
    return chosen_tickets, chosen_units


def _refuse_returned(order: Order, rt: Runtime) -> NoReturn:
    zone = rt.config.venue.zone
    when = order.cancelled_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if order.cancelled_at else "earlier"
    raise Refused("Order {id} was already returned in full at {when}.", id=order.id, when=when)


def _refund(line: OrderLine, units: int) -> int:
    """What was paid for `units` of the line (after discounts)."""
    if units == line.quantity:
        return line.total_cents
    return line.total_cents // line.quantity * units


def _all_returned(session: Session, order_id: int) -> bool:
    left = session.exec(
        select(func.count())
        .select_from(OrderLine)
        .where(
            col(OrderLine.order_id) == order_id, col(OrderLine.returned_quantity) < col(OrderLine.quantity)
        )
    ).one()
    return int(left) == 0


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
