"""Cart links against the database: created for real articles, checked out once through sell()."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from pos.config import ConfigError
from pos.db.engine import transaction
from pos.db.models import Order, OutboxMail, Ticket
from pos.errors import NotFound, Refused
from pos.runtime import Runtime
from pos.services import cart_links
from pos.services.cart_links import LinkRequest
from pos.services.checkout import SaleRequest
from tests import conftest
from tests.factories import ADMIN, add_article, sell


def create_cart_link(rt: Runtime, request: LinkRequest):  # type: ignore[no-untyped-def]
    return cart_links.create_cart_link(rt, ADMIN, request)


def read_cart_link(rt: Runtime, url: str):  # type: ignore[no-untyped-def]
    return cart_links.check_cart_link(rt, ADMIN, url)


def checkout(url: str) -> SaleRequest:
    """What `pos sell --cart-link URL` asks for: the link brings its lines, customer and promo."""
    return SaleRequest(lines=[], cart_link=url, print_tickets=False)


@pytest.fixture
def shop(rt: Runtime) -> Runtime:
    add_article(rt, name="Konzert 15.01.2027", price_cents=4990, is_ticket=True, stock_limit=10)
    add_article(rt, name="Bier", price_cents=450, vat_bp=1900)
    return rt


def test_link_round_trip_and_checkout(shop: Runtime) -> None:
    start = datetime(2027, 1, 15, 17, 0, tzinfo=UTC)
    link, url = create_cart_link(
        shop,
        LinkRequest(
            items=["Konzert 15.01.2027:2", "Bier"],
            customer_name="Anna",
            customer_email="Anna@Example.org",
            valid_from=start,
            valid_until=start + timedelta(hours=6),
        ),
    )
    assert url.startswith("pos://cart?v=1&c=")
    opened = read_cart_link(shop, url)
    assert opened == link
    assert [(line.article, line.quantity, line.valid_from) for line in opened.lines] == [
        ("Konzert 15.01.2027", 2, start),
        ("Bier", 1, None),  # the window is for ticket articles only
    ]
    result = sell(shop, checkout(url))
    assert result.data["customer"]["email"] == "Anna@example.org"
    assert result.total_cents == 2 * 4990 + 450
    with transaction(shop.engine) as session:
        assert session.get(Order, result.order_id).cart_link_id == link.id
        tickets = session.exec(select(Ticket).where(Ticket.order_id == result.order_id)).all()
        mails = session.exec(select(OutboxMail).where(OutboxMail.order_id == result.order_id)).all()
    assert [(t.valid_from, t.valid_until) for t in tickets] == [(start, start + timedelta(hours=6))] * 2
    assert sorted(m.ticket_id for m in mails) == sorted(t.id for t in tickets)


def test_a_paid_link_is_refused(shop: Runtime) -> None:
    _link, url = create_cart_link(shop, LinkRequest(items=["Bier:3"]))
    order_id = sell(shop, checkout(url)).order_id
    with pytest.raises(Refused, match=rf"Cart link .* was already paid \(order {order_id}\)"):
        read_cart_link(shop, url)
    # A terminal that opened the link before it was paid elsewhere: the sale re-checks and is refused.
    with pytest.raises(Refused, match="was already paid"):
        sell(shop, checkout(url))


def test_the_links_customer_wins_and_takes_no_other(shop: Runtime) -> None:
    _link, url = create_cart_link(
        shop, LinkRequest(items=["Bier"], customer_name="Anna", customer_email="a@b.de")
    )
    other = SaleRequest(lines=[], cart_link=url, guest_name="Bob", print_tickets=False)
    with pytest.raises(Refused, match="names its customer"):
        sell(shop, other)
    same = SaleRequest(lines=[], cart_link=url, guest_name="Anna", guest_email="A@b.de", print_tickets=False)
    assert sell(shop, same).data["customer"]["name"] == "Anna"


def test_expired_link_is_refused(shop: Runtime, clock) -> None:
    _link, url = create_cart_link(shop, LinkRequest(items=["Bier"], lifetime=timedelta(minutes=30)))
    clock.now += timedelta(minutes=30)
    with pytest.raises(Refused, match="The cart link expired at"):
        read_cart_link(shop, url)


def test_tampered_link_is_refused(shop: Runtime) -> None:
    _link, url = create_cart_link(shop, LinkRequest(items=["Bier"]))
    tampered = url.replace("&s=", "&s=A")
    with pytest.raises(Refused, match="tampered"):
        read_cart_link(shop, tampered)


def test_creation_refusals(shop: Runtime) -> None:
    with pytest.raises(NotFound, match="'Nope' does not exist"):
        create_cart_link(shop, LinkRequest(items=["Nope:2"]))
    with pytest.raises(Refused, match="E-mail address 'anna@' is not valid"):
        create_cart_link(shop, LinkRequest(items=["Bier"], customer_email="anna@"))
    with pytest.raises(Refused, match="at least one article"):
        create_cart_link(shop, LinkRequest(items=[]))


def test_missing_secret_is_one_sentence(shop: Runtime) -> None:
    config = conftest.test_config()
    config = config.model_copy(update={"cart_links": config.cart_links.model_copy(update={"secret": None})})
    no_secret = Runtime(config, shop.database_url, clock=shop.clock)
    with pytest.raises(ConfigError, match=r"\[cart_links\] secret is missing"):
        create_cart_link(no_secret, LinkRequest(items=["Bier"]))
