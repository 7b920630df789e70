"""Selling and cancelling against a real database (SQLite and PostgreSQL)."""

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, func, select

from pos.config import ConfigError
from pos.db.engine import transaction
from pos.db.models import (
    Article,
    AuditLog,
    Customer,
    Operator,
    Order,
    OrderLine,
    OutboxMail,
    PrintJob,
    PromoCode,
    Shift,
    Ticket,
)
from pos.domain.ticket_code import parse_code
from pos.errors import NotFound, Refused
from pos.runtime import Runtime
from pos.services.checkout import CartLine, SaleRequest, SaleResult, parse_cart_arg
from tests.conftest import TEST_SECRET
from tests.factories import add_article, add_promo, cancel_order, quote, sell


def _order(rt: Runtime, result: SaleResult) -> Order:
    with transaction(rt.engine) as session:
        order = session.get(Order, result.order_id)
        assert order is not None
        return order


def _tickets(rt: Runtime, result: SaleResult) -> list[Ticket]:
    with transaction(rt.engine) as session:
        return list(
            session.exec(select(Ticket).where(Ticket.order_id == result.order_id).order_by(Ticket.id))
        )


def _lines(rt: Runtime, result: SaleResult) -> list[OrderLine]:
    with transaction(rt.engine) as session:
        return list(
            session.exec(
                select(OrderLine).where(OrderLine.order_id == result.order_id).order_by(OrderLine.id)
            )
        )


def _sale(*lines: CartLine, **options: object) -> SaleRequest:
    options.setdefault("print_tickets", False)
    return SaleRequest(lines=list(lines), **options)  # type: ignore[arg-type]


@pytest.fixture
def shop(rt: Runtime) -> dict[str, int]:
    window = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 12, 31, tzinfo=UTC))
    articles = {
        "concert": add_article(
            rt,
            name="Konzert 15.01.2027",
            price_cents=5000,
            vat_bp=700,
            group="Tickets",
            is_ticket=True,
            stock_limit=5,
            event_date=date(2027, 1, 15),
        ),
        "season": add_article(
            rt,
            name="Season card",
            price_cents=30000,
            vat_bp=700,
            group="Cards",
            is_ticket=True,
            valid_from=window[0],
            valid_until=window[1],
            repeat="daily",
            repeat_limit=None,
        ),
        "beer": add_article(rt, name="Bier", price_cents=450, group="Drinks", stock_limit=10),
        "last": add_article(rt, name="Last seats", price_cents=2000, is_ticket=True, stock_limit=1),
        "vip": add_article(rt, name="VIP", price_cents=12000, is_ticket=True, hidden=True),
        "backstage": add_article(rt, name="Backstage pass", price_cents=1000, hidden=True),
        "free": add_article(rt, name="Kids free", price_cents=0, is_ticket=True),
        "colon": add_article(rt, name="Bus 7:30", price_cents=300),
    }
    return {key: article.id for key, article in articles.items()}  # type: ignore[misc]


def _counts(rt: Runtime) -> tuple[int, int, int]:
    with transaction(rt.engine) as session:
        return tuple(  # type: ignore[return-value]
            session.exec(select(func.count()).select_from(table)).one()
            for table in (Order, OrderLine, Ticket)
        )


def _sold(rt: Runtime, article_id: int) -> int:
    with Session(rt.engine) as session:
        return session.exec(select(Article.sold).where(Article.id == article_id)).one()


