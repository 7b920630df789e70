"""Test data: the services called as an admin, and tickets straight through the models.

`ADMIN` and `CASHIER` are the actors tests act as; `add_article`, `sell`, ... call the real use cases with the
admin (role checks have tests of their own). `issue_tickets` makes what a sale leaves behind (an order, one
line per ticket, tickets with codes, the article's sold count) in one transaction, independent of the sales
service; `bulk_issue_tickets` loads many tickets fast for benchmarks and load tests (one order, explicit
serials, executemany).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert, select, text, update

from pos.db.articles import find_article
from pos.db.engine import transaction
from pos.db.journal import book
from pos.db.models import Article, Order, OrderLine, Ticket
from pos.domain.money import vat_included
from pos.domain.roles import Role
from pos.domain.ticket_code import make_code
from pos.domain.till import GroupAmount, Tender, VatAmount
from pos.runtime import Runtime
from pos.services import articles, checkout, customers, orders, promos
from pos.services.articles import ArticleView, NewArticle
from pos.services.base import Actor

ADMIN = Actor("tester", Role.ADMIN)
CASHIER = Actor("kasse", Role.CASHIER)


def add_article(rt: Runtime, **fields: Any) -> ArticleView:
    return articles.add_article(rt, ADMIN, NewArticle(**fields))


def sell(rt: Runtime, request: checkout.SaleRequest) -> checkout.SaleResult:
    return checkout.sell(rt, ADMIN, request)


def quote(rt: Runtime, request: checkout.SaleRequest) -> checkout.Quote:
    return checkout.quote(rt, ADMIN, request)


def cancel_order(rt: Runtime, order_id: int) -> dict[str, Any]:
    return orders.cancel_order(rt, ADMIN, order_id)


def add_promo(rt: Runtime, code: str, **definition: Any) -> dict[str, Any]:
    return promos.add_promo(rt, ADMIN, code, promos.PromoDefinition(**definition))


def add_customer(rt: Runtime, name: str, **fields: Any) -> customers.CustomerView:
    return customers.add_customer(rt, ADMIN, name, **fields)


@dataclass(frozen=True)
class IssuedTicket:
    id: int
    code: str
    order_id: int


def ticket_article(
    rt: Runtime,
    name: str = "Konzert 15.01.2027",
    *,
    price_cents: int = 5000,
    repeat: str = "none",
    repeat_limit: int | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    event_date: date | None = None,
    **extra: Any,
) -> ArticleView:
    return add_article(
        rt,
        name=name,
        price_cents=price_cents,
        is_ticket=True,
        repeat=repeat,
        repeat_limit=repeat_limit,
        valid_from=valid_from,
        valid_until=valid_until,
        event_date=event_date,
        **extra,
    )


def issue_tickets(
    rt: Runtime,
    article: Article | ArticleView | int | str,
    count: int = 1,
    *,
    holder_name: str | None = "Erika Mustermann",
    holder_email: str | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    voided: bool = False,
) -> list[IssuedTicket]:
    """One paid order with `count` tickets of `article` (validity per line overrides the article's)."""
    brand, secret = rt.config.brand.id, rt.config.brand_secret()
    with transaction(rt.engine) as session:
        art = _article(session, article)
        order = Order(
            created_at=rt.now(),
            terminal=rt.terminal,
            operator=rt.acting_operator,
            guest_name=holder_name,
            guest_email=holder_email,
            total_cents=art.price_cents * count,
            given_cents=art.price_cents * count,
            status="cancelled" if voided else "paid",
        )
        session.add(order)
        session.flush()
        tickets = []
        for _ in range(count):
            line = OrderLine(
                order_id=order.id,
                article_id=art.id,
                article_name=art.name,
                article_group=art.group,
                unit_price_cents=art.price_cents,
                total_cents=art.price_cents,
                vat_bp=art.vat_bp,
                valid_from=valid_from,
                valid_until=valid_until,
            )
            session.add(line)
            session.flush()
            ticket = Ticket(
                brand=brand,
                order_id=order.id,
                order_line_id=line.id,
                article_id=art.id,
                holder_name=holder_name,
                holder_email=holder_email,
                valid_from=valid_from or art.valid_from,
                valid_until=valid_until or art.valid_until,
                event_date=art.event_date,
                repeat=art.repeat,
                repeat_limit=art.repeat_limit,
                voided=voided,
                created_at=rt.now(),
            )
            session.add(ticket)
            session.flush()
            ticket.code = make_code(brand, ticket.id, secret)
            tickets.append(ticket)
        if not voided:
            art.sold += count
        else:
            for ticket in tickets:
                session.get(OrderLine, ticket.order_line_id).returned_quantity = 1
            order.refunded_cents = order.total_cents
        session.flush()
        journal_sale(session, rt, order.id, order.total_cents, art.vat_bp, art.group, count)
        if voided:
            journal_sale(
                session, rt, order.id, -order.total_cents, art.vat_bp, art.group, -count, kind="return"
            )
        return [IssuedTicket(t.id, t.code, order.id) for t in tickets]


def journal_sale(
    session: Any,
    rt: Runtime,
    order_id: int,
    total: int,
    vat_bp: int,
    group: str,
    units: int,
    kind: str = "sale",
) -> None:
    """The journal line a sale (or its return) writes, for orders the tests make straight through the models."""
    vat = vat_included(total, vat_bp) if total >= 0 else -vat_included(-total, vat_bp)
    book(
        session,
        terminal=rt.terminal,
        kind=kind,
        at=rt.now(),
        operator=rt.acting_operator,
        total_cents=total,
        order_id=order_id,
        tenders=[Tender("cash", total, max(total, 0), 0)],
        vat=[VatAmount(vat_bp, total - vat, vat, total)],
        groups=[GroupAmount(group, units, total)],
    )


def bulk_issue_tickets(
    rt: Runtime,
    article: Article | ArticleView | int | str,
    count: int,
    *,
    holder_name: str | None = None,
    batch: int = 10_000,
) -> list[IssuedTicket]:
    """Many tickets in one order: explicit serials after the highest one, inserted with executemany."""
    brand, secret = rt.config.brand.id, rt.config.brand_secret()
    with transaction(rt.engine) as session:
        art = _article(session, article)
        order = Order(
            created_at=rt.now(), terminal=rt.terminal, operator=rt.acting_operator, payment_method="free"
        )
        session.add(order)
        session.flush()
        journal_sale(session, rt, order.id, 0, art.vat_bp, art.group, 0)
        first = (session.execute(select(func.max(Ticket.id))).scalar() or 0) + 1
        now = rt.now()
        issued = [
            IssuedTicket(serial, make_code(brand, serial, secret), order.id)
            for serial in range(first, first + count)
        ]
        common = {
            "brand": brand,
            "order_id": order.id,
            "article_id": art.id,
            "holder_name": holder_name,
            "valid_from": art.valid_from,
            "valid_until": art.valid_until,
            "event_date": art.event_date,
            "repeat": art.repeat,
            "repeat_limit": art.repeat_limit,
            "voided": False,
            "printed": False,
            "created_at": now,
        }
        for start in range(0, count, batch):
            rows = [{"id": t.id, "code": t.code, **common} for t in issued[start : start + batch]]
            session.execute(insert(Ticket), rows)
        session.execute(update(Article).where(Article.id == art.id).values(sold=Article.sold + count))
        if session.get_bind().dialect.name == "postgresql":
            # explicit ids leave the sequence behind; the next sale would collide without this
            session.execute(
                text("SELECT setval(pg_get_serial_sequence('ticket', 'id'), (SELECT max(id) FROM ticket))")
            )
        return issued


def _article(session: Any, article: Article | ArticleView | int | str) -> Article:
    if isinstance(article, Article | ArticleView):
        return session.get(Article, article.id)
    if isinstance(article, int):
        return session.get(Article, article)
    return find_article(session, article)
