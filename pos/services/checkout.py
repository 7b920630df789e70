"""Checkout: price a cart with its codes (quote), sell it, and open a cart link; one transaction each.

A sale writes the order, its lines, tickets with codes, the availability, the promo-code uses, its print jobs
and its mails in ONE transaction: all or nothing. Availability and promo uses are taken with conditional
UPDATEs checked by their row count, which the database serialises across terminals (SQLite: BEGIN IMMEDIATE;
PostgreSQL: the row lock and re-check of READ COMMITTED). Articles are updated in id order so two sales of
the same articles cannot deadlock, and last, just before the commit, so their row locks are held briefly.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from pos.db.articles import find_article
from pos.db.engine import transaction
from pos.db.journal import book, hold_open_shift, open_shift_of
from pos.db.models import Article, Customer, Order, OrderLine, PromoCode, Ticket
from pos.db.orders import order_json
from pos.db.promos import consume, stored_codes
from pos.domain.availability import check_available, check_offered, shortage
from pos.domain.cart_link import CartLink, CartLinkError, parse_link
from pos.domain.customer import Holder, check_one_customer, guest, link_customer
from pos.domain.order import (
    CartItem,
    PricedLine,
    Totals,
    apply_discounts,
    expand,
    group_amounts,
    ticket_lines,
    totals,
)
from pos.domain.promo import (
    EnteredCodes,
    PromoError,
    PromoRule,
    TicketSlot,
    allocate,
    check_codes,
    unlocked_by,
)
from pos.domain.roles import Role
from pos.domain.ticket_code import make_code
from pos.domain.till import Settlement, TenderRequest, VatAmount, settle_tenders
from pos.domain.values import ascii_whole
from pos.errors import NotFound, PosError, Refused
from pos.runtime import Runtime
from pos.services.articles import check_sold_here
from pos.services.base import Actor, require
from pos.services.delivery import (
    PrintOutcome,
    enqueue_order_mails,
    enqueue_order_print,
    mail_enabled,
    run_jobs,
    send_order_mails,
)
from pos.services.fiscal import finish_signing, fiscal_json, sign_booked

MAX_QUANTITY = 1000


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
    payment: str = "cash"  # cash | card, when no tenders are given; free is automatic at total 0
    given_cents: int | None = None  # cash handed over; None = exact
    tenders: list[TenderRequest] = field(default_factory=list)  # split tender: e.g. cash 20.00, card the rest
    customer_id: int | None = None
    guest_name: str | None = None
    guest_email: str | None = None
    cart_link: str | None = None  # the signed link (URL) this cart came from: its customer wins, paid once
    shift_id: int | None = None  # the app's shift; None: the terminal's open shift, if any (headless)
    print_tickets: bool = True

    @property
    def codes(self) -> EnteredCodes:
        return EnteredCodes.of(self.unlock_codes, self.promo_codes, self.link_promo)


@dataclass(frozen=True)
class Quote:
    """What the cart costs with the entered codes allocated; nothing is written."""

    lines: tuple[PricedLine, ...]
    totals: Totals
    unused_codes: tuple[str, ...]

    @property
    def total_cents(self) -> int:
        return self.totals.total_cents


@dataclass(frozen=True)
class SaleResult:
    order_id: int
    total_cents: int
    payment: Settlement
    journal_number: int
    ticket_codes: tuple[str, ...]
    unused_codes: tuple[str, ...]
    print_job_ids: tuple[int, ...]
    mail_ids: tuple[int, ...]
    mail_delivery: bool  # [smtp] is set up: the queued mails go out (else they wait in the outbox)
    customer_email: str | None
    data: dict[str, Any]  # the order as `pos sell --json` prints it


@dataclass
class _Priced:
    """A cart checked and priced inside a session: what sell() writes."""

    articles: dict[int, Article]
    lines: list[PricedLine]
    windows: list[tuple[datetime | None, datetime | None]]  # per line
    totals: Totals
    allocation: Any  # pos.domain.promo.Allocation when codes were entered
    rules: list[PromoRule]
    unused_codes: tuple[str, ...]


# --- reading the cart ----------------------------------------------------------------------------------


def parse_cart_arg(session: Session, typed: str) -> CartLine:
    """ARTICLE[:QTY]: an exact name (or #ID) wins; otherwise split at the last colon when digits follow."""
    try:
        return CartLine(_id(find_article(session, typed)))
    except NotFound:
        ref, colon, quantity = typed.rpartition(":")
        units = ascii_whole(quantity) if colon else None  # digits 0-9 only; the line check bounds it
        if units is None:
            raise
    return CartLine(_id(find_article(session, ref)), units)


def parse_cart_args(rt: Runtime, actor: Actor, typed: list[str]) -> list[CartLine]:
    require(actor, Role.CASHIER, "sell")
    with transaction(rt.engine) as session:
        return [parse_cart_arg(session, item) for item in typed]


def quote(rt: Runtime, actor: Actor, request: SaleRequest) -> Quote:
    """Prices and promo allocation for the cart as it stands (the screens show it live); no writes."""
    require(actor, Role.CASHIER, "sell")
    with transaction(rt.engine) as session:
        request, _link_id = _with_link(rt, session, request)
        priced = _price(session, rt, request)
        _check_units(priced)
    return Quote(tuple(priced.lines), priced.totals, priced.unused_codes)


def unlocked_articles(
    rt: Runtime, actor: Actor, codes: list[str], link_promo: str | None = None
) -> frozenset[int]:
    """The hidden articles these unlock codes open; a code that cannot be used is refused by name."""
    require(actor, Role.CASHIER, "sell")
    entered = EnteredCodes.of(unlock=codes, link=link_promo)
    with transaction(rt.engine) as session:
        rules = check_codes(entered, stored_codes(session, entered.all), rt.now(), rt.config.venue.zone)
    return unlocked_by(rules)


def read_cart_link(rt: Runtime, actor: Actor, url: str) -> CartLink:
    """Verify a scanned or pasted link: signature, expiry, shape, and that no order has paid it yet."""
    require(actor, Role.CASHIER, "sell")
    with transaction(rt.engine) as session:
        return _verified_link(rt, session, url)


def _verified_link(rt: Runtime, session: Session, url: str) -> CartLink:
    try:
        link = parse_link(url, rt.config.cart_link_secret(), rt.now(), rt.config.venue.zone)
    except CartLinkError as exc:
        raise Refused(str(exc)) from None
    if link.customer_email:
        guest(link.customer_name or link.customer_email, link.customer_email)
    order_id = session.exec(select(Order.id).where(Order.cart_link_id == link.id)).first()
    if order_id is not None:
        raise Refused("Cart link {id} was already paid (order {order}).", id=link.id, order=order_id)
    return link


def _with_link(rt: Runtime, session: Session, request: SaleRequest) -> tuple[SaleRequest, str | None]:
    """A cart link brings its lines (unless the cart lists them), its customer and its direct-link promo.

    Returns the request as it is to be sold and the link's id (paid at most once).
    """
    if request.cart_link is None:
        return request, None
    link = _verified_link(rt, session, request.cart_link)
    customer = link_customer(
        link.customer_name, link.customer_email, request.customer_id, request.guest_name, request.guest_email
    )
    if link.promo and request.link_promo and request.link_promo.strip().upper() != link.promo.upper():
        raise Refused("The cart link brings its own direct-link promo code; give no other with it.")
    changed = SaleRequest(**request.__dict__)
    if not changed.lines:
        changed.lines = [
            CartLine(li.article, li.quantity, li.valid_from, li.valid_until) for li in link.lines
        ]
    if customer is not None:
        changed.guest_name, changed.guest_email = customer
    if link.promo:
        changed.link_promo = link.promo
    changed.cart_link = None
    return changed, link.id


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
        check_sold_here(rt, article.name, article.assortment)  # [terminal] assortments
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
    entered = request.codes
    rules = (
        check_codes(entered, stored_codes(session, entered.all), rt.now(), rt.config.venue.zone)
        if entered
        else []
    )
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
            raise NotFound("Article #{id} does not exist.", id=ref)
        return article
    return find_article(session, ref)


def _check_line(line: CartLine, article: Article) -> None:
    if not 1 <= line.quantity <= MAX_QUANTITY:
        raise Refused("The quantity of {name} must be 1 to {n}.", name=article.name, n=MAX_QUANTITY)
    if line.valid_from is None and line.valid_until is None:
        return
    if not article.is_ticket:
        raise Refused("{name} is not a ticket article, so it takes no validity window.", name=article.name)
    if line.valid_from and line.valid_until and line.valid_until <= line.valid_from:
        raise Refused("The validity window for {name} ends before it starts.", name=article.name)


def _window(line: CartLine, article: Article) -> tuple[datetime | None, datetime | None]:
    """The line's own window (complex validity) wins over the article's."""
    if line.valid_from is not None or line.valid_until is not None:
        return line.valid_from, line.valid_until
    return article.valid_from, article.valid_until


def _refuse_hidden(lines: list[PricedLine], articles: dict[int, Article], rules: list[PromoRule]) -> None:
    """Hidden tickets are checked by the allocation (one use per ticket); here the rest."""
    unlocked = unlocked_by(rules)
    for line in lines:
        article = articles[line.article_id]
        if article.is_ticket and rules:
            continue
        check_offered(article.name, article.hidden, line.article_id, unlocked if rules else frozenset())


def _allocate(lines: list[PricedLine], articles: dict[int, Article], rules: list[PromoRule]) -> Any:
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


def _check_units(priced: _Priced) -> None:
    for article_id, wanted in _units(priced.lines).items():
        article = priced.articles[article_id]
        check_available(article.name, article.stock_limit, article.sold, wanted)


# --- selling -------------------------------------------------------------------------------------------


def sell(rt: Runtime, actor: Actor, request: SaleRequest) -> SaleResult:
    """Order, lines, tickets with codes, availability, promo uses, print jobs and mails: all or nothing."""
    require(actor, Role.CASHIER, "sell")
    zone = rt.config.venue.zone
    tenders = request.tenders or [TenderRequest(request.payment)]
    with transaction(rt.engine) as session:
        shift = _booking_shift(session, rt, request.shift_id)
        request, link_id = _with_link(rt, session, request)
        priced = _price(session, rt, request)
        _check_units(priced)  # early, for the message; the UPDATE in _take_units decides
        payment = settle_tenders(priced.totals.total_cents, tenders, request.given_cents)
        secret = rt.config.brand_secret() if ticket_lines(priced.lines) else b""
        holder = _holder(session, request)
        order = _insert_order(session, rt, actor, request, priced, payment, holder, link_id, shift)
        order_id = _id(order)
        order_lines = _insert_lines(session, order_id, priced)
        tickets = _issue_tickets(session, rt, order_id, priced, order_lines, holder, secret)
        print_job_ids = enqueue_order_print(session, order_id, at=rt.now()) if request.print_tickets else []
        training = rt.training
        mail_ids = (
            enqueue_order_mails(session, rt, order_id) if holder.email and tickets and not training else []
        )
        if not training:  # a training sale takes no places and uses no codes; its tickets are void
            _take_units(session, priced)
            if priced.allocation is not None:
                _consume_codes(session, priced, order_id, order_lines)
        booked = book(
            session,
            terminal=rt.terminal,
            kind="sale",
            at=order.created_at,
            operator=actor.name,
            total_cents=order.total_cents,
            shift_id=shift,
            order_id=order_id,
            tenders=payment.tenders,
            vat=[VatAmount(v.rate_bp, v.net_cents, v.vat_cents, v.gross_cents) for v in priced.totals.vat],
            groups=group_amounts(priced.lines),
            training=training,
        )
        signed = sign_booked(session, rt, booked)
        data = order_json(
            session, order, zone, unused_codes=priced.unused_codes, lines=order_lines, tickets=tickets
        )
    data["fiscal"] = fiscal_json(
        finish_signing(rt, booked, signed)
    )  # after the commit: the database never waits for it
    return SaleResult(
        order_id=order_id,
        total_cents=order.total_cents,
        payment=payment,
        journal_number=booked.number,
        ticket_codes=tuple(t.code for t in tickets if t.code),
        unused_codes=priced.unused_codes,
        print_job_ids=tuple(print_job_ids),
        mail_ids=tuple(mail_ids),
        mail_delivery=mail_enabled(rt),
        customer_email=holder.email,
        data=data,
    )


def _booking_shift(session: Session, rt: Runtime, shift_id: int | None) -> int | None:
    """The shift this booking goes into, checked open in this transaction (see pos/db/journal.py)."""
    if shift_id is not None:
        return _id(hold_open_shift(session, shift_id))
    shift = open_shift_of(session, rt.terminal, hold=True)
    return shift.id if shift is not None else None


def _consume_codes(session: Session, priced: _Priced, order_id: int, order_lines: list[OrderLine]) -> None:
    ticket_line_ids = [row.id for row, line in zip(order_lines, priced.lines, strict=True) if line.is_ticket]
    consume(session, priced.allocation, priced.rules, order_id, ticket_line_ids)


def _holder(session: Session, request: SaleRequest) -> Holder:
    """The tickets' holder: the stored customer's name and e-mail, else the guest's."""
    check_one_customer(request.customer_id, request.guest_name, request.guest_email)
    if request.customer_id is not None:
        customer = session.get(Customer, request.customer_id)
        if customer is None:
            raise NotFound("Customer #{id} does not exist.", id=request.customer_id)
        return Holder(customer.name, customer.email)
    return guest(request.guest_name, request.guest_email)


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
            raise shortage(priced.articles[article_id].name, max((limit or 0) - sold, 0))


def _insert_order(
    session: Session,
    rt: Runtime,
    actor: Actor,
    request: SaleRequest,
    priced: _Priced,
    payment: Settlement,
    holder: Holder,
    link_id: str | None,
    shift_id: int | None,
) -> Order:
    order = Order(
        created_at=rt.now(),
        terminal=rt.terminal,
        operator=actor.name,
        shift_id=shift_id,
        customer_id=request.customer_id,
        guest_name=None if request.customer_id is not None else holder.name,
        guest_email=None if request.customer_id is not None else holder.email,
        total_cents=priced.totals.total_cents,
        payment_method=payment.method,
        given_cents=payment.given_cents,
        change_cents=payment.change_cents,
        cart_link_id=link_id,
        link_promo=bool(request.link_promo),
        status="training" if rt.training else "paid",
    )
    session.add(order)
    try:
        session.flush()
    except IntegrityError:
        if link_id is not None:
            raise Refused("Cart link {id} was already paid.", id=link_id) from None
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


def _promo_ids(session: Session, codes: set[str | None]) -> dict[str, int]:
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
    holder: Holder,
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
                holder_name=holder.name,
                holder_email=holder.email,
                valid_from=row.valid_from,
                valid_until=row.valid_until,
                event_date=article.event_date,
                repeat=article.repeat,
                repeat_limit=article.repeat_limit,
                created_at=now,
                voided=rt.training,  # training: never an admissible ticket
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


def _id(row: Article | Order | Ticket | Any) -> int:
    assert row.id is not None
    return row.id


# --- after the sale ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AfterSale:
    """What printing and mailing a committed sale did; a problem never undoes the sale."""

    printed: PrintOutcome | None
    print_problem: str | None  # one sentence when a document did not print (the job waits for a retry)
    mail_problem: str | None  # one sentence when a mail did not go out (the outbox retries it)


def after_sale(rt: Runtime, actor: Actor, sale: SaleResult) -> AfterSale:
    """Print the sale's documents now and send its mails when SMTP is set up."""
    require(actor, Role.CASHIER, "sell")
    printed: PrintOutcome | None = None
    print_problem: str | None = None
    if sale.print_job_ids:
        try:
            printed = run_jobs(rt, order_id=sale.order_id, job_ids=list(sale.print_job_ids))
        except PosError as exc:
            print_problem = str(exc)
        else:
            if printed.failed:
                print_problem = str(printed.failed[0].reason)
    mail_problem = send_order_mails(rt, sale.order_id) if sale.mail_ids and mail_enabled(rt) else None
    return AfterSale(printed, print_problem, mail_problem)