def test_a_sale_writes_order_lines_tickets_and_availability(rt: Runtime, shop: dict[str, int]) -> None:
    result = sell(
        rt,
        _sale(
            CartLine("Konzert 15.01.2027", 2),
            CartLine(shop["beer"], 3),
            CartLine("Season card"),
            guest_name="Ada Lovelace",
            given_cents=50000,
            shift_id=None,
        ),
    )
    data = result.data
    assert [(line["article"], line["quantity"]) for line in data["lines"]] == [
        ("Konzert 15.01.2027", 1),
        ("Konzert 15.01.2027", 1),
        ("Bier", 3),
        ("Season card", 1),
    ]
    assert data["total_cents"] == 2 * 5000 + 3 * 450 + 30000 == _order(rt, result).total_cents
    assert data["payment"] == {"method": "cash", "given_cents": 50000, "change_cents": 50000 - 41350}
    assert data["vat"] == [
        {"rate": 7, "net_cents": 37383, "vat_cents": 2617, "gross_cents": 40000},
        {"rate": 19, "net_cents": 1134, "vat_cents": 216, "gross_cents": 1350},
    ]
    assert data["customer"] == {"id": None, "name": "Ada Lovelace", "email": None}
    assert len(data["tickets"]) == 3 and data["lines"][2]["ticket_code"] is None
    assert _order(rt, result).terminal == "test-terminal" and _order(rt, result).operator == "tester"
    assert _order(rt, result).created_at == rt.now()

    secret = TEST_SECRET.encode()
    for ticket in _tickets(rt, result):
        parsed = parse_code(ticket.code or "", "1000", secret)
        assert parsed.ok and parsed.serial == ticket.id
        assert ticket.holder_name == "Ada Lovelace"
    concert, _, season = _tickets(rt, result)
    assert concert.event_date == date(2027, 1, 15) and concert.valid_from is None
    assert season.valid_from == datetime(2027, 1, 1, tzinfo=UTC) and season.repeat == "daily"
    assert season.repeat_limit is None
    assert _sold(rt, shop["concert"]) == 2 and _sold(rt, shop["beer"]) == 3


def test_a_line_window_wins_over_the_article_window(rt: Runtime, shop: dict[str, int]) -> None:
    start, end = datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 3, 2, tzinfo=UTC)
    result = sell(rt, _sale(CartLine("Season card", 1, valid_from=start, valid_until=end)))
    (ticket,) = _tickets(rt, result)
    assert (ticket.valid_from, ticket.valid_until) == (start, end)
    assert (_lines(rt, result)[0].valid_from, _lines(rt, result)[0].valid_until) == (start, end)
    with pytest.raises(Refused, match="not a ticket article"):
        sell(rt, _sale(CartLine("Bier", 1, valid_from=start)))


def test_a_sale_whose_second_line_is_sold_out_writes_nothing(rt: Runtime, shop: dict[str, int]) -> None:
    sell(rt, _sale(CartLine("Last seats")))
    before = _counts(rt)
    with pytest.raises(Refused, match=r"^Last seats is sold out\.$"):
        sell(rt, _sale(CartLine("Konzert 15.01.2027", 2), CartLine("Last seats")))
    assert _counts(rt) == before
    assert _sold(rt, shop["concert"]) == 0


def test_only_n_left_counts_every_line_of_the_article(rt: Runtime, shop: dict[str, int]) -> None:
    sell(rt, _sale(CartLine("Konzert 15.01.2027", 3)))
    with pytest.raises(Refused, match=r"^Only 2 of Konzert 15\.01\.2027 left\.$"):
        sell(rt, _sale(CartLine("Konzert 15.01.2027", 2), CartLine("Bier"), CartLine("Konzert 15.01.2027")))
    with pytest.raises(Refused, match="Only 2 of"):
        quote(rt, _sale(CartLine("Konzert 15.01.2027", 3)))
    assert _sold(rt, shop["concert"]) == 3 and _sold(rt, shop["beer"]) == 0


def test_cancel_voids_tickets_returns_units_and_is_audited(rt: Runtime, shop: dict[str, int]) -> None:
    result = sell(rt, _sale(CartLine("Konzert 15.01.2027", 5), CartLine("Bier", 4)))
    with pytest.raises(Refused, match="sold out"):
        sell(rt, _sale(CartLine("Konzert 15.01.2027")))
    order_id = result.order_id
    assert order_id is not None
    cancelled = cancel_order(rt, order_id).data
    assert cancelled["status"] == "cancelled" and cancelled["cancelled_at"] == "2026-12-31T21:00:00+01:00"
    assert _sold(rt, shop["concert"]) == 0 and _sold(rt, shop["beer"]) == 0
    with transaction(rt.engine) as session:
        assert all(t.voided for t in session.exec(select(Ticket).where(Ticket.order_id == order_id)))
        log = session.exec(select(AuditLog).where(AuditLog.action == "order.return")).one()
        assert (log.terminal, log.operator, log.target) == ("test-terminal", "tester", f"order #{order_id}")
    sell(rt, _sale(CartLine("Konzert 15.01.2027", 5)))  # the units are back

    with pytest.raises(
        Refused, match=rf"^Order {order_id} was already returned in full at 2026-12-31 21:00\.$"
    ):
        cancel_order(rt, order_id)
    assert _sold(rt, shop["concert"]) == 5 and _sold(rt, shop["beer"]) == 0
    with pytest.raises(NotFound, match="Order 999 does not exist"):
        cancel_order(rt, 999)


