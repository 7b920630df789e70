"""Selling and cancelling: each runs in ONE transaction, so an order is written completely or not at all.

Availability is taken with a conditional UPDATE and a row-count check, which the database serialises across
terminals (SQLite: BEGIN IMMEDIATE; PostgreSQL: the row lock and re-check of READ COMMITTED). Articles are
updated in id order so two sales of the same articles cannot deadlock.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

from sqlalchemy import func, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from pos.db import audit
from pos.db.articles import find_article
from pos.db.engine import transaction
from pos.db.models import Article, Customer, Order, OrderLine, PromoCode, PromoUse, Ticket
from pos.domain.clock import iso_local
from pos.domain.money import rate_number
from pos.domain.order import (
    CartItem,
    Payment,
    PaymentError,
    PricedLine,
    Totals,
    apply_discounts,
    expand,
    settle,
    ticket_lines,
    totals,
)
from pos.domain.ticket_code import make_code
from pos.domain.values import MAX_QUANTITY, ascii_whole
from pos.errors import NotFound, Refused
from pos.runtime import Runtime


@dataclass
class CartLine:
    article: str | int  # exact name, "#ID" or id
    quantity: int = 1
    valid_from: datetime | None = None  # a window for this line's tickets (complex validity)
    valid_until: datetime | None = None


@dataclass
class SaleRequest:
    lines: list[CartLine]
    unlock_codes: list[str] = field(default_factory=list)
    promo_codes: list[str] = field(default_factory=list)
    link_promo: str | None = None
    payment: str = "cash"  # cash | card; free is automatic at total 0
    given_cents: int | None = None  # cash handed over; None = exact
    customer_id: int | None = None
    guest_name: str | None = None
    guest_email: str | None = None
    cart_link_id: str | None = None
    shift_id: int | None = None
    print_tickets: bool = True

    @property
    def has_codes(self) -> bool:
        return bool(self.unlock_codes or self.promo_codes or self.link_promo)


@dataclass(frozen=True)
class Quote:
    """What the cart costs with the entered codes allocated; nothing is written."""

    lines: tuple[PricedLine, ...]
    totals: Totals
    unused_codes: tuple[str, ...]

    @property
    def total_cents(self) -> int:
        return self.totals.total_cents


@dataclass
class SaleResult:
    order: Order
    lines: list[OrderLine]
    tickets: list[Ticket]
    payment: Payment
    unused_codes: tuple[str, ...]
    print_job_ids: list[int]
    mail_ids: list[int]
    data: dict[str, Any]  # order_json of the sale


@dataclass
class _Priced:
    """A cart checked and priced inside a session: what sell() writes."""

    articles: dict[int, Article]
    lines: list[PricedLine]
    windows: list[tuple[datetime | None, datetime | None]]  # per line
    totals: Totals
    allocation: Any  # pos.domain.promo.Allocation when codes were entered
    rules: list[Any]
    unused_codes: tuple[str, ...]


# --- reading the cart ----------------------------------------------------------------------------------


def parse_cart_arg(session: Session, text: str) -> CartLine:
    """ARTICLE[:QTY]: an exact name (or #ID) wins; otherwise split at the last colon when digits follow."""
    try:
        return CartLine(_id(find_article(session, text)))
    except NotFound:
        ref, colon, quantity = text.rpartition(":")
        units = ascii_whole(quantity) if colon else None  # digits 0-9 only; the line check bounds it
        if units is None:
            raise
    return CartLine(_id(find_article(session, ref)), units)


def parse_cart_args(rt: Runtime, texts: list[str]) -> list[CartLine]:
    with transaction(rt.engine) as session:
        return [parse_cart_arg(session, text) for text in texts]


def quote(rt: Runtime, request: SaleRequest) -> Quote:
    """Prices and promo allocation for the cart as it stands (the sale screen shows it live); no writes."""
    with transaction(rt.engine) as session:
        priced = _price(session, rt, request)
        for article_id, wanted in _units(priced.lines).items():
            _refuse_unless_available(priced.articles[article_id], wanted)
    return Quote(tuple(priced.lines), priced.totals, priced.unused_codes)


def _price(session: Session, rt: Runtime, request: SaleRequest) -> _Priced:
    if not request.lines:
        raise Refused("The cart is empty; add at least one article.")
    wanted_ids = {line.article for line in request.lines if isinstance(line.article, int)}
    by_id = (
        {_id(a): a for a in session.exec(select(Article).where(col(Article.id).in_(wanted_ids)))}
        if wanted_ids
        else {}
    )
    articles: dict[int, Article] = {}
    items = []
    for line in request.lines:
        article = _resolve(session, line.article, by_id)
        _check_line(line, article)
        articles[_id(article)] = article
        items.append(
            CartItem(
                article_id=_id(article),
                name=article.name,
                group=article.group,
                unit_price_cents=article.price_cents,
                vat_bp=article.vat_bp,
                is_ticket=article.is_ticket,
                quantity=line.quantity,
            )
        )
    lines = expand(items)
    rules = _load_rules(session, rt, request) if request.has_codes else []
    _refuse_hidden(lines, articles, rules)
    allocation = None
    unused: tuple[str, ...] = ()
    if rules:
        allocation = _allocate(lines, articles, rules)
        lines = apply_discounts(lines, allocation.codes, allocation.discounts)
        unused = tuple(allocation.unused)
    windows = [_window(request.lines[line.source], articles[line.article_id]) for line in lines]
    return _Priced(articles, lines, windows, totals(lines), allocation, rules, unused)


def _resolve(session: Session, ref: str | int, by_id: dict[int, Article]) -> Article:
    if isinstance(ref, int):
        article = by_id.get(ref)
        if article is None:
            raise NotFound(f"Article #{ref} does not exist.")
        return article
    return find_article(session, ref)


def _check_line(line: CartLine, article: Article) -> None:
    if not 1 <= line.quantity <= MAX_QUANTITY:
        raise Refused(f"The quantity of {article.name} must be 1 to {MAX_QUANTITY}.")
    if line.valid_from is None and line.valid_until is None:
        return
    if not article.is_ticket:
        raise Refused(f"{article.name} is not a ticket article, so it takes no validity window.")
    if line.valid_from and line.valid_until and line.valid_until <= line.valid_from:
        raise Refused(f"The validity window for {article.name} ends before it starts.")


def _window(line: CartLine, article: Article) -> tuple[datetime | None, datetime | None]:
    """The line's own window (complex validity) wins over the article's."""
    if line.valid_from is not None or line.valid_until is not None:
        return line.valid_from, line.valid_until
    return article.valid_from, article.valid_until


def _load_rules(session: Session, rt: Runtime, request: SaleRequest) -> list[Any]:
    from pos.db.promos import load_rules

    return load_rules(
        session,
        rt,
        unlock_codes=request.unlock_codes,
        promo_codes=request.promo_codes,
        link_promo=request.link_promo,
    )


def _refuse_hidden(lines: list[PricedLine], articles: dict[int, Article], rules: list[Any]) -> None:
    """Hidden tickets are checked by the allocation (one use per ticket); here the rest."""
    unlocked = set().union(*(rule.unlocks for rule in rules)) if rules else set()
    for line in lines:
        article = articles[line.article_id]
        if not article.hidden:
            continue
        if not rules or (not article.is_ticket and line.article_id not in unlocked):
            raise Refused(f"{article.name} is hidden; enter an unlock code for it.")


def _allocate(lines: list[PricedLine], articles: dict[int, Article], rules: list[Any]) -> Any:
    from pos.domain.promo import PromoError, TicketSlot, allocate

    slots = [
        TicketSlot(
            article_id=line.article_id,
            price_cents=line.unit_price_cents,
            hidden=articles[line.article_id].hidden,
            label=line.name,
        )
        for line in ticket_lines(lines)
    ]
    try:
        return allocate(slots, rules)
    except PromoError as exc:
        raise Refused(str(exc)) from None


def _units(lines: list[PricedLine]) -> Counter[int]:
    units: Counter[int] = Counter()
    for line in lines:
        units[line.article_id] += line.quantity
    return units


def _refuse_unless_available(article: Article, wanted: int) -> None:
    if article.stock_limit is None:
        return
    left = max(article.stock_limit - article.sold, 0)
    if wanted > left:
        raise Refused(_shortage(article.name, left))


def _shortage(name: str, left: int) -> str:
    return f"{name} is sold out." if left == 0 else f"Only {left} of {name} left."


# --- selling -------------------------------------------------------------------------------------------


def sell(rt: Runtime, request: SaleRequest) -> SaleResult:
    """Order, lines, tickets with codes, availability, promo uses, print jobs and mails: all or nothing.

    The contended rows (article availability, promo-code uses) are updated last, just before the commit,
    so on PostgreSQL their row locks are held for the shortest time and racing terminals wait least.
    """
    zone = rt.config.venue.zone
    with transaction(rt.engine) as session:
        priced = _price(session, rt, request)
        for article_id, wanted in _units(priced.lines).items():
            _refuse_unless_available(priced.articles[article_id], wanted)  # early; the UPDATE decides
        try:
            payment = settle(priced.totals.total_cents, request.payment, request.given_cents)
        except PaymentError as exc:
            raise Refused(str(exc)) from None
        secret = rt.config.brand_secret() if ticket_lines(priced.lines) else b""
        holder = _holder(session, request)
        order = _insert_order(session, rt, request, priced, payment, holder)
        order_id = _id(order)
        order_lines = _insert_lines(session, order_id, priced)
        tickets = _issue_tickets(session, rt, order_id, priced, order_lines, holder, secret)
        print_job_ids = _enqueue_print(session, order_id, rt.now()) if request.print_tickets else []
        mail_ids = _enqueue_mail(session, rt, order_id) if holder[1] and tickets else []
        data = order_json(
            session, order, zone, unused_codes=priced.unused_codes, lines=order_lines, tickets=tickets
        )
        _take_units(session, priced)
        if priced.allocation is not None:
            _consume_codes(session, priced, order_id, order_lines)
    return SaleResult(
        order, order_lines, tickets, payment, priced.unused_codes, print_job_ids, mail_ids, data
    )


def _consume_codes(session: Session, priced: _Priced, order_id: int, order_lines: list[OrderLine]) -> None:
    from pos.db.promos import consume

    ticket_line_ids = [row.id for row, line in zip(order_lines, priced.lines, strict=True) if line.is_ticket]
    consume(session, priced.allocation, priced.rules, order_id, ticket_line_ids)


def _holder(session: Session, request: SaleRequest) -> tuple[str | None, str | None]:
    """(name, e-mail) for the tickets: the stored customer's, else the guest's."""
    if request.customer_id is not None:
        if request.guest_name or request.guest_email:
            raise Refused("Give either a stored customer or a guest name and e-mail, not both.")
        customer = session.get(Customer, request.customer_id)
        if customer is None:
            raise NotFound(f"Customer #{request.customer_id} does not exist.")
        return customer.name, customer.email
    name = (request.guest_name or "").strip() or None
    email = None
    if request.guest_email and request.guest_email.strip():
        from pos.db.customers import normalise_email

        if name is None:
            raise Refused("A guest e-mail needs the guest's name too (--customer-name).")
        email = normalise_email(request.guest_email)
    return name, email


_TAKE_UNITS = text(
    "UPDATE article SET sold = sold + :n WHERE id = :id AND (stock_limit IS NULL OR sold + :n <= stock_limit)"
)


def _take_units(session: Session, priced: _Priced) -> None:
    """Compare-and-set per article; 0 rows means another terminal took the last units first."""
    connection = session.connection()
    for article_id, wanted in sorted(_units(priced.lines).items()):
        taken = connection.execute(_TAKE_UNITS, {"n": wanted, "id": article_id})
        if taken.rowcount != 1:
            limit, sold = connection.execute(
                select(Article.stock_limit, Article.sold).where(Article.id == article_id)
            ).one()
            raise Refused(_shortage(priced.articles[article_id].name, max((limit or 0) - sold, 0)))


def _insert_order(
    session: Session,
    rt: Runtime,
    request: SaleRequest,
    priced: _Priced,
    payment: Payment,
    holder: tuple[str | None, str | None],
) -> Order:
    order = Order(
        created_at=rt.now(),
        terminal=rt.terminal,
        operator=rt.acting_operator,
        shift_id=request.shift_id,
        customer_id=request.customer_id,
        guest_name=None if request.customer_id is not None else holder[0],
        guest_email=None if request.customer_id is not None else holder[1],
        total_cents=priced.totals.total_cents,
        payment_method=payment.method,
        given_cents=payment.given_cents,
        change_cents=payment.change_cents,
        cart_link_id=request.cart_link_id,
        link_promo=bool(request.link_promo),
    )
    session.add(order)
    try:
        session.flush()
    except IntegrityError:
        if request.cart_link_id is not None:
            raise Refused(f"Cart link {request.cart_link_id} was already paid.") from None
        raise
    return order


def _insert_lines(session: Session, order_id: int, priced: _Priced) -> list[OrderLine]:
    promo_ids = _promo_ids(session, {line.promo_code for line in priced.lines if line.promo_code})
    rows = [
        OrderLine(
            order_id=order_id,
            article_id=line.article_id,
            article_name=line.name,
            article_group=line.group,
            quantity=line.quantity,
            unit_price_cents=line.unit_price_cents,
            discount_cents=line.discount_cents * line.quantity,
            total_cents=line.total_cents,
            vat_bp=line.vat_bp,
            promo_code_id=promo_ids.get(line.promo_code) if line.promo_code else None,
            valid_from=window[0] if line.is_ticket else None,
            valid_until=window[1] if line.is_ticket else None,
        )
        for line, window in zip(priced.lines, priced.windows, strict=True)
    ]
    session.add_all(rows)
    session.flush()
    return rows


def _promo_ids(session: Session, codes: set[str]) -> dict[str, int]:
    if not codes:
        return {}
    found = session.execute(select(PromoCode.code, PromoCode.id).where(col(PromoCode.code).in_(codes)))
    return {code: promo_id for code, promo_id in found.all()}


def _issue_tickets(
    session: Session,
    rt: Runtime,
    order_id: int,
    priced: _Priced,
    order_lines: list[OrderLine],
    holder: tuple[str | None, str | None],
    secret: bytes,
) -> list[Ticket]:
    """Ticket.id is the serial: insert, then write each code from its id in the same transaction."""
    brand = rt.config.brand.id
    now = rt.now()
    tickets = []
    for line, row in zip(priced.lines, order_lines, strict=True):
        if not line.is_ticket:
            continue
        article = priced.articles[line.article_id]
        tickets.append(
            Ticket(
                brand=brand,
                order_id=order_id,
                order_line_id=row.id,
                article_id=line.article_id,
                holder_name=holder[0],
                holder_email=holder[1],
                valid_from=row.valid_from,
                valid_until=row.valid_until,
                event_date=article.event_date,
                repeat=article.repeat,
                repeat_limit=article.repeat_limit,
                created_at=now,
            )
        )
    if not tickets:
        return []
    session.add_all(tickets)
    session.flush()
    for ticket in tickets:
        ticket.code = make_code(brand, _id(ticket), secret)
    session.flush()
    return tickets


def _enqueue_print(session: Session, order_id: int, at: datetime) -> list[int]:
    from pos.db.printjobs import enqueue_order

    return enqueue_order(session, order_id, at=at)


def _enqueue_mail(session: Session, rt: Runtime, order_id: int) -> list[int]:
    from pos.db.mail import enqueue_order_mails

    return enqueue_order_mails(session, rt, order_id)


# --- cancelling ----------------------------------------------------------------------------------------


def cancel_order(rt: Runtime, order_id: int) -> Order:
    """Void the tickets, return the units and promo uses; a second cancel is refused, never double-counted."""
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
            _refuse_cancel(session, order_id, zone)
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
            from pos.db.promos import return_uses

            return_uses(session, order_id)
        audit.record(
            session,
            rt,
            "order.cancel",
            f"order #{order_id}",
            before={"status": "paid"},
            after={"status": "cancelled", "tickets_voided": voided, "units_returned": returned},
        )
        order = session.get(Order, order_id)
        assert order is not None
        return order


def _refuse_cancel(session: Session, order_id: int, zone: ZoneInfo) -> NoReturn:
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(f"Order {order_id} does not exist.")
    when = order.cancelled_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if order.cancelled_at else "earlier"
    raise Refused(f"Order {order_id} was already cancelled at {when}.")


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


# --- JSON ----------------------------------------------------------------------------------------------


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
    order_id = _id(order)
    if lines is None:
        lines = list(
            session.exec(select(OrderLine).where(OrderLine.order_id == order_id).order_by(col(OrderLine.id)))
        )
    if tickets is None:
        tickets = list(
            session.exec(select(Ticket).where(Ticket.order_id == order_id).order_by(col(Ticket.id)))
        )
    code_by_line = {ticket.order_line_id: ticket.code for ticket in tickets}
    names = {line.article_id: line.article_name for line in lines}
    priced = priced_order_lines(session, lines)
    order_totals = totals(priced)
    return {
        "id": order_id,
        "status": order.status,
        "created_at": iso_local(order.created_at, zone),
        "cancelled_at": iso_local(order.cancelled_at, zone),
        "lines": [_line_json(line, row, code_by_line) for line, row in zip(priced, lines, strict=True)],
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
    line: PricedLine, row: OrderLine, code_by_line: dict[int | None, str | None]
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
    }


def _promo_codes(session: Session, ids: set[int | None]) -> dict[int, str]:
    if not ids:
        return {}
    found = session.execute(select(PromoCode.id, PromoCode.code).where(col(PromoCode.id).in_(ids)))
    return {promo_id: code for promo_id, code in found.all()}


def _customer_json(session: Session, order: Order) -> dict[str, Any] | None:
    if order.customer_id is not None:
        customer = session.get(Customer, order.customer_id)
        if customer is not None:
            return {"id": customer.id, "name": customer.name, "email": customer.email}
    if order.guest_name or order.guest_email:
        return {"id": None, "name": order.guest_name, "email": order.guest_email}
    return None


def get_order(rt: Runtime, order_id: int) -> dict[str, Any]:
    with transaction(rt.engine) as session:
        order = session.get(Order, order_id)
        if order is None:
            raise NotFound(f"Order {order_id} does not exist.")
        return order_json(session, order, rt.config.venue.zone)


def _id(row: Article | Order | Ticket) -> int:
    assert row.id is not None
    return row.id
