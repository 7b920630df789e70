from sqlmodel import select

from pos.db.engine import transaction
from pos.db.models import Order, OrderLine
from pos.screens.app import PosApp
from tests.factories import add_promo
from tests.screens.helpers import keys, log_in, message, names_in_grid, scanner_burst, screen_text, settle


def group_key(app, name: str) -> str:
    return f"f{app.screen.groups.index(name) + 1}"


def quick_key(pilot, name: str) -> str:
    return "1234567890"[names_in_grid(pilot).index(name)]


async def test_sell_two_tickets_with_two_codes_and_cash_change(shop) -> None:
    add_promo(shop, "TENOFF", amount_cents=1000)
    add_promo(shop, "PCT10", percent_bp=1000)
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        await keys(pilot, group_key(app, "Veranstaltungen"))
        silvester = quick_key(pilot, "Silvester 2026/2027 31.12.2026")
        await keys(pilot, silvester, silvester, "f12")
        await keys(pilot, "f2", *"tenoff", "enter", *"pct10", "enter")
        pay = app.screen
        assert pay.quote.total_cents == 2 * 5900 - 1000 - 590
        codes = pay.query_one("#codes")
        saved = {codes.get_row_at(i)[0]: str(codes.get_row_at(i)[1]) for i in range(codes.row_count)}
        assert saved == {"TENOFF": "saves €10.00", "PCT10": "saves €5.90"}
        await keys(pilot, "f3", *"110", "enter")
        assert pay.result is not None, message(pilot)
        assert pay.result.payment.change_cents == 11000 - 10210
        shown = screen_text(pilot)
        assert "Order 1 paid" in shown and "Change" in shown
        await keys(pilot, "enter")
        assert type(app.screen).__name__ == "SaleScreen"
        assert app.screen.cart.entries == []
    with transaction(shop.engine) as session:
        order = session.exec(select(Order)).one()
        lines = list(session.exec(select(OrderLine)))
    assert (order.total_cents, order.given_cents, order.change_cents, order.payment_method) == (
        10210,
        11000,
        790,
        "cash",
    )
    assert sorted(line.discount_cents for line in lines) == [590, 1000]
    assert order.shift_id is not None and order.operator == "kasse"


async def test_sold_out_article_is_shown_but_not_added(make_shop) -> None:
    shop = make_shop("de")
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        await keys(pilot, group_key(app, "Veranstaltungen"))
        assert "Konzert Frühbucher" in names_in_grid(pilot)
        tile = next(t for t in app.screen.query_one("#grid").tiles if t.name == "Konzert Frühbucher")
        assert tile.sold_out and tile.availability == "AUSVERKAUFT"
        await keys(pilot, quick_key(pilot, "Konzert Frühbucher"))
        assert app.screen.cart.entries == []
        assert message(pilot) == "Konzert Frühbucher ist ausverkauft."


async def test_unlock_code_shows_the_hidden_ticket_and_sells_it(shop) -> None:
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        await keys(pilot, group_key(app, "Veranstaltungen"))
        assert "Konzert VIP" not in names_in_grid(pilot)
        await keys(pilot, "f10", *"vip2027", "enter")
        assert "Konzert VIP" in names_in_grid(pilot), message(pilot)
        await keys(pilot, quick_key(pilot, "Konzert VIP"), "f12")
        await keys(pilot, "f5")
        assert app.screen.result is not None, message(pilot)
        lines = app.screen.result.data["lines"]
        assert [line["article"] for line in lines] == ["Konzert VIP"] and lines[0]["ticket_code"]


async def test_a_pure_reduction_code_is_refused_on_the_sale_screen(shop) -> None:
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        await keys(pilot, "f10", *"save10", "enter")
        assert "payment" in message(pilot) or "at payment" in message(pilot), message(pilot)


async def test_scan_adds_the_ean_article_while_the_search_field_has_the_focus(shop) -> None:
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        await keys(pilot, "f9")
        search = app.screen.query_one("#search")
        assert app.focused is search
        await pilot.press(*"4006381333931", "enter")
        await settle(pilot)
        assert search.value == ""
        cart = app.screen.cart.entries
        assert [(app.screen.articles[e.article_id].name, e.quantity) for e in cart] == [("Wasser 0,5 l", 1)]
        # typing by hand still reaches the field
        await keys(pilot, *"bier")
        assert search.value == "bier"
        assert names_in_grid(pilot) == ["Bier 0,5 l"]


async def test_scanned_ticket_code_opens_its_order(shop) -> None:
    from pos.services.checkout import CartLine, SaleRequest
    from tests.factories import sell

    sold = sell(shop, SaleRequest(lines=[CartLine("Konzert Kind", 2)], print_tickets=False))
    code = sold.ticket_codes[1]
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        await keys(pilot, "f10")  # the focus is in the unlock field
        await pilot.press(*code, "enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "OrderScreen"
        assert app.screen.order["id"] == sold.order_id
        assert code in screen_text(pilot)
        await keys(pilot, "escape")
        assert type(app.screen).__name__ == "SaleScreen"
        assert app.screen.query_one("#unlock").value == ""


async def test_scanned_cart_link_opens_the_cart_for_payment(shop) -> None:
    from pos.services.cart_links import LinkRequest, create_cart_link
    from tests.factories import ADMIN

    link, url = create_cart_link(
        shop,
        ADMIN,
        LinkRequest(items=["Konzert Erwachsene:2", "Bier 0,5 l"], customer_email="gast@example.org"),
    )
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        await scanner_burst(pilot, url)
        sale = app.screen
        assert [(sale.articles[e.article_id].name, e.quantity) for e in sale.cart.entries] == [
            ("Konzert Erwachsene", 2),
            ("Bier 0,5 l", 1),
        ], message(pilot)
        assert sale.cart.link == url and sale.cart.customer_email == "gast@example.org"
        await keys(pilot, "f12")
        assert app.screen.query_one("#email").value == "gast@example.org"
        await keys(pilot, "f5")
        assert message(pilot) == "A guest e-mail needs the guest's name too."
        assert app.focused is app.screen.query_one("#name")
        await keys(pilot, *"Gast", "f5")
        result = app.screen.result
        assert result is not None, message(pilot)
        assert result.data["customer"] == {"id": None, "name": "Gast", "email": "gast@example.org"}
        assert result.mail_ids  # queued for e-mail ...
        assert "gast@example.org" not in screen_text(pilot)  # ... but no promise: [smtp] is not set up here


async def test_a_fast_burst_that_is_no_code_reaches_the_focused_field(shop) -> None:
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        await keys(pilot, "f10")
        await pilot.press(*"vip2027", "enter")  # as fast as a scanner, but no ticket, link or EAN
        await settle(pilot)
        assert "Konzert VIP" in [a.name for a in app.screen.articles.values() if app.screen.is_offered(a)]
        assert message(pilot) == "Code VIP2027: unlocks Konzert VIP."