def test_hidden_articles_need_an_unlock_code(rt: Runtime, shop: dict[str, int]) -> None:
    for name in ("VIP", "Backstage pass"):
        with pytest.raises(Refused, match=rf"^{name} is hidden; enter an unlock code for it\.$"):
            sell(rt, _sale(CartLine(name)))
    add_promo(rt, "VIPONLY", unlocks=["VIP"], uses=2)
    with pytest.raises(Refused, match="Backstage pass is hidden"):
        sell(rt, _sale(CartLine("Backstage pass"), CartLine("VIP"), unlock_codes=["viponly"]))
    assert _counts(rt) == (0, 0, 0)
    result = sell(rt, _sale(CartLine("VIP"), unlock_codes=["viponly"]))
    assert result.data["lines"][0]["promo_code"] == "VIPONLY" and _order(rt, result).total_cents == 12000


def test_codes_reduce_tickets_and_cancel_returns_their_uses(rt: Runtime, shop: dict[str, int]) -> None:
    """The seed example through sell(): 50.00 and 20.00 codes make an adult and a child ticket free."""
    child = add_article(rt, name="Kind", price_cents=2000, is_ticket=True)
    add_promo(rt, "TWENTY", amount_cents=2000)
    add_promo(rt, "FIFTY", amount_cents=5000)
    add_promo(rt, "SPARE", amount_cents=100)
    result = sell(
        rt,
        _sale(
            CartLine(child.id or 0), CartLine("Konzert 15.01.2027"), promo_codes=["TWENTY", "FIFTY", "SPARE"]
        ),
    )
    assert result.payment.method == "free" and result.data["total_cents"] == 0
    assert [(line["promo_code"], line["discount_cents"]) for line in result.data["lines"]] == [
        ("TWENTY", 2000),
        ("FIFTY", 5000),
    ]
    assert result.data["unused_codes"] == ["SPARE"] and result.data["discount_cents"] == 7000
    with pytest.raises(Refused, match="FIFTY"):
        sell(rt, _sale(CartLine("Konzert 15.01.2027"), promo_codes=["FIFTY"]))
    cancel_order(rt, result.order_id or 0)
    with transaction(rt.engine) as session:
        used = dict(session.exec(select(PromoCode.code, PromoCode.used)).all())
    assert used == {"TWENTY": 0, "FIFTY": 0, "SPARE": 0}


def test_payment_rules(rt: Runtime, shop: dict[str, int]) -> None:
    with pytest.raises(Refused, match=r"^Cash given \(4\.00\) is less than the total \(4\.50\)\.$"):
        sell(rt, _sale(CartLine("Bier"), given_cents=400))
    assert _counts(rt) == (0, 0, 0) and _sold(rt, shop["beer"]) == 0
    card = sell(rt, _sale(CartLine("Bier"), payment="card"))
    assert (_order(rt, card).payment_method, _order(rt, card).given_cents, _order(rt, card).change_cents) == (
        "card",
        450,
        0,
    )
    free = sell(rt, _sale(CartLine("Kids free", 2), given_cents=1000))
    assert free.data["payment"] == {"method": "free", "given_cents": 0, "change_cents": 0}
    assert len(_tickets(rt, free)) == 2


def test_quote_prices_without_writing(rt: Runtime, shop: dict[str, int]) -> None:
    priced = quote(rt, _sale(CartLine("Konzert 15.01.2027", 2), CartLine("Bier", 2)))
    assert priced.total_cents == 10900 and len(priced.lines) == 3
    assert _counts(rt) == (0, 0, 0) and _sold(rt, shop["concert"]) == 0
    with pytest.raises(Refused, match="cart is empty"):
        quote(rt, _sale())


def test_customer_and_guest(rt: Runtime, shop: dict[str, int]) -> None:
    with transaction(rt.engine) as session:
        customer = Customer(name="Grace Hopper", email="grace@example.org")
        session.add(customer)
        session.flush()
        customer_id = customer.id
    result = sell(rt, _sale(CartLine("Konzert 15.01.2027", 2), customer_id=customer_id))
    assert result.data["customer"] == {
        "id": customer_id,
        "name": "Grace Hopper",
        "email": "grace@example.org",
    }
    assert {t.holder_email for t in _tickets(rt, result)} == {"grace@example.org"}
    with transaction(rt.engine) as session:
        mails = session.exec(select(OutboxMail).where(OutboxMail.order_id == result.order_id)).all()
    assert sorted(m.ticket_id for m in mails) == sorted(t.id for t in _tickets(rt, result))

    with pytest.raises(NotFound, match="Customer #999"):
        sell(rt, _sale(CartLine("Bier"), customer_id=999))
    with pytest.raises(Refused, match="not both"):
        sell(rt, _sale(CartLine("Bier"), customer_id=customer_id, guest_name="X"))
    with pytest.raises(Refused, match="not valid"):
        sell(rt, _sale(CartLine("Bier"), guest_name="X", guest_email="not-an-address"))
    guest = sell(rt, _sale(CartLine("Bier"), guest_name="Linus", guest_email="linus@EXAMPLE.org"))
    assert guest.data["customer"] == {"id": None, "name": "Linus", "email": "linus@example.org"}


def test_ticket_sales_need_the_brand_secret(rt: Runtime, shop: dict[str, int]) -> None:
    rt.config.brand.secret = None
    with pytest.raises(ConfigError, match=r"\[brand\] secret"):
        sell(rt, _sale(CartLine("Bier"), CartLine("Konzert 15.01.2027")))
    assert _counts(rt) == (0, 0, 0)
    assert sell(rt, _sale(CartLine("Bier"))).ticket_codes == ()


def test_article_quantity_arguments(rt: Runtime, shop: dict[str, int]) -> None:
    with transaction(rt.engine) as session:
        assert parse_cart_arg(session, "Bus 7:30") == CartLine(shop["colon"], 1)
        assert parse_cart_arg(session, "Bus 7:30:2") == CartLine(shop["colon"], 2)
        assert parse_cart_arg(session, "Bier:12") == CartLine(shop["beer"], 12)
        assert parse_cart_arg(session, f"#{shop['beer']}:3") == CartLine(shop["beer"], 3)
        with pytest.raises(NotFound, match="'Wein'"):
            parse_cart_arg(session, "Wein:2")
        with pytest.raises(NotFound, match="'Bier:x'"):
            parse_cart_arg(session, "Bier:x")
    with pytest.raises(Refused, match="must be 1 to"):
        sell(rt, _sale(CartLine("Bier", 0)))


def test_the_order_records_its_shift(rt: Runtime, shop: dict[str, int]) -> None:
    with transaction(rt.engine) as session:
        operator = Operator(name="Kim", pin_hash="x")
        session.add(operator)
        session.flush()
        shift = Shift(operator_id=operator.id or 0, terminal=rt.terminal, opened_at=rt.now())
        session.add(shift)
        session.flush()
        shift_id = shift.id
    result = sell(rt, _sale(CartLine("Bier"), shift_id=shift_id))
    assert _order(rt, result).shift_id == shift_id


def test_print_jobs_are_written_in_the_sale_transaction(rt: Runtime, shop: dict[str, int]) -> None:
    result = sell(rt, _sale(CartLine("Konzert 15.01.2027", 2), CartLine("Bier"), print_tickets=True))
    with transaction(rt.engine) as session:
        jobs = session.exec(select(PrintJob).where(PrintJob.order_id == result.order_id)).all()
    assert sorted(job.id for job in jobs) == sorted(result.print_job_ids)
    assert sorted(job.ticket_id for job in jobs if job.kind == "ticket") == sorted(
        t.id for t in _tickets(rt, result)
    )
    before = _counts(rt)
    with pytest.raises(Refused, match="Only 1 of Last seats left"):
        sell(rt, _sale(CartLine("Bier"), CartLine("Last seats", 2), print_tickets=True))
    assert _counts(rt) == before
    with transaction(rt.engine) as session:
        assert len(session.exec(select(PrintJob)).all()) == len(jobs)
